"""The compiled loops of the adaptation phase give the same numbers, bit for bit, as the numpy
code they replaced (kept here as the reference), on the state of real models."""

from __future__ import annotations

import numpy as np
import pytest

from govsim.model import GovernanceModel
from govsim.phases import learning
from govsim.phases.consumers import DEMAND_RECOVERY
from govsim.scenario import Scenario


def _after_a_year(overrides: dict | None = None, seed: int = 3) -> GovernanceModel:
    model = GovernanceModel(Scenario().with_overrides(overrides or {}), seed=seed)
    for _ in range(12):
        model.step()
    return model


@pytest.fixture(scope="module")
def month_12():
    """The default scenario after a year."""
    return _after_a_year()


@pytest.fixture(scope="module")
def variants(month_12):
    """Scenarios that take the branches: self-paid testing, blacklisting, disclosure with
    agencies' liability, risk-based sampling."""
    return [month_12,
            _after_a_year({"procurement.payer": "business"}),
            _after_a_year({"performance.blacklist": True, "market.n_agencies": 12}),
            _after_a_year({"participation.disclosure": True, "law.agency_liability": True}),
            _after_a_year({"system.sampling": "risk_based"})]


def _take_stock_numpy(model):
    """Sales, counts and sums by (sector, strategy), inspection beliefs and demand recovery,
    as numpy code."""
    b = model.businesses
    lr = model.params.businesses.belief_learning_rate
    own = lr * learning.OWN_EXPERIENCE_WEIGHT
    group = b.sector * 2 + ~b.complying
    compliers = np.bincount(group, minlength=6)[0::2]
    sales = b.sales_yuan()
    cutters = b.sector_counts - compliers
    caught = model.seen.by_sector("cutters_inspected_caught").tolist()
    peer = [n_caught / n if n > 0 else 0.0
            for n_caught, n in zip(caught, cutters.tolist(), strict=True)]
    step = np.array(peer).take(b.sector)
    step -= b.belief
    step *= lr
    b.belief += step
    b.belief -= np.array([[0.0, own * rate] for rate in peer]).take(group)
    b.belief[b.caught_by_inspection.nonzero()[0]] += own
    b.belief.clip(0.0, 1.0, out=b.belief)
    sums = [np.bincount(group, weights=sales, minlength=6)]
    for values in (model.damages_paid_yuan, model.reputation_loss_yuan):
        paid = (values != 0).nonzero()[0]
        sums.append(np.bincount(group.take(paid), weights=values.take(paid), minlength=6))
    b.demand += DEMAND_RECOVERY * (1.0 - b.demand)
    return sales, compliers, np.array(sums)


def test_take_stock_compiled_equals_numpy(variants):
    for model in variants:
        b = model.businesses
        before = b.belief.copy(), b.demand.copy()
        compiled = learning._take_stock(model)
        after = b.belief.copy(), b.demand.copy()
        b.belief[:], b.demand[:] = before
        reference = _take_stock_numpy(model)
        for x, y in zip(compiled + after, reference + (b.belief, b.demand), strict=True):
            assert x.dtype == y.dtype and np.array_equal(x, y)
        assert (after[0] != before[0]).any() and (after[1] != before[1]).any()
        assert reference[2][1:].any()  # damages or lost customers were summed
        b.belief[:], b.demand[:] = before
