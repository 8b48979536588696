"""``govsim viz``: serve the live browser view (:mod:`govsim.app`) with Solara.

The server runs in this process until Ctrl-C. Solara's assets come from the installed
``solara[assets]`` package, so the page works without internet; Solara's telemetry and its
version check are switched off for the same reason.
"""

from __future__ import annotations

import os
import sys
import warnings

from govsim.scenario import Scenario, ScenarioError, resolve

APP_MODULE = "govsim.app"


def serve(args) -> int:
    """Start the app on ``args.host``:``args.port`` with ``args.scenario`` first in the picker.

    Args:
        args: parsed ``govsim viz`` arguments (``scenario``, ``host``, ``port``).

    Returns:
        The exit status: 0 after Ctrl-C, non-zero if the server could not start.

    Raises:
        ScenarioError: the browser extra is not installed, or the scenario does not exist
            or is invalid (checked before serving).
    """
    try:
        import solara  # noqa: F401
    except ImportError:
        raise ScenarioError("govsim viz needs the browser extra: pip install 'govsim[viz]'") \
            from None
    path = resolve(args.scenario)
    Scenario.load(path)  # refuse a bad scenario now, not in the first browser session
    os.environ["GOVSIM_VIZ_SCENARIO"] = str(path)
    # Read by Solara's settings at import: no telemetry calls to the internet.
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # A session whose page vanished without closing (browser killed, network lost) is kept
    # for reconnection, and a playing model keeps stepping meanwhile: keep it 2 minutes,
    # not Solara's default of a day.
    os.environ.setdefault("SOLARA_KERNEL_CULL_TIMEOUT", "2m")
    # Solara's "This website runs on Solara" banner sits over the event feed.
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    # Mesa 3.3's own components trip Solara's hook-rule check; the warning is not ours to fix.
    os.environ.setdefault("SOLARA_CHECK_HOOKS", "off")
    # Solara warns on every page load that a plain-http session cookie cannot be used from
    # an iframe; the app is not embedded anywhere, so the warning is only noise.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none")
    import click
    from solara.__main__ import run as solara_run

    host = args.host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{args.port}/"
    print(f"govsim viz: scenario {path.stem}; open {url} in a browser (Ctrl-C to stop)",
          flush=True)
    argv = [APP_MODULE, "--host", host, "--port", str(args.port), "--no-open", "--production",
            "--no-check-version"]
    try:
        solara_run.main(argv, prog_name="govsim viz", standalone_mode=False)
    except click.exceptions.Abort:  # what click makes of Ctrl-C
        print("govsim viz: stopped", file=sys.stderr)
    except SystemExit as exc:  # uvicorn exits when it cannot bind the port
        code = exc.code if isinstance(exc.code, int) else 1
        if code:
            print(f"govsim viz: the server stopped (is port {args.port} free?)", file=sys.stderr)
        return code
    return 0
