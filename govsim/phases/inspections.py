"""Inspections by the regulator's finite staff.

Each month the inspectors can make ``system.inspectors x system.inspections_per_inspector``
inspections, cut by a disruption. They go, in this order, to: investigations of failed
samples (a legal duty; any left over wait for next month), back-checks of agency reports
(half an inspection each: collecting the retained sample; see
:mod:`govsim.phases.performance`), follow-ups of complaints (the businesses with the most
pending complaints first), and routine inspections (random, or weighted by risk grade under
risk-based supervision) with the share ``system.routine_inspection_share`` kept for them plus
anything left. Complaints not followed up stay in the queue, half of them lapsing each month.
An inspection finds the violation of a corner-cutting (or this month unsafe) business with
``system.inspection_sensitivity``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.draws import choose_weighted
from govsim.jit import compiled
from govsim.phases.enforcement import confirm
from govsim.phases.grading import plan_probabilities

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

QUEUE_MEMORY = 0.5  # share of unfollowed complaints still pending a month later


class StaffTime:
    """The month's inspections left to give out, and those kept for the routine plan."""

    def __init__(self, inspections: float, routine_share: float):
        self.routine = inspections * routine_share
        self.left = inspections - self.routine

    def take(self, wanted: int, cost: float = 1.0) -> int:
        """Grant up to ``wanted`` tasks of ``cost`` inspections each; return how many."""
        granted = int(min(wanted, self.left // cost)) if cost > 0 else wanted
        self.left -= granted * cost
        return granted


def open_month(model: GovernanceModel) -> None:
    """Staff time for this month; this month's enforcement news is still to come."""
    b = model.businesses
    b.punished.fill(False)
    b.caught_by_inspection.fill(False)
    b.notified.fill(False)
    sys = model.params.system
    model.staff = StaffTime(sys.inspectors * sys.inspections_per_inspector
                            * model.regulator.capacity, sys.routine_inspection_share)


def investigate_failures(model: GovernanceModel) -> None:
    """Investigate failed samples, oldest first, as far as staff allows: each is confirmed."""
    queue = model.investigations
    done = model.staff.take(len(queue))
    model.tally["inspections"] += done
    cases = [queue.popleft() for _ in range(done)]
    for channel in ("sampling", "followup"):
        found = [b for b, c in cases if c == channel]
        if found:  # a month has a few failed samples to investigate, often of one channel
            confirm(model, np.array(found, dtype=np.int64), channel)


def follow_up_complaints(model: GovernanceModel) -> np.ndarray:
    """Inspect the businesses with the most pending complaints, as far as staff allows.

    Returns:
        The businesses inspected.
    """
    b = model.businesses
    pending = (b.complaint_queue >= 0.5).nonzero()[0]  # at least one real person
    n = model.staff.take(len(pending))
    # most complaints first; ties broken at random so no business id is favoured
    noise = model.rng.random(len(pending))
    inspected = pending[_most_pressing(b.complaint_queue[pending], noise, n)]
    total = b.complaint_queue.sum()
    model.tally["complaints_followed_share"] = (
        float(b.complaint_queue[inspected].sum() / total) if total > 0 else np.nan)
    model.tally["complaint_inspections"] += len(inspected)
    model.tally["inspections"] += len(inspected)
    b.complaint_queue[inspected] = 0.0
    found, cutters = _findings(model, inspected)
    fined = confirm(model, found, "complaint")
    model.tally["rewards_paid_yuan"] += len(fined) * model.params.participation.reward_yuan
    _note_caught_cutters(model, cutters)
    return inspected


def _most_pressing(queue: np.ndarray, noise: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` largest ``queue`` values, largest first, ties by ``noise``.

    Only the values reaching the n-th largest are sorted: the queue has hundreds of
    businesses and the staff inspects dozens.
    """
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n < len(queue):
        cut = np.partition(queue, len(queue) - n)[len(queue) - n]
        candidates = (queue >= cut).nonzero()[0]
        return candidates[np.lexsort((noise[candidates], -queue[candidates]))[:n]]
    return np.lexsort((noise, -queue))


def inspect_routinely(model: GovernanceModel) -> None:
    """Routine inspections with the time kept for them and any left, then let old
    complaints lapse."""
    b = model.businesses
    model.staff.left += model.staff.routine
    n = min(model.staff.take(b.count), b.count)
    if n:
        p, cumulative = plan_probabilities(model)
        inspected = choose_weighted(model.rng, p, n, cumulative)
        model.tally["routine_inspections"] += n
        model.tally["inspections"] += n
        found, cutters = _findings(model, inspected)
        confirm(model, found, "routine")
        _note_caught_cutters(model, cutters)
    b.complaint_queue *= QUEUE_MEMORY
    model.tally["inspection_queue"] = float(np.count_nonzero(b.complaint_queue >= 0.5))
    model.tally["investigations_waiting"] = float(len(model.investigations))


def _findings(model: GovernanceModel, inspected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inspected businesses found at fault, and those of them that cut corners."""
    b = model.businesses
    draw = model.rng.random(len(inspected))
    return _at_fault(inspected, draw, model.params.system.inspection_sensitivity,
                     b.complying, b.unsafe)


@compiled
def _at_fault(inspected, draw, sensitivity, complying, unsafe):
    """Inspection by inspection: seen (``draw < sensitivity``), a business is found at
    fault when it cuts corners or its food is unsafe this month.

    Returns:
        (the businesses found at fault, those of them that cut corners)
    """
    found = np.empty_like(inspected)
    cutters = np.empty_like(inspected)
    n_found = n_cutters = 0
    for i in range(len(inspected)):
        who = inspected[i]
        if draw[i] < sensitivity:
            cutting = not complying[who]
            if cutting or unsafe[who]:
                found[n_found] = who
                n_found += 1
            if cutting:
                cutters[n_cutters] = who
                n_cutters += 1
    return found[:n_found], cutters[:n_cutters]


def _note_caught_cutters(model: GovernanceModel, cutters: np.ndarray) -> None:
    """Peers see which corner-cutters an inspection caught."""
    model.seen.note("cutters_inspected_caught", cutters)
    model.businesses.caught_by_inspection[cutters] = True
