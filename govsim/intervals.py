"""Means with their t-intervals: the one way govsim shows how much of a figure is noise.

Every report (comparisons, timeline phases, optimisation candidates) gives a mean over
replicates with a Student-t interval, so a difference inside the interval reads as noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import stats

#: The confidence of every interval govsim reports.
CONFIDENCE = 0.95


def mean_interval(values: Iterable[float],
                  confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean of ``values`` and its t-interval, ignoring NaN.

    Returns:
        ``(mean, low, high, n)``; ``low``/``high`` are NaN with fewer than two values.
    """
    x = np.asarray(values if isinstance(values, np.ndarray) else list(values), dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def paired_difference(values, baseline,
                      confidence: float = CONFIDENCE) -> tuple[float, float, float, int]:
    """Mean difference ``values - baseline`` of two pandas Series paired by index (the
    replicate: the same seed in both), with its paired t-interval, the t-interval of the
    per-replicate differences. Pairs with a NaN are left out."""
    diff = values.sub(baseline.reindex(values.index))
    return mean_interval(diff, confidence)
