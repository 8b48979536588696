"""The report as one self-contained HTML page: inline CSS, figures as base64 data URIs, no
script and no network, so it opens from a file anywhere and can be mailed as it is."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from govsim.compare.core import Comparison, window_phrase
from govsim.compare.report import format as fmt
from govsim.compare.report import tables
from govsim.compare.report.method import (
    costs_note,
    method_notes,
    reproduce_lines,
    scenario_arg,
    title,
)
from govsim.compare.report.timeline import html_section as timeline_section
from govsim.compare.report.verdict import verdict

CSS = """
:root { --ink: #1d2430; --muted: #5b6472; --line: #dde2ea; --soft: #f5f7fa;
        --better: #e2f3e7; --better-ink: #1f6b3a; --worse: #fbe4e1; --worse-ink: #9b2c1f;
        --changed: #e5edfa; --changed-ink: #2a5298; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 4px; }
p.meta { color: var(--muted); margin: 0 0 18px; }
p.note { color: var(--muted); font-size: 13.5px; margin: 6px 0 10px; max-width: 75em; }
.verdict { background: var(--soft); border-left: 5px solid #3b6fb6; padding: 14px 20px;
           font-size: 16px; line-height: 1.6; max-width: 75em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; text-align: right; line-height: 1.25;
           vertical-align: bottom; }
table.figures thead th { min-width: 110px; max-width: 160px; }
thead th:first-child, tbody th { text-align: left; }
tbody th { font-weight: 600; white-space: nowrap; padding-right: 20px; }
td { text-align: right; white-space: nowrap; }
td .ci { display: block; color: var(--muted); font-size: 11.5px; }
th.base, td.base { background: #eef1f5; }
td.better { background: var(--better); color: var(--better-ink); }
td.worse { background: var(--worse); color: var(--worse-ink); }
td.changed { background: var(--changed); color: var(--changed-ink); }
td.better .ci, td.worse .ci, td.changed .ci { color: inherit; opacity: .8; }
td .mark { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
td.ns { color: var(--muted); }
.legend span { display: inline-block; padding: 1px 8px; margin-right: 10px; border-radius: 3px;
               font-size: 13px; }
.legend .better { background: var(--better); color: var(--better-ink); }
.legend .worse { background: var(--worse); color: var(--worse-ink); }
.legend .changed { background: var(--changed); color: var(--changed-ink); }
.legend .ns { background: var(--soft); color: var(--muted); }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13.5px; }
.changes { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
           gap: 14px 28px; }
.changes table { width: 100%; }
.changes th, .changes td { text-align: left; white-space: normal; }
.changes code, code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
                      font-size: 12.5px; }
.changes p { margin: 2px 0 6px; color: var(--muted); font-size: 13.5px; }
ul.method { max-width: 75em; padding-left: 20px; }
ul.method li { margin: 4px 0; }
pre { background: var(--soft); padding: 10px 14px; font-size: 12.5px; white-space: pre-wrap;
      overflow-wrap: anywhere; }
"""


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


_BASE = ' class="base"'


def _name(name: str) -> str:
    """A scenario name as a column header, allowed to break after its underscores."""
    return escape(name).replace("_", "_<wbr>")


def _table(table: tables.Table, base: str | None, effects: bool) -> str:
    """Outcomes down, scenarios across; the baseline's column (if any) shaded."""
    is_base = [name == base for name in table.columns]
    out = ['<div class="scroll"><table class="figures"><thead><tr><th>Outcome</th>']
    out += [f"<th{_BASE if b else ''}>{_name(n)}</th>"
            for n, b in zip(table.columns, is_base, strict=True)]
    out.append("</tr></thead><tbody>")
    for label, cells in table.rows:
        out.append(f"<tr><th>{escape(label)}</th>")
        out += [_cell(cell, effects, b) for cell, b in zip(cells, is_base, strict=True)]
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _cell(cell: tables.Cell, effects: bool, base: bool = False) -> str:
    cls = cell.direction or ("ns" if effects else "base" if base else "")
    mark = (f' <span class="mark">{escape(fmt.MARKS[cell.direction][0])}</span>'
            if cell.direction else "")
    attr = f' class="{cls}"' if cls else ""
    return (f"<td{attr}>{escape(cell.text)}{mark}"
            f'<span class="ci">{escape(cell.interval)}</span></td>')


def _legend() -> str:
    items = [(k or "ns", label, meaning) for k, (label, meaning) in fmt.MARKS.items()]
    spans = "".join(f'<span class="{k}">{escape(label or "plain")}: {escape(meaning)}</span>'
                    for k, label, meaning in items)
    return f'<p class="legend">{spans}</p>'


def _dotted(name: str) -> str:
    """A dotted parameter name, allowed to break after its dots in a narrow column."""
    return escape(name).replace(".", ".<wbr>")


def _changes(c: Comparison) -> str:
    blocks = []
    for ch in tables.changes_table(c):
        rows = "".join(f"<tr><td><code>{_dotted(k)}</code></td><td>{escape(b)}</td>"
                       f"<td><strong>{escape(v)}</strong></td></tr>" for k, b, v in ch.changes)
        if not rows:
            rows = '<tr><td colspan="3">no parameter differs from the baseline</td></tr>'
        desc = f"<p>{escape(ch.description)}</p>" if ch.description else ""
        blocks.append(f"<div><h3>{escape(ch.scenario)}</h3>{desc}<table><thead><tr>"
                      f"<th>Parameter</th><th>Baseline</th><th>This scenario</th></tr>"
                      f"</thead><tbody>{rows}</tbody></table></div>")
    return f'<div class="changes">{"".join(blocks)}</div>'


def _costs(c: Comparison) -> list[str]:
    """The public cost of each scenario, line by line, and what each cure's extra cost buys."""
    if not c.has("public_cost"):
        return []
    parts = ["<h2>What it costs the public</h2>",
             f'<p class="note">{escape(costs_note(c))}</p>',
             _table(tables.cost_table(c), c.plan.baseline.name, effects=False)]
    if c.plan.names[1:]:
        parts += ['<p class="note">Change in each cost against the baseline (95% paired '
                  "interval).</p>",
                  _table(tables.cost_effect_table(c), None, effects=True)]
    return parts


def render(c: Comparison, figures: dict[str, bytes], out: Path | str = "out/compare",
           command: str | None = None) -> str:
    """The whole page.

    Args:
        c: the comparison.
        figures: PNG bytes by file name (``timeseries.png``, maybe ``effects.png``).
        out: the folder the report is written to (for the lines that reproduce it).
        command: the command line that made it (shown as run), if any.
    """
    p = c.plan
    base = p.baseline.name
    strong = lambda s: f"<strong>{escape(s)}</strong>"  # noqa: E731
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title(c))}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{escape(title(c))}</h1>",
        f'<p class="meta">{escape(_meta(c))}</p>',
        f'<p class="verdict">{verdict(c, name=strong)}</p>',
    ]
    if p.names[1:]:
        parts += [
            "<h2>Effects against the baseline</h2>",
            '<p class="note">Difference from the baseline with its 95% paired interval. '
            "Shares in percentage points, counts and money in per cent, trust in points.</p>",
            _legend(),
            _table(tables.effect_table(c), None, effects=True),
        ]
        if "effects.png" in figures:
            parts.append(f'<figure>{_img(figures["effects.png"], "Effects chart")}'
                         "<figcaption>Bars: mean difference from the baseline; whiskers: 95% "
                         "paired interval.</figcaption></figure>")
    parts += _costs(c)
    parts += [
        "<h2>Outcomes by scenario</h2>",
        f'<p class="note">{escape(window_phrase(p))} of each run, averaged over replicates, '
        "with its 95% confidence interval below. Compare the official failure rate with the "
        "true unsafe share: the gap is what the official statistics miss.</p>",
        _table(tables.outcome_table(c), base, effects=False),
        "<h2>Over time</h2>",
        f'<figure>{_img(figures["timeseries.png"], "Outcomes over time")}</figure>',
        *timeline_section(c, figures),
    ]
    if p.names[1:]:
        parts += ["<h2>What each scenario changes</h2>",
                  f'<p class="note">Parameters that differ from the baseline, '
                  f"<code>{escape(scenario_arg(p.sources[0]))}</code>; every other parameter "
                  "is the same.</p>",
                  _changes(c)]
    parts += [
        "<h2>Method and reproducibility</h2>",
        '<ul class="method">' + "".join(f"<li>{escape(n)}</li>" for n in method_notes(c))
        + "</ul>",
        f"<pre>{escape(chr(10).join(reproduce_lines(c, out, command)))}</pre>",
        "</main></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _meta(c: Comparison) -> str:
    p = c.plan
    months = sorted({s.run.months for s in p.scenarios})
    span = "/".join(str(m) for m in months)
    return (f"{len(p.scenarios)} scenarios \u00b7 {p.replicates} replicates each \u00b7 "
            f"{span} months per run \u00b7 {window_phrase(p).lower()} \u00b7 "
            f"master seed {p.master_seed}")
