"""Timeline windows and persistence: what a policy did while it ran, and after it ended.

A run with a timeline is split at its changes into windows ("before", one per change,
"after: ..." once a change has ended). For each window, :func:`window_table` gives the mean
of an outcome over the window's months, with a 95% t-interval over replicates.

:func:`persistence` measures, for each change that ends, how long compliance takes to come
back to where it was before the change: the pre-change band is the mean +- 2 standard
deviations of the monthly (replicate-mean) values over the last 12 months before the change;
the persistence is the number of months from the end of the change until the value is back
within the band for 3 consecutive months (fewer at the end of the run), or None when it does
not return within the run. Used by ``govsim run`` and sweeps, which have no baseline run.

A run's own pre-change level is a weak counterfactual when the outcome drifts on its own (the
baseline's compliance moves by a point or two over five years), so ``govsim compare``, which
runs the baseline with the same seeds, measures against it instead:
:func:`paired_persistence` counts the months from the end of a change until the paired
difference from the baseline (same seed) is within noise, its 95% t-interval over replicates
holding zero, for 3 consecutive months; :func:`paired_differences` gives the phase table's
rows of differences.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from govsim.intervals import mean_interval
from govsim.run import SUMMARY_MONTHS
from govsim.timeline import Step

if TYPE_CHECKING:
    from govsim.scenario import Scenario

PRE_MONTHS = 12  # the pre-change level is read over the last year before the change
BAND_SDS = 2.0  # the pre-change band: mean +- 2 standard deviations of the monthly values
STAY_MONTHS = 3  # back means back for 3 consecutive months, not a single lucky month


@dataclass(frozen=True)
class Window:
    """Months ``first`` to ``last`` (inclusive) between two changes of the timeline."""

    label: str
    first: int
    last: int


@dataclass(frozen=True)
class Persistence:
    """How long an ended change's effect on an outcome outlasted it.

    Attributes:
        label: the change.
        start, end: the month the change started, and the month it ended (first month
            without it).
        level, low, high: the pre-change mean and band.
        left: whether the outcome left the band while the change was in force.
        months: months from ``end`` until back within the band, or None if it did not
            come back within the run.
    """

    label: str
    start: int
    end: int
    level: float
    low: float
    high: float
    left: bool
    months: int | None

    @property
    def text(self) -> str:
        """The finding in words."""
        if not self.left:
            return "never left its pre-change band"
        if self.months is None:
            return "did not return within the run"
        if self.months == 0:
            return "back within its pre-change band at once"
        return f"back within its pre-change band after {self.months} months"


def markers(scenario: Scenario) -> list[tuple[int, str]]:
    """Every change as ``(month, label)``, in month order (one entry per month)."""
    by_month: dict[int, list[str]] = {}
    for step in scenario.steps():
        by_month.setdefault(step.month, []).append(step.label)
    months = scenario.run.months
    return [(m, " + ".join(labels)) for m, labels in by_month.items() if m <= months]


def windows(scenario: Scenario) -> list[Window]:
    """The run's months split at its changes ("before", one window per change, "after X"
    once change X has ended); empty when the scenario has no timeline."""
    months = scenario.run.months
    steps = [s for s in scenario.steps() if s.month <= months]
    if not steps:
        return []
    bounds = sorted({s.month for s in steps})
    out = []
    if bounds[0] > 1:
        out.append(Window("before", 1, bounds[0] - 1))
    for i, month in enumerate(bounds):
        here = [s for s in steps if s.month == month]
        labels = " + ".join(s.label for s in here)
        if all(s.ends for s in here):
            labels = "after " + " + ".join(scenario.timeline[s.index].label for s in here)
        last = bounds[i + 1] - 1 if i + 1 < len(bounds) else months
        out.append(Window(labels, month, last))
    return out


def window_table(runs: pd.DataFrame, scenario: Scenario,
                 columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Each window's mean of each column, with a 95% interval over replicates.

    Args:
        runs: one row per run and month, with ``step`` and (for several runs) ``replicate``.
        scenario: the scenario that was run (its timeline gives the windows).
        columns: the outcomes.

    Returns:
        One row per (window, column): ``window, first, last, column, mean, low, high, n``;
        ``low``/``high`` are NaN for a single run.
    """
    rows = []
    runs = runs.reset_index(drop=True)
    replicate = (runs["replicate"] if "replicate" in runs
                 else pd.Series(0, index=runs.index)).to_numpy()
    wins = windows(scenario)
    # each window's rows, in their order in runs, found by one sort (a mask over every row
    # for each window made many changes quadratic)
    where = _window_of(runs["step"].to_numpy(), wins)
    order = np.argsort(where, kind="stable")
    starts = np.searchsorted(where[order], np.arange(len(wins) + 1))
    for i, w in enumerate(wins):
        inside = order[starts[i]:starts[i + 1]]
        per_run = runs.iloc[inside][list(columns)].groupby(replicate[inside]).mean()
        for column in columns:
            mean, low, high, n = mean_interval(per_run[column].to_numpy(dtype=float))
            rows.append({"window": w.label, "first": w.first, "last": w.last,
                         "column": column, "mean": mean, "low": low, "high": high, "n": n})
    return pd.DataFrame(rows, columns=["window", "first", "last", "column", "mean", "low",
                                       "high", "n"])


