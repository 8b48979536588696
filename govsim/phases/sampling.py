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

from govsim.jit import compiled
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
    """What each agency does with each batch and what it reports. Each batch counts as a
    sample of its business (``times_sampled``) and a test by its agency (``tested``)."""
    rng = model.rng
    ag = model.agencies
    b = model.businesses
    n = len(business)
    if followup is None:
        followup = np.zeros(n, dtype=bool)
    if len(agency) < n:  # self-paid batches dropped for lack of capacity
        n = len(agency)
        business, followup = business[:n], followup[:n]
    # A client who pays the tester can always lean on it (Duflo et al. 2013): under self-paid
    # testing every corner-cutter asks for a pass, paying with its future custom.
    offer = 1.0 if model.params.procurement.payer == "business" else \
        model.params.businesses.bribe_propensity
    # four draws per batch in one call: the same numbers as four calls, in the same order
    draws = rng.random((4, n))
    unsafe, failed, false_report, colluded, price, ag.tested = _test_batches(
        business, agency, draws, offer, 1.0 - model.params.market.specificity, b.unsafe,
        b.complying, b.times_sampled, ag.collude, ag.shirk, ag.sensitivity, ag.price_yuan)
    return Batches(
        month=model.steps,
        business=business,
        agency=agency,
        unsafe=unsafe,
        failed=failed,
        false_report=false_report,
        colluded=colluded,
        price_yuan=price,
        followup=followup,
        retested=np.zeros(n, dtype=bool),
        overturned=np.zeros(n, dtype=bool),
    )


@compiled
def _test_batches(business, agency, draws, offer, false_failure, unsafe_now, complying,
                  times_sampled, collude, shirk, sensitivity, price_yuan):
    """Batch by batch, with the four draws of each (rows of ``draws``): a corner-cutter
    offers a bribe (``offer``) and the agency colludes; otherwise it may shirk; an honest
    test fails unsafe food with the agency's sensitivity and safe food with
    ``false_failure``. Counts the business's samples and the agency's tests.

    Returns:
        (unsafe, failed, false_report, colluded, price) by batch, and the tests by agency.
    """
    n = len(business)
    unsafe = np.empty(n, dtype=np.bool_)
    failed = np.empty(n, dtype=np.bool_)
    false_report = np.empty(n, dtype=np.bool_)
    colluded = np.empty(n, dtype=np.bool_)
    price = np.empty(n, dtype=price_yuan.dtype)
    tested = np.zeros(len(collude), dtype=np.int64)
    for i in range(n):
        who, by = business[i], agency[i]
        unsafe[i] = unsafe_now[who]
        offered = not complying[who] and draws[0, i] < offer
        colluded[i] = offered and draws[1, i] < collude[by]
        # an agency that did not collude shirks: a false report is either
        false_report[i] = colluded[i] or draws[2, i] < shirk[by]
        detects = sensitivity[by] if unsafe[i] else false_failure
        failed[i] = draws[3, i] < detects and not false_report[i]  # only an honest test fails
        price[i] = price_yuan[by]
        times_sampled[who] += 1
        tested[by] += 1
    return unsafe, failed, false_report, colluded, price, tested
