"""The report's section on timeline scenarios: markers, phases and persistence.

For each compared scenario with a timeline: a figure of compliance and illness over time
(mean and 95% band over replicates, the baseline dashed, a marker and label at every
change), the phase table (each window's mean with its 95% interval over replicates, and its
paired difference from the baseline) and the persistence of the effect on compliance after
each change that ends, against the paired baseline (:mod:`govsim.windows`).
"""

from __future__ import annotations

import base64
import io
from html import escape

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402

from govsim import windows  # noqa: E402

#: Panels of the timeline figure: (column, title, scale, unit).
PANELS = (("compliance_rate", "Businesses complying", 100, "%"),
          ("illness_cases", "Illness cases per month", 1, "people"))

FIGURE = "timeline.png"


def timeline_scenarios(c) -> list:
    """The compared scenarios that have a timeline, in plan order."""
    return [s for s in c.plan.scenarios if s.timeline]


def timeline_png(c) -> bytes | None:
    """One row per timeline scenario: compliance and illness with markers; None if no
    compared scenario has a timeline."""
    chosen = timeline_scenarios(c)
    if not chosen:
        return None
    base = c.plan.baseline.name
    fig, axes = plt.subplots(len(chosen), len(PANELS), figsize=(12, 3.4 * len(chosen)),
                             squeeze=False)
    for row, scenario in zip(axes, chosen, strict=True):
        for ax, (column, title, scale, unit) in zip(row, PANELS, strict=True):
            styles = {base: dict(color="0.3", linestyle="--", linewidth=1.2),
                      scenario.name: dict(color="#1f77b4", linewidth=1.8)}
            for name, style in styles.items():
                band = _band(c.runs[c.runs.scenario == name], column)
                ax.fill_between(band.index, band["low"] * scale, band["high"] * scale,
                                color=style["color"], alpha=0.15, linewidth=0)
                ax.plot(band.index, band["mean"] * scale, label=name, **style)
            windows.draw_markers(ax, scenario)
            ax.set_title(f"{scenario.name}: {title}", fontsize=11, loc="left")
            ax.set_ylabel(unit, fontsize=9)
            ax.set_xlabel("month", fontsize=9)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


NOTE = ("Dashed vertical lines mark the changes of each scenario's timeline (in force from "
        "the month after the line). Phases: the mean of each window between changes, with its "
        "95% interval over replicates, and below it the paired difference from the baseline "
        "(same seeds) with its paired 95% interval. Persistence: months from the end of a "
        "change until the paired difference in compliance from the baseline is within noise "
        "(its 95% interval holds zero) for 3 months running.")


def _parts(c, scenario) -> tuple[list[list[str]], list[str]]:
    """A timeline scenario's phase table (with differences from the baseline) and its
    persistence lines, with a caveat when it differs from the baseline beyond its
    timeline (then the differences are not the timeline's alone)."""
    base = c.plan.baseline.name
    runs = c.runs[c.runs.scenario == scenario.name]
    base_runs = c.runs[c.runs.scenario == base]
    rows = windows.phase_rows(runs, scenario, base_runs, base)
    lines = windows.paired_persistence_lines(runs, base_runs, scenario, base)
    other = sorted(k for k in scenario.diff(c.plan.baseline) if k != "timeline")
    if other:
        lines.append(f"{scenario.name} also differs from {base} in {', '.join(other)}, so "
                     "the differences are not its timeline's alone.")
    return rows, lines


def _band(runs, column: str):
    grouped = runs.groupby("step")[column]
    mean, std, n = grouped.mean(), grouped.std(), grouped.count()
    half = 1.96 * std / n.pow(0.5)
    return mean.to_frame("mean").assign(low=mean - half, high=mean + half)


def html_section(c, figures: dict[str, bytes]) -> list[str]:
    """The section as HTML parts (empty when no scenario has a timeline)."""
    chosen = timeline_scenarios(c)
    if not chosen:
        return []
    data = base64.b64encode(figures[FIGURE]).decode("ascii")
    parts = ["<h2>Policy timelines</h2>", f'<p class="note">{escape(NOTE)}</p>',
             f'<figure><img src="data:image/png;base64,{data}" alt="Timeline scenarios over '
             'time, with a marker at every change"></figure>']
    for scenario in chosen:
        rows, persistence = _parts(c, scenario)
        head = "".join(f"<th>{escape(h)}</th>" for h in rows[0])
        body = "".join("<tr>" + f"<th>{escape(r[0])}</th>"
                       + "".join(f"<td>{escape(x)}</td>" for x in r[1:]) + "</tr>"
                       for r in rows[1:])
        changes = "".join(f"<li>month {m}: {escape(label)}</li>"
                          for m, label in windows.markers(scenario))
        persist = "".join(f"<li>{escape(line)}</li>" for line in persistence)
        parts += [f"<h3>{escape(scenario.name)}</h3>",
                  f'<ul class="method">{changes}</ul>',
                  f'<div class="scroll"><table class="figures phases"><thead><tr>{head}'
                  f"</tr></thead><tbody>{body}</tbody></table></div>",
                  f'<ul class="method">{persist}</ul>']
    return parts


def markdown_section(c) -> list[str]:
    """The section as Markdown lines (empty when no scenario has a timeline)."""
    chosen = timeline_scenarios(c)
    if not chosen:
        return []
    lines = ["## Policy timelines\n", NOTE + "\n",
             f"![Timeline scenarios over time, with a marker at every change]({FIGURE})\n"]
    for scenario in chosen:
        rows, persistence = _parts(c, scenario)
        lines.append(f"### {scenario.name}\n")
        lines += [f"- month {m}: {label}" for m, label in windows.markers(scenario)] + [""]
        lines.append("| " + " | ".join(rows[0]) + " |")
        lines.append("|" + "---|" * len(rows[0]))
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        lines += [""] + [f"- {line}" for line in persistence]
        lines.append("")
    return lines