def _window_of(months: np.ndarray, wins: list[Window]) -> np.ndarray:
    """The index of the window holding each month, -1 for a month outside every window."""
    if not wins:
        return np.full(len(months), -1)
    firsts = np.array([w.first for w in wins])
    lasts = np.array([w.last for w in wins])
    where = np.searchsorted(firsts, months, side="right") - 1
    ok = (where >= 0) & (months <= lasts[np.maximum(where, 0)])
    return np.where(ok, where, -1)


def endings(scenario: Scenario) -> list[tuple[str, int, int]]:
    """Changes that end within the run, as ``(label, start month, end month)``: a change
    whose ``length`` runs out while it still holds a field (see
    :func:`govsim.timeline.expand`), or a change whose fields a later change sets back to
    their values before it. In the order of the changes' steps; a change ending twice in
    the same month is listed once.

    One pass over the steps (no scenario is rebuilt per step), so a long timeline costs
    little more than a short one.
    """
    months = scenario.run.months
    steps = scenario.steps()
    found = []  # (position of the step that names the change, change, ending)
    for position, step in enumerate(steps):
        if step.ends and step.month <= months:
            change = scenario.timeline[step.index]
            found.append((position, step.index, (change.label, change.month, step.month)))
    found += _reversals(scenario, steps)
    unique = dict.fromkeys((index, ending) for _, index, ending in sorted(found))
    return [ending for _, ending in unique]


def _reversals(scenario: Scenario, steps: list[Step]) -> list[tuple[int, int, tuple]]:
    """Changes whose fields a step of a later month sets back to the values in force before
    them, as ``(position, change, (label, start, end))`` for :func:`endings`.

    Walks the steps once, keeping the values in force. A change waits for its reversal
    under its first field and the value that field had before it, so each step looks only
    at the changes it could reverse.
    """
    months = scenario.run.months
    current = scenario.flat()
    waiting: dict[tuple[str, Any], list[_Waiting]] = {}
    this_month: list[_Waiting] = []  # they wait from the next month on
    month, before, out = None, current, []
    for position, step in enumerate(steps):
        if step.month != month:
            for entry in this_month:
                first = next(iter(entry.step.values))
                waiting.setdefault((first, entry.before[first]), []).append(entry)
            month, before, this_month = step.month, dict(current), []
        current.update(step.values)
        if step.ends:
            continue
        for key in step.values.items():
            for entry in list(waiting.get(key, ())):
                if all(step.values.get(k, _MISSING) == v for k, v in entry.before.items()):
                    waiting[key].remove(entry)
                    if step.month <= months:
                        change = entry.step
                        out.append((entry.position, change.index,
                                    (change.label, change.month, step.month)))
        this_month.append(_Waiting(position, step, {k: before[k] for k in step.values}))
    return out


@dataclass(frozen=True)
class _Waiting:
    """A change waiting to be reversed: its place among the steps, and the values in force
    before it."""

    position: int
    step: Step
    before: dict[str, Any]


_MISSING = object()  # a field the later step does not set


