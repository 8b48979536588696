"""From a run's monthly figures to the numbers a problem optimises.

A measure is a model output averaged over the last ``window`` months of a run (NaN months,
e.g. report rates in a month without reports, are skipped), optionally times 12 for a yearly
figure; a candidate's value is the mean over its replicates.

Two outputs the model is gaining (``public_cost_yuan`` and ``illness_per_100k``, issue 8) are
computed here as FALLBACKS while :data:`govsim.metrics.COLUMNS` lacks them. The fallback cost
leaves out inspection staff time and re-tender premiums, which the model's own column will
include; reports say which one was used. The check is made at run time, so the model's
column is used as soon as it exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from govsim.sweep.models import DEFAULT_MODEL, ModelInfo


@dataclass(frozen=True)
class Fallback:
    """An output computed from others while the model does not return it."""

    needs: tuple[str, ...]
    compute: Callable[[dict[str, float], int | None], float]
    note: str


FALLBACKS: dict[str, Fallback] = {
    "public_cost_yuan": Fallback(
        ("budget_spent", "rewards_paid_yuan"),
        lambda f, population: f["budget_spent"] + f["rewards_paid_yuan"],
        "public_cost_yuan is a FALLBACK (budget_spent + rewards_paid_yuan): this model version "
        "has no public_cost_yuan column, so inspection staff time and re-tender premiums are "
        "not counted"),
    "illness_per_100k": Fallback(
        ("illness_cases",),
        lambda f, population: (f["illness_cases"] * 100_000 / population
                               if population else math.nan),
        "illness_per_100k is a FALLBACK (illness_cases x 100,000 / consumers.population): "
        "this model version has no illness_per_100k column"),
}

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


def allowed_outputs(model: ModelInfo) -> tuple[str, ...]:
    """The model's figures plus the fallbacks it has the inputs for."""
    own = model_outputs(model)
    extra = tuple(name for name, fb in FALLBACKS.items()
                  if name not in own and all(n in own for n in fb.needs))
    return own + extra


def fallbacks_used(model: ModelInfo, outputs: list[str]) -> list[str]:
    """The notes of the fallbacks among ``outputs`` (empty when the model has them all)."""
    own = model_outputs(model)
    return [FALLBACKS[o].note for o in dict.fromkeys(outputs) if o in FALLBACKS and o not in own]


def run_figures(frame: pd.DataFrame, window: int, population: int | None) -> dict[str, float]:
    """One run's figures: each column's mean over the last ``window`` months (NaN skipped),
    plus the fallbacks the run lacks.

    Args:
        frame: one run's rows; with a ``step`` column (monthly series), or one row of figures.
        window: months at the end that count.
        population: people in the district (for per-100,000 figures).
    """
    columns = [c for c in frame.columns if c not in ("run_id", "step", "status", "error")]
    if "step" in frame:
        frame = frame.sort_values("step").tail(window)
    values = frame[columns].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        means = [float(np.nanmean(values[:, i])) if np.isfinite(values[:, i]).any() else math.nan
                 for i in range(values.shape[1])]
    figures = dict(zip(columns, means, strict=True))
    for name, fb in FALLBACKS.items():
        if name not in figures and all(n in figures for n in fb.needs):
            figures[name] = float(fb.compute(figures, population))
    return figures


def measure_value(figures: dict[str, float], output: str, per: str) -> float:
    """A measure from a run's figures (``per = "year"``: the monthly mean times 12)."""
    value = figures[output]
    return value * 12 if per == "year" else value
