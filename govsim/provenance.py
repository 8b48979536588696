"""What decides a result's numbers beyond its settings: the model's own code.

Folders of results record a hash of that code (:func:`model_code_fingerprint`), so a sweep
or an optimisation is never resumed with another model and a run or a comparison never
replaces a result of another model (:mod:`govsim.folders`, :mod:`govsim.naming`). Its own
module because sweeps, optimisations, runs and comparisons all use it, and a single run
should not load the sweep's storage (pyarrow) to name its folder.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

#: govsim's source files whose code decides a run's numbers: every module at the top of the
#: package but those of :data:`NOT_MODEL`, the phases, and the sweep's model and worker.
MODEL_SOURCES = ("*.py", "phases/*.py", "sweep/models.py", "sweep/worker.py")
#: Top-level modules that do not: the browser app, the live view, the plots, the command line.
NOT_MODEL = ("app.py", "app_policy.py", "live.py", "live_policy.py", "viz.py", "cli.py")


def model_code_fingerprint(function: Callable | None = None) -> str:
    """A hash of the model's source code, so a resume never mixes runs of two models.

    Args:
        function: the model function; the file of the module that defines it is hashed
            too (a model of your own, ``model = "mymodule:f"``).
    """
    digest = hashlib.sha256()
    for name, path in model_sources(function).items():
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_sources(function: Callable | None = None) -> dict[str, Path]:
    """The files :func:`model_code_fingerprint` hashes, by name: relative to govsim's
    package, or the file's own name for a module outside it (so that a checkout hashes
    alike wherever it is)."""
    package = Path(__file__).resolve().parent
    files = {f for pattern in MODEL_SOURCES for f in package.glob(pattern)
             if f.relative_to(package).as_posix() not in NOT_MODEL}
    own = _module_file(function)
    if own is not None:
        files.add(own)
    return {(path.relative_to(package) if path.is_relative_to(package) else
             Path(path.name)).as_posix(): path for path in sorted(files)}


def _module_file(function: Callable | None) -> Path | None:
    """The source file of the module that defines ``function`` (None if it has none)."""
    module = sys.modules.get(getattr(function, "__module__", None) or "")
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return None
    return Path(file).resolve()
