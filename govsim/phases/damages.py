"""Damages: ill consumers who know where they ate claim damages from the business.

Each ill person who knows the source claims with ``law.damages_claim_probability`` and is
paid ``law.consumer_damages_yuan`` (Food Safety Law art. 148: ten times the price or three
times the loss, at least 1,000 yuan). Claims are drawn in real people, so the money does not
depend on ``consumers.count``. What each business paid is kept for businesses to learn from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


def claim_damages(model: GovernanceModel) -> None:
    """Draw this month's claims and make the businesses pay them."""
    law = model.params.law
    where, people = model.ill_who_know
    claims = model.rng.binomial(people, law.damages_claim_probability)
    paid = claims * law.consumer_damages_yuan
    model.damages_paid_yuan = np.zeros(model.businesses.count)
    model.damages_paid_yuan[where] = paid
    model.tally["damages_claims"] += float(claims.sum())
    model.tally["damages_paid_yuan"] += float(paid.sum())
    model.tally["businesses_hit_by_claims"] += float(np.count_nonzero(claims))
