"""Trajectory bands of a sweep that kept monthly time series, and how its runs were seeded.

``govsim analyze`` calls :func:`section` once. For a sweep with ``outputs = "series"`` it
writes ``trajectories.csv`` (per outcome and month: runs, mean and the 5/25/50/75/95%
quantiles over all ok runs, and each design point's mean when there are at most
:data:`MAX_POINT_LINES` points) and ``trajectories_<outcome>.png`` (the 90% and 50% bands, the
median, and the points' means). The part files are read one at a time and only the columns
needed, so memory grows with runs x months x outcomes, not with the dataset.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from govsim.output import atomic_path
from govsim.sweep.storage import iter_results

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: Up to this many design points, each point's mean trajectory is drawn as its own line.
MAX_POINT_LINES = 8


def seeding_text(manifest: dict) -> str:
    """One line saying how the runs were seeded (older manifests: a fresh seed per run)."""
    if manifest.get("common_random_numbers"):
        return ("- seeds: **common random numbers**: replicate r uses the same seed at every "
                "design point, so differences between points are not seed noise")
    return ("- seeds: a different seed for every run (no common random numbers): differences "
            "between points include seed noise (`common_random_numbers = true` pairs them)")


def section(root: Path, manifest: dict, outcomes: list[str], out: Path,
            files: list[Path]) -> str:
    """The seeding line and, for a series sweep, the trajectory bands (files appended)."""
    text = ["## Seeds and trajectories", "", seeding_text(manifest)]
    if manifest.get("outputs") != "series":
        text.append("- no monthly series kept (`outputs = \"summary\"`): no trajectory bands")
        return "\n".join(text)
    table = trajectory_table(root, outcomes, manifest.get("n_points", 0))
    if table.empty:
        return "\n".join(text)
    path = out / "trajectories.csv"
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    files.append(path)
    for outcome in outcomes:
        files.append(plot_bands(table[table["outcome"] == outcome], outcome, out))
    text.append("- trajectories: `trajectories.csv` and `trajectories_<outcome>.png`: median, "
                "50% and 90% bands over all ok runs, month by month")
    return "\n".join(text)


def trajectory_table(root: Path, outcomes: list[str], n_points: int) -> pd.DataFrame:
    """Per outcome and month: n, mean, quantiles over ok runs (and point means if few)."""
    wanted = ["run_id", "point_id", "step", "status", *outcomes]
    parts = [p[p["status"] == "ok"].drop(columns="status")
             for p in iter_results(root, columns=wanted)]
    data = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if data.empty or "step" not in data:
        return pd.DataFrame()
    rows = []
    for outcome in outcomes:
        by_month = data.groupby("step")[outcome]
        frame = by_month.agg(["count", "mean"]).rename(columns={"count": "n"})
        for q in QUANTILES:
            frame[f"q{int(q * 100):02d}"] = by_month.quantile(q)
        frame = frame.reset_index().assign(outcome=outcome, point_id=np.nan)
        rows.append(frame)
        if 0 < n_points <= MAX_POINT_LINES:
            points = data.groupby(["point_id", "step"])[outcome].agg(["count", "mean"])
            points = points.rename(columns={"count": "n"}).reset_index()
            rows.append(points.assign(outcome=outcome))
    table = pd.concat(rows, ignore_index=True)
    first = ["outcome", "point_id", "step", "n", "mean"]
    return table[first + [c for c in table.columns if c not in first]]


def plot_bands(table: pd.DataFrame, outcome: str, out: Path) -> Path:
    """The bands of one outcome (rows of :func:`trajectory_table`), as a PNG."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    everyone = table[table["point_id"].isna()]
    ax.fill_between(everyone["step"], everyone["q05"], everyone["q95"], alpha=0.18,
                    color="tab:blue", label="90% of runs")
    ax.fill_between(everyone["step"], everyone["q25"], everyone["q75"], alpha=0.35,
                    color="tab:blue", label="50% of runs")
    ax.plot(everyone["step"], everyone["q50"], color="tab:blue", label="median")
    for point, group in table[table["point_id"].notna()].groupby("point_id"):
        ax.plot(group["step"], group["mean"], lw=0.9, alpha=0.8, label=f"point {int(point)}")
    ax.set_xlabel("month")
    ax.set_title(f"{outcome}: trajectories over the sweep")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path = out / f"trajectories_{re.sub(r'[^A-Za-z0-9_.-]+', '_', outcome)}.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
