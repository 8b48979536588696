"""The ``govsim`` command: argument parsing and messages only.

Every subcommand's work lives in its own module; a :class:`~govsim.scenario.ScenarioError`
(bad scenario, experiment or override) becomes one message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import json
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

from govsim.scenario import Scenario, ScenarioError, bundled_scenarios, field_names, resolve

EXIT_BAD_INPUT = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the status of a process a closed pipe ended


def parse_override(text: str) -> tuple[str, Any]:
    """``"law.enforcement_probability=0.9"`` -> ``("law.enforcement_probability", 0.9)``.

    The value is read as a TOML value (numbers, true/false, "strings"); a bare word that is
    not valid TOML is taken as a string, so ``--set participation.network=random`` works.
    """
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError(f"--set {text}: expected FIELD=VALUE, e.g. "
                            "--set law.enforcement_probability=0.9")
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip(), value


def load_scenario(name_or_path: str | None, sets: list[str] | None = None,
                  months: int | None = None, ats: list[str] | None = None) -> Scenario:
    """The scenario a command works on: bundled name or file, then ``--set`` overrides, then
    ``--at MONTH:FIELD=VALUE`` timeline changes."""
    scenario = Scenario.load(resolve(name_or_path or "baseline"))
    overrides = dict(parse_override(s) for s in sets or [])
    if overrides:
        try:
            scenario = scenario.with_overrides(overrides, source="--set")
        except ScenarioError as exc:
            raise ScenarioError(did_you_mean(str(exc), overrides)) from None
    if months is not None:  # its own option, so a bad value is reported as --months
        scenario = scenario.with_overrides({"run.months": months}, source="--months")
    if ats:
        from govsim.timeline import add_changes

        scenario = add_changes(scenario, ats)
    return scenario


def did_you_mean(message: str, overrides: dict[str, Any]) -> str:
    """``message`` with the closest known field for an unknown ``--set`` name in it.

    Only when the message says the name is not a known field: a replaced field's message
    already says what to write instead, and a table (businesses.sector_mix) is known.
    """
    known = field_names()
    for key in overrides:
        if key not in known and f"{key} is not a known field" in message:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                return f"{message} (did you mean {close[0]}?)"
    return message


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run one scenario and write its figures",
                       description="Run one scenario: print the headline figures and write "
                                   "timeseries.csv, summary.json and outcomes.png.")
    p.add_argument("scenario", nargs="?", default="baseline",
                   help="a scenario file or bundled name (default: baseline)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a parameter, e.g. --set budget.annual_yuan=800000 "
                        "(repeatable)")
    p.add_argument("--at", action="append", default=[], metavar="MONTH:FIELD=VALUE",
                   help="change a parameter from a month on (a timeline change), e.g. "
                        "--at 25:law.enforcement_probability=0.9 (repeatable)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--months", type=int, help="months to simulate (default: the scenario's)")
    p.add_argument("--out", type=Path, help="output folder (default out/run/<scenario>-<hash "
                                            "of its parameters, seed and model code>/)")
    _add_replace(p)
    p.set_defaults(handler=cmd_run)


def _add_replace(p) -> None:
    p.add_argument("--force", action="store_true",
                   help="replace an earlier result of something else in --out (without it, "
                        "govsim refuses rather than lose it)")


def cmd_run(args) -> int:
    # imported here: only this command needs them (the model itself loads with govsim)
    from govsim import folders, sanity, sizing
    from govsim.naming import content_id, output_folder
    from govsim.output import run_with_progress, summary_table, write_run

    scenario = load_scenario(args.scenario, args.set, args.months, args.at)
    check_seed(args.seed)
    content = content_id([scenario], seed=args.seed)
    target = folders.claim(args.out or output_folder("run", [scenario], content=content), "run",
                           force=args.force, content=content)
    sizing.check_runs([scenario], runs=1, workers=1, yes=True, command="run")
    for warning in sanity.warnings_for(scenario):
        print(f"govsim: warning: {warning}", file=sys.stderr)
    result = run_with_progress(scenario, args.seed)
    overrides = dict(parse_override(s) for s in args.set)
    if args.months is not None:
        overrides["run.months"] = args.months
    with folders.staged(target) as tmp:
        files = write_run(result, tmp, argv=getattr(args, "argv", None), overrides=overrides)
    files = [target.path / Path(f).name for f in files]
    print(summary_table(result))
    print(f"\nwrote {', '.join(str(f) for f in files)}")
    return 0


def check_seed(seed: int, flag: str = "--seed") -> None:
    """Refuse a seed numpy cannot use, before any work."""
    if seed < 0:
        raise ScenarioError(f"{flag} {seed}: a seed is a whole number >= 0")


def _add_scenarios(sub) -> None:
    p = sub.add_parser("scenarios", help="list the bundled scenarios",
                       description="List the bundled scenarios, one line each.")
    p.add_argument("--fields", action="store_true",
                   help="list every parameter instead: type, default, range, unit, meaning")
    p.add_argument("--json", action="store_true",
                   help="print as JSON (with --fields: a list of field descriptions)")
    p.set_defaults(handler=cmd_scenarios)


def cmd_scenarios(args) -> int:
    if args.fields:
        from govsim.fields import fields_text

        specs = Scenario.fields()
        print(json.dumps([s.as_dict() for s in specs.values()], indent=1) if args.json
              else fields_text(specs))
        return 0
    if args.json:
        print(json.dumps({name: {"path": str(path), "description": Scenario.load(path)
                                 .description} for name, path in bundled_scenarios().items()},
                         indent=1))
        return 0
    for name, path in bundled_scenarios().items():
        scenario = Scenario.load(path)
        print(f"{name:<24} {scenario.description.splitlines()[0] if scenario.description else ''}")
    return 0


def _add_compare(sub) -> None:
    p = sub.add_parser("compare", help="compare scenarios against a baseline, with uncertainty",
                       description="Run replicates of each scenario and of the baseline and "
                                   "write a report of the differences with 95% intervals "
                                   "(report.html, report.md, runs.parquet, summary.csv). "
                                   "Replicate r of every scenario uses the same seed, derived "
                                   "from --seed, so the numbers do not depend on where they "
                                   "run. Finished runs are kept until the report is written: "
                                   "after an interruption, the same command continues.")
    p.add_argument("scenarios", nargs="*",
                   help="scenario files or bundled names (default: every bundled cure)")
    p.add_argument("--baseline", default="baseline",
                   help="the baseline scenario, file or bundled name (default: baseline)")
    p.add_argument("--replicates", type=int, default=20,
                   help="runs per scenario, at least 2 (default 20)")
    p.add_argument("--months", type=int, help="months per run (default: the scenarios')")
    add_executor_options(p)
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--out", type=Path,
                   help="report folder (default out/compare/<scenarios>-<hash of their "
                        "parameters, replicates, seed and the model code>/)")
    _add_replace(p)
    p.add_argument("--posterior", type=Path, metavar="DIR",
                   help="a `govsim calibrate` folder: each replicate runs with its own draw "
                        "of the fitted parameters, so intervals include their uncertainty")
    _add_yes(p)
    p.set_defaults(handler=cmd_compare)


def _add_yes(p) -> None:
    p.add_argument("--yes", action="store_true",
                   help="confirm work of more than 10,000 runs (see README, Limits)")


def cmd_compare(args) -> int:
    from govsim.compare.command import main as compare_main

    return compare_main(args)


def add_executor_options(p: argparse.ArgumentParser) -> None:
    """Where the runs of a comparison, sweep, calibration or optimisation go: ``--workers N``,
    ``--scheduler ADDRESS`` or ``--dask-local N`` (one of them; see
    :func:`govsim.sweep.executors.make_executor`)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, metavar="N",
                       help="local processes (default: all cores; 1 runs in this process)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    group.add_argument("--dask-local", type=int, metavar="N",
                       help="start a loopback Dask LocalCluster with N workers")


