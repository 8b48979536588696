"""The search: optuna proposes candidates in batches, govsim's executors run them.

optuna's ask-and-tell interface keeps the running of models in govsim's hands: a batch of
``problem.batch`` candidates is asked for, run side by side on the executor (local processes
or Dask), and told back in trial order. One objective uses TPE, several use NSGA-II; limits
go through the samplers' ``constraints_func``.

Reproducibility: the sampler is re-created for each batch with a seed derived from the
problem's seed and the batch's index, and the batch is told back in trial order once all of
it has run. What the sampler proposes therefore depends only on the seed and on the trials
already in the study, never on the executor, on the order results come back, or on whether
the study was interrupted and resumed between batches.

The study lives in an SQLite file (``study.db``), so a killed optimisation resumes: the
batch the kill cut short is completed with the candidates it was planned with and run again,
then the search goes on to the requested number of trials.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, Trial, TrialState

from govsim.optimise.evaluation import SAMPLER, Evaluation, Evaluator, derived_seed, replicate_seeds
from govsim.optimise.problem import Prepared, Problem

STUDY_FILE = "study.db"
#: the study attribute keeping the sampler's own state between batches (see plan_batch)
SAMPLER_STATE = "sampler_state"

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class SearchReport:
    """What the search did in this session.

    Attributes:
        trials: finished trials in the study now.
        ran: trials run in this session (resumed ones included).
        resumed: trials left running by an interrupted session and run again.
        failed: trials of this session whose runs raised.
        elapsed: seconds of this session.
    """

    trials: int = 0
    ran: int = 0
    resumed: int = 0
    failed: int = 0
    elapsed: float = 0.0


def storage(out: Path) -> optuna.storages.RDBStorage:
    """optuna's SQLite storage of ``out/study.db``, in write-ahead-log mode without a disk
    sync at every commit: optuna commits several times per trial, and a synced commit took
    14 ms here, most of a toy trial's time. A killed process still loses nothing committed
    (only a power cut could lose the last commits, which a resume would run again)."""
    path = (Path(out) / STUDY_FILE).resolve()

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=60, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    return optuna.storages.RDBStorage(f"sqlite:///{path}", engine_kwargs={"creator": connect})


def open_study(problem: Problem, out: Path) -> optuna.Study:
    """The problem's study in ``out/study.db``, created or loaded."""
    return optuna.create_study(study_name=problem.name, storage=storage(out),
                               directions=directions(problem), load_if_exists=True)


def directions(problem: Problem) -> list[str]:
    """optuna's spelling of the objectives' directions."""
    return ["minimize" if o.direction == "minimise" else "maximize" for o in problem.objectives]


def distributions(prepared: Prepared) -> dict[str, BaseDistribution]:
    """optuna's distribution for each lever."""
    out: dict[str, BaseDistribution] = {}
    for name, lever in prepared.problem.levers.items():
        kind = prepared.kinds[name]
        if lever.range is not None:
            low, high = lever.range
            log = lever.scale == "log"
            out[name] = (IntDistribution(int(low), int(high), log=log) if kind == "int"
                         else FloatDistribution(float(low), float(high), log=log))
        else:
            out[name] = CategoricalDistribution(lever.choices if lever.choices is not None
                                                else [False, True])
    return out


def constraint_values(trial: FrozenTrial) -> list[float]:
    """The limits' violations stored with the trial (<= 0: met), in problem order."""
    return list(trial.user_attrs.get("constraints", []))


def make_sampler(problem: Problem, batch_index: int) -> optuna.samplers.BaseSampler:
    """The batch's sampler, seeded from the problem's seed and the batch's index."""
    seed = derived_seed(problem.seed, SAMPLER, batch_index)
    if problem.multi:
        return optuna.samplers.NSGAIISampler(population_size=problem.population, seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                      n_startup_trials=max(10, problem.batch))


def search(prepared: Prepared, out: Path, evaluator: Evaluator, trials: int,
           echo: Callable[[str], None] = print) -> SearchReport:
    """Run (or resume) the search until the study holds ``trials`` finished trials.

    Args:
        prepared: the checked problem.
        out: the folder of the study.
        evaluator: runs candidates (its executor already entered).
        trials: finished trials wanted in the study.
        echo: where progress lines go.
    """
    problem = prepared.problem
    study = open_study(problem, out)
    dists = distributions(prepared)
    seeds = replicate_seeds(problem.seed, problem.replicates)
    report = SearchReport()
    start = time.perf_counter()
    left = sum(t.state == TrialState.RUNNING for t in study.get_trials(deepcopy=False))
    if left:
        echo(f"resuming: running again the {left} trials the interrupted session left")
        report.resumed = left
    while _finished(study) < trials:
        errors = _run_batch(study, problem, evaluator, next_batch(study, problem, dists, trials),
                            seeds, report)
        elapsed = time.perf_counter() - start
        echo(f"  {_finished(study)}/{trials} trials ({report.ran / elapsed * 60:.0f} "
             f"trials/min){_best_text(study, problem)}{_failed_text(errors)}")
    report.trials = _finished(study)
    report.elapsed = time.perf_counter() - start
    return report


