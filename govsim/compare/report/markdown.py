"""The report as Markdown for pasting into documents: the same verdict and tables as the HTML,
with the figures as PNG files beside it."""

from __future__ import annotations

from pathlib import Path

from govsim.compare.core import Comparison, window_phrase
from govsim.compare.report import format as fmt
from govsim.compare.report import tables
from govsim.compare.report.method import costs_note, method_notes, reproduce_lines, title
from govsim.compare.report.timeline import markdown_section as timeline_section
from govsim.compare.report.verdict import verdict


def _esc(text: str) -> str:
    """Make text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def _table(table: tables.Table, effects: bool) -> str:
    """Outcomes down, scenarios across."""
    lines = ["| Outcome | " + " | ".join(_esc(n) for n in table.columns) + " |",
             "|---|" + "---:|" * len(table.columns)]
    for label, cells in table.rows:
        lines.append(f"| {_esc(label)} | " + " | ".join(_cell(c, effects) for c in cells) + " |")
    return "\n".join(lines)


def _cell(cell: tables.Cell, effects: bool) -> str:
    text = f"{cell.text} ({cell.interval})" if cell.interval != fmt.NA else cell.text
    if effects and cell.direction:
        # bold and named, so the flag survives pasting into a document without colours
        return f"**{_esc(text)} {fmt.MARKS[cell.direction][0]}**"
    return _esc(text)


def _changes(c: Comparison) -> list[str]:
    out = []
    for ch in tables.changes_table(c):
        out.append(f"### {_esc(ch.scenario)}\n")
        if ch.description:
            out.append(f"{ch.description}\n")
        if not ch.changes:
            out.append("No parameter differs from the baseline.\n")
            continue
        out.append("| Parameter | Baseline | This scenario |\n|---|---|---|")
        out += [f"| `{k}` | {_esc(b)} | **{_esc(v)}** |" for k, b, v in ch.changes]
        out.append("")
    return out


def render(c: Comparison, figures: dict[str, bytes], out: Path | str = "out/compare",
           command: str | None = None) -> str:
    """The whole document; figures are linked by file name (they are saved beside it)."""
    p = c.plan
    bold = lambda s: f"**{_esc(s)}**"  # noqa: E731
    lines = [f"# {title(c)}\n",
             f"{p.replicates} replicates per scenario, master seed {p.master_seed}; a run's "
             f"figure: {window_phrase(p).lower()}.\n",
             verdict(c, name=bold) + "\n"]
    if p.names[1:]:
        legend = "; ".join(f"**{label}**: {meaning}" for label, meaning in fmt.MARKS.values()
                           if label)
        lines += ["## Effects against the baseline\n",
                  "Difference from the baseline (95% paired interval). Shares in percentage "
                  f"points, counts and money in per cent, trust in points. {legend}.\n",
                  _table(tables.effect_table(c), effects=True) + "\n"]
        if "effects.png" in figures:
            lines.append("![Effects against the baseline, with 95% intervals](effects.png)\n")
    if c.has("public_cost"):
        lines += ["## What it costs the public\n", costs_note(c) + "\n",
                  _table(tables.cost_table(c), effects=False) + "\n"]
        if p.names[1:]:
            lines += ["Change in each cost against the baseline (95% paired interval).\n",
                      _table(tables.cost_effect_table(c), effects=True) + "\n"]
    lines += ["## Outcomes by scenario\n",
              "Mean over replicates (95% confidence interval).\n",
              _table(tables.outcome_table(c), effects=False) + "\n",
              "## Over time\n",
              "![Outcomes over time: mean and 95% band](timeseries.png)\n",
              *timeline_section(c)]
    if p.names[1:]:
        lines += ["## What each scenario changes\n",
                  f"Parameters that differ from `{p.baseline.name}`.\n", *_changes(c)]
    lines += ["## Method and reproducibility\n",
              *(f"- {note}" for note in method_notes(c)), "",
              "```sh", *reproduce_lines(c, out, command), "```", ""]
    return "\n".join(lines)
