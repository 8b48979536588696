"""The compiled loops of the adaptation phase give the same numbers, bit for bit, as the numpy
code they replaced (kept here as the reference), on the state of real models."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from govsim.model import GovernanceModel
from govsim.phases import learning
from govsim.phases.consumers import DEMAND_RECOVERY
from govsim.phases.enforcement import batch_value_yuan, product_fine_yuan, publication_reach
from govsim.phases.grading import sampling_chance
from govsim.phases.procurement import bid_prices
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
            _after_a_year({"performance.blacklist": True, "market.n_agencies": 12,
                           "performance.backcheck_rate": 0.1}),
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


def _expected_loss_numpy(model, who, sector, sales):
    """Expected extra loss from cutting corners, as numpy code."""
    b = model.businesses
    sc = model.params
    beliefs = model.beliefs
    fine_chance = beliefs.fine_given_confirmed.take(sector)
    margin_rate = sales * sc.businesses.margin / DEMAND_RECOVERY
    sampled = sampling_chance(model, model.planned_batches, who)
    sampled[b.followups_due[who] > 0] = 1.0
    extra_unsafe = b.hazard_cut[who] - b.hazard_comply[who]
    goods = batch_value_yuan(model, who, sales)
    per_failure = (goods
                   + fine_chance * product_fine_yuan(model, who, goods)
                   + publication_reach(model, "sampling")
                   * sc.participation.disclosure_demand_loss * margin_rate)
    sampling = sampled * extra_unsafe * beliefs.fail_given_unsafe.take(sector) * per_failure
    per_catch = fine_chance * sc.law.inspection_fine_yuan
    reach = publication_reach(model, "routine")
    if reach:
        per_catch = per_catch + reach * sc.participation.disclosure_demand_loss * margin_rate
    inspection = b.belief[who] * per_catch
    market = (beliefs.damages_per_sales + beliefs.reputation_per_sales).take(sector) * sales
    return sampling + inspection + market


def _revision_numpy(model, draws, compliers, sales):
    """Who reconsiders and the log-odds of cutting corners, as numpy code."""
    b = model.businesses
    bs = model.params.businesses
    reconsider = draws < bs.revision_rate
    reconsider |= b.notified
    reconsider |= b.punished
    reconsider |= b.caught_by_inspection
    revising = reconsider.nonzero()[0]
    sector = b.sector[revising]
    gain = b.cost_yuan[revising] - _expected_loss_numpy(model, revising, sector,
                                                          sales[revising])
    comply_share = compliers / np.maximum(b.sector_counts, 1)
    norm = np.array([bs.conformity * (2 * share - 1) for share in comply_share.tolist()])
    return revising, gain / bs.choice_noise_yuan - norm.take(sector)


def test_expected_loss_compiled_equals_numpy(variants):
    for model in variants:
        b = model.businesses
        who = np.arange(b.count)
        compiled = learning.expected_loss_if_cutting(model, who)
        reference = _expected_loss_numpy(model, who, b.sector, b.sales_yuan())
        assert np.array_equal(compiled, reference)
        assert (b.followups_due > 0).any() or model.params.system.sampling == "risk_based"
    risk_based = variants[-1]
    assert len(np.unique(sampling_chance(risk_based, risk_based.planned_batches))) > 1


def test_revision_compiled_equals_numpy(variants):
    for model in variants:
        b = model.businesses
        bs = model.params.businesses
        draws = np.random.default_rng(11).random(b.count)
        compliers = np.bincount(b.sector[b.complying], minlength=3)
        sales = b.sales_yuan()
        revising, logit = learning._revision(
            draws, bs.revision_rate, b.notified, b.punished, b.caught_by_inspection,
            compliers, b.sector_counts, bs.conformity, bs.choice_noise_yuan, b.cost_yuan,
            sales, *learning._loss_inputs(model))
        reference = _revision_numpy(model, draws, compliers, sales)
        assert np.array_equal(revising, reference[0]) and np.array_equal(logit, reference[1])
        assert len(revising) > 0.05 * b.count and np.isfinite(logit).all()


def _adapt_agencies_numpy(model):
    """Agencies' back-check beliefs and cheating propensities, as numpy code."""
    ag = model.agencies
    sc = model.params
    rate = sc.market.learning_rate
    ag.false_seen = learning.BELIEF_MEMORY * ag.false_seen + model.last_false_reports
    ag.found_seen = learning.BELIEF_MEMORY * ag.found_seen + model.last_false_found
    announced = sc.performance.backcheck_rate * sc.performance.backcheck_sensitivity
    ag.belief_backcheck = ((ag.found_seen + learning.PRIOR_REPORTS * announced)
                           / (ag.false_seen + learning.PRIOR_REPORTS))
    price = ag.price_yuan
    if not (price > 0).all():
        price = np.where(price > 0, price, bid_prices(model))
    penalty = (sc.law.agency_fine_multiple + 1.0) * price
    if sc.performance.blacklist:
        perf = sc.performance
        monthly_profit = (np.maximum(ag.quota, ag.tested)
                          * np.maximum(price - ag.cost_yuan, 0.0))
        penalty = penalty + monthly_profit * perf.blacklist_months / perf.blacklist_threshold
    bribe = sc.market.bribe_yuan
    if sc.procurement.payer == "business":
        bribe = bribe + learning.CLIENT_VALUE_BATCHES * price
    risk = ag.belief_backcheck
    dishonesty = 1.0 - ag.integrity
    noise = learning.AGENCY_NOISE * price
    expected_penalty = risk * penalty
    if sc.law.agency_liability:
        expected_liable = risk * (penalty + sc.law.business_fine_yuan)
    else:
        expected_liable = expected_penalty
    target_shirk = dishonesty * expit((ag.cost_yuan - expected_penalty) / noise)
    target_collude = dishonesty * expit((bribe - expected_liable) / noise)
    ag.shirk += rate * (target_shirk - ag.shirk)
    ag.collude += rate * (target_collude - ag.collude)


