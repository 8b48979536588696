"""Every public cost of a cure, line by line, and what it buys: yuan per illness averted.

A cure can cost public money in several places: testing fees paid to agencies, re-tests of
agency reports (back-checks), rewards paid to the public for useful complaints, and the
staff time of inspections. A report that shows only the testing budget makes a cure that pays
rewards look free, so each run's public cost is split into :data:`COST_LINES` and a total.

The lines come from the model's own columns when it has them (``testing_fees_yuan``,
``backcheck_cost_yuan``, ``inspection_cost_yuan``, ``public_cost_yuan`` in
:data:`govsim.metrics.COLUMNS`). A model without them still gets complete lines: back-checks
are priced like a tested batch (``backchecks x budget.cost_per_batch_yuan``), fees are the
rest of ``budget_spent``, and inspections are left out (the model does not price them; the
report says so). When the model gives a total, anything it counts beyond the lines (e.g. a
re-tendering premium) is the line "other", so the lines always add up to the total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

#: Bootstrap resamples of the cost-effectiveness interval, and its fixed seed (the same
#: runs give the same interval).
RESAMPLES = 2000
BOOTSTRAP_SEED = 20240601


@dataclass(frozen=True)
class CostLine:
    """One line of public cost (yuan per month).

    Attributes:
        key: the per-run column it is written to.
        label: what a reader sees.
        column: the model's column holding it, when the model has one.
    """

    key: str
    label: str
    column: str | None


#: The lines, in the report's order; the total is :data:`TOTAL`.
COST_LINES: tuple[CostLine, ...] = (
    CostLine("cost_testing_fees", "Testing fees paid to agencies", "testing_fees_yuan"),
    CostLine("cost_backchecks", "Back-checks of agency reports", "backcheck_cost_yuan"),
    CostLine("cost_rewards", "Rewards paid for complaints", "rewards_paid_yuan"),
    CostLine("cost_inspections", "Inspection staff", "inspection_cost_yuan"),
    CostLine("cost_other", "Other public costs (e.g. re-tendering)", None),
)
TOTAL = CostLine("public_cost", "Total public cost", "public_cost_yuan")


def monthly_costs(tail: pd.DataFrame, cost_per_batch: pd.Series) -> pd.DataFrame:
    """Each month's cost lines and total, from the model's columns.

    Args:
        tail: rows of runs (one per run and month), with the columns of
            :mod:`govsim.metrics` that exist.
        cost_per_batch: each row's ``budget.cost_per_batch_yuan`` (to price back-checks
            when the model does not).

    Returns:
        One column per line of :func:`lines_for` and ``public_cost``, aligned with ``tail``.
    """
    out = pd.DataFrame(index=tail.index)
    if "backcheck_cost_yuan" in tail:
        out["cost_backchecks"] = tail["backcheck_cost_yuan"]
    else:  # a back-check re-tests a batch, paid from the testing budget at the batch price
        out["cost_backchecks"] = tail["backchecks"] * cost_per_batch
    if "testing_fees_yuan" in tail:
        out["cost_testing_fees"] = tail["testing_fees_yuan"]
    else:
        out["cost_testing_fees"] = tail["budget_spent"] - out["cost_backchecks"]
    out["cost_rewards"] = tail["rewards_paid_yuan"]
    if "inspection_cost_yuan" in tail:
        out["cost_inspections"] = tail["inspection_cost_yuan"]
    counted = out.sum(axis=1)
    if "public_cost_yuan" in tail:
        out["cost_other"] = tail["public_cost_yuan"] - counted
        out["public_cost"] = tail["public_cost_yuan"]
    else:
        out["public_cost"] = counted
    return out


def lines_for(columns: Sequence[str]) -> list[CostLine]:
    """The cost lines a set of per-run columns holds (inspections and "other" only when the
    model reports them)."""
    return [line for line in COST_LINES if line.key in columns]


def not_counted(columns: Sequence[str]) -> list[str]:
    """Costs the model does not report, to say so beside the table."""
    return [] if "cost_inspections" in columns else ["inspection staff time"]


# --- cost-effectiveness ---------------------------------------------------------------------


def cost_effectiveness(per_run: pd.DataFrame, baseline: str, cures: Sequence[str],
                       confidence: float = 0.95) -> pd.DataFrame:
    """Yuan of extra public cost per illness case averted, for each cure, paired by replicate.

    Per replicate r (same seed in both): extra cost ``C_r = cost(cure) - cost(baseline)`` and
    cases averted ``A_r = illness(baseline) - illness(cure)``, both per month. The ratio is
    ``mean(C) / mean(A)``; its interval is a percentile bootstrap over replicates, resampling
    the pairs (C_r, A_r) together. When the cure does not avert illness significantly
    (the paired interval of ``A`` includes zero or is below it), a ratio would divide by
    noise: it is left out (NaN) and ``note`` says why.

    Returns:
        One row per cure: ``scenario, extra_cost, averted, averted_low, averted_high,
        yuan_per_case, low, high, n, note``.
    """
    by_name = {n: g.set_index("replicate") for n, g in per_run.groupby("scenario")}
    base = by_name[baseline]
    rows = []
    for name in cures:
        cure = by_name[name]
        pairs = pd.DataFrame({
            "cost": cure["public_cost"] - base["public_cost"].reindex(cure.index),
            "averted": base["illness_cases"].reindex(cure.index) - cure["illness_cases"],
        }).dropna()
        rows.append({"scenario": name, **_ratio(pairs, confidence)})
    return pd.DataFrame(rows, columns=["scenario", "extra_cost", "averted", "averted_low",
                                       "averted_high", "yuan_per_case", "low", "high", "n",
                                       "note"])


def _ratio(pairs: pd.DataFrame, confidence: float) -> dict:
    n = len(pairs)
    cost, averted = pairs["cost"].to_numpy(float), pairs["averted"].to_numpy(float)
    nan = math.nan
    row = {"extra_cost": float(cost.mean()) if n else nan,
           "averted": float(averted.mean()) if n else nan,
           "averted_low": nan, "averted_high": nan, "yuan_per_case": nan, "low": nan,
           "high": nan, "n": n, "note": ""}
    if n < 3:
        row["note"] = "too few replicates for an interval"
        return row
    half = sps.t.ppf(0.5 + confidence / 2, n - 1) * averted.std(ddof=1) / math.sqrt(n)
    row["averted_low"], row["averted_high"] = row["averted"] - half, row["averted"] + half
    if not row["averted_low"] > 0:
        row["note"] = "illness not significantly reduced"
        return row
    row["yuan_per_case"] = row["extra_cost"] / row["averted"]
    result = sps.bootstrap((cost, averted), _mean_ratio, paired=True, vectorized=True,
                           n_resamples=RESAMPLES, confidence_level=confidence,
                           method="percentile", rng=np.random.default_rng(BOOTSTRAP_SEED))
    row["low"] = float(result.confidence_interval.low)
    row["high"] = float(result.confidence_interval.high)
    return row


def _mean_ratio(cost: np.ndarray, averted: np.ndarray, axis: int = -1) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return cost.mean(axis=axis) / averted.mean(axis=axis)
