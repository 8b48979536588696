"""Performance management: back-checks of agency reports, agency fines, scores, blacklist.

The regulator re-tests a share of each arriving report from retained samples (within the
back-check reserve of its budget and its staff time, half an inspection each). Consumers
discipline testers too: with ``performance.trace_outbreaks``, an illness cluster traced to a
business (at least ``system.outbreak_complaints`` complaints naming the true source in a
month) whose batch passed a test in the last ``performance.outbreak_lookback_months`` months
triggers a back-check of that report, first in line. A back-check reveals a false report
(shirked or bought) with ``performance.backcheck_sensitivity``; the agency then pays
``agency_fine_multiple`` times the fee, gets a strike, and with the blacklist rule on loses
its contract and the right to bid once its strikes reach the threshold. Agencies learn from
both kinds of back-check alike. A bought pass on unsafe food, once revealed, is a confirmed
violation of the business too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.phases.enforcement import confirm
from govsim.phases.procurement import tender

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

SCORE_MEMORY = 0.8  # weight of the past in the agency performance score
BACKCHECK_STAFF = 0.5  # inspections of staff time a back-check takes (fetching the sample)


def manage_performance(model: GovernanceModel) -> None:
    """Back-check traced clusters' passes and this month's reports; act on what is found."""
    ag = model.agencies
    model.last_backchecks = np.zeros(ag.count, dtype=np.int64)
    model.last_false_found = np.zeros(ag.count, dtype=np.int64)
    affordable = _affordable_backchecks(model)
    affordable -= _backcheck_traced_clusters(model, affordable)
    reports = model.arrived_reports
    if reports is None or len(reports) == 0:
        model.last_false_reports = np.zeros(ag.count, dtype=np.int64)
    else:
        model.last_false_reports = np.bincount(reports.agency[reports.false_report],
                                               minlength=ag.count)
        checked = _choose_backchecks(model, len(reports), affordable)
        _act_on_backchecks(model, reports.agency[checked], reports.false_report[checked],
                           reports.colluded[checked] & reports.unsafe[checked],
                           reports.business[checked], reports.price_yuan[checked],
                           "backcheck")
    _update_scores(model, model.last_backchecks, model.last_false_found)
    if model.params.performance.blacklist:
        _blacklist(model)


def _affordable_backchecks(model: GovernanceModel) -> int:
    """Back-checks the reserve pays for and the staff can fetch this month."""
    sc = model.params
    reserve = model.regulator.monthly_allowance_yuan * sc.budget.backcheck_share
    return int(reserve // sc.budget.cost_per_batch_yuan)


def _backcheck_traced_clusters(model: GovernanceModel, affordable: int) -> int:
    """Back-check the latest pass of businesses with a traced illness cluster.

    Returns:
        The number of back-checks made.
    """
    perf = model.params.performance
    b = model.businesses
    if not perf.trace_outbreaks:
        return 0
    traced = (b.complaints_true >= model.params.system.outbreak_complaints).nonzero()[0]
    if len(traced) == 0:  # most months
        return 0
    model.tally["clusters_traced"] += len(traced)
    recent = b.last_pass_month[traced] >= model.steps - perf.outbreak_lookback_months
    who = traced[recent]
    n = model.staff.take(min(len(who), affordable), BACKCHECK_STAFF)
    model.tally["outbreak_backchecks"] += n
    if n == 0:  # most months: the traced businesses' passes are old or checked already
        return 0
    who = who[:n]
    _act_on_backchecks(model, b.last_pass_agency[who], b.last_pass_false[who],
                       b.last_pass_colluded[who] & b.last_pass_unsafe[who], who,
                       b.last_pass_price[who], "outbreak")
    b.last_pass_month[who] = -999  # that report has been checked
    return n


def _choose_backchecks(model: GovernanceModel, n: int, affordable: int) -> np.ndarray:
    sc = model.params
    wanted = model.rng.random(n) < sc.performance.backcheck_rate
    idx = wanted.nonzero()[0]
    allowed = model.staff.take(min(len(idx), affordable), BACKCHECK_STAFF)
    if len(idx) > allowed:
        wanted[:] = False
        wanted[model.rng.choice(idx, allowed, replace=False)] = True
    return wanted


def _act_on_backchecks(model: GovernanceModel, agency: np.ndarray, false_report: np.ndarray,
                       bought_unsafe: np.ndarray, business: np.ndarray, price: np.ndarray,
                       channel: str) -> None:
    """Re-test the checked reports; fine and strike agencies whose false report is found."""
    if len(agency) == 0:
        return
    ag = model.agencies
    sc = model.params
    found = false_report & (model.rng.random(len(agency)) < sc.performance.backcheck_sensitivity)
    model.last_backchecks += np.bincount(agency, minlength=ag.count)
    model.last_false_found += np.bincount(agency[found], minlength=ag.count)
    model.tally["backchecks"] += len(agency)
    cost = len(agency) * sc.budget.cost_per_batch_yuan
    model.tally["budget_spent"] += cost
    model.tally["backcheck_cost_yuan"] += cost
    _fine_agencies(model, agency[found], price[found], bought_unsafe[found])
    confirm(model, business[found & bought_unsafe], channel)


def _fine_agencies(model: GovernanceModel, agency: np.ndarray, price: np.ndarray,
                   bought: np.ndarray) -> None:
    law = model.params.law
    fines = law.agency_fine_multiple * price
    if law.agency_liability:
        fines = fines + law.business_fine_yuan * bought
    model.tally["fines_collected"] += float(fines.sum())
    model.tally["fees_recovered_yuan"] += float(price.sum())
    np.add.at(model.agencies.strikes, agency, 1)


def _update_scores(model: GovernanceModel, checks: np.ndarray, caught: np.ndarray) -> None:
    # Agencies are few and at most a couple are back-checked in a month: one by one, in
    # plain floats, costs less than the array operations, and gives the same numbers.
    score = model.agencies.score
    for a, (n, found) in enumerate(zip(checks.tolist(), caught.tolist(), strict=True)):
        if n:
            clean = 1.0 - found / n
            score[a] = SCORE_MEMORY * score[a] + (1 - SCORE_MEMORY) * clean


def _blacklist(model: GovernanceModel) -> None:
    ag = model.agencies
    perf = model.params.performance
    newly = (ag.strikes >= perf.blacklist_threshold) & ag.open_to_bid(model.steps)
    for a in np.flatnonzero(newly):
        ag.blacklisted_until[a] = model.steps + perf.blacklist_months
        ag.quota[a] = 0
        ag.strikes[a] = 0
        model.log_event(f"agency {a} blacklisted for {perf.blacklist_months} months")
    if newly.any() and model.params.procurement.payer == "government":
        tender(model)  # award the lost quota to the remaining agencies
