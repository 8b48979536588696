"""What-if comparison: replicates of each scenario against a baseline, with uncertainty.

A policymaker's question is "which cure works better than what we do now, by how much, and
how sure are we". This module answers it in four steps, each a small function:

1. :func:`plan` loads and validates every scenario (and ``--months``) before anything runs,
   so a bad file is reported by name and nothing is written.
2. :func:`run_all` runs ``replicates`` runs of every scenario, in-process, on local
   processes or on a Dask cluster (the sweep's executors), keeping each finished run if
   asked (:mod:`govsim.compare.checkpoint`). Replicate ``r`` of *every* scenario uses the
   same seed, :func:`replicate_seed` ``(master, r)``, so scenarios differ only by their
   parameters (common random numbers) and each difference from the baseline can be paired
   by replicate.
3. :func:`run_summaries` reduces each run to its outcomes (mean of the last 12 months, as
   :func:`govsim.run.summarize`, plus derived figures such as cost per detected violation).
4. :func:`statistics` gives, per scenario and outcome, the mean with a 95% t-interval over
   replicates and the difference from the baseline with a 95% *paired* t-interval (over the
   per-replicate differences); a difference whose interval excludes zero is flagged.

With ``workers > 1`` the runs go to new processes ("spawn"), which import the calling script
again: a script that calls :func:`compare` must guard its top level with
``if __name__ == "__main__":``.

Example:
    >>> from govsim import compare
    >>> p = compare.plan(["stronger_law"], replicates=5, months=24)  # doctest: +SKIP
    >>> result = compare.compare(p, workers=2)                       # doctest: +SKIP
    >>> result.stats.query("outcome == 'compliance_rate'")           # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from govsim.calibrate.posterior import DRAW_PREFIX
from govsim.compare import costs
from govsim.compare.checkpoint import Checkpoint
from govsim.intervals import CONFIDENCE, mean_interval, paired_difference
from govsim.metrics import COLUMNS
from govsim.output import HEADLINES
from govsim.run import SUMMARY_MONTHS, run
from govsim.scenario import Scenario, ScenarioError, bundled_scenarios, resolve
from govsim.sizing import cores

if TYPE_CHECKING:
    from govsim.sweep.executors import Executor

MIN_REPLICATES = 2  # an interval needs at least two runs
MAX_CHUNK_RUNS = 4  # runs per worker chunk at most (each chunk is kept as it finishes)
BASELINE_NAME = "baseline"

# --- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A figure the comparison reports.

    Attributes:
        key: a column of :mod:`govsim.metrics`, or a derived figure (see :func:`run_summaries`).
        label: what a reader sees.
        fmt: format of a value.
        kind: ``"share"`` (a fraction; effects in percentage points), ``"index"`` (a 0-1
            score; effects in points) or ``"amount"`` (count or money; effects also in %).
        better: +1 if higher is better, -1 if lower is better, 0 if neither (a cost, or an
            official statistic that rises both when food is worse and when testing is better).
    """

    key: str
    label: str
    fmt: str
    kind: str
    better: int


_HEADLINE = {key: (label, fmt) for key, label, fmt in HEADLINES}


def _headline(key: str, kind: str, better: int) -> Outcome:
    label, fmt = _HEADLINE[key]
    return Outcome(key, label, fmt, kind, better)


#: The outcomes compared, in the order of the report's tables.
OUTCOMES: tuple[Outcome, ...] = (
    _headline("compliance_rate", "share", +1),
    _headline("unsafe_share", "share", -1),
    _headline("sample_failure_rate", "share", 0),
    _headline("detection_rate", "share", +1),
    _headline("illness_cases", "amount", -1),
    _headline("complaints", "amount", 0),
    Outcome("illness_per_100k", "Illness cases / 100,000 people / month", "{:.1f}", "amount", -1),
    Outcome("complaints_per_100k", "Complaints / 100,000 people / month", "{:.1f}", "amount", 0),
    _headline("false_pass_rate", "share", -1),
    _headline("collusion_rate", "share", -1),
    _headline("budget_spent", "amount", 0),
    # Neither better nor worse in itself: when a cure deters violations, fewer are left to
    # detect and each detection costs more.
    Outcome("cost_per_violation", "Public cost per detected violation (yuan)", "{:,.0f}",
            "amount", 0),
    Outcome("batches_per_1000", "Batches tested / 1,000 people / year", "{:.2f}", "amount", 0),
    _headline("public_trust", "index", +1),
)

