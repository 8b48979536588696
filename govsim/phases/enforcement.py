"""Enforcement: confirmed violations are recorded, fined by the law's tiers, and published.

A violation is confirmed by one of six channels: a failed sample, a failed follow-up sample,
a complaint inspection, a routine inspection, a back-check that exposes a bought pass, or a
traced illness cluster that exposes one. Product violations (failed food: the first two and
the last two) are fined by Food Safety Law art. 124: ``law.fine_goods_multiple`` times the
goods' value, at least ``law.business_fine_yuan``. Process violations found on inspection are
fined ``law.inspection_fine_yuan`` (art. 126). Each fine follows with the law's enforcement
probability (law completeness). Failed samples are published in the periodic sampling
bulletin by law; with ``participation.disclosure`` every confirmed violation is published,
and more widely. Informed customers stay away for a while.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.jit import compiled
from govsim.phases.consumers import lost_margin_yuan
from govsim.phases.grading import FINE_POINTS, VIOLATION_POINTS, note_record

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

CHANNELS = ("sampling", "followup", "complaint", "routine", "backcheck", "outbreak")
PRODUCT_CHANNELS = ("sampling", "followup", "backcheck", "outbreak")
BULLETIN_CHANNELS = ("sampling", "followup")  # sampling results are published by law
DETECTED_BY = {channel: f"detected_by_{channel}" for channel in CHANNELS}  # tally keys
FEW = 64  # up to this many businesses, distinct_businesses sorts them in Python


def product_fine_yuan(model: GovernanceModel, businesses: np.ndarray,
                      goods: np.ndarray | None = None) -> np.ndarray:
    """Art. 124 fine for failed food of these businesses (``goods``: the goods' value, if
    known already)."""
    law = model.params.law
    if goods is None:
        goods = batch_value_yuan(model, businesses)
    return art124_fine(goods, law.business_fine_yuan, law.fine_goods_multiple)


def batch_value_yuan(model: GovernanceModel, businesses: np.ndarray,
                     sales: np.ndarray | None = None) -> np.ndarray:
    """Value of one batch (lot) of these businesses' goods: what a recall costs (from their
    ``sales``, if known already)."""
    if sales is None:
        sales = model.businesses.sales_yuan(businesses)
    return batch_value(sales, model.params.businesses.batch_share_of_sales)


# The two formulas are compiled so that businesses' expectations (learning.py) use them
# inside their own compiled loop; both take numbers or arrays.
@compiled
def art124_fine(goods, minimum, multiple):
    """Art. 124 fine for failed food worth ``goods`` yuan: ``multiple`` times its value, at
    least ``minimum``."""
    return np.maximum(minimum, multiple * goods)


@compiled
def batch_value(sales, batch_share):
    """Value of one batch: a share ``batch_share`` of a month's ``sales``."""
    return batch_share * sales


def publication_reach(model: GovernanceModel, channel: str) -> float:
    """Share of a published business's customers who hear of it.

    The legal bulletin reaches few; active disclosure reaches more; either reaches further
    when consumers know where to look (the share aware of how to complain).
    """
    part = model.params.participation
    if part.disclosure:
        reach = part.disclosure_reach
    elif channel in BULLETIN_CHANNELS:
        reach = part.bulletin_reach
    else:
        return 0.0
    return reach * (0.5 + 0.5 * model.aware_share)


def publish(model: GovernanceModel, businesses: np.ndarray, channel: str) -> None:
    """Informed customers of these businesses stay away (demand recovers over months)."""
    reach = publication_reach(model, channel)
    if reach == 0.0 or len(businesses) == 0:
        return
    lost = reach * model.params.participation.disclosure_demand_loss
    model.tally["published_loss_yuan"] += float(
        lost_margin_yuan(model, businesses, np.full(len(businesses), lost)).sum())
    model.businesses.demand[businesses] *= 1.0 - lost
    model.tally["businesses_published"] += len(businesses)


def distinct_businesses(businesses: np.ndarray) -> np.ndarray:
    """``np.unique(businesses)``: each business once, in increasing order.

    A channel confirms a handful of businesses a month; for so few, a Python set and sort
    give the same array as ``np.unique`` at under half its cost.
    """
    if len(businesses) > FEW:
        return np.unique(businesses)
    return np.array(sorted(set(businesses.tolist())), dtype=businesses.dtype)


def confirm(model: GovernanceModel, businesses: np.ndarray, channel: str) -> np.ndarray:
    """Record confirmed violations found through ``channel``, fine and publish them.

    Returns:
        The businesses that were fined.
    """
    if len(businesses) == 0:
        return businesses
    b = model.businesses
    tally = model.tally
    businesses = distinct_businesses(businesses)
    tally["detected_violations"] += len(businesses)
    tally[DETECTED_BY[channel]] += len(businesses)
    b.violations[businesses] += 1
    if channel not in BULLETIN_CHANNELS:  # failed samples are already on the record
        note_record(model, businesses, VIOLATION_POINTS)
    model.seen.note("confirmed", businesses)
    fined = businesses[model.rng.random(len(businesses))
                       < model.params.law.enforcement_probability]
    if len(fined):
        _fine(model, fined, channel)
    if channel not in BULLETIN_CHANNELS:  # the bulletin already published failed samples
        publish(model, businesses, channel)
    return fined


def _fine(model: GovernanceModel, fined: np.ndarray, channel: str) -> None:
    model.businesses.punished[fined] = True
    note_record(model, fined, FINE_POINTS)
    if channel in PRODUCT_CHANNELS:
        amounts = product_fine_yuan(model, fined)
    else:
        amounts = np.full(len(fined), model.params.law.inspection_fine_yuan)
    model.tally["fines_collected"] += float(amounts.sum())
    model.tally["businesses_fined"] += len(fined)
    model.seen.note("fined", fined)
