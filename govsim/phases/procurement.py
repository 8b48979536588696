"""Procurement: the yearly tender for testing services, contracts and batch quotas.

Under ``procurement.payer = "government"`` the regulator tenders the testing part of its
monthly allowance at contract expiry; agencies bid price and capacity; bids are scored by
price and quality; the best-scored eligible agencies get batch quotas until the money or the
capacity runs out. An agency may expand its capacity by ``market.capacity_growth`` to take a
larger contract; money that still cannot be spent is logged as an event and reported
(``unspent_testing_yuan``), so a capacity cap is never silent. When fewer than three local
agencies can bid (a tender needs three bidders, Government Procurement Law art. 36), the
bureau also invites agencies from outside the district, at a premium price, so that
blacklisting or exit never leaves months without testing. Under ``"business"`` there is no
tender: each sampled business picks and pays an agency at its list price (see
:mod:`govsim.phases.sampling`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from govsim.jit import compiled
from govsim.state import renew_agency

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


MIN_BIDDERS = 3  # Government Procurement Law art. 36: fewer bidders void a public tender


def procure(model: GovernanceModel) -> None:
    """Run a tender when contracts expire.

    The contract in force at month 1 was tendered before the run (see the model's warm start).
    """
    month = model.steps
    model.tally["annual_budget_yuan"] = model.regulator.annual_budget_yuan
    contract = model.params.performance.contract_months
    if month > 1 and (month - 1) % contract == 0:
        tender(model)


def purchase_money_yuan(model: GovernanceModel) -> float:
    """Monthly money for purchased tests: the allowance less the back-check reserve."""
    share = model.params.budget.backcheck_share
    return model.regulator.monthly_allowance_yuan * (1.0 - share)


def bid_prices(model: GovernanceModel) -> np.ndarray:
    """Each agency's price per batch: its cost plus a markup that competition squeezes.

    ``markup`` is what an agency asks facing a single rival; with k rivals it asks
    markup / sqrt(k), so a larger market of agencies buys more batches for the same money.
    The tender publishes its ceiling price, so no local agency asks more than the ceiling (it
    bids the ceiling when its markup would take it over); outside agencies ask the ceiling
    plus their premium.
    """
    return _bid_prices(*bid_inputs(model))


def bid_inputs(model: GovernanceModel) -> tuple:
    """What agencies' bids are worked out of, in :func:`bid_price`'s order of arguments:
    cost and markup (by agency), whether outside (by agency), the square root of the number
    of local rivals, and the ceiling prices (local, outside)."""
    ag = model.agencies
    rivals = max(int(np.count_nonzero(ag.open_to_bid(model.steps) & ~ag.outside)) - 1, 1)
    ceiling = model.params.budget.cost_per_batch_yuan
    return (ag.cost_yuan, ag.markup, ag.outside, math.sqrt(rivals), ceiling,
            ceiling * (1.0 + model.params.market.outside_price_premium))


@compiled
def bid_price(cost, markup, outside, sqrt_rivals, ceiling, outside_ceiling):
    """One agency's bid (see :func:`bid_prices`); compiled, so agencies' learning weighs the
    same price inside its own compiled loop."""
    return np.minimum(cost * (1.0 + markup / sqrt_rivals), outside_ceiling if outside else ceiling)


@compiled
def _bid_prices(cost, markup, outside, sqrt_rivals, ceiling, outside_ceiling):
    prices = np.empty(len(cost))
    for a in range(len(cost)):
        prices[a] = bid_price(cost[a], markup[a], outside[a], sqrt_rivals, ceiling,
                              outside_ceiling)
    return prices


def contract_capacity(model: GovernanceModel) -> np.ndarray:
    """Batches a month each agency can take on under a contract (after expanding)."""
    growth = 1.0 + model.params.market.capacity_growth
    return np.floor(model.agencies.capacity_month * growth).astype(np.int64)


def _could_bid(model: GovernanceModel, prices: np.ndarray) -> np.ndarray:
    ag = model.agencies
    return ((ag.sensitivity >= model.params.performance.min_sensitivity)
            & ag.open_to_bid(model.steps)
            & (ag.cost_yuan < prices))  # nobody tests at a loss


def _too_few_local_bidders(model: GovernanceModel, could_bid: np.ndarray) -> bool:
    return np.count_nonzero(could_bid & ~model.agencies.outside) < MIN_BIDDERS


def eligible(model: GovernanceModel, prices: np.ndarray) -> np.ndarray:
    """Agencies that may win: qualified enough, not blacklisted, able to test at the price;
    outside agencies only when fewer than three local agencies could bid."""
    ok = _could_bid(model, prices)
    if not _too_few_local_bidders(model, ok):
        ok &= ~model.agencies.outside
    return ok


def _renew_blacklisted_outsiders(model: GovernanceModel) -> None:
    """A blacklisted outside agency is replaced by another from the province's market."""
    ag = model.agencies
    for a in np.flatnonzero(ag.outside & ~ag.open_to_bid(model.steps)):
        renew_agency(ag, int(a), model.params, model.rng)
        model.log_event(f"agency {a} from outside the district replaces a blacklisted one")


def tender(model: GovernanceModel) -> None:
    """Score bids, award quotas, and reset the contract's strike count."""
    ag = model.agencies
    prices = bid_prices(model)
    ag.strikes[:] = 0
    ag.quota[:] = 0
    if model.params.procurement.payer == "business":
        ag.price_yuan[:] = prices
        return
    if _too_few_local_bidders(model, _could_bid(model, prices)):
        _renew_blacklisted_outsiders(model)
        prices = bid_prices(model)
    ok = eligible(model, prices)
    if not ok.any():
        model.log_event("tender failed: no eligible agency bid")
        return
    w = model.params.performance.quality_weight
    quality = 0.5 * ag.sensitivity + 0.5 * ag.score
    score = (1 - w) * prices[ok].min() / prices + w * quality
    score[~ok] = -np.inf
    money = purchase_money_yuan(model)
    capacity = contract_capacity(model)
    winners = []
    for a in np.argsort(-score, kind="stable"):
        if not ok[a] or money < prices[a]:
            continue
        batches = min(int(capacity[a]), int(money // prices[a]))
        ag.quota[a] = batches
        ag.price_yuan[a] = prices[a]
        money -= batches * prices[a]
        where = " from outside the district" if ag.outside[a] else ""
        winners.append(f"agency {a}{where} ({batches}/month at {prices[a]:.0f} yuan)")
    model.log_event("tender won by " + ", ".join(winners))
    model.unspent_testing_yuan = money if money >= prices[ok].min() else 0.0
    if model.unspent_testing_yuan:
        model.log_event(f"agencies' capacity is full: {money:,.0f} yuan a month of testing "
                        "money cannot be spent")


def rescale_quotas(model: GovernanceModel) -> None:
    """After a budget change, cut quotas so monthly payments fit the new allowance."""
    ag = model.agencies
    money = purchase_money_yuan(model)
    cost = float((ag.quota * ag.price_yuan).sum())
    if cost > money:
        ag.quota[:] = np.floor(ag.quota * (money / cost)).astype(np.int64)
    elif cost < money:
        tender(model)  # more money: re-tender so it is used


def monthly_batches_business_paid(model: GovernanceModel) -> int:
    """Batches businesses must buy per month under self-paid testing: the same volume the
    government's testing money would buy at the ceiling price, so the regimes compare."""
    return int(purchase_money_yuan(model) // model.params.budget.cost_per_batch_yuan)
