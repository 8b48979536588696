"""From a run's monthly figures to the numbers a problem optimises.

A measure is a model output averaged over the last ``window`` months of a run (NaN months,
e.g. report rates in a month without reports, are skipped), optionally times 12 for a yearly
figure; a candidate's value is the mean over its replicates.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from govsim.sweep.models import DEFAULT_MODEL, ModelInfo

LABELS = {
    "public_cost_yuan": "public cost (yuan)",
    "illness_per_100k": "illness cases per 100,000 people",
    "compliance_rate": "compliance rate",
    "illness_cases": "illness cases",
    "budget_spent": "testing budget spent (yuan)",
    "unsafe_share": "unsafe share",
    "public_trust": "public trust",
}


def label_of(output: str) -> str:
    """A readable name for an output."""
    return LABELS.get(output, output.replace("_", " "))


def model_outputs(model: ModelInfo) -> tuple[str, ...]:
    """The figures a model returns; for govsim, read from :mod:`govsim.metrics` now (not at
    import), so new columns count as soon as they exist."""
    if model.spec == DEFAULT_MODEL:
        from govsim.metrics import COLUMNS

        return tuple(c for c in COLUMNS if c != "step")
    return tuple(model.outputs or ())


def run_figures(frame: pd.DataFrame, window: int) -> dict[str, float]:
    """One run's figures: each column's mean over the last ``window`` months (NaN skipped).

    Args:
        frame: one run's rows; with a ``step`` column (monthly series), or one row of figures.
        window: months at the end that count.
    """
    columns = [c for c in frame.columns if c not in ("run_id", "step", "status", "error")]
    if "step" in frame:
        frame = frame.sort_values("step").tail(window)
    values = frame[columns].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        means = [float(np.nanmean(values[:, i])) if np.isfinite(values[:, i]).any() else math.nan
                 for i in range(values.shape[1])]
    return dict(zip(columns, means, strict=True))


def measure_value(figures: dict[str, float], output: str, per: str) -> float:
    """A measure from a run's figures (``per = "year"``: the monthly mean times 12)."""
    value = figures[output]
    return value * 12 if per == "year" else value