def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="run a parameter sweep from an experiment file",
                       description="Run the designed sample of an experiment file, resumably, "
                                   "on local processes or a Dask cluster. Running the same "
                                   "command again skips finished runs. Exit status 1 means "
                                   "the sweep finished but some runs failed.")
    p.add_argument("experiment", help="experiment TOML file, or a bundled name (see "
                                      "experiments/)")
    add_executor_options(p)
    p.add_argument("--out", type=Path, help="dataset folder (default out/sweeps/<name>/)")
    p.add_argument("--force", action="store_true",
                   help="discard the results already in --out and start again (needed when "
                        "the experiment file changed)")
    p.add_argument("--chunk-size", type=int, metavar="RUNS",
                   help="runs sent to a worker and written at once (default: large chunks "
                        "first, single runs at the end, at most 100)")
    p.add_argument("--posterior", type=Path, metavar="DIR",
                   help="a `govsim calibrate` folder: replicate r of every point runs with "
                        "the r-th posterior draw of the fitted parameters")
    _add_yes(p)
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args) -> int:
    from govsim.sweep.cli import sweep_main

    return sweep_main(args)


def _add_analyze(sub) -> None:
    p = sub.add_parser("analyze", help="analyse a finished sweep",
                       description="Sensitivity indices (Sobol, Morris), heatmaps (grid) and "
                                   "tables of means by parameter level for a sweep; written "
                                   "to DIRECTORY/analysis/ with a short analysis.md.")
    p.add_argument("directory", type=Path, help="the sweep's output folder")
    p.set_defaults(handler=cmd_analyze)


