"""Compiled loops for the busiest steps of a month (numba).

A month of the default scenario makes several hundred numpy calls on arrays of a few hundred
to a few thousand elements, and numpy's per-call dispatch, not arithmetic, is most of its
time. Where a run of such calls works on the same few arrays, one compiled loop does it in a
single call. numpy cannot fuse calls, and a hand-written C extension would need a compiler
at install time, so numba (wheels for every supported platform) compiles them.

Every loop gives the same numbers, bit for bit, as the numpy code it replaced, so runs and
their stored results do not change. Rules that keep it so:

- random numbers are drawn by numpy (``model.rng``) outside the loop and passed in, in the
  order the numpy code drew them;
- arithmetic is plain ``+ - * /``, comparisons, ``min``/``max``, in the numpy code's order of
  operations, without fastmath (which would reorder it);
- no ``exp``/``log``-type functions inside a loop: numpy's may differ from LLVM's in the last
  bit, so those stay in numpy;
- no float sums that numpy did with ``np.sum`` (pairwise); ``np.cumsum`` and
  ``np.bincount`` add in order, as a loop does.

Compiled code is cached beside the module (or in the user's cache folder when the package
folder is read-only), so only the first run after an install or a change compiles.
"""

from __future__ import annotations

import numba


def compiled(func):
    """Compile ``func`` with numba: on first call, cached on disk; division by zero gives inf
    or nan as in numpy instead of raising.

    Without any writable cache folder (package and home folders read-only), numba refuses to
    cache; the loop is then compiled in each process instead of failing the import.
    """
    try:
        return numba.njit(cache=True, error_model="numpy")(func)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(error_model="numpy")(func)
