"""Evaluating candidates: their runs sent through govsim's executors, figures averaged.

A candidate is a set of lever values. It is run ``replicates`` times with the SAME seeds as
every other candidate (common random numbers): the differences between candidates are then
differences of policy, not of luck in the draw. Each candidate's runs form one chunk of the
sweep machinery (:func:`govsim.sweep.worker.run_chunk`), so a candidate's figures are a pure
function of the candidate and its seeds, whatever executor runs it and in whatever order
results come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from govsim.intervals import mean_interval
from govsim.optimise.measures import measure_value, run_figures
from govsim.optimise.problem import Prepared
from govsim.scenario import Scenario
from govsim.sweep.executors import Executor
from govsim.sweep.worker import ChunkTask

#: Seed streams: the search's replicates, the noise check's fresh replicates, the sampler.
SEARCH, FRESH, SAMPLER = 0, 1, 2

#: Runs per chunk in a re-evaluation (a candidate's many fresh runs are split, so both
#: workers share one candidate).
REEVAL_CHUNK = 8


def derived_seed(master: int, stream: int, index: int) -> int:
    """The ``index``-th seed of ``stream`` under ``master``: a 32-bit word of
    ``SeedSequence(master, spawn_key=(stream, index))``, depending on nothing else."""
    child = np.random.SeedSequence(master, spawn_key=(stream, index))
    return int(child.generate_state(1, dtype=np.uint32)[0])


def replicate_seeds(master: int, n: int, stream: int = SEARCH) -> list[int]:
    """The seeds every candidate is run with (the same list for all: common random numbers)."""
    return [derived_seed(master, stream, r) for r in range(n)]


@dataclass
class Evaluation:
    """A candidate's figures.

    Attributes:
        params: the lever values.
        per_run: one row per replicate (in seed order), one column per measure key.
        error: why it failed (a run raised), or ``None``.
    """

    params: dict[str, Any]
    per_run: pd.DataFrame = field(default_factory=pd.DataFrame)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def mean(self, key: str) -> float:
        return float(self.per_run[key].mean())

    def interval(self, key: str) -> tuple[float, float, float]:
        """Mean and its 95% t-interval over the replicates."""
        return mean_interval(self.per_run[key].to_numpy(dtype=float))[:3]

    def means(self) -> dict[str, float]:
        return {k: self.mean(k) for k in self.per_run.columns}


class Evaluator:
    """Runs candidates through an executor and turns their runs into measures.

    Args:
        prepared: the checked problem.
        executor: an entered executor (:func:`govsim.sweep.executors.make_executor`).
    """

    def __init__(self, prepared: Prepared, executor: Executor):
        self.prepared = prepared
        self.problem = prepared.problem
        self.executor = executor
        self._series = prepared.model.uses_scenario

    def evaluate(self, candidates: list[dict[str, Any]], seeds: list[int],
                 bases: list[Scenario | None] | None = None) -> list[Evaluation]:
        """Run every candidate with every seed; return their figures in candidate order.

        Args:
            candidates: lever values (run on the problem's base scenario), or ``{}`` with a
                scenario in ``bases`` (reference points: the status quo, bundled cures).
            seeds: the replicates' seeds, the same for every candidate.
            bases: per candidate, the scenario to run instead of the base with levers set.
        """
        n = len(seeds)
        tasks, owners = [], []
        # a search candidate's few runs go as one chunk; a re-evaluation's many are split
        # (chunking never changes the numbers: a run depends only on its scenario and seed)
        chunk = n if n <= 2 * REEVAL_CHUNK else REEVAL_CHUNK
        for i, params in enumerate(candidates):
            base = bases[i] if bases is not None else None
            if base is not None:
                scenario, run_params = base, {}
            else:
                scenario = self.prepared.base
                run_params = params
            for start in range(0, n, chunk):
                runs = tuple((i * n + r, seeds[r], run_params)
                             for r in range(start, min(n, start + chunk)))
                fixed = {} if self._series else dict(self.problem.fixed)
                tasks.append(ChunkTask(self.problem.model, scenario, fixed, self._series,
                                       None, runs))
                owners.append(i)
        frames: dict[int, list[pd.DataFrame]] = {i: [] for i in range(len(candidates))}
        owner_of = {t.runs[0][0]: o for t, o in zip(tasks, owners, strict=True)}
        for task, frame in self.executor.map(iter(tasks)):
            frames[owner_of[task.runs[0][0]]].append(frame)
        return [self._collect(candidates[i], frames[i]) for i in range(len(candidates))]

    def _collect(self, params: dict[str, Any], frames: list[pd.DataFrame]) -> Evaluation:
        frame = pd.concat(frames, ignore_index=True)
        failed = frame[frame["status"] != "ok"]
        if len(failed):
            return Evaluation(params, error=str(failed["error"].iloc[0]))
        rows = []
        for _, run in frame.groupby("run_id", sort=True):
            figures = run_figures(run, self.problem.window)
            rows.append({m.key: measure_value(figures, m.output, m.per)
                         for m in self.problem.measures})
        return Evaluation(params, pd.DataFrame(rows))