#: Each run's public cost, line by line, and the total (yuan per month; see
#: :mod:`govsim.compare.costs`). A line the model does not report is left out.
COST_OUTCOMES: tuple[Outcome, ...] = tuple(
    Outcome(line.key, f"{line.label} (yuan/month)", "{:,.0f}", "amount", 0)
    for line in (*costs.COST_LINES, costs.TOTAL))

OUTCOME = {o.key: o for o in (*OUTCOMES, *COST_OUTCOMES)}

# --- seeds ---------------------------------------------------------------------------------


def replicate_seed(master: int, replicate: int) -> int:
    """The model seed of replicate ``replicate`` (0-based) under the master seed ``master``.

    It is the first 32-bit word of the ``replicate``-th child of
    ``numpy.random.SeedSequence(master)``, i.e. of ``SeedSequence(master).spawn(n)[replicate]``
    for any ``n > replicate``. It depends on nothing else (not the scenario, the number of
    replicates or of workers), so any run of a comparison can be re-run alone with
    ``govsim run SCENARIO --seed <seed>``, and replicate ``r`` of every scenario shares its
    seed, which pairs the differences from the baseline.

    Args:
        master: the comparison's master seed (``--seed``), >= 0.
        replicate: the replicate's index, >= 0.
    """
    child = np.random.SeedSequence(master, spawn_key=(replicate,))
    return int(child.generate_state(1, dtype=np.uint32)[0])


# --- the plan: every scenario validated before anything runs -------------------------------


@dataclass(frozen=True)
class Plan:
    """What a comparison will run.

    Attributes:
        scenarios: the validated scenarios, baseline first, names unique.
        sources: the file each scenario was read from.
        replicates: runs per scenario.
        master_seed: the seed the replicates' seeds derive from.
        draws: with ``--posterior``, one parameter draw per replicate, the same for every
            scenario (see :mod:`govsim.calibrate.posterior`); empty otherwise.
        posterior: the calibration folder the draws come from ("" without).
    """

    scenarios: tuple[Scenario, ...]
    sources: tuple[str, ...]
    replicates: int
    master_seed: int
    draws: tuple[dict, ...] = ()
    posterior: str = ""

    def scenario(self, i: int, replicate: int) -> Scenario:
        """Scenario ``i`` as run in ``replicate`` (with that replicate's posterior draw)."""
        drawn = self.drawn(i, replicate)
        if not drawn:
            return self.scenarios[i]
        return self.scenarios[i].with_overrides(drawn, source="posterior draw")

    def drawn(self, i: int, replicate: int) -> dict[str, Any]:
        """The posterior draw's values scenario ``i`` runs with in ``replicate`` (the
        fields it does not change itself); empty without ``--posterior``."""
        if not self.draws:
            return {}
        from govsim.calibrate.posterior import applied

        return applied(self.scenarios[i], self.baseline, self.draws[replicate])

    @property
    def baseline(self) -> Scenario:
        return self.scenarios[0]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    @property
    def seeds(self) -> list[int]:
        """The seed of each replicate, shared by every scenario."""
        return [replicate_seed(self.master_seed, r) for r in range(self.replicates)]

    @property
    def n_runs(self) -> int:
        return len(self.scenarios) * self.replicates

    def changes(self) -> dict[str, dict[str, tuple[Any, Any]]]:
        """Each scenario's parameter differences from the baseline, ``{dotted: (base, this)}``."""
        return {s.name: s.diff(self.baseline) for s in self.scenarios}


