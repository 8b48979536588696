"""The compiled loops (govsim.jit) give the same numbers, bit for bit, as the numpy code they
replaced, so a run's results do not depend on whether a step is compiled.

Each test keeps the replaced numpy code as the reference and runs both on the same state of
a real model, with the same random draws.
"""

from __future__ import annotations

import numpy as np
import pytest

from govsim.model import GovernanceModel
from govsim.phases import consumers


@pytest.fixture(scope="module")
def month_12():
    """The default scenario after a year: real trust, awareness and network."""
    model = GovernanceModel(seed=3)
    for _ in range(12):
        model.step()
    return model


def _word_of_mouth_numpy(model, ill, told_draws):
    """Word of mouth as numpy code: ties gathered, then ``np.multiply.at``."""
    c = model.consumers
    wom = model.params.participation.word_of_mouth
    indptr = c.neighbours.indptr
    lengths = indptr[1:][ill] - indptr[ill]
    ties = np.concatenate([np.arange(indptr[i], indptr[i + 1]) for i in ill]) if len(ill) \
        else np.zeros(0, dtype=np.int64)
    assert len(ties) == lengths.sum()
    heard = c.neighbours.indices[ties].astype(np.intp)
    c.aware[heard[told_draws < wom]] = True
    c.aware[ill] = True
    keep = (1.0 - consumers.HEARSAY_TRUST_LOSS * wom / c.degree).astype(np.float32)
    np.multiply.at(c.trust, heard, keep[heard])
    c.trust[ill] *= np.float32(1.0 - consumers.ILL_TRUST_LOSS)


@pytest.mark.parametrize("n_ill", [0, 1, 150, 3_000])
def test_word_of_mouth_compiled_equals_numpy(month_12, n_ill):
    model = month_12
    c = model.consumers
    ill = np.sort(np.random.default_rng(n_ill).choice(c.count, n_ill, replace=False))
    before = c.trust.copy(), c.aware.copy()
    model.rng = np.random.default_rng(7)
    consumers._word_of_mouth(model, ill)
    compiled = c.trust.copy(), c.aware.copy()
    c.trust[:], c.aware[:] = before
    ties = int((model.consumers.neighbours.indptr[1:][ill]
                - model.consumers.neighbours.indptr[ill]).sum())
    _word_of_mouth_numpy(model, ill, np.random.default_rng(7).random(ties))
    assert np.array_equal(compiled[0], c.trust)  # float32, bit for bit
    assert np.array_equal(compiled[1], c.aware)
    assert n_ill == 0 or (compiled[0] != before[0]).any()
    c.trust[:], c.aware[:] = before


def test_a_loop_still_compiles_where_numba_has_no_cache_folder():
    import numba

    from govsim.jit import compiled

    # a function without a source file: numba finds no cache folder for it, as for a
    # package in a read-only folder with a read-only home
    namespace = {}
    exec(compile("def double(x):\n    return 2 * x\n", "<no file>", "exec"), namespace)
    with pytest.raises(RuntimeError, match="cannot cache"):
        numba.njit(cache=True)(namespace["double"])
    assert compiled(namespace["double"])(21) == 42