def cmd_analyze(args) -> int:
    from govsim.sweep.cli import analyze_main

    return analyze_main(args)


def _add_viz(sub) -> None:
    p = sub.add_parser("viz", help="watch the model live in a browser",
                       description="Start the browser app (Mesa SolaraViz) and print its URL.")
    p.add_argument("scenario", nargs="?", default="baseline",
                   help="scenario file or bundled name to start with (default: baseline)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.set_defaults(handler=cmd_viz)


def cmd_viz(args) -> int:
    from govsim.viz import serve

    if not 1 <= args.port <= 65535:
        raise ScenarioError(f"--port {args.port}: a port is a whole number from 1 to 65535")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"govsim: warning: --host {args.host} lets other machines open the live view; "
              "it has no login (see docs/SECURITY.md)", file=sys.stderr)

    return serve(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govsim",
        description="Agent-based simulator of collaborative food-safety governance.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from govsim.calibrate.cli import add_parser as _add_calibrate

    for add in (_add_run, _add_compare, _add_sweep, _add_analyze, _add_calibrate, _add_viz,
                _add_scenarios):
        add(sub)
    from govsim.optimise.cli import add_parser as add_optimise

    add_optimise(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded with the results
    previous = _terminate_as_exit()
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a reader that went away is found here, not at exit
        return code
    except BrokenPipeError:
        # the reader went away (e.g. `govsim scenarios | head`): stop quietly, with the
        # status of a process ended by SIGPIPE, as other tools in a pipe do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except ScenarioError as exc:
        print(f"govsim: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("govsim: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("govsim: out of memory; nothing was written. Try fewer consumers "
              "(consumers.count), a lower participation.degree or fewer --workers "
              "(see README, Limits)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RecursionError:
        print("govsim: the input is nested too deeply to read", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"govsim: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def describe_os_error(exc: OSError) -> str:
    """One line for a failed read or write: what, where, and that old output is intact."""
    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        what = "no space left on the disk"
    return (f"{where}{what}; nothing was half-written: any earlier output there is left as "
            "it was")


def _terminate_as_exit():
    """Make SIGTERM (``kill``) unwind like Ctrl-C, so temporary folders, locks and worker
    processes are cleaned up on the way out. Returns the previous handler (None if this is
    not the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    sys.exit(main())