def persistence(runs: pd.DataFrame, scenario: Scenario,
                column: str = "compliance_rate") -> list[Persistence]:
    """For each change that ends, how long ``column`` takes to return to its pre-change
    band (see the module's description). Changes starting in month 1 have no pre-change
    level and are left out."""
    series = runs.groupby("step")[column].mean().sort_index()
    out = []
    for label, start, end in endings(scenario):
        pre = series.loc[max(1, start - PRE_MONTHS): start - 1].dropna()
        if pre.empty:
            continue
        level = float(pre.mean())
        spread = BAND_SDS * float(pre.std(ddof=1)) if len(pre) > 1 else 0.0
        low, high = level - spread, level + spread
        inside = (series >= low) & (series <= high)
        during = inside.loc[start: end - 1]
        left = bool((~during).any())
        out.append(Persistence(label, start, end, level, low, high, left,
                               _months_to_return(inside.loc[end:])))
    return out


def persistence_months(timeseries: pd.DataFrame, scenario: Scenario,
                       column: str = "compliance_rate") -> float:
    """One run's persistence of its first ending change, as a number for sweeps: the
    months to return, NaN when it did not return, 0 when it never left the band, NaN when
    no change ends."""
    found = persistence(timeseries, scenario, column)
    if not found:
        return math.nan
    first = found[0]
    if not first.left:
        return 0.0
    return math.nan if first.months is None else float(first.months)


@dataclass(frozen=True)
class PairedPersistence:
    """How long an ended change's effect outlasted it, against the paired baseline.

    Attributes:
        label: the change.
        start, end: the month the change started, and the month it ended (first month
            without it).
        left: the difference from the baseline was significant in some month of the change.
        months: months from ``end`` until the difference is within noise for
            :data:`STAY_MONTHS` months running, or None if it stays significant.
        last: the mean difference over the run's last 12 months, with its 95% interval
            (``(mean, low, high)``).
    """

    label: str
    start: int
    end: int
    left: bool
    months: int | None
    last: tuple[float, float, float]

    @property
    def text(self) -> str:
        """The finding in words."""
        if not self.left:
            return "never significantly different from the baseline"
        if self.months is None:
            return "still significantly different from the baseline at the end of the run"
        if self.months == 0:
            return "within noise of the baseline as soon as it ended"
        return f"within noise of the baseline after {self.months} months"


