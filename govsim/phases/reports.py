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

from govsim.jit import compiled
from govsim.phases.enforcement import batch_value_yuan, distinct_businesses, publish
from govsim.phases.grading import FAILED_SAMPLE_POINTS, note_record

if TYPE_CHECKING:
    from govsim.model import GovernanceModel
    from govsim.state import Batches

FAILURE_CHANNEL = {False: "sampling", True: "followup"}  # by whether it was a follow-up
NO_MONTHS = np.zeros(0, dtype=np.int64)  # reports of one month: no month per batch


def act_on_reports(model: GovernanceModel) -> None:
    """Re-tests, recalls, bulletin, follow-ups and investigations for this month's reports."""
    reports = model.arrived_reports
    if reports is None or len(reports) == 0:
        return
    stands = _settle(model, reports)  # positions of the failures that stand
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


def _settle(model: GovernanceModel, reports: Batches) -> np.ndarray:
    """Passes are remembered; complying businesses ask for a re-test of a failure, and a
    false failure is overturned. Peers see which sampled unsafe batches ended as failures
    (and so how often tests are shirked or passes bought).

    Returns:
        The positions of the failures that stand.
    """
    sc = model.params
    b = model.businesses
    draw = model.rng.random(len(reports))  # one per report, used by the re-tests
    sampled = NO_MONTHS if reports.sampled is None else reports.sampled
    (reports.retested, reports.overturned, stands, unsafe_sampled, unsafe_failed, asked,
     overturned) = _file_reports(
        reports.month, sampled, reports.business, reports.agency, reports.unsafe,
        reports.failed, reports.false_report, reports.colluded, reports.price_yuan,
        b.complying, draw, sc.market.sensitivity_qualified, sc.market.specificity,
        b.last_pass_month, b.last_pass_agency, b.last_pass_false, b.last_pass_colluded,
        b.last_pass_unsafe, b.last_pass_price)
    fee = sc.law.retest_fee_yuan
    model.tally["retests_requested"] += asked
    model.tally["retests_overturned"] += overturned
    model.tally["retest_fees_business_yuan"] += fee * (asked - overturned)  # failure stands
    model.tally["retest_fees_agency_yuan"] += fee * overturned
    model.seen.note("unsafe_sampled", unsafe_sampled)
    model.seen.note("unsafe_failed", unsafe_failed)
    return stands


@compiled
def _file_reports(month, sampled, business, agency, unsafe, failed, false_report, colluded,
                  price, complying, draw, sensitivity, specificity, last_month, last_agency,
                  last_false, last_colluded, last_unsafe, last_price):
    """Report by report, in order: a pass becomes its business's latest pass (month sampled,
    agency, whether false, bought or unsafe, fee); a failure of a complying business is
    re-tested, and the re-test clears the batch when it misses unsafe food (``draw >=
    sensitivity``) or passes safe food (``draw < specificity``).

    Returns:
        (retested, overturned, positions of the failures that stand, businesses of the
        unsafe batches, businesses of the unsafe batches whose failure stands, re-tests
        asked, failures overturned)
    """
    n = len(business)
    retested = np.zeros(n, dtype=np.bool_)
    overturned = np.zeros(n, dtype=np.bool_)
    stands = np.empty(n, dtype=np.int64)
    unsafe_sampled = np.empty_like(business)
    unsafe_failed = np.empty_like(business)
    n_stands = n_unsafe = n_unsafe_failed = n_asked = n_overturned = 0
    for i in range(n):
        who = business[i]
        if not failed[i]:
            last_month[who] = month if len(sampled) == 0 else sampled[i]
            last_agency[who] = agency[i]
            last_false[who] = false_report[i]
            last_colluded[who] = colluded[i]
            last_unsafe[who] = unsafe[i]
            last_price[who] = price[i]
        elif complying[who]:
            retested[i] = True
            n_asked += 1
            if (draw[i] >= sensitivity) if unsafe[i] else (draw[i] < specificity):
                overturned[i] = True
                n_overturned += 1
        stood = failed[i] and not overturned[i]
        if stood:
            stands[n_stands] = i
            n_stands += 1
        if unsafe[i]:
            unsafe_sampled[n_unsafe] = who
            n_unsafe += 1
            if stood:
                unsafe_failed[n_unsafe_failed] = who
                n_unsafe_failed += 1
    return (retested, overturned, stands[:n_stands], unsafe_sampled[:n_unsafe],
            unsafe_failed[:n_unsafe_failed], n_asked, n_overturned)