def window_phrase(p: Plan) -> str:
    """Which months a run's figure averages, e.g. "Mean of the last 12 of 60 months" or,
    for runs of 12 months or fewer, "Mean of all 6 months"."""
    months = sorted({s.run.months for s in p.scenarios})
    if len(months) == 1:
        m = months[0]
        if m <= SUMMARY_MONTHS:
            return f"Mean of all {m} months"
        return f"Mean of the last {SUMMARY_MONTHS} of {m} months"
    return (f"Mean of the last {SUMMARY_MONTHS} months of each run (or all of a shorter "
            f"run; runs of {'/'.join(map(str, months))} months)")


def default_cures(baseline: str = BASELINE_NAME) -> list[str]:
    """Every bundled scenario except the baseline and those with a timeline (compared by
    name, e.g. ``govsim compare crackdown_then_relax``): the cures compared by default."""
    skip = {baseline, BASELINE_NAME}
    base_path = Path(baseline).resolve() if Path(baseline).is_file() else None
    return [name for name, path in bundled_scenarios().items()
            if name not in skip and path.resolve() != base_path
            and not Scenario.load(path).timeline]


def plan(scenarios: Sequence[str] = (), baseline: str = BASELINE_NAME, replicates: int = 20,
         months: int | None = None, seed: int = 0) -> Plan:
    """Load and validate a comparison; nothing runs and nothing is written.

    Args:
        scenarios: scenario files or bundled names; empty means every bundled cure.
        baseline: the baseline's file or bundled name.
        replicates: runs per scenario (>= 2, for an interval).
        months: months per run, overriding the scenarios' own (None keeps them).
        seed: master seed (>= 0).

    Raises:
        ScenarioError: naming every bad scenario (all are checked, not just the first), or a
            bad number of replicates, months or seed.
    """
    _check_numbers(replicates, months, seed)
    wanted = [baseline, *(scenarios or default_cures(baseline))]
    loaded, errors = [], []
    for name in wanted:
        try:
            loaded.append(_load(name, months))
        except ScenarioError as exc:
            errors.append(str(exc))
    if errors:
        raise ScenarioError(f"cannot compare, nothing was run ({len(errors)} bad "
                            f"scenario{'s' if len(errors) > 1 else ''}):\n" + "\n".join(errors))
    loaded = _drop_repeats(loaded)
    return Plan(tuple(s for s, _ in loaded), tuple(p for _, p in loaded), replicates, seed)


def _check_numbers(replicates: int, months: int | None, seed: int) -> None:
    if replicates < MIN_REPLICATES:
        raise ScenarioError(f"--replicates {replicates}: at least {MIN_REPLICATES} are needed "
                            "for a confidence interval")
    if seed < 0:
        raise ScenarioError(f"--seed {seed}: the master seed must be >= 0")
    if months is not None:
        # validated once here, so a bad --months gives one message rather than one per file
        Scenario().with_overrides({"run.months": months}, source="--months")


def _load(name_or_path: str, months: int | None) -> tuple[Scenario, str]:
    path = resolve(name_or_path)
    scenario = Scenario.load(path)
    if months is not None:
        scenario = scenario.with_overrides({"run.months": months},
                                           source=f"{path} with --months {months}")
    return scenario, str(path)


def _drop_repeats(loaded: list[tuple[Scenario, str]]) -> list[tuple[Scenario, str]]:
    """Drop a scenario given twice (e.g. the baseline among the cures); refuse two different
    scenarios with one name, as names label every table and file."""
    kept: dict[str, tuple[Scenario, str]] = {}
    for scenario, path in loaded:
        if scenario.name not in kept:
            kept[scenario.name] = (scenario, path)
        elif kept[scenario.name][0] != scenario:
            raise ScenarioError(f"{path}: scenario name {scenario.name!r} is also used by "
                                f"{kept[scenario.name][1]}; give one of them another `name`")
    return list(kept.values())


# --- running ---------------------------------------------------------------------------------

RUN_KEYS = ("scenario", "replicate", "seed")


def default_workers() -> int:
    """All the cores this process may use."""
    return cores()