def paired_differences(runs: pd.DataFrame, base_runs: pd.DataFrame,
                       columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Each run's ``columns`` minus the baseline run with the same replicate (same seed), by
    month: one row per replicate and month, as ``runs`` has."""
    key = ["replicate", "step"]
    mine = runs.set_index(key)[list(columns)]
    base = base_runs.set_index(key)[list(columns)].reindex(mine.index)
    return (mine - base).reset_index()


def paired_persistence(differences: pd.DataFrame, scenario: Scenario,
                       column: str = "compliance_rate") -> list[PairedPersistence]:
    """For each change that ends, how long the paired difference from the baseline
    (:func:`paired_differences`) stays significant after it ends (see the module's
    description)."""
    by_month = differences.groupby("step")[column]
    bands = pd.DataFrame([mean_interval(v.to_numpy(dtype=float))[:3] for _, v in by_month],
                         index=sorted(by_month.groups), columns=["mean", "low", "high"])
    noise = ~((bands["low"] > 0) | (bands["high"] < 0))  # no interval counts as noise too
    last = differences[differences["step"] > differences["step"].max() - SUMMARY_MONTHS]
    tail = mean_interval(last.groupby("replicate")[column].mean().to_numpy(dtype=float))[:3]
    out = []
    for label, start, end in endings(scenario):
        left = bool((~noise.loc[start: end - 1]).any())
        out.append(PairedPersistence(label, start, end, left,
                                     _months_to_return(noise.loc[end:]), tail))
    return out


#: More changes than this are marked by unlabelled lines (see :func:`draw_markers`).
MANY_MARKERS = 60


def draw_markers(ax, scenario: Scenario, labels: bool = True, color: str = "0.35") -> None:
    """A dashed vertical line (and its label, at the top) at every change of the timeline.

    The line sits half a month before the change's month, between the last month without
    the change and the first with it. Beyond :data:`MANY_MARKERS` changes the lines are one
    unlabelled collection: thousands of separate lines and labels take minutes to draw
    and cannot be read anyway (the changes are listed in summary.json and the events).
    """
    marks = markers(scenario)
    if len(marks) > MANY_MARKERS:
        from matplotlib.collections import LineCollection

        lines = LineCollection([[(m - 0.5, 0.0), (m - 0.5, 1.0)] for m, _ in marks],
                               transform=ax.get_xaxis_transform(), colors=color,
                               linestyles="--", linewidths=0.9, zorder=1)
        ax.add_collection(lines, autolim=False)  # axes' height, not data: leave the limits
        return
    for month, label in marks:
        ax.axvline(month - 0.5, color=color, linestyle="--", linewidth=0.9, zorder=1)
        if labels:
            ax.annotate(_short(label), xy=(month - 0.5, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", rotation=90, va="top",
                        ha="left", fontsize=7, color="0.25")


def _short(label: str, width: int = 28) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def _months_to_return(inside: pd.Series) -> int | None:
    values = inside.to_numpy(dtype=bool)
    for i in range(len(values)):
        if values[i: i + STAY_MONTHS].all():
            return i
    return None


#: Outcomes shown in the phase tables: (column, label, format).
PHASE_OUTCOMES = (
    ("compliance_rate", "Businesses complying", "{:.1%}"),
    ("unsafe_share", "True unsafe share", "{:.2%}"),
    ("illness_cases", "Illness cases / month", "{:,.0f}"),
    ("false_pass_rate", "False reports", "{:.1%}"),
    ("public_trust", "Public trust", "{:.2f}"),
    ("budget_spent", "Budget spent (yuan/month)", "{:,.0f}"),
)


def phase_rows(runs: pd.DataFrame, scenario: Scenario, base_runs: pd.DataFrame | None = None,
               base_name: str = "baseline") -> list[list[str]]:
    """The phase table as text cells: a header row, then one row per outcome with each
    window's mean (and its interval when there are replicates). Given the baseline's runs
    (same replicates and seeds), each outcome is followed by a row of its paired difference
    from the baseline in each window, with the paired 95% interval."""
    columns = [c for c, _, _ in PHASE_OUTCOMES]
    table = window_table(runs, scenario, columns)
    differences = None
    if base_runs is not None:
        differences = window_table(paired_differences(runs, base_runs, columns), scenario,
                                   columns)
    wins = windows(scenario)
    header = ["outcome"] + [f"{w.label} (months {w.first}-{w.last})" for w in wins]
    rows = [header]
    for column, label, fmt in PHASE_OUTCOMES:
        rows.append([label] + _window_cells(table, wins, column, lambda x, f=fmt: _fmt(f, x)))
        if differences is not None:
            rows.append([f"  difference from {base_name}"] + _window_cells(
                differences, wins, column, lambda x, f=fmt: _difference(f, x)))
    return rows


def _window_cells(table: pd.DataFrame, wins: list[Window], column: str, show) -> list[str]:
    # looked up by key, not by a mask over the table per window (quadratic in the changes)
    rows = {(r["window"], r["first"]): r
            for r in table[table.column == column].to_dict("records")}
    cells = []
    for w in wins:
        r = rows[(w.label, w.first)]
        cell = show(r["mean"])
        if not math.isnan(r["low"]):
            cell += f" [{show(r['low'])}, {show(r['high'])}]"
        cells.append(cell)
    return cells


def _difference(fmt: str, x: float) -> str:
    """A difference, signed; shares in percentage points (``{:.1%}`` -> ``+1.2 pp``)."""
    if x is None or math.isnan(x):
        return "-"
    share = re.fullmatch(r"\{:\.(\d+)%\}", fmt)
    if share:
        return f"{x * 100:+.{share.group(1)}f} pp"
    return fmt.replace("{:", "{:+", 1).format(x)


def paired_persistence_lines(runs: pd.DataFrame, base_runs: pd.DataFrame, scenario: Scenario,
                             base_name: str = "baseline") -> list[str]:
    """Persistence of the effect on compliance after each change that ends, against the
    paired baseline, one sentence each."""
    differences = paired_differences(runs, base_runs, ["compliance_rate"])
    found = paired_persistence(differences, scenario)
    if not found:
        return ["Persistence: no change ends within the run, so none is measured."]
    lines = []
    for p in found:
        mean, low, high = (_difference("{:.1%}", x) for x in p.last)
        lines.append(f"Persistence after {p.label} (months {p.start}-{p.end - 1}): compliance "
                     f"{p.text.replace('the baseline', base_name)} (difference over the "
                     f"last 12 months {mean} [{low}, {high}])")
    return lines


def persistence_lines(runs: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Persistence of compliance after each change that ends, one sentence each (a change
    from month 1, which has no pre-change band, says so)."""
    found = {(p.label, p.start, p.end): p for p in persistence(runs, scenario)}
    lines = []
    for label, start, end in endings(scenario):
        p = found.get((label, start, end))
        head = f"Persistence after {label} (months {start}-{end - 1}): "
        if p is None:
            lines.append(head + f"not measured: the change starts in month {start}, so there "
                                "are no months before it to measure against")
        else:
            lines.append(head + f"compliance {p.text} (pre-change level {p.level:.1%}, band "
                                f"{p.low:.1%} to {p.high:.1%})")
    return lines or ["Persistence: no change ends within the run, so none is measured."]


def phase_text(runs: pd.DataFrame, scenario: Scenario) -> str:
    """The phase table and the persistence, as aligned text for the terminal."""
    rows = phase_rows(runs, scenario)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["Phases of the timeline (mean over each window):"]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                      for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines + persistence_lines(runs, scenario))


