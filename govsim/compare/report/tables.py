"""The report's tables as formatted cells, shared by the HTML, Markdown and terminal views so
that they always show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from govsim.compare.core import OUTCOMES, Comparison, Outcome
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


def outcome_table(c: Comparison) -> Table:
    """Each scenario's mean of each outcome, with its 95% interval over replicates."""
    names = c.plan.names
    return Table(names, [(o.label, [_mean_cell(c, n, o) for n in names]) for o in OUTCOMES])


def _mean_cell(c: Comparison, name: str, o: Outcome) -> Cell:
    row = c.stat(name, o.key)
    return Cell(fmt.value(o, row["mean"]), fmt.interval(o, row["low"], row["high"]))


def effect_table(c: Comparison) -> Table:
    """Each cure's difference from the baseline, with its paired 95% interval (each cell
    carries its unit: pp, % or, for trust, points)."""
    cures = c.plan.names[1:]
    return Table(cures, [(o.label, [_effect_cell(c, n, o) for n in cures]) for o in OUTCOMES])


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