def run_all(p: Plan, workers: int = 1, progress: bool = False,
            keep: Checkpoint | None = None, executor: Executor | None = None) -> pd.DataFrame:
    """Run every replicate of every scenario.

    Args:
        p: the plan.
        workers: processes; 1 runs in this process. The numbers do not depend on it: every
            run has its own seed and results are ordered by (scenario, replicate).
        progress: show a progress bar over all runs (only when stderr is a terminal).
        keep: where finished runs are kept as they arrive and read back from: runs kept by
            an earlier, interrupted call are not run again.
        executor: where the runs go instead of ``workers`` local processes, e.g. a Dask
            cluster (:func:`govsim.sweep.executors.make_executor`; not entered yet).

    Returns:
        One row per run and month: ``scenario``, ``replicate``, ``seed``, then the columns
        of :mod:`govsim.metrics`.
    """
    seeds = p.seeds
    tasks = [(i, r, seeds[r]) for i in range(len(p.scenarios)) for r in range(p.replicates)]
    # each run's scenario, once (with --posterior, each is validated anew with its draw)
    as_run = {(i, r): p.scenario(i, r) for i, r, _ in tasks}
    results: dict[tuple[int, int], pd.DataFrame] = {}
    if keep is not None:
        for i, r, seed in tasks:
            kept = keep.load(as_run[(i, r)], seed)
            if kept is not None:
                results[(i, r)] = kept
    todo = [task for task in tasks if task[:2] not in results]
    with _progress_bar(len(tasks), progress, initial=len(results)) as bar:
        for done in _execute(as_run, todo, executor or _local(workers, len(todo))):
            results.update(done)
            if keep is not None:
                for (i, r), timeseries in done.items():
                    keep.save(as_run[(i, r)], seeds[r], timeseries)
            bar.update(len(done))
    frames = [_label(results[(i, r)], p.scenarios[i].name, r, seed, p.drawn(i, r))
              for i, r, seed in tasks]
    return pd.concat(frames, ignore_index=True)


def _progress_bar(total: int, enabled: bool, initial: int = 0):
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="run", desc="govsim compare",
                dynamic_ncols=True, disable=not (enabled and sys.stderr.isatty()))


@dataclass(frozen=True)
class Chunk:
    """Runs for one worker: ``(scenario index, replicate, seed)`` with their scenarios."""

    key: str
    scenarios: dict[tuple[int, int], Scenario]
    tasks: tuple[tuple[int, int, int], ...]


def _local(workers: int, n_tasks: int) -> Executor:
    """This process, or local worker processes (no more than there are runs)."""
    from govsim.sweep.executors import make_executor

    return make_executor(workers=max(1, min(workers, n_tasks)))


def _execute(as_run: dict[tuple[int, int], Scenario], tasks: list[tuple[int, int, int]],
             executor: Executor):
    """Yield ``{(scenario index, replicate): timeseries}`` chunk by chunk as they finish, on
    the sweep's executors (which stop their workers on Ctrl-C and replace dead ones)."""
    if not tasks:
        return
    with executor:
        size = _chunk_size(len(tasks), executor.slots)  # a Dask cluster's, once connected
        chunks = (Chunk(str(k), {(i, r): as_run[(i, r)] for i, r, _ in tasks[k:k + size]},
                        tuple(tasks[k:k + size])) for k in range(0, len(tasks), size))
        for _, done in executor.map(chunks, function=run_chunk, on_killed=None):
            yield done


def _chunk_size(n_tasks: int, workers: int) -> int:
    # In one process, one run at a time: each is kept the moment it finishes. Workers stay
    # up from chunk to chunk, so a few chunks per worker balance scenarios of unequal speed
    # and move the progress bar; at most a few runs each, so an interruption loses little.
    if workers <= 1:
        return 1
    return max(1, min(math.ceil(n_tasks / (workers * 6)), MAX_CHUNK_RUNS))


