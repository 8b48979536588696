"""The sweep loop: plan, skip what is finished, dispatch chunks, write each as it lands.

Example:
    >>> from govsim.sweep import load_experiment, run_sweep
    >>> from govsim.sweep.executors import ProcessExecutor
    >>> report = run_sweep(load_experiment("budget_vs_backchecks"),
    ...                    executor=ProcessExecutor(2))                    # doctest: +SKIP
    >>> print(report.text())                                               # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from govsim.scenario import ScenarioError
from govsim.sweep.design import Design, build_design
from govsim.sweep.executors import DaskExecutor, Executor, make_executor
from govsim.sweep.experiment import Experiment, Prepared, check_points, load_experiment, prepare
from govsim.sweep.storage import SweepStore, is_sweep_folder, part_files
from govsim.sweep.worker import ChunkTask

#: Guided self-scheduling: each chunk is this fraction of (runs left / worker slots). Early
#: chunks are large, so sending and writing them costs little next to the runs; the last are
#: single runs, so no worker idles while another finishes a big chunk.
GUIDED_SHARE = 1 / 4
MAX_CHUNK = 100  # runs; bounds the work lost when a sweep is killed
SERIES_ROWS_PER_CHUNK = 50_000  # monthly rows held per chunk (memory stays flat)
ERRORS_SHOWN = 5


@dataclass
class SweepReport:
    """What a sweep did.

    Attributes:
        name: the experiment.
        out: the sweep folder.
        executor: where the runs ran.
        n_runs: runs in the design.
        skipped: runs already finished before this session (resume).
        ran: runs finished in this session.
        failed: runs of this session that raised.
        failed_total: failed runs in the whole dataset.
        elapsed: seconds spent running.
        errors: the first few failures of this session, as (run_id, error).
    """

    name: str
    out: Path
    executor: str
    n_runs: int
    skipped: int = 0
    ran: int = 0
    failed: int = 0
    failed_total: int = 0
    elapsed: float = 0.0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.skipped + self.ran == self.n_runs

    def text(self) -> str:
        """The end-of-sweep report."""
        if self.ran:
            rate = f" ({self.ran / self.elapsed:.1f} runs/s)" if self.elapsed else ""
            lines = [f"sweep {self.name}: {self.ran} runs in {self.elapsed:.1f} s{rate} on "
                     f"{self.executor}; {self.skipped} were already done"]
        else:
            lines = [f"sweep {self.name}: nothing to run, all {self.skipped} runs were "
                     "already done"]
        done = self.skipped + self.ran
        lines.append(f"  {done} of {self.n_runs} runs finished, {done - self.failed_total} ok, "
                     f"{self.failed_total} failed")
        for run_id, error in sorted(self.errors):
            lines.append(f"  run {run_id} failed: {error}")
        if self.failed > len(self.errors):
            lines.append(f"  ... and {self.failed - len(self.errors)} more (status = 'failed' "
                         "rows in the dataset hold each run's parameters, seed and error)")
        lines.append(f"  data: {self.out}/runs/ (Parquet)")
        if self.complete:
            lines.append(f"  next: govsim analyze {self.out}")
        return "\n".join(lines)


def default_out(experiment: Experiment) -> Path:
    """``out/sweeps/<name>/``."""
    return Path("out") / "sweeps" / experiment.name


def run_sweep(experiment: Experiment | str | Path, out: str | Path | None = None,
              executor: Executor | None = None, force: bool = False,
              chunk_size: int | None = None,
              echo: Callable[[str], None] | None = None, posterior=None,
              yes: bool = True) -> SweepReport:
    """Run (or resume) a sweep.

    Args:
        experiment: an experiment, or its file or bundled name.
        out: the sweep folder (default ``out/sweeps/<name>/``).
        executor: where to run (default: a local process per core).
        force: discard a previous sweep in ``out`` even if it is of another experiment.
        chunk_size: runs per chunk (default: guided, from large chunks down to single runs
            at the end, at most :data:`MAX_CHUNK`).
        echo: called with a line of news (start, interruption); ``None`` is silent.
        posterior: a calibration's :class:`~govsim.calibrate.posterior.Posterior`: replicate
            r of every point runs with its r-th draw (``govsim sweep --posterior``).
        yes: run a design of more than :data:`govsim.sizing.LARGE_RUNS` runs (the command
            line asks for ``--yes``).

    Returns:
        The report; failed runs are in it and in the dataset, they do not raise.

    Raises:
        ExperimentError: the experiment is invalid, or ``out`` holds another experiment.
        SweepError: the folder is in use, or the executor cannot run.
        FolderError: ``out`` is not govsim's, or cannot be written.
        SizeError: the sweep cannot fit in memory, or is large and not ``yes``.
    """
    from govsim import folders

    say = echo or (lambda line: None)
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    prepared = prepare(experiment)
    out = Path(out) if out is not None else default_out(experiment)
    # before the design is drawn: a foreign folder, a typo'd size or too little memory costs
    # a message, not gigabytes
    folders.claim(out, "sweep", force=force, in_place=True, legacy=is_sweep_folder)
    executor = executor or make_executor()
    check_size(prepared, executor, yes)
    design = build_design(prepared)
    check_points(prepared, design.point_params())
    if posterior is not None:
        from govsim.calibrate.posterior import add_to_design

        design = add_to_design(design, posterior, experiment.seed, prepared.base)
    store = SweepStore(out)
    with store.locked():
        done = store.begin(prepared, design, force=force)
        todo = np.setdiff1d(design.runs["run_id"].to_numpy(), np.fromiter(done, np.int64))
        report = SweepReport(experiment.name, out, "nothing", len(design.runs),
                             skipped=len(design.runs) - len(todo))
        say(f"sweep {experiment.name}: {experiment.design} design, {len(design.points)} points "
            f"x {experiment.replicates} replicates = {len(design.runs)} runs; "
            f"{report.skipped} already done -> {out}")
        if len(todo):
            _dispatch(prepared, design, todo, store, executor, chunk_size, report, say)
    report.failed_total = count_failed(out)
    return report


#: Scenario fields that decide a run's memory and time.
_SIZE_FIELDS = ("consumers.count", "participation.degree", "businesses.count", "run.months")


def check_size(prepared: Prepared, executor: Executor, yes: bool) -> None:
    """Size the sweep from its experiment alone (the design is not drawn yet).

    Raises:
        SizeError: see :func:`govsim.sizing.check_runs`.
    """
    from govsim import sizing

    exp = prepared.experiment
    # the design table: a float per parameter and a few ids per run, a few copies while built
    design_bytes = exp.n_runs * (len(prepared.names) + 4) * 8 * 3
    workers = executor.slots if not isinstance(executor, DaskExecutor) or \
        executor.local_workers else 1
    scenario = largest_scenario(prepared)
    sizing.check_runs([scenario] if scenario else [], exp.n_runs, workers, yes,
                      f"sweep {exp.name}", extra_bytes=design_bytes, holds_results=False)


def largest_scenario(prepared: Prepared):
    """The base scenario with each size field at the largest value the sweep gives it."""
    if prepared.base is None:
        return None
    overrides = {}
    for name, spec in prepared.experiment.parameters.items():
        if name in _SIZE_FIELDS:
            values = spec.levels if spec.levels is not None else spec.range
            overrides[name] = int(max(values))
    try:
        return prepared.base.with_overrides(overrides) if overrides else prepared.base
    except ScenarioError:  # e.g. consumers above population: the points are checked later
        return prepared.base


def _dispatch(prepared: Prepared, design: Design, todo: np.ndarray, store: SweepStore,
              executor: Executor, chunk_size: int | None, report: SweepReport,
              say: Callable[[str], None]) -> None:
    from tqdm import tqdm

    exp = prepared.experiment
    with executor:
        report.executor = executor.describe()
        months = prepared.base.run.months if prepared.base else 1
        sizes = (fixed_sizes(len(todo), chunk_size) if chunk_size else
                 guided_sizes(len(todo), executor.slots, exp.outputs == "series", months))
        say(f"running {len(todo)} runs in chunks of {_describe(sizes)} on {report.executor}")
        bar = tqdm(total=len(todo), unit="run", desc=exp.name, smoothing=0.05,
                   dynamic_ncols=True, disable=not sys.stderr.isatty())
        start = time.perf_counter()
        try:
            for task, frame in executor.map(chunk_tasks(prepared, design, todo, sizes)):
                store.write_chunk(task, frame)
                _count(report, frame)
                bar.update(len(task.runs))
                if report.failed:
                    bar.set_postfix(failed=report.failed, refresh=False)
        except KeyboardInterrupt:
            say(f"interrupted after {report.ran} runs; finished chunks are saved: run the same "
                "command again to resume")
            raise
        finally:
            report.elapsed = time.perf_counter() - start
            bar.close()


def _count(report: SweepReport, frame) -> None:
    runs = frame.drop_duplicates("run_id")
    failed = runs[runs["status"] == "failed"]
    report.ran += len(runs)
    report.failed += len(failed)
    for run_id, error in zip(failed["run_id"], failed["error"], strict=True):
        if len(report.errors) < ERRORS_SHOWN:
            report.errors.append((int(run_id), str(error)))


def guided_sizes(n_todo: int, slots: int, series: bool, months: int) -> list[int]:
    """Chunk sizes: each :data:`GUIDED_SHARE` of the runs left per worker slot, at most
    :data:`MAX_CHUNK` runs (or :data:`SERIES_ROWS_PER_CHUNK` monthly rows), down to 1."""
    cap = MAX_CHUNK
    if series:
        cap = min(cap, max(1, SERIES_ROWS_PER_CHUNK // max(months, 1)))
    sizes, left = [], n_todo
    while left > 0:
        size = max(1, min(cap, math.ceil(left * GUIDED_SHARE / max(slots, 1))))
        sizes.append(size)
        left -= size
    return sizes


def fixed_sizes(n_todo: int, size: int) -> list[int]:
    """Chunks of ``size`` runs (``--chunk-size``), the last one smaller."""
    return [min(size, n_todo - start) for start in range(0, n_todo, size)]


def _describe(sizes: list[int]) -> str:
    if min(sizes) == max(sizes):
        return f"{sizes[0]} runs"
    return f"{max(sizes)} down to {min(sizes)} runs ({len(sizes)} chunks)"


def chunk_tasks(prepared: Prepared, design: Design, run_ids: np.ndarray,
                sizes: list[int]) -> Iterator[ChunkTask]:
    """The tasks for ``run_ids`` in chunks of the given sizes, built lazily as executors
    ask for them."""
    exp = prepared.experiment
    runs = design.runs.set_index("run_id")
    names = list(design.names)
    drawn = [c for c in runs.columns if c.startswith("posterior:")]  # sweep --posterior
    start = 0
    for size in sizes:
        block = runs.loc[run_ids[start:start + size], ["seed", *names, *drawn]]
        start += size
        specs = tuple(
            (int(run_id), int(row[0]), _with_draw(dict(zip(
                [*names, *drawn], (_native(v) for v in row[1:]), strict=True))))
            for run_id, row in zip(block.index, block.itertuples(index=False), strict=True))
        yield ChunkTask(exp.model, prepared.base, prepared.fixed_params,
                        exp.outputs == "series", prepared.outputs, specs)


def count_failed(out: str | Path) -> int:
    """Failed runs in a sweep folder's dataset."""
    failed: set[int] = set()
    for part in part_files(out):
        table = pq.read_table(part, columns=["run_id", "status"]).to_pandas()
        failed.update(table.loc[table["status"] == "failed", "run_id"].tolist())
    return len(failed)


def _with_draw(params: dict) -> dict:
    """A run's parameters with its posterior draw (``posterior:<field>`` columns) applied
    under the design's own values."""
    if not any(k.startswith("posterior:") for k in params):
        return params
    from govsim.calibrate.posterior import sweep_params

    own = {k: v for k, v in params.items() if not k.startswith("posterior:")}
    return {**sweep_params(params), **own}


def _native(value):
    return value.item() if hasattr(value, "item") else value
