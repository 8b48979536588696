"""Arriving reports: what a failed sample sets in motion.

Following the SAMR rules for food sampling (食品安全抽样检验管理办法) and the Food Safety Law:
the business is notified of a failed result and may ask for a re-test by another qualified
agency. A business that complies believes the result wrong and asks; one that cuts corners
knows better and does not. The re-test (an honest test of the retained sample by a qualified
agency) overturns a false failure; its fee is paid by the business when the failure stands
and by the first agency when it is overturned. A failure that stands means: the batch is
stopped or recalled (the business loses its value), the result enters the public sampling
bulletin, the business gets ``system.followup_samples`` follow-up samples in the next months
and points on its risk-grading record, and the regulator must investigate it (queued for the
inspectors, see :mod:`govsim.phases.inspections`). Passed reports are kept per business so a
later illness cluster can be traced back to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.phases.enforcement import batch_value_yuan, distinct_businesses, publish
from govsim.phases.grading import FAILED_SAMPLE_POINTS, note_record

if TYPE_CHECKING:
    from govsim.model import GovernanceModel
    from govsim.state import Batches

FAILURE_CHANNEL = {False: "sampling", True: "followup"}  # by whether it was a follow-up


def act_on_reports(model: GovernanceModel) -> None:
    """Re-tests, recalls, bulletin, follow-ups and investigations for this month's reports."""
    reports = model.arrived_reports
    if reports is None or len(reports) == 0:
        return
    _remember_passes(model, reports)
    _retest(model, reports)
    stands = reports.failed & ~reports.overturned
    _note_what_peers_see(model, reports, stands)
    stands = stands.nonzero()[0]  # positions: each mask below would search it again
    model.tally["recalls"] += len(stands)
    if len(stands) == 0:  # a third of months: nothing to recall, publish or investigate
        return
    failed = reports.business[stands]
    model.businesses.notified[failed] = True
    model.tally["recall_cost_yuan"] += float(batch_value_yuan(model, failed).sum())
    publish(model, distinct_businesses(failed), "sampling")
    note_record(model, failed, FAILED_SAMPLE_POINTS)
    model.businesses.followups_due[failed] = model.params.system.followup_samples
    channel = [FAILURE_CHANNEL[followup] for followup in reports.followup[stands].tolist()]
    model.investigations.extend(zip(failed.tolist(), channel, strict=True))


def _retest(model: GovernanceModel, reports: Batches) -> None:
    """Complying businesses ask for a re-test of a failure; a false failure is overturned."""
    sc = model.params
    asks = reports.failed & model.businesses.complying[reports.business]
    draw = model.rng.random(len(reports))
    # the re-test clears the batch when it misses unsafe food or passes safe food
    clears = np.where(reports.unsafe, draw >= sc.market.sensitivity_qualified,
                      draw < sc.market.specificity)
    reports.retested = asks
    reports.overturned = asks & clears
    fee = sc.law.retest_fee_yuan
    asked = np.count_nonzero(asks)
    overturned = np.count_nonzero(reports.overturned)
    model.tally["retests_requested"] += asked
    model.tally["retests_overturned"] += overturned
    model.tally["retest_fees_business_yuan"] += fee * (asked - overturned)  # failure stands
    model.tally["retest_fees_agency_yuan"] += fee * overturned


def _remember_passes(model: GovernanceModel, reports: Batches) -> None:
    b = model.businesses
    passed = (~reports.failed).nonzero()[0]
    who = reports.business[passed]
    b.last_pass_month[who] = reports.month if reports.sampled is None else reports.sampled[passed]
    b.last_pass_agency[who] = reports.agency[passed]
    b.last_pass_false[who] = reports.false_report[passed]
    b.last_pass_colluded[who] = reports.colluded[passed]
    b.last_pass_unsafe[who] = reports.unsafe[passed]
    b.last_pass_price[who] = reports.price_yuan[passed]


def _note_what_peers_see(model: GovernanceModel, reports: Batches, stands: np.ndarray) -> None:
    """Peers in a trade see which sampled unsafe batches ended as failures (and so how
    often tests are shirked or passes bought)."""
    model.seen.note("unsafe_sampled", reports.business[reports.unsafe])
    model.seen.note("unsafe_failed", reports.business[reports.unsafe & stands])