def run_chunk(chunk: Chunk) -> dict[tuple[int, int], pd.DataFrame]:
    """Run a chunk (in a worker process)."""
    return {(i, r): run(chunk.scenarios[(i, r)], seed=seed).timeseries
            for i, r, seed in chunk.tasks}


def _label(timeseries: pd.DataFrame, name: str, replicate: int, seed: int,
           drawn: dict[str, Any]) -> pd.DataFrame:
    frame = timeseries.copy()
    for k, (field, value) in enumerate(drawn.items()):  # so every run can be re-run alone
        frame.insert(k, DRAW_PREFIX + field, value)
    frame.insert(0, "seed", np.int64(seed))
    frame.insert(0, "replicate", np.int64(replicate))
    frame.insert(0, "scenario", name)
    return frame


# --- per-run outcomes --------------------------------------------------------------------------


def run_summaries(runs: pd.DataFrame, p: Plan) -> pd.DataFrame:
    """Each run's outcomes: the mean of its last 12 months, plus derived figures.

    Derived figures, over the same months:

    * ``cost_per_violation``: total public cost / violations detected (NaN when none were).
    * ``batches_per_1000``: batches tested per 1,000 people per year.
    * the public cost lines and their total (:mod:`govsim.compare.costs`), per month.

    Returns:
        One row per run: ``scenario``, ``replicate``, ``seed``, and a column per metric.
    """
    keys = list(RUN_KEYS)
    tail = runs.groupby(keys[:2], sort=False).tail(SUMMARY_MONTHS)
    grouped = tail.groupby(keys, sort=False)
    out = grouped[[c for c in COLUMNS if c != "step" and c in runs]].mean().reset_index()
    detected = grouped["detected_violations"].sum().reset_index(drop=True)
    population = out["scenario"].map({s.name: s.consumers.population for s in p.scenarios})
    out["batches_per_1000"] = out["batches_tested"] * 12 * 1000 / population
    price = tail["scenario"].map({s.name: s.budget.cost_per_batch_yuan for s in p.scenarios})
    lines = costs.monthly_costs(tail, price)
    lines[keys] = tail[keys]
    means = lines.groupby(keys, sort=False).mean().reset_index(drop=True)
    # every public cost, not the testing budget alone: rewards are a cost of detection too
    months = grouped.size().reset_index(drop=True)
    out["cost_per_violation"] = means["public_cost"] * months / detected.where(detected > 0)
    drawn = [c for c in runs.columns if c.startswith(DRAW_PREFIX)]
    out = pd.concat([out, means], axis=1)
    if drawn:
        out[drawn] = grouped[drawn].first().reset_index(drop=True)
    return out


# --- statistics --------------------------------------------------------------------------------


def statistics(per_run: pd.DataFrame, p: Plan) -> pd.DataFrame:
    """Per scenario and outcome: mean and 95% interval, and the effect against the baseline.

    Returns:
        One row per (scenario, outcome), scenarios in plan order (baseline first), outcomes
        in :data:`OUTCOMES` order then the cost lines of :data:`COST_OUTCOMES`, with columns
        ``scenario, outcome, label, n, mean, low, high, diff, diff_low, diff_high, rel,
        rel_low, rel_high, significant, direction``.
        ``rel*`` is the difference as a fraction of the baseline mean (NaN when that is 0).
        ``direction`` is ``"better"``, ``"worse"`` or ``"changed"`` for a significant
        difference, ``""`` otherwise.
    """
    by_name = {name: g.set_index("replicate") for name, g in per_run.groupby("scenario")}
    base = by_name[p.baseline.name]
    rows = []
    for name in p.names:
        runs = by_name[name]
        for o in outcomes_of(per_run):
            rows.append(_row(name, o, runs[o.key], base[o.key], name == p.baseline.name))
    return pd.DataFrame(rows)


def outcomes_of(per_run: pd.DataFrame) -> list[Outcome]:
    """The outcomes and cost lines that ``per_run`` holds, in the report's order."""
    return [o for o in (*OUTCOMES, *COST_OUTCOMES) if o.key in per_run.columns]


