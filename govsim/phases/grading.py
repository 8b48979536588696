"""Risk grades: each business's grade A-D from its sector, size and record, published.

Modelled on the food business risk-grading rules (食品生产经营风险分级管理办法, SAMR 2016):
a static score from the kind of business (catering kitchens riskiest, then retail and
producers; small outlets riskier) plus a dynamic score from its record (failed samples,
confirmed violations, fines), which fades as the record ages. The grade sets how often a
business is sampled and routinely inspected when ``system.sampling = "risk_based"``: the
rules ask for routine inspections about once a year at grade A, 1-2 times at B, 2-3 at C and
3-4 at D, and the model uses the same relative weights for sampling. Grades and the annual
sampling plan are public, so a business knows its own chance of being sampled.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

GRADES = "ABCD"
GRADE_WEIGHT = np.array([1.0, 1.5, 2.5, 3.5])  # inspections a year at A, B, C, D (rules' midpoints)
GRADE_LIMITS = np.array([1.5, 2.5, 4.5])  # points separating A|B, B|C, C|D
SECTOR_POINTS = np.array([2.0, 1.0, 1.0])  # catering, retail, producer
RECORD_MEMORY = 0.96            # monthly fading of record points (half-life about 17 months)
FAILED_SAMPLE_POINTS = 2.0
VIOLATION_POINTS = 1.0          # a violation confirmed by an inspection or a complaint
FINE_POINTS = 1.0


def static_points(sector: np.ndarray, small: np.ndarray) -> np.ndarray:
    """Points for the kind of business: catering 2, others 1; a small outlet 1 more. They
    never change, so the business state keeps them (``BusinessState.kind_points``)."""
    return SECTOR_POINTS[sector] + small


def grade_businesses(model: GovernanceModel) -> None:
    """Let the record fade and grade every business for this month."""
    b = model.businesses
    b.record *= RECORD_MEMORY
    points = b.kind_points + b.record
    # the grade is the number of limits reached: three comparisons cost a third of
    # np.searchsorted (or np.digitize) on 3,000 points and give the same grades. Plain-float
    # limits compare faster than numpy scalars; the first comparison's fresh array is the sum.
    limits = GRADE_LIMITS.tolist()
    grade = (points >= limits[0]).view(np.int8)
    for limit in limits[1:]:
        grade += (points >= limit).view(np.int8)
    b.grade = grade


def note_record(model: GovernanceModel, businesses: np.ndarray, points: float) -> None:
    """Add record points (failed sample, violation, fine) to these businesses."""
    np.add.at(model.businesses.record, businesses, points)


def planned_weights(model: GovernanceModel) -> np.ndarray:
    """Relative chance of each business being picked by the published plan."""
    if model.params.system.sampling == "risk_based":
        return GRADE_WEIGHT[model.businesses.grade]
    return np.ones(model.businesses.count)


def plan_probabilities(model: GovernanceModel) -> tuple[np.ndarray, np.ndarray | None]:
    """Each business's chance per pick under the published plan, with the chances'
    cumulative sum (normalised) when it is known already: the plan of any strategy but
    ``risk_based`` is the same every month, so it is worked out once."""
    if model.params.system.sampling == "risk_based":
        w = GRADE_WEIGHT[model.businesses.grade]
        return w / w.sum(), None
    return _even_plan(model.businesses.count)


@functools.lru_cache(maxsize=8)
def _even_plan(count: int) -> tuple[np.ndarray, np.ndarray]:
    # a cumulative sum of 3,000 chances cost a hundredth of a month, every month
    p = np.ones(count) / count
    cumulative = np.cumsum(p)
    cumulative /= cumulative[-1]
    p.flags.writeable = cumulative.flags.writeable = False  # shared by every model
    return p, cumulative


def sampling_chance(model: GovernanceModel, batches: int,
                    who: np.ndarray | None = None) -> np.ndarray:
    """Each business's (or those ``who``'s) chance of a routine sample this month under the
    published plan."""
    count = model.businesses.count
    if model.params.system.sampling != "risk_based":  # every business alike
        return np.full(count if who is None else len(who), min(batches / count, 1.0))
    w = planned_weights(model)
    total = w.sum()
    if who is not None:
        w = w[who]
    return np.minimum(batches * w / total, 1.0)
