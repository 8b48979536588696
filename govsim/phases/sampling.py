"""Sampling and testing: which businesses are sampled, and what the agencies report.

Follow-up samples owed after earlier failures come first; the rest of the month's batches
follow the published plan (random, by risk grade, or towards complaints). For each batch the
agency either tests honestly (detecting unsafe food with its sensitivity, and failing safe
food with 1 - specificity), shirks (reports a pass without testing, saving its cost), or,
when the business offers a bribe, colludes (sells a pass). Reports reach the regulator
``report delay`` months later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.phases.grading import planned_weights
from govsim.phases.procurement import monthly_batches_business_paid
from govsim.state import Batches

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


def sample_and_test(model: GovernanceModel) -> None:
    """Draw this month's samples, test them, and queue the reports."""
    if model.params.procurement.payer == "government":
        # shuffle, not permutation: the same draws, without copying the fresh array
        agency = _agency_per_batch_contracted(model)
        model.rng.shuffle(agency)
        business, followup = plan_samples(model, len(agency))
    else:
        business, followup = plan_samples(model, monthly_batches_business_paid(model))
        agency = _agency_chosen_by_business(model, business)
    batches = test(model, business, agency, followup)
    times = model.businesses.times_sampled
    # a 1 of the array's own type: with a Python int, np.add.at takes its slow, casting path
    np.add.at(times, batches.business, times.dtype.type(1))
    model.agencies.tested = np.bincount(batches.agency, minlength=model.agencies.count)
    model.tested_this_month = batches
    model.pending_reports.append(batches)
    fees = float(batches.price_yuan.sum())
    paid_by = "budget_spent" if model.params.procurement.payer == "government" else \
        "fees_paid_by_business_yuan"
    model.tally[paid_by] += fees  # paid per batch tested, at the contracted price
    model.tally["batches_tested"] += len(batches)


def _agency_per_batch_contracted(model: GovernanceModel) -> np.ndarray:
    # Each contracted agency tests its full quota.
    ag = model.agencies
    model.last_quota = ag.quota.copy()  # kept so checks can compare what was tested with it
    return np.repeat(np.arange(ag.count), ag.quota)  # quotas fit contract capacity


def plan_samples(model: GovernanceModel, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The month's ``n`` sampled businesses: follow-ups owed first, then the plan.

    Returns:
        (businesses, whether each batch is a follow-up)
    """
    b = model.businesses
    owed = (b.followups_due > 0).nonzero()[0]
    if len(owed) > n:
        owed = model.rng.choice(owed, n, replace=False)
    b.followups_due[owed] -= 1
    model.planned_batches = n - len(owed)
    planned = choose_businesses(model, n - len(owed))
    business = np.concatenate([owed, planned]).astype(np.int64, copy=False)
    followup = np.zeros(len(business), dtype=bool)
    followup[: len(owed)] = True
    return business, followup


def choose_businesses(model: GovernanceModel, n: int) -> np.ndarray:
    """Pick ``n`` businesses to sample by the scenario's strategy."""
    b = model.businesses
    rng = model.rng
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    strategy = model.params.system.sampling
    if strategy == "random":
        return rng.integers(0, b.count, n)
    if strategy == "risk_based":
        weight = planned_weights(model)
        return rng.choice(b.count, n, p=weight / weight.sum())
    # complaint-driven: up to half the batches go where complaints point, the rest at random
    targeted = np.flatnonzero(b.complaints > 0)
    k = min(len(targeted), n // 2)
    if k:
        weight = b.complaints[targeted]
        targeted = rng.choice(targeted, k, replace=False, p=weight / weight.sum())
    return np.concatenate([targeted[:k], rng.integers(0, b.count, n - k)])


def _agency_chosen_by_business(model: GovernanceModel, business: np.ndarray) -> np.ndarray:
    """Self-paid testing: corner-cutters seek lenient agencies, within capacity."""
    ag = model.agencies
    rng = model.rng
    open_ = ag.open_to_bid(model.steps) & ~ag.outside
    if not open_.any():
        return np.zeros(0, dtype=np.int64)
    cutting = ~model.businesses.complying[business]
    # Leniency becomes known in the trade: cutters weight agencies by exp(5 * collusion).
    lenient = np.where(open_, np.exp(5.0 * ag.collude), 0.0)
    uniform = open_.astype(float)
    choice = np.where(
        cutting,
        _draw(rng, lenient, len(business)),
        _draw(rng, uniform, len(business)),
    )
    return _cap_to_capacity(rng, choice, ag.capacity_month, open_)


def _draw(rng: np.random.Generator, weight: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(weight), n, p=weight / weight.sum())


def _cap_to_capacity(rng, choice, capacity, open_) -> np.ndarray:
    # Batches over an agency's monthly capacity move to agencies with room, or are dropped.
    choice = choice.copy()
    order = rng.permutation(len(choice))
    load = np.zeros(len(capacity), dtype=np.int64)
    keep = np.ones(len(choice), dtype=bool)
    for i in order:  # a few hundred batches a month: a plain loop is clear and fast enough
        a = choice[i]
        if load[a] >= capacity[a]:
            room = np.flatnonzero(open_ & (load < capacity))
            if len(room) == 0:
                keep[i] = False
                continue
            a = choice[i] = rng.choice(room)
        load[a] += 1
    return choice[keep]


def test(model: GovernanceModel, business: np.ndarray, agency: np.ndarray,
         followup: np.ndarray | None = None) -> Batches:
    """What each agency does with each batch and what it reports."""
    rng = model.rng
    ag = model.agencies
    b = model.businesses
    n = len(business)
    if followup is None:
        followup = np.zeros(n, dtype=bool)
    unsafe = b.unsafe[business]
    if len(agency) < n:  # self-paid batches dropped for lack of capacity
        n = len(agency)
        business, unsafe, followup = business[:n], unsafe[:n], followup[:n]
    cutting = ~b.complying[business]
    # A client who pays the tester can always lean on it (Duflo et al. 2013): under self-paid
    # testing every corner-cutter asks for a pass, paying with its future custom.
    offer = 1.0 if model.params.procurement.payer == "business" else \
        model.params.businesses.bribe_propensity
    # four draws per batch in one call: the same numbers as four calls, in the same order
    offer_draw, collude_draw, shirk_draw, test_draw = rng.random((4, n))
    bribe_offered = cutting & (offer_draw < offer)
    colluded = bribe_offered & (collude_draw < ag.collude[agency])
    # an agency that did not collude shirks when shirk_draw < shirk: a false report is either
    false_report = colluded | (shirk_draw < ag.shirk[agency])
    detects = np.where(unsafe, ag.sensitivity[agency], 1.0 - model.params.market.specificity)
    failed = (test_draw < detects) & ~false_report  # only an honest test fails a batch
    return Batches(
        month=model.steps,
        business=business,
        agency=agency,
        unsafe=unsafe,
        failed=failed,
        false_report=false_report,
        colluded=colluded,
        price_yuan=ag.price_yuan[agency],
        followup=followup,
        retested=np.zeros(n, dtype=bool),
        overturned=np.zeros(n, dtype=bool),
    )