def monthly_interval(runs: pd.DataFrame, column: str,
                     confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Month by month, the mean of ``column`` over replicates and its t-interval.

    Returns:
        One row per (scenario, step): ``scenario, step, mean, low, high``, scenarios in the
        order they appear in ``runs``.
    """
    grouped = runs.groupby(["scenario", "step"], sort=False)[column]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    n = out["count"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = sps.t.ppf(0.5 + confidence / 2, np.where(n > 1, n - 1, np.nan))
        half = t * out["std"].to_numpy() / np.sqrt(n)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out[["scenario", "step", "mean", "low", "high"]]


def _row(name: str, o: Outcome, values: pd.Series, base: pd.Series, is_base: bool) -> dict:
    mean, low, high, n = mean_interval(values)
    # a t-interval over a few skewed replicates can reach past what the figure can be
    # (a share of -26% or 136%): cut at its bounds; differences are not bounded so
    low = max(low, 0.0) if not math.isnan(low) else low
    if o.kind in ("share", "index") and not math.isnan(high):
        high = min(high, 1.0)
    if is_base:
        diff = low_d = high_d = math.nan
    else:
        diff, low_d, high_d, _ = paired_difference(values, base)
    base_mean = mean_interval(base)[0]
    scale = 1 / base_mean if base_mean and not math.isnan(base_mean) else math.nan
    significant = bool(low_d > 0 or high_d < 0)  # False when NaN
    return {"scenario": name, "outcome": o.key, "label": o.label, "n": n,
            "mean": mean, "low": low, "high": high,
            "diff": diff, "diff_low": low_d, "diff_high": high_d,
            "rel": diff * scale, "rel_low": low_d * scale, "rel_high": high_d * scale,
            "significant": significant, "direction": _direction(o, diff, significant)}


def _direction(o: Outcome, diff: float, significant: bool) -> str:
    if not significant:
        return ""
    if o.better == 0:
        return "changed"
    return "better" if (diff > 0) == (o.better > 0) else "worse"


# --- the whole comparison ------------------------------------------------------------------------


@dataclass
class Comparison:
    """A finished comparison.

    Attributes:
        plan: what was run.
        runs: one row per run and month (written as ``runs.parquet``).
        per_run: one row per run: its outcomes.
        stats: one row per scenario and outcome (written as ``summary.csv``).
        elapsed: seconds the runs took (for the terminal only: reports do not depend on it).
    """

    plan: Plan
    runs: pd.DataFrame
    per_run: pd.DataFrame
    stats: pd.DataFrame
    elapsed: float = 0.0

    def stat(self, scenario: str, outcome: str) -> pd.Series:
        """The statistics row of one scenario and outcome."""
        s = self.stats
        return s[(s.scenario == scenario) & (s.outcome == outcome)].iloc[0]

    def has(self, outcome: str) -> bool:
        """Whether the statistics hold ``outcome`` (a cost line the model may not report)."""
        return bool((self.stats.outcome == outcome).any())

    @cached_property
    def cost_effectiveness(self) -> pd.DataFrame:
        """Per cure, yuan of extra public cost per illness case averted, with its interval
        (:func:`govsim.compare.costs.cost_effectiveness`; empty without cost columns)."""
        if "public_cost" not in self.per_run.columns:
            return pd.DataFrame(columns=["scenario", "yuan_per_case", "low", "high", "note"])
        return costs.cost_effectiveness(self.per_run, self.plan.baseline.name,
                                        self.plan.names[1:])


def compare(p: Plan, workers: int = 1, progress: bool = False,
            keep: Checkpoint | None = None, executor: Executor | None = None) -> Comparison:
    """Run a plan and compute its statistics (nothing is written but the runs ``keep``
    keeps; see :func:`run_all`)."""
    start = time.perf_counter()
    runs = run_all(p, workers=workers, progress=progress, keep=keep, executor=executor)
    elapsed = time.perf_counter() - start
    per_run = run_summaries(runs, p)
    return Comparison(p, runs, per_run, statistics(per_run, p), elapsed)
