"""Procurement: the yearly tender for testing services, contracts and batch quotas.

Under ``procurement.payer = "government"`` the regulator tenders the testing part of its
monthly allowance at contract expiry; agencies bid price and capacity; bids are scored by
price and quality; the best-scored eligible agencies get batch quotas until the money or the
capacity runs out. Under ``"business"`` there is no tender: each sampled business picks and
pays an agency at its list price (see :mod:`govsim.phases.sampling`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


def procure(model: GovernanceModel) -> None:
    """Run a tender when contracts expire (and at the start)."""
    month = model.steps
    model.tally["annual_budget_yuan"] = model.regulator.annual_budget_yuan
    contract = model.params.performance.contract_months
    if (month - 1) % contract == 0:
        tender(model)


def purchase_money_yuan(model: GovernanceModel) -> float:
    """Monthly money for purchased tests: the allowance less the back-check reserve."""
    share = model.params.budget.backcheck_share
    return model.regulator.monthly_allowance_yuan * (1.0 - share)


def bid_prices(model: GovernanceModel) -> np.ndarray:
    """Each agency's price per batch: its cost plus a markup that competition squeezes.

    ``markup`` is what an agency asks facing a single rival; with k rivals it asks
    markup / sqrt(k), so a larger market of agencies buys more batches for the same money.
    The tender publishes its ceiling price, so no agency asks more than the ceiling (it
    bids the ceiling when its markup would take it over).
    """
    ag = model.agencies
    rivals = max(int(np.count_nonzero(ag.open_to_bid(model.steps))) - 1, 1)
    asked = ag.cost_yuan * (1.0 + ag.markup / np.sqrt(rivals))
    return np.minimum(asked, model.params.budget.cost_per_batch_yuan)


def eligible(model: GovernanceModel, prices: np.ndarray) -> np.ndarray:
    """Agencies that may win: qualified enough, not blacklisted, able to test at the price."""
    ag = model.agencies
    sc = model.params
    return ((ag.sensitivity >= sc.performance.min_sensitivity)
            & ag.open_to_bid(model.steps)
            & (ag.cost_yuan < prices))  # nobody tests at a loss


def tender(model: GovernanceModel) -> None:
    """Score bids, award quotas, and reset the contract's strike count."""
    ag = model.agencies
    prices = bid_prices(model)
    ag.strikes[:] = 0
    ag.quota[:] = 0
    if model.params.procurement.payer == "business":
        ag.price_yuan[:] = prices
        return
    ok = eligible(model, prices)
    if not ok.any():
        model.log_event("tender failed: no eligible agency bid")
        return
    w = model.params.performance.quality_weight
    quality = 0.5 * ag.sensitivity + 0.5 * ag.score
    score = (1 - w) * prices[ok].min() / prices + w * quality
    score[~ok] = -np.inf
    money = purchase_money_yuan(model)
    winners = []
    for a in np.argsort(-score, kind="stable"):
        if not ok[a] or money < prices[a]:
            continue
        batches = min(int(ag.capacity_month[a]), int(money // prices[a]))
        ag.quota[a] = batches
        ag.price_yuan[a] = prices[a]
        money -= batches * prices[a]
        winners.append(f"agency {a} ({batches}/month at {prices[a]:.0f} yuan)")
    model.log_event("tender won by " + ", ".join(winners))


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
