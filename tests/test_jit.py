"""govsim.jit: the model's compiled loops.

The loops give the same numbers, bit for bit, as the numpy code they replaced, so a run's
results do not depend on whether a step is compiled: tests/test_jit_consumers.py,
test_jit_learning.py and test_jit_phases.py each keep the replaced numpy code as the
reference and run both on the same state of a real model, with the same random draws.
"""

from __future__ import annotations

import numba
import pytest

from govsim.jit import compiled


def test_a_loop_still_compiles_where_numba_has_no_cache_folder():
    # a function without a source file: numba finds no cache folder for it, as for a
    # package in a read-only folder with a read-only home
    namespace = {}
    exec(compile("def double(x):\n    return 2 * x\n", "<no file>", "exec"), namespace)
    with pytest.raises(RuntimeError, match="cannot cache"):
        numba.njit(cache=True)(namespace["double"])
    assert compiled(namespace["double"])(21) == 42
