"""Telling structure from noise in a sweep: intervals on steps between grid levels, colour
scales that cannot stretch noise over the whole range, and Sobol indices that cannot be
trusted.

Noise here is seed noise: what replicates of one design point disagree on. A step between
two adjacent levels of a parameter is the mean, over the combinations of the other
parameters, of the difference between the two levels' point means; its 95% interval comes
from the replicates' variance at each point (so it needs at least two replicates per point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

Z95 = 1.959963984540054  # two-sided 95% normal quantile
#: A Sobol index whose 95% half-width exceeds this is too uncertain to rank levers by.
WIDE_INTERVAL = 0.1
#: What to do about an untrustworthy index.
SOBOL_ADVICE = ("raise `samples` (N) for narrower intervals, or `replicates` to cut the seed "
                "noise that pushes indices outside [0, 1]")


def step_intervals(ok: pd.DataFrame, names: list[str], outcomes: list[str]) -> pd.DataFrame:
    """Every step between adjacent levels of every grid parameter, with its 95% interval.

    Returns:
        One row per (outcome, parameter, step): ``outcome, parameter, start, end, change,
        half, low, high, significant``. ``half`` is NaN, and the step not significant,
        when a point of the step has fewer than two runs with a value (the noise there is
        unknown); points that only one of the two levels has (a partial sweep) are left out.
    """
    rows = []
    for name in names:
        others = [n for n in names if n != name] or ["__all__"]
        data = ok.assign(__all__=0)
        levels = sorted(data[name].dropna().unique(), key=lambda v: (str(type(v)), v))
        for outcome in outcomes:
            cells = data.groupby([name, *others])[outcome].agg(["mean", "var", "count"])
            for start, end in zip(levels, levels[1:], strict=False):
                rows.append({"outcome": outcome, "parameter": name, "start": start, "end": end,
                             **_step(cells, start, end)})
    table = pd.DataFrame(rows, columns=["outcome", "parameter", "start", "end", "change",
                                        "half"])
    table["low"] = table["change"] - table["half"]
    table["high"] = table["change"] + table["half"]
    table["significant"] = (table["low"] > 0) | (table["high"] < 0)
    return table


def _step(cells: pd.DataFrame, start, end) -> dict[str, float]:
    """The step from level ``start`` to ``end``: the mean change over the cells of the other
    parameters that both levels have (a partial sweep may lack some), with its 95% interval.

    The interval is NaN when a cell has fewer than two values, since its noise is unknown.
    """
    a, b = _level(cells, start), _level(cells, end)
    common = a.index.intersection(b.index)
    # reindex, not .loc: .loc takes an index of true/false labels for a boolean mask
    a, b = a.reindex(common), b.reindex(common)
    k = len(common)
    if k == 0:
        return {"change": math.nan, "half": math.nan}
    change = float((b["mean"] - a["mean"]).mean())
    noise = ((a["var"] / a["count"]).sum(skipna=False)
             + (b["var"] / b["count"]).sum(skipna=False))
    half = Z95 * math.sqrt(noise) / k if np.isfinite(noise) else math.nan
    return {"change": change, "half": half}


def _level(cells: pd.DataFrame, level) -> pd.DataFrame:
    """The cells at one level of the first index level that hold at least one value."""
    at = cells.xs(level, level=0)
    return at[at["count"] > 0]


def steepest_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """Per outcome and parameter, the largest step that is not noise (or, when every step
    is within noise, the largest one, with ``significant`` False)."""
    rows = []
    for _, group in steps.dropna(subset=["change"]).groupby(["outcome", "parameter"],
                                                            sort=False):
        real = group[group["significant"]]
        pool = real if not real.empty else group
        rows.append(pool.loc[pool["change"].abs().idxmax()])
    return pd.DataFrame(rows, columns=steps.columns).reset_index(drop=True)


@dataclass(frozen=True)
class Scale:
    """One outcome's colour scale, shared by every heatmap panel of that outcome.

    Attributes:
        vmin, vmax: the colour range: every cell mean of every pair of parameters, widened
            to at least the noise band, so noise never fills the whole range.
        noise: 95% half-width of a cell mean due to the seed (NaN without replicates).
        within_noise: every cell is within the noise of every other.
    """

    vmin: float
    vmax: float
    noise: float
    within_noise: bool


def heatmap_scales(ok: pd.DataFrame, pairs: list[tuple[str, str]],
                   outcomes: list[str]) -> dict[str, Scale]:
    """A shared colour scale per outcome over all the heatmaps of ``pairs``."""
    scales = {}
    for outcome in outcomes:
        means, counts = [], []
        for p, q in pairs:
            cell = ok.groupby([p, q])[outcome].agg(["mean", "count"])
            means.append(cell["mean"].to_numpy(float))
            counts.append(cell["count"].to_numpy(float))
        values = np.concatenate(means) if means else np.array([np.nan])
        n = float(np.median(np.concatenate(counts))) if counts else math.nan
        within = ok.groupby("point_id")[outcome].var(ddof=1).mean()
        noise = Z95 * math.sqrt(within / n) if n and np.isfinite(within) else math.nan
        if not np.isfinite(values).any():  # no finished run has this outcome
            scales[outcome] = Scale(0.0, 1.0, math.nan, False)
            continue
        lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
        quiet = bool(np.isfinite(noise) and hi - lo <= 2 * noise)
        if np.isfinite(noise) and hi - lo < 2 * noise:
            centre = (lo + hi) / 2
            lo, hi = centre - noise, centre + noise
        scales[outcome] = Scale(lo, hi, noise, quiet)
    return scales


def sobol_flags(table: pd.DataFrame) -> pd.Series:
    """Why each Sobol row cannot be read at face value ("" when it can): an index outside
    [0, 1] (beyond its interval) or a 95% half-width wider than :data:`WIDE_INTERVAL`."""
    flags = []
    for r in table.itertuples():
        why = []
        for index in ("S1", "ST"):
            value, half = getattr(r, index), getattr(r, f"{index}_conf")
            if value - half > 1 or value + half < 0 or value > 1 or value < -WIDE_INTERVAL:
                why.append(f"{index} = {value:.2f} is outside [0, 1]")
            elif half > WIDE_INTERVAL:
                why.append(f"{index} ±{half:.2f} is wide")
        flags.append("; ".join(why))
    return pd.Series(flags, index=table.index, dtype=object)
