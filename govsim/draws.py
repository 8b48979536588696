"""Random draws that several phases make, written out for speed.

numpy's ``Generator.choice(n, k, replace=False, p=p)`` validates ``p`` on every call, which
cost more than the draw itself for the few dozen picks a month makes. ``choose_weighted``
draws the same way numpy does (inverse CDF, redrawing duplicates with the picked set to
zero), so it gives numpy's picks for the same generator state, without the checks: callers
pass non-negative weights with a positive sum.
"""

from __future__ import annotations

import numpy as np


def choose_weighted(rng: np.random.Generator, p: np.ndarray, size: int,
                    cumulative: np.ndarray | None = None) -> np.ndarray:
    """``size`` distinct indices of ``p``, each pick with chance proportional to ``p``.

    ``cumulative``, if given, is ``p``'s cumulative sum divided by its last value, worked
    out once by a caller that draws from the same ``p`` every month.
    """
    found = np.zeros(size, dtype=np.int64)
    n = 0
    while n < size:
        x = rng.random(size - n)
        if n > 0:  # redraw the duplicates with the picked ones taken out
            p = p.copy()
            p[found[:n]] = 0
            cumulative = None
        if cumulative is None:
            cumulative = np.cumsum(p)
            cumulative /= cumulative[-1]
        new = cumulative.searchsorted(x, side="right")
        if len(set(new.tolist())) < new.size:  # some drawn twice: keep each one's first pick
            first = np.unique(new, return_index=True)[1]
            first.sort()
            new = new.take(first)
        found[n:n + new.size] = new
        n += new.size
    return found
