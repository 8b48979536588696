"""Running a chunk of runs: the code that executes inside a worker process or Dask worker.

A chunk is a few runs sent together, so that sending work and returning results costs far
less than the runs themselves. :func:`run_chunk` is pure: its result depends only on the
task (model, base scenario, runs and their seeds), never on where or when it runs, so the
dataset does not depend on the executor, and Dask may safely run a task again when a worker
is lost.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsim.scenario import Scenario

#: A run as sent to a worker: (run_id, seed, varied parameters).
RunSpec = tuple[int, int, dict[str, Any]]

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run a chunk.

    Attributes:
        model: the model function, ``"module:function"``.
        base: the base scenario (``None`` for a free-parameter model).
        fixed: parameters passed with every run to a free-parameter model.
        series: keep the monthly series instead of the summary.
        columns: the figures to keep (``None``: all the model returns).
        runs: the runs, in run_id order.
    """

    model: str
    base: Scenario | None
    fixed: dict[str, Any]
    series: bool
    columns: tuple[str, ...] | None
    runs: tuple[RunSpec, ...]

    @property
    def run_ids(self) -> list[int]:
        return [r[0] for r in self.runs]

    @property
    def key(self) -> str:
        """A name for the chunk: its first and last run."""
        return f"{self.runs[0][0]:07d}-{self.runs[-1][0]:07d}"


def run_chunk(task: ChunkTask) -> pd.DataFrame:
    """Run every run of a chunk; a run that raises becomes a failed row, not an exception.

    Returns:
        One row per run (``series=False``) or per run and month (``series=True``), with
        ``run_id``, [``step``,] ``status`` ("ok" or "failed"), ``error`` and the figures.
    """
    from govsim.sweep.models import load_model

    function = load_model(task.model).function
    # A full garbage collection walks every object of the process (~250k, mostly the modules
    # imported at start-up: pandas, mesa, pydantic, ...) and a baseline run allocates enough
    # to trigger one every ~10 runs: measured 7-13 ms per run, against under 1 ms with what
    # existed before the chunk frozen. Only cycle collection is affected, never the numbers;
    # everything is unfrozen after the chunk. The chunk's own garbage (its models' reference
    # cycles) is collected before unfreezing, while the walk is short: left over, the next
    # chunk's freeze would freeze it too, and an optimisation of thousands of short chunks
    # grew to 3 GB that way.
    gc.freeze()
    try:
        return _run_all(task, function)
    finally:
        gc.collect()
        gc.unfreeze()


def _run_all(task: ChunkTask, function) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    for run_id, seed, params in task.runs:
        try:
            output = function({**task.fixed, **params}, seed, task.base, task.series)
            if task.series:
                frames.append(_series_rows(run_id, output, task.columns))
            else:
                rows.append({"run_id": run_id, "status": "ok", "error": None,
                             **_summary_figures(output, task.columns)})
        except Exception as exc:  # any model error is recorded as a failed run, not raised
            failed = {"run_id": run_id, "status": "failed", "error": describe_error(exc)}
            if task.series:
                frames.append(pd.DataFrame([{**failed, "step": np.nan}]))
            else:
                rows.append(failed)
    if task.series:
        return pd.concat(frames, ignore_index=True)
    return pd.DataFrame(rows)


def failed_chunk(task: ChunkTask, error: str) -> pd.DataFrame:
    """Rows recording every run of a chunk as failed (its worker kept dying)."""
    frame = pd.DataFrame({"run_id": task.run_ids, "status": "failed", "error": error})
    if task.series:
        frame["step"] = np.nan
    return frame


def describe_error(exc: BaseException) -> str:
    """``"ValueError: message (at file.py:12 in function)"``, short enough to store."""
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    return text[:MAX_ERROR_CHARS]


def _summary_figures(output: Any, columns: tuple[str, ...] | None) -> dict[str, float]:
    if not isinstance(output, Mapping):
        raise TypeError(f"the model returned {type(output).__name__}; outputs = 'summary' "
                        "needs a mapping of figures")
    names = columns if columns is not None else tuple(output)
    return {name: float(output[name]) for name in names}


def _series_rows(run_id: int, output: Any, columns: tuple[str, ...] | None) -> pd.DataFrame:
    if not isinstance(output, pd.DataFrame) or "step" not in output:
        raise TypeError(f"the model returned {type(output).__name__}; outputs = 'series' "
                        "needs a DataFrame with a 'step' column")
    names = ["step", *(columns if columns is not None else
                       [c for c in output.columns if c != "step"])]
    frame = output[names].astype({c: float for c in names if c != "step"})
    frame.insert(0, "run_id", run_id)
    frame.insert(2, "status", "ok")
    frame.insert(3, "error", None)
    return frame.reset_index(drop=True)


# --- worker processes ---------------------------------------------------------------------


def init_worker(parent_pid: int) -> None:
    """Start-up of a local worker process.

    Ctrl-C is the parent's to handle (it stops dispatching and keeps finished chunks), so
    workers ignore it; and a worker whose parent died (``kill -9``) exits instead of
    lingering. Importing the model here overlaps the import with the parent's planning.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), daemon=True,
                     name="govsim-parent-watch").start()
    import govsim.sweep.models  # noqa: F401


def ready() -> int:
    """A no-op task: returns once the worker has started (and imported govsim)."""
    return os.getpid()


def _exit_when_orphaned(parent_pid: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(1)