AGENCY_STATE = ("false_seen", "found_seen", "belief_backcheck", "shirk", "collude")


def test_adapt_agencies_compiled_equals_numpy(variants):
    taken = set()
    for model in variants:
        ag = model.agencies
        before = {name: getattr(ag, name).copy() for name in AGENCY_STATE}
        learning._adapt_agencies(model)
        compiled = {name: getattr(ag, name).copy() for name in AGENCY_STATE}
        for name in AGENCY_STATE:
            setattr(ag, name, before[name].copy())
        _adapt_agencies_numpy(model)
        for name in AGENCY_STATE:
            assert np.array_equal(compiled[name], getattr(ag, name)), name
            if (compiled[name] != before[name]).any():
                taken.add(name)
            setattr(ag, name, before[name])
        if not (ag.price_yuan > 0).all():
            taken.add("bid")
        if model.params.performance.blacklist and (ag.price_yuan > ag.cost_yuan).any():
            taken.add("blacklist")
    assert taken == {"bid", "blacklist", *AGENCY_STATE}


def _update_trust_numpy(model):
    """Consumers' trust update, as numpy code (float32 trust, Python or numpy scalars)."""
    c = model.consumers
    sc = model.params
    t0 = sc.consumers.initial_trust
    c.trust *= np.float32(1.0 - sc.consumers.trust_recovery)
    c.trust += np.float32(sc.consumers.trust_recovery * t0)
    named = np.count_nonzero(model.businesses.complaints)
    if named:
        acted = min(model.tally["inspections"] / named, 1.0)
        who = c.complainants
        trust = c.trust[who]
        c.trust[who] = trust + 0.2 * (acted - trust)
    if sc.participation.disclosure:
        visible = min(model.tally["businesses_fined"]
                      / (learning.VISIBLE_ENFORCEMENT * model.businesses.count), 1.0)
        gain = np.float32(0.03 * visible)
        c.trust *= 1 - gain
        c.trust += gain


@pytest.mark.parametrize("inspections", [None, 0.0, 7.0, 1e9])  # as run; none, some, all acted
def test_update_trust_compiled_equals_numpy(variants, inspections):
    for model in (variants[0], variants[3]):  # without and with disclosure
        c = model.consumers
        tally, complainants = dict(model.tally), c.complainants
        if inspections is not None:
            model.tally["inspections"] = inspections
            # many more complainants than a month's few dozen: rounding shows in some
            c.complainants = np.random.default_rng(5).choice(c.count, 5_000, replace=False)
        assert np.count_nonzero(model.businesses.complaints) and len(c.complainants)
        before = c.trust.copy()
        learning._update_trust(model)
        compiled = c.trust.copy()
        c.trust[:] = before
        _update_trust_numpy(model)
        assert c.trust.dtype == np.float32 and np.array_equal(compiled, c.trust)
        assert (compiled != before).any()
        c.trust[:] = before
        model.tally.update(tally)
        c.complainants = complainants
