"""The report's figures, rendered to PNG bytes (embedded in the HTML, saved beside the
Markdown): outcomes over time with uncertainty bands, and effects against the baseline."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from govsim.compare.core import OUTCOME, Comparison, monthly_interval  # noqa: E402
from govsim.compare.report import format as fmt  # noqa: E402
from govsim.windows import draw_markers  # noqa: E402

DPI = 100
BASELINE_COLOR = "#222222"
# tab10 without its grey, which would read as "not significant"
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#bcbd22", "#17becf")
EFFECT_COLORS = {"better": "#2e8b57", "worse": "#c0392b", "changed": "#3b6fb6", "": "#b8b8b8"}

#: Panels of the time-series figure: (column, title, scale, unit of the y axis, months
#: averaged). Rates over the few test reports of a month jump from month to month, so
#: they are drawn as moving averages to show their trend.
TIMESERIES_PANELS = (
    ("compliance_rate", "Businesses complying", 100, "%", 1),
    ("unsafe_share", "True unsafe share of batches", 100, "%", 1),
    ("sample_failure_rate", "Official failure rate of tests", 100, "%", 3),
    ("illness_cases", "Illness cases per month", 1, "people", 1),
    ("complaints", "Complaints per month", 1, "complaints", 1),
    ("public_trust", "Public trust (0-1)", 1, "score", 1),
    ("false_pass_rate", "False reports (shirked or bought)", 100, "% of reports", 3),
    ("collusion_rate", "Bought passes", 100, "% of reports", 3),
    ("budget_spent", "Budget spent per month", 1e-3, "thousand yuan", 1),
)

#: Panels of the effects chart (outcomes; the unit follows govsim.compare.report.format).
EFFECT_PANELS = ("compliance_rate", "illness_cases", "false_pass_rate", "collusion_rate",
                 "public_trust", "budget_spent")


def scenario_colors(names: list[str]) -> dict[str, str]:
    """A fixed colour per scenario, baseline (first) in near-black, shared by all figures."""
    colors = {names[0]: BASELINE_COLOR}
    for k, name in enumerate(names[1:]):
        colors[name] = PALETTE[k % len(PALETTE)]
    return colors


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # no timestamp in the metadata, so the same numbers give the same bytes
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def timeseries_png(c: Comparison) -> bytes:
    """Outcomes month by month: each scenario's mean over replicates, with its 95% band."""
    names = c.plan.names
    colors = scenario_colors(names)
    fig, axes = plt.subplots(3, 3, figsize=(13, 10.5), sharex=True)
    for ax, (column, title, scale, unit, window) in zip(axes.flat, TIMESERIES_PANELS,
                                                         strict=True):
        bands = monthly_interval(_moving_average(c.runs, column, window), column)
        for name in names:
            b = bands[bands.scenario == name]
            base = name == names[0]
            ax.fill_between(b.step, b.low * scale, b.high * scale, color=colors[name],
                            alpha=0.12 if base else 0.18, linewidth=0)
            ax.plot(b.step, b["mean"] * scale, color=colors[name], label=name,
                    linewidth=2.2 if base else 1.5, linestyle="--" if base else "-")
        for scenario in c.plan.scenarios:  # timeline changes, in the scenario's colour
            draw_markers(ax, scenario, labels=False, color=colors[scenario.name])
        ax.set_title(title + (f" ({window}-month average)" if window > 1 else ""),
                     fontsize=11, loc="left")
        ax.set_ylabel(unit, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("month", fontsize=9)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    rows = math.ceil(len(names) / 4)
    ncol = math.ceil(len(names) / rows)
    order = _row_major(len(names), ncol)
    fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="lower center",
               ncol=ncol, fontsize=10, frameon=False)
    fig.suptitle("Mean over replicates; shaded: 95% confidence interval of the mean",
                 fontsize=11, x=0.01, ha="left", color="#444444")
    fig.tight_layout(rect=(0, 0.035 * rows + 0.01, 1, 0.98))
    return _png(fig)


def _moving_average(runs, column: str, window: int):
    """``runs`` with ``column`` replaced by its trailing moving average within each run."""
    if window <= 1:
        return runs
    frame = runs[["scenario", "replicate", "step"]].copy()
    frame[column] = (runs.groupby(["scenario", "replicate"], sort=False)[column]
                     .transform(lambda s: s.rolling(window, min_periods=1).mean()))
    return frame


def _row_major(n: int, ncol: int) -> list[int]:
    """Order of legend entries so that they read left to right, row by row (matplotlib
    fills a legend's columns first)."""
    rows = math.ceil(n / ncol)
    return [r * ncol + col for col in range(ncol) for r in range(rows) if r * ncol + col < n]


def effects_png(c: Comparison) -> bytes | None:
    """Each cure's effect against the baseline with its 95% interval, one panel per outcome;
    None when there is no cure to compare."""
    cures = c.plan.names[1:]
    if not cures:
        return None
    fig, axes = plt.subplots(2, 3, figsize=(13, 2.2 + 0.75 * len(cures)), sharey=True)
    panels = tuple("public_cost" if k == "budget_spent" and c.has("public_cost") else k
                   for k in EFFECT_PANELS)
    for ax, key in zip(axes.flat, panels, strict=True):
        _effect_panel(ax, c, key, cures)
    legend = [Patch(color=EFFECT_COLORS[k], label=fmt.MARKS[k][1]) for k in
              ("better", "worse", "changed", "")]
    fig.legend(handles=legend, loc="lower center", ncol=2, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.09 if len(cures) > 3 else 0.13, 1, 1))
    return _png(fig)


def _effect_panel(ax, c: Comparison, key: str, cures: list[str]) -> None:
    o = OUTCOME[key]
    rows = [c.stat(name, key) for name in cures]
    scale, unit = _effect_scale(o, rows)
    y = list(range(len(cures)))[::-1]  # first cure at the top
    for yi, row in zip(y, rows, strict=True):
        d = row[f"{scale[0]}"] * scale[1]
        lo, hi = row[f"{scale[0]}_low"] * scale[1], row[f"{scale[0]}_high"] * scale[1]
        if math.isnan(d):
            continue
        ax.barh(yi, d, color=EFFECT_COLORS[row["direction"]], height=0.6)
        if not (math.isnan(lo) or math.isnan(hi)):
            ax.errorbar(d, yi, xerr=[[d - lo], [hi - d]], color="#333333", capsize=3,
                        linewidth=1)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, cures, fontsize=10)
    ax.set_title(f"{o.label}", fontsize=11, loc="left")
    ax.set_xlabel(f"change vs baseline ({unit})", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    ax.tick_params(axis="x", labelsize=9)


def _effect_scale(o, rows) -> tuple[tuple[str, float], str]:
    """Which statistics columns to draw and how: pp for shares, % for amounts."""
    unit = fmt.effect_unit(o, rows[0] if rows else None).strip()
    if o.kind == "share":
        return ("diff", 100.0), "percentage points"
    if unit == "%":
        return ("rel", 100.0), "%"
    return ("diff", 1.0), "points" if o.kind == "index" else o.label
