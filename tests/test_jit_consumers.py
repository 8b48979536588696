"""The compiled loops of the consume phase give the same numbers, bit for bit, as the numpy
code they replaced (see tests/test_jit.py), word of mouth included.

Each test keeps the replaced numpy code as the reference and runs both on the same state of
a real model, with the same random draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from govsim.model import GovernanceModel
from govsim.phases import consumers


@pytest.fixture(scope="module")
def month_12():
    """The default scenario after a year: real sales, demand, unsafe businesses and trust."""
    model = GovernanceModel(seed=3)
    for _ in range(12):
        model.step()
    return model


def _places(model):
    """The month's places: (sellers, sources), as in ``consume``."""
    shares = consumers.market_shares(model)
    return consumers.Places(shares), consumers.Places(shares * model.businesses.unsafe)


def _look_up_numpy(weight, u):
    """Inverse-CDF look-up as numpy code: cumsum, searchsorted, bincount."""
    cumulative = np.cumsum(weight)
    u = np.sort(u) * cumulative[-1]
    where = np.minimum(cumulative.searchsorted(u, side="right"), len(weight) - 1)
    counts = np.bincount(where, minlength=len(weight))
    positions = (counts != 0).nonzero()[0]
    return positions, counts[positions]


@pytest.mark.parametrize("n", [1, 40, 250, 5_000])
@pytest.mark.parametrize("which", [0, 1])
def test_look_up_compiled_equals_numpy(month_12, n, which):
    places = _places(month_12)[which]
    u = np.random.default_rng(n).random(n)
    if n > 3:
        u[:3] = np.nextafter(1.0, 0.0), 0.0, u[3]  # the edges of the draws, and a tie
    positions, people = consumers._look_up(places.weight, u.copy())
    expected = _look_up_numpy(places.weight, u)
    assert np.array_equal(positions, expected[0]) and positions.dtype == expected[0].dtype
    assert np.array_equal(people, expected[1]) and people.dtype == expected[1].dtype
    assert people.sum() == n and len(places.weight) > 100


def _attribute_complaints_numpy(model, n_traceable, n_other, sellers, sources):
    """Complaints filed as numpy code: zeros, scatter, copy, scatter-add, queue."""
    b = model.businesses
    attribution = model.params.participation.attribution_probability
    n_right = model.rng.binomial(n_traceable, attribution) if len(sources.weight) else 0
    b.complaints_true = np.zeros(b.count)
    where, people = consumers._draw_businesses(model, n_right, sources)
    b.complaints_true[where] = people
    b.complaints = b.complaints_true.copy()
    where, people = consumers._draw_businesses(model, n_traceable + n_other - n_right, sellers)
    b.complaints[where] += people
    b.complaint_queue += b.complaints


@pytest.mark.parametrize(("n_traceable", "n_other"), [(0, 0), (0, 30), (40, 160), (900, 4000)])
def test_complaints_compiled_equal_numpy(month_12, n_traceable, n_other):
    model, b = month_12, month_12.businesses
    sellers, sources = _places(model)
    before = b.complaints_true, b.complaints, b.complaint_queue.copy()
    model.rng = np.random.default_rng(11)
    consumers._attribute_complaints(model, n_traceable, n_other, sellers, sources)
    compiled = b.complaints_true, b.complaints, b.complaint_queue.copy()
    b.complaint_queue[:] = before[2]
    model.rng = np.random.default_rng(11)
    _attribute_complaints_numpy(model, n_traceable, n_other, sellers, sources)
    expected_all = b.complaints_true, b.complaints, b.complaint_queue
    for got, expected in zip(compiled, expected_all, strict=True):
        assert np.array_equal(got, expected) and got.dtype == expected.dtype
    assert compiled[1].sum() == (n_traceable + n_other) * 1.0
    assert n_traceable + n_other == 0 or (compiled[2] != before[2]).any()
    b.complaints_true, b.complaints, b.complaint_queue[:] = before


@pytest.mark.parametrize("n", [0, 1, 60, 5_000])
def test_log_safe_meals_compiled_equal_numpy(month_12, n):
    model, c = month_12, month_12.consumers
    assert len(np.unique(c.trust)) > 100  # trust has spread out
    candidates = np.random.default_rng(n).choice(c.count, n, replace=False)
    log_safe, max_meals, trust0 = -0.003, model.params.consumers.meals_out_per_month, 0.6
    sorted_candidates = candidates.copy()
    got = consumers._log_safe_meals(sorted_candidates, c.trust, np.float32(0.5 / trust0),
                                    np.float32(max_meals), np.float32(log_safe))
    candidates.sort()
    meals = max_meals * np.minimum(0.5 + 0.5 / trust0 * c.trust[candidates], 1.0)
    expected = meals * log_safe
    assert np.array_equal(sorted_candidates, candidates)
    assert np.array_equal(got, expected) and got.dtype == expected.dtype == np.float32
    assert n == 0 or (got < 0).all()