def summary(runs: pd.DataFrame, scenario: Scenario) -> dict:
    """Windows and persistence as plain data (for summary.json)."""
    table = window_table(runs, scenario, [c for c, _, _ in PHASE_OUTCOMES])
    return {
        "changes": [{"month": m, "label": label} for m, label in markers(scenario)],
        "windows": [{k: (None if isinstance(v, float) and math.isnan(v) else v)
                     for k, v in row.items()} for row in table.to_dict("records")],
        "persistence": [{"change": p.label, "start": p.start, "end": p.end,
                         "level": p.level, "band": [p.low, p.high], "left_band": p.left,
                         "months_to_return": p.months, "finding": p.text}
                        for p in persistence(runs, scenario)],
    }


def _fmt(fmt: str, x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


#: Figures :func:`timeline_model` adds to govsim's own, for sweeps of timelines.
SWEEP_OUTPUTS = ("compliance_before", "compliance_during", "compliance_after",
                 "persistence_months", "returned")


def timeline_model(params: dict, seed: int, base: Scenario | None, series: bool):
    """A sweep model (``model = "govsim.windows:timeline_model"``): govsim's run, plus, for
    the first change of the timeline that ends, compliance before it (12 months), during it
    and after it, and its persistence (``persistence_months``: NaN when compliance did not
    return within the run; ``returned``: 1 when it did or never left its band, else 0; both
    NaN when no change ends). With ``outputs = "series"`` it returns the monthly series.
    """
    from govsim.sweep.models import govsim_model

    scenario = base.with_overrides(params, source="sweep run") if params else base
    ts = govsim_model({}, seed, scenario, True)
    if series:
        return ts
    out = dict(_summary_of(ts))
    found = persistence(ts, scenario)
    out.update(dict.fromkeys(SWEEP_OUTPUTS, math.nan))
    if found:
        p = found[0]
        c = ts.set_index("step")["compliance_rate"]
        out["compliance_before"] = p.level
        out["compliance_during"] = float(c.loc[p.start: p.end - 1].mean())
        out["compliance_after"] = float(c.loc[p.end:].mean())
        out["persistence_months"] = persistence_months(ts, scenario)
        out["returned"] = float(not p.left or p.months is not None)
    return out


def _summary_of(ts: pd.DataFrame) -> dict:
    from govsim.run import summarize

    return summarize(ts)


def _outputs() -> tuple[str, ...]:
    from govsim.sweep.models import GOVSIM_OUTPUTS

    return GOVSIM_OUTPUTS + SWEEP_OUTPUTS


timeline_model.parameters = None
timeline_model.outputs = _outputs()