def next_batch(study: optuna.Study, problem: Problem, dists: dict[str, BaseDistribution],
               trials: int) -> list[Trial]:
    """The unfinished trials of the batch to run next, its missing candidates added first.

    That batch is the one holding the first unfinished trial (left by a killed session, or
    enqueued), or else the next one. Its candidates are planned from the trials before it,
    so a batch that a kill cut short is completed with the very candidates an uninterrupted
    run gives.
    """
    existing = study.get_trials(deepcopy=False)
    first_open = next((t.number for t in existing if not t.state.is_finished()), len(existing))
    begin = first_open // problem.batch * problem.batch
    index = begin // problem.batch
    size = max(min(problem.batch, trials - begin), len(existing) - begin)
    planned = plan_batch(study, problem, dists, existing[:begin], existing[begin:], index, size)
    study.sampler = make_sampler(problem, index)  # asks of enqueued trials meet the same one
    for number, candidate in enumerate(planned, start=begin):
        if number >= len(existing):
            study.add_trial(candidate)
        elif existing[number].state == TrialState.WAITING:
            study.ask(dists)  # optuna gives the enqueued trial its fixed values
    return [Trial(study, t._trial_id) for t in study.get_trials(deepcopy=False)[begin:]
            if t.state == TrialState.RUNNING]


def plan_batch(study: optuna.Study, problem: Problem, dists: dict[str, BaseDistribution],
               before: list[FrozenTrial], batch: list[FrozenTrial], index: int,
               size: int) -> list[FrozenTrial]:
    """The batch's ``size`` candidates, asked of a copy in memory of the trials before it
    and of the batch's enqueued trials (which are asked first, as optuna does).

    Asked of the study itself, optuna would write each trial and then each of its values in
    separate commits, and a kill in between would leave a trial with values missing; added
    whole (one commit each), a batch can only be cut short between trials.
    """
    memory = optuna.create_study(storage=optuna.storages.InMemoryStorage(),
                                 directions=directions(problem),
                                 sampler=make_sampler(problem, index))
    memory.add_trials(before + [t for t in batch if t.state == TrialState.WAITING])
    # NSGA-II fixes each generation's parents at its first ask and keeps them in the study's
    # system attributes by trial id. Ids in a fresh in-memory study are trial numbers, so
    # that state is kept, as it is, with the study on disk (optuna has no public call to set
    # a study's system attributes, hence the private storage calls).
    for key, value in study.user_attrs.get(SAMPLER_STATE, {}).items():
        memory._storage.set_study_system_attr(memory._study_id, key, value)
    for _ in range(size):
        memory.ask(dists)
    study.set_user_attr(SAMPLER_STATE, memory._storage.get_study_system_attrs(memory._study_id))
    return [optuna.trial.create_trial(state=TrialState.RUNNING, params=t.params,
                                      distributions=t.distributions, system_attrs=t.system_attrs)
            for t in memory.get_trials(deepcopy=False)[len(before):]]


def _finished(study: optuna.Study) -> int:
    return sum(t.state in (TrialState.COMPLETE, TrialState.FAIL)
               for t in study.get_trials(deepcopy=False))


def _run_batch(study: optuna.Study, problem: Problem, evaluator: Evaluator,
               trials: list[Trial], seeds: list[int], report: SearchReport) -> list[str]:
    """Run the trials' candidates, tell optuna; return the errors of those that failed."""
    evaluations = evaluator.evaluate([t.params for t in trials], seeds)
    errors = []
    for trial, evaluation in zip(trials, evaluations, strict=True):
        error = _tell(study, problem, trial, evaluation)
        report.ran += 1
        if error:
            report.failed += 1
            errors.append(error)
    return errors


def _tell(study: optuna.Study, problem: Problem, trial: Trial,
          evaluation: Evaluation) -> str | None:
    """Tell optuna the trial's objectives and limits, or that it failed (returns why)."""
    error = evaluation.error
    if error is None:
        means = evaluation.means()
        values = [means[o.key] for o in problem.objectives]
        violations = [c.violation(means[c.key]) for c in problem.constraints]
        if any(math.isnan(v) for v in [*values, *violations]):
            error = "a measure is NaN (no month in the window had a value)"
    if error is not None:
        trial.set_user_attr("error", error[:2000])
        study.tell(trial, state=TrialState.FAIL)
        return error
    trial.set_user_attr("figures", means)
    trial.set_user_attr("constraints", violations)
    for i, (c, v) in enumerate(zip(problem.constraints, violations, strict=True)):
        trial.set_constraint(f"{i}:{c.key}", v)
    study.tell(trial, values)
    return None


def _failed_text(errors: list[str]) -> str:
    """``; 2 failed (first: ValueError ...)`` for the batch's trials whose runs raised."""
    return f"; {len(errors)} failed (first: {errors[0][:300]})" if errors else ""


def _best_text(study: optuna.Study, problem: Problem) -> str:
    if problem.multi:
        return ""
    best = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if all(v <= 0 for v in constraint_values(t))]
    if not best:
        return "; none meets the limits yet"
    sign = 1 if problem.objectives[0].direction == "minimise" else -1
    value = min(best, key=lambda t: sign * t.values[0]).values[0]
    return f"; best so far {value:,.4g}"


def trial_table(study: optuna.Study, problem: Problem) -> list[dict[str, Any]]:
    """Every finished trial as a row: number, state, levers, measures, feasible."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state not in (TrialState.COMPLETE, TrialState.FAIL):
            continue
        figures = t.user_attrs.get("figures", {})
        rows.append({"trial": t.number, "state": t.state.name.lower(), **t.params,
                     **{m.key: figures.get(m.key, math.nan) for m in problem.measures},
                     "feasible": t.state == TrialState.COMPLETE
                     and all(v <= 0 for v in constraint_values(t)),
                     "error": t.user_attrs.get("error", "")})
    return rows