def _complaint_probability_numpy(model, trust, aware):
    """The chance to complain as numpy code on gathered trust and awareness."""
    p = model.params.participation
    base = min(max(p.complaint_probability, 1e-9), 1 - 1e-9)
    logit = (math.log(base / (1 - base))
             + p.reward_effect * math.log1p(p.reward_yuan / 1000.0)
             + consumers.TRUST_COMPLAINT_SLOPE * (trust - model.params.consumers.initial_trust)
             + math.log(consumers.AWARE_COMPLAINT_ODDS) * aware)
    return consumers.expit(logit)


def _ill_and_complaints_numpy(model, from_business, elsewhere, u):
    """Marking the ill and their complaints as numpy code."""
    c = model.consumers
    c.ill[:] = False
    c.ill[from_business] = True
    other = elsewhere[~c.ill[elsewhere]]
    other.sort()
    c.ill[other] = True
    ill = np.concatenate([from_business, other])
    p_complain = _complaint_probability_numpy(model, c.trust[ill], c.aware[ill])
    complained = u[: len(ill)] < p_complain
    complainants = ill[complained]
    c.complained[:] = False
    c.complained[complainants] = True
    return ill, p_complain, complainants, int(np.count_nonzero(complained[: len(from_business)]))


@pytest.mark.parametrize(("n_from", "n_elsewhere"), [(0, 0), (0, 100), (55, 100), (3_000, 5_000)])
def test_ill_and_complaints_compiled_equal_numpy(month_12, n_from, n_elsewhere):
    model, c = month_12, month_12.consumers
    assert c.aware.any() and not c.aware.all()
    draw = np.random.default_rng(n_from + n_elsewhere)
    from_business = np.sort(draw.choice(c.count, n_from, replace=False))
    elsewhere = draw.choice(c.count, n_elsewhere, replace=False)
    u = draw.random(n_from + n_elsewhere) * 0.3
    before = c.ill.copy(), c.complained.copy()
    ill = consumers._mark_ill(c.ill, from_business, elsewhere)
    p_complain = consumers.complaint_probability(model, ill)
    complainants, traceable = consumers._complain(c.complained, ill, u[: len(ill)], p_complain,
                                                  n_from)
    compiled = ill, p_complain, complainants, traceable, c.ill.copy(), c.complained.copy()
    c.ill[:], c.complained[:] = before
    expected = _ill_and_complaints_numpy(model, from_business, elsewhere, u)
    expected = *expected, c.ill, c.complained
    for got, want in zip(compiled[:3], expected[:3], strict=True):
        assert np.array_equal(got, want) and got.dtype == want.dtype
    assert compiled[3] == expected[3] and isinstance(compiled[3], int)
    assert np.array_equal(compiled[4], expected[4]) and np.array_equal(compiled[5], expected[5])
    assert n_from + n_elsewhere == 0 or (compiled[4] != before[0]).any()
    assert n_from < 3_000 or len(complainants) > traceable > 0
    c.ill[:], c.complained[:] = before


def _lose_reputation_numpy(model, ill_people, shares, sources):
    """Reputation lost as numpy code, with ``lost_margin_yuan``."""
    sc = model.params
    b = model.businesses
    known = model.rng.binomial(ill_people, sc.participation.attribution_probability)
    where, people = consumers._draw_businesses(model, known, sources)
    model.ill_who_know = (where, people)
    customers = sc.consumers.population * shares[where]
    lost = np.minimum(sc.consumers.reputation_effect * people / np.maximum(customers, 1.0), 1.0)
    model.reputation_loss_yuan = np.zeros(b.count)
    model.reputation_loss_yuan[where] = consumers.lost_margin_yuan(model, where, lost)
    b.demand[where] *= 1.0 - lost


@pytest.mark.parametrize("ill_people", [0, 20, 550, 200_000])
def test_lose_reputation_compiled_equals_numpy(month_12, ill_people):
    model, b = month_12, month_12.businesses
    shares = consumers.market_shares(model)
    sources = _places(model)[1]
    before = b.demand.copy(), model.ill_who_know, model.reputation_loss_yuan
    model.rng = np.random.default_rng(5)
    consumers._lose_reputation(model, ill_people, shares, sources)
    compiled = b.demand.copy(), model.reputation_loss_yuan
    b.demand[:] = before[0]
    model.rng = np.random.default_rng(5)
    _lose_reputation_numpy(model, ill_people, shares, sources)
    assert np.array_equal(compiled[0], b.demand)
    assert np.array_equal(compiled[1], model.reputation_loss_yuan)
    assert compiled[1].dtype == model.reputation_loss_yuan.dtype
    assert ill_people < 550 or (compiled[0] < before[0]).any()
    assert ill_people < 200_000 or (compiled[0] == 0.0).any()  # some lose all customers
    b.demand[:] = before[0]
    model.ill_who_know, model.reputation_loss_yuan = before[1:]


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
