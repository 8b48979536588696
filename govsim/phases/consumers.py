"""Consumers: purchases, illness, complaints, word of mouth and trust.

Each business's share of purchases follows its sales and its demand (which disclosure of its
violations lowers); consumers who trust food safety less eat out less. A consumer falls ill
from unsafe food, may complain to the authority (more so with rewards, awareness and trust in
the regulator), and tells neighbours, which spreads awareness and lowers their trust.
Counts are turned into real people with ``people_per_consumer``, and complaints are spread
over businesses in real units, so figures do not depend on ``consumers.count``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

ILL_TRUST_LOSS = 0.25        # fraction of trust lost by falling ill
HEARSAY_TRUST_LOSS = 0.10    # fraction lost when all one's neighbours fell ill
AWARE_COMPLAINT_ODDS = 2.0   # odds multiplier for consumers who know how to complain
TRUST_COMPLAINT_SLOPE = 2.0  # log-odds per unit of trust above its initial level


def market_shares(model: GovernanceModel) -> np.ndarray:
    """Each business's share of purchases this month."""
    b = model.businesses
    sales = b.revenue_yuan * b.demand
    return sales / sales.sum()


def complaint_probability(model: GovernanceModel, trust: np.ndarray,
                          aware: np.ndarray) -> np.ndarray:
    """Chance an ill consumer complains: survey baseline, moved by reward, awareness, trust."""
    p = model.scenario.participation
    base = min(max(p.complaint_probability, 1e-9), 1 - 1e-9)
    logit = (math.log(base / (1 - base))
             + p.reward_effect * math.log1p(p.reward_yuan / 1000.0)
             + TRUST_COMPLAINT_SLOPE * (trust - model.scenario.consumers.initial_trust)
             + math.log(AWARE_COMPLAINT_ODDS) * aware)
    return 1.0 / (1.0 + np.exp(-logit))


def consume(model: GovernanceModel) -> None:
    """Purchases, illness, complaints and word of mouth for this month."""
    sc = model.scenario
    c = model.consumers
    b = model.businesses
    rng = model.rng
    shares = market_shares(model)
    unsafe_share = float(shares @ b.unsafe)  # chance a purchase is unsafe food
    model.tally["unsafe_purchase_share"] = unsafe_share
    # Less trust, fewer meals out: from half the meals at trust 0 to all at initial trust.
    meals = sc.consumers.meals_out_per_month * np.minimum(
        0.5 + 0.5 * c.trust / max(sc.consumers.initial_trust, 1e-9), 1.0)
    p_ill = 1.0 - (1.0 - unsafe_share * sc.consumers.illness_probability) ** meals
    c.ill = rng.random(c.count) < p_ill
    ill = np.flatnonzero(c.ill)
    c.complained[:] = False
    complains = rng.random(len(ill)) < complaint_probability(model, c.trust[ill], c.aware[ill])
    c.complained[ill[complains]] = True
    scale = model.people_per_consumer
    model.tally["illness_cases"] = len(ill) * scale
    model.tally["complaints"] = int(complains.sum()) * scale
    _attribute_complaints(model, int(round(complains.sum() * scale)), shares)
    _word_of_mouth(model)


def _attribute_complaints(model: GovernanceModel, n_people: int, shares: np.ndarray) -> None:
    """Spread real complaints over businesses: the true source, or a place the person ate."""
    b = model.businesses
    source = shares * b.unsafe
    attribution = model.scenario.participation.attribution_probability
    if source.sum() > 0:
        p = attribution * source / source.sum() + (1 - attribution) * shares
    else:
        p = shares
    b.complaints = model.rng.multinomial(n_people, p / p.sum()).astype(float)


def _word_of_mouth(model: GovernanceModel) -> None:
    """Neighbours of the ill hear of it: awareness spreads and trust falls."""
    c = model.consumers
    sc = model.scenario
    ill_neighbours = c.neighbours @ c.ill.astype(np.float32)
    heard = ill_neighbours > 0
    heard_idx = np.flatnonzero(heard)
    told = heard_idx[model.rng.random(len(heard_idx)) < sc.participation.word_of_mouth]
    c.aware[told] = True
    c.aware |= c.ill
    loss = (ILL_TRUST_LOSS * c.ill
            + HEARSAY_TRUST_LOSS * sc.participation.word_of_mouth * ill_neighbours / c.degree)
    c.trust *= (1.0 - np.minimum(loss, 1.0)).astype(np.float32)
