"""Adaptation: businesses, agencies and consumers learn from what they saw this month.

Businesses keep a belief of their monthly chance of being punished if they cut corners,
learned from their own fines and from how often corner-cutting peers in their sector were
fined (peers in a trade know who cuts corners; the regulator does not). A share of them
reconsider each month: they compare the cost of complying with the expected loss of cutting
corners (fines, lost demand under disclosure, consumer damages) and choose by a logit rule
that also pulls them towards what their sector does (conformity).

Agencies weigh the gain from a false report (the test cost saved, or the bribe) against the
expected penalty, with a belief of the back-check risk learned from their own discoveries,
and move their cheating propensities part of the way to that target, scaled by dishonesty.

Consumers' trust returns slowly to its initial level; complainants' trust follows whether
the regulator acted; visible enforcement (disclosure) restores trust.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from govsim.phases.procurement import bid_prices

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

OWN_EXPERIENCE_WEIGHT = 0.5   # own fines vs peers' in a corner-cutter's belief update
DISCLOSURE_RECOVERY = 0.1     # monthly recovery of lost demand (disclosure, reputation)
CLIENT_VALUE_BATCHES = 3.0    # self-paid regime: future batches a passed client brings
BELIEF_MEMORY = 0.9           # agencies' monthly discount of past back-check experience
PRIOR_REPORTS = 5.0           # weight of the announced back-check rate, in false reports
VISIBLE_ENFORCEMENT = 0.005   # share of businesses fined a month that makes it fully visible
AGENCY_NOISE = 0.25           # agencies' decision noise, as a fraction of the price


def adapt(model: GovernanceModel) -> None:
    """All three populations update."""
    b = model.businesses
    compliers = np.bincount(b.sector, weights=b.complying, minlength=3)
    _update_business_beliefs(model, b.sector_counts - compliers)
    _revise_business_strategies(model, compliers / np.maximum(b.sector_counts, 1))
    _recover_demand(model)
    _adapt_agencies(model)
    _update_trust(model)


def _update_business_beliefs(model: GovernanceModel, cutters: np.ndarray) -> None:
    """Belief <- belief + rate x (signal - belief), where the signal is the sector's share of
    corner-cutters fined this month, mixed with their own fine for corner-cutters."""
    b = model.businesses
    lr = model.params.businesses.belief_learning_rate
    fined_cutters = np.flatnonzero(b.punished & ~b.complying)  # a handful a month
    fined = np.bincount(b.sector[fined_cutters], minlength=3)
    peer_rate = np.divide(fined, cutters, out=np.zeros(3), where=cutters > 0)
    peer = peer_rate[b.sector]
    b.belief += lr * (peer - b.belief)
    # corner-cutters weigh their own experience: OWN x (fined - peer rate) on top
    cutting = np.flatnonzero(~b.complying)
    b.belief[cutting] -= lr * OWN_EXPERIENCE_WEIGHT * peer[cutting]
    b.belief[fined_cutters] += lr * OWN_EXPERIENCE_WEIGHT


def expected_loss_if_cutting(model: GovernanceModel, who: np.ndarray) -> np.ndarray:
    """Expected monthly loss from cutting corners (yuan) of businesses ``who``, by belief."""
    b = model.businesses
    sc = model.params
    all_sales = b.sales_yuan()
    sales = all_sales[who]
    belief = b.belief[who]
    disclosure_loss = 0.0
    if sc.participation.disclosure:
        # Publication follows detection, not the fine: scale the belief (of being fined) up by
        # the enforcement gap. The loss is the margin on lost demand while it recovers.
        detected = np.minimum(belief / max(sc.law.enforcement_probability, 0.05), 1.0)
        disclosure_loss = (detected * sc.participation.disclosure_demand_loss * sales
                           * sc.businesses.margin / DISCLOSURE_RECOVERY)
    share = sales / all_sales.sum()
    # extra people made ill per month by cutting corners, and what they cost the business
    ill_rate = ((b.hazard_cut[who] - b.hazard_comply[who]) * sc.consumers.meals_out_per_month
                * sc.consumers.illness_probability)
    extra_ill = sc.consumers.population * share * ill_rate
    damages = extra_ill * sc.law.damages_claim_probability * sc.law.consumer_damages_yuan
    # customers who know the source stay away: lost margin while demand recovers
    reputation = (ill_rate * sc.participation.attribution_probability
                  * sc.consumers.reputation_effect * sales * sc.businesses.margin
                  / DISCLOSURE_RECOVERY)
    return belief * sc.law.business_fine_yuan + disclosure_loss + damages + reputation


def _revise_business_strategies(model: GovernanceModel, comply_share: np.ndarray) -> None:
    b = model.businesses
    bs = model.params.businesses
    rng = model.rng
    revising = np.flatnonzero(rng.random(b.count) < bs.revision_rate)
    if len(revising) == 0:
        return
    gain = b.cost_yuan[revising] - expected_loss_if_cutting(model, revising)
    norm = bs.conformity * (2 * comply_share[b.sector[revising]] - 1)
    p_cut = expit(gain / bs.choice_noise_yuan - norm)
    b.complying[revising] = rng.random(len(revising)) >= p_cut


def _recover_demand(model: GovernanceModel) -> None:
    b = model.businesses
    b.demand += DISCLOSURE_RECOVERY * (1.0 - b.demand)


def _adapt_agencies(model: GovernanceModel) -> None:
    ag = model.agencies
    sc = model.params
    rate = sc.market.learning_rate
    # Discounted counts of own false reports and of those found, shrunk towards the announced
    # back-check risk: a ratio of a month's one or two false reports would swing wildly.
    ag.false_seen = BELIEF_MEMORY * ag.false_seen + model.last_false_reports
    ag.found_seen = BELIEF_MEMORY * ag.found_seen + model.last_false_found
    announced = sc.performance.backcheck_rate * sc.performance.backcheck_sensitivity
    ag.belief_backcheck = ((ag.found_seen + PRIOR_REPORTS * announced)
                           / (ag.false_seen + PRIOR_REPORTS))
    price = np.where(ag.price_yuan > 0, ag.price_yuan, bid_prices(model))
    penalty = (sc.law.agency_fine_multiple + 1.0) * price + _blacklist_loss(model, price)
    bribe = sc.market.bribe_yuan
    if sc.procurement.payer == "business":
        bribe = bribe + CLIENT_VALUE_BATCHES * price
    liability = sc.law.business_fine_yuan if sc.law.agency_liability else 0.0
    risk = ag.belief_backcheck
    dishonesty = 1.0 - ag.integrity
    noise = AGENCY_NOISE * price
    target_shirk = dishonesty * expit((ag.cost_yuan - risk * penalty) / noise)
    target_collude = dishonesty * expit((bribe - risk * (penalty + liability)) / noise)
    ag.shirk += rate * (target_shirk - ag.shirk)
    ag.collude += rate * (target_collude - ag.collude)


def _blacklist_loss(model: GovernanceModel, price: np.ndarray) -> np.ndarray:
    """Expected profit lost to a blacklisting, per false report found."""
    perf = model.params.performance
    if not perf.blacklist:
        return np.zeros_like(price)
    ag = model.agencies
    monthly_profit = np.maximum(ag.quota, ag.tested) * np.maximum(price - ag.cost_yuan, 0.0)
    return monthly_profit * perf.blacklist_months / perf.blacklist_threshold


def _update_trust(model: GovernanceModel) -> None:
    c = model.consumers
    sc = model.params
    t0 = sc.consumers.initial_trust
    # Every update below moves trust towards a value in [0, 1] (or scales it down by at most
    # its whole value), so trust stays in [0, 1] without clipping. In place: 20,000+ values.
    c.trust *= np.float32(1.0 - sc.consumers.trust_recovery)
    c.trust += np.float32(sc.consumers.trust_recovery * t0)
    named = np.count_nonzero(model.businesses.complaints)
    if named:
        acted = min(model.tally["inspections"] / named, 1.0)  # share of named places inspected
        who = c.complainants
        c.trust[who] += 0.2 * (acted - c.trust[who])
    if sc.participation.disclosure:
        visible = min(model.tally["businesses_fined"]
                      / (VISIBLE_ENFORCEMENT * model.businesses.count), 1.0)
        gain = np.float32(0.03 * visible)
        c.trust *= 1 - gain
        c.trust += gain
