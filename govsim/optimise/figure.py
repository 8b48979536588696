"""front.png: every candidate tried, the front after the noise check, the status quo and the
bundled scenarios, on the same two axes (usually cost against safety)."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from govsim.optimise.problem import Measure, Problem  # noqa: E402

DPI = 100
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
           "#17becf")


def axes_of(problem: Problem) -> tuple[Measure, Measure] | None:
    """The two measures drawn: the two first objectives, or the objective and the first
    limit; ``None`` when the problem has one objective and no limit."""
    if problem.multi:
        return problem.objectives[0], problem.objectives[1]
    if problem.constraints:
        return problem.objectives[0], problem.constraints[0]
    return None


def front_png(result) -> bytes:
    """The figure as PNG bytes (the same numbers give the same bytes)."""
    problem = result.problem
    axes = axes_of(problem)
    fig, ax = plt.subplots(figsize=(12, 6.5), layout="constrained")
    if axes is None:
        _by_trial(ax, result)
    else:
        _cost_vs_safety(ax, result, *axes)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _cost_vs_safety(ax, result, mx: Measure, my: Measure) -> None:
    problem = result.problem
    rows = [r for r in result.rows if r["state"] == "complete"]
    bad = [r for r in rows if not r["feasible"]]
    good = [r for r in rows if r["feasible"]]
    if bad:
        ax.scatter([r[mx.key] for r in bad], [r[my.key] for r in bad], s=14, c="#c8c8c8",
                   label=f"tried, misses a limit ({len(bad)})", zorder=1)
    if good:
        ax.scatter([r[mx.key] for r in good], [r[my.key] for r in good], s=16, c="#8aa9cf",
                   label=f"tried, meets the limits ({len(good)}; search figures)", zorder=2)
    kept = sorted(result.kept, key=lambda c: c.figures[mx.key])
    if kept:
        xs = [c.figures[mx.key] for c in kept]
        ys = [c.figures[my.key] for c in kept]
        xerr = _errors(kept, mx.key)
        yerr = _errors(kept, my.key)
        ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="o-", color="#1d4e89", ms=7, lw=1.6,
                    capsize=3, zorder=4,
                    label=f"front after re-evaluation ({problem.reevaluate} fresh runs, "
                          "95% intervals)")
        for k, c in enumerate(kept, start=1):
            ax.annotate(str(k), (c.figures[mx.key], c.figures[my.key]),
                        textcoords="offset points", xytext=(6, 6), fontsize=9,
                        color="#1d4e89")
    for c in result.dropped:
        if not c.fresh.ok:
            continue
        ax.annotate("", xy=(c.figures[mx.key], c.figures[my.key]),
                    xytext=(c.search[mx.key], c.search[my.key]),
                    arrowprops={"arrowstyle": "->", "color": "#c0392b", "lw": 1})
    if result.dropped:
        ax.scatter([c.figures[mx.key] for c in result.dropped if c.fresh.ok],
                   [c.figures[my.key] for c in result.dropped if c.fresh.ok], marker="x",
                   c="#c0392b", s=40, zorder=5,
                   label="dropped after re-evaluation (arrow: from its search figures)")
    # references last and in the legend (their labels would overlap where they crowd);
    # the status quo on top of everything
    for k, (name, (_, evaluation)) in enumerate(result.references.items()):
        is_base = k == 0
        ax.scatter([evaluation.mean(mx.key)], [evaluation.mean(my.key)],
                   marker="*" if is_base else "D", s=260 if is_base else 60,
                   c="#222222" if is_base else PALETTE[(k - 1) % len(PALETTE)],
                   zorder=8 if is_base else 7, edgecolors="white", linewidths=0.8,
                   label=name)
    for c in problem.constraints:
        line = ax.axhline if c.key == my.key else ax.axvline if c.key == mx.key else None
        if line is not None:
            line(c.bound, color="#c0392b", ls="--", lw=1)
            ax.text(0.01, 0.01, f"limit: {c.text()}", transform=ax.transAxes, fontsize=9,
                    color="#c0392b")
    ax.set_xlabel(_axis_label(mx, problem))
    ax.set_ylabel(_axis_label(my, problem))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_tick))
    ax.set_title(problem.description or problem.name, fontsize=12)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _tick(x: float, _pos) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def _errors(points, key: str):
    low = [c.figures[key] - c.interval[key][1] for c in points]
    high = [c.interval[key][2] - c.figures[key] for c in points]
    if any(math.isnan(v) for v in low + high):
        return None
    return [low, high]


def _axis_label(m: Measure, problem: Problem) -> str:
    direction = next((o.direction for o in problem.objectives if o.key == m.key), None)
    hint = {"minimise": " (lower is better)", "maximise": " (higher is better)"}.get(
        direction, "")
    return m.title + hint


def _by_trial(ax, result) -> None:
    objective = result.problem.objectives[0]
    rows = [r for r in result.rows if r["state"] == "complete"]
    ax.scatter([r["trial"] for r in rows], [r[objective.key] for r in rows], s=14,
               c=["#8aa9cf" if r["feasible"] else "#c8c8c8" for r in rows])
    ax.set_xlabel("trial")
    ax.set_ylabel(objective.title)
    ax.grid(alpha=0.3)
