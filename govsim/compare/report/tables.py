"""The report's tables as formatted cells, shared by the HTML, Markdown and terminal views so
that they always show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govsim.compare.core import COST_OUTCOMES, OUTCOMES, Comparison, Outcome
from govsim.compare.report import format as fmt


@dataclass(frozen=True)
class Cell:
    """One formatted figure: the main text, its 95% interval, and (effects only) the
    significant direction: ``"better"``, ``"worse"``, ``"changed"`` or ``""``."""

    text: str
    interval: str
    direction: str = ""


@dataclass(frozen=True)
class Table:
    """Outcomes (rows, by label) by scenarios (columns)."""

    columns: list[str]
    rows: list[tuple[str, list[Cell]]]


def outcome_table(c: Comparison, outcomes: tuple[Outcome, ...] = OUTCOMES) -> Table:
    """Each scenario's mean of each outcome, with its 95% interval over replicates."""
    names = c.plan.names
    return Table(names, [(o.label, [_mean_cell(c, n, o) for n in names]) for o in outcomes
                         if c.has(o.key)])


def _mean_cell(c: Comparison, name: str, o: Outcome) -> Cell:
    row = c.stat(name, o.key)
    return Cell(fmt.value(o, row["mean"]), fmt.interval(o, row["low"], row["high"]))


def effect_table(c: Comparison, outcomes: tuple[Outcome, ...] = OUTCOMES) -> Table:
    """Each cure's difference from the baseline, with its paired 95% interval (each cell
    carries its unit: pp, % or, for trust, points)."""
    cures = c.plan.names[1:]
    return Table(cures, [(o.label, [_effect_cell(c, n, o) for n in cures]) for o in outcomes
                         if c.has(o.key)])


#: The label of the cost-effectiveness row.
PER_CASE = "Extra public cost per illness case averted (yuan)"


def cost_table(c: Comparison) -> Table:
    """Each scenario's public cost per month, line by line and in total (mean and 95%
    interval), then, for each cure, the yuan of extra public cost per illness case averted
    (with its paired bootstrap interval)."""
    table = outcome_table(c, COST_OUTCOMES)
    if len(c.plan.names) < 2 or c.cost_effectiveness.empty:
        return table
    ce = c.cost_effectiveness.set_index("scenario")
    cells = [Cell("-", fmt.NA)]  # the reference itself
    cells += [_per_case_cell(ce.loc[name], c.stat(name, "public_cost"))
              for name in c.plan.names[1:]]
    return Table(table.columns, [*table.rows, (PER_CASE, cells)])


def cost_effect_table(c: Comparison) -> Table:
    """Each cure's change in every public cost line and the total, with paired intervals."""
    return effect_table(c, COST_OUTCOMES)


def _per_case_cell(row, cost) -> Cell:
    """Yuan per case averted, and what its sign means. ``cost``: the cure's paired statistics
    of public cost, which decide whether it costs more or less at all (as in the verdict):
    a bootstrap of a ratio over a few replicates is too narrow to decide that alone."""
    if row["note"]:
        return Cell(fmt.NA, row["note"])
    text = f"{row['yuan_per_case']:,.0f}"
    interval = f"{row['low']:,.0f} to {row['high']:,.0f}"
    if not cost["significant"]:
        return Cell(text, f"{interval}: no clear change in cost")
    if row["high"] < 0:  # it averts illness and costs less
        return Cell(text, f"{interval}: saves money as well", "better")
    if row["low"] < 0:
        return Cell(text, f"{interval}: no clear extra cost")
    return Cell(text, interval)


def _effect_cell(c: Comparison, name: str, o: Outcome) -> Cell:
    row = c.stat(name, o.key)
    return Cell(fmt.effect(row), fmt.effect_interval(row), row["direction"])


@dataclass(frozen=True)
class Changes:
    """What a scenario changes relative to the baseline."""

    scenario: str
    description: str
    source: str
    changes: list[tuple[str, str, str]]  # (dotted parameter, baseline value, this value)


def changes_table(c: Comparison) -> list[Changes]:
    """Every cure's parameter differences from the baseline, sorted by parameter name."""
    p = c.plan
    diffs = p.changes()
    out = []
    for scenario, source in zip(p.scenarios[1:], p.sources[1:], strict=True):
        rows = [(k, _show(base), _show(this))
                for k, (base, this) in sorted(diffs[scenario.name].items())]
        out.append(Changes(scenario.name, scenario.description, source, rows))
    return out


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 and value.is_integer() else f"{value:g}"
    return str(value)
