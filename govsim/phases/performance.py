"""Performance management: back-checks of agency reports, agency fines, scores, blacklist.

The regulator re-tests a share of each arriving report from retained samples (within the
back-check reserve of its budget). A back-check reveals a false report (shirked or bought)
with ``performance.backcheck_sensitivity``; the agency then pays ``agency_fine_multiple``
times the fee, gets a strike, and with the blacklist rule on loses its contract and the right
to bid once its strikes reach the threshold. A bought pass on unsafe food, once revealed, is a
confirmed violation of the business too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.phases.enforcement import confirm
from govsim.phases.procurement import tender

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

SCORE_MEMORY = 0.8  # weight of the past in the agency performance score


def manage_performance(model: GovernanceModel) -> None:
    """Back-check the reports that arrived this month and act on what is found."""
    reports = model.arrived_reports
    ag = model.agencies
    model.last_backchecks = np.zeros(ag.count, dtype=np.int64)
    model.last_false_found = np.zeros(ag.count, dtype=np.int64)
    model.last_false_reports = np.zeros(ag.count, dtype=np.int64)
    if reports is None or len(reports) == 0:
        return
    model.last_false_reports = np.bincount(reports.agency[reports.false_report],
                                           minlength=ag.count)
    checked = _choose_backchecks(model, len(reports))
    found = checked & reports.false_report & (
        model.rng.random(len(reports)) < model.params.performance.backcheck_sensitivity)
    checks = np.bincount(reports.agency[checked], minlength=ag.count)
    caught = np.bincount(reports.agency[found], minlength=ag.count)
    model.last_backchecks, model.last_false_found = checks, caught
    model.tally["backchecks"] += int(checked.sum())
    model.tally["budget_spent"] += checked.sum() * model.params.budget.cost_per_batch_yuan
    _fine_agencies(model, reports, found)
    bought = found & reports.colluded & reports.unsafe
    confirm(model, reports.business[bought])
    _update_scores(model, checks, caught)
    if model.params.performance.blacklist:
        _blacklist(model, caught)


def _choose_backchecks(model: GovernanceModel, n: int) -> np.ndarray:
    sc = model.params
    wanted = model.rng.random(n) < sc.performance.backcheck_rate * model.regulator.capacity
    reserve = model.regulator.monthly_allowance_yuan * sc.budget.backcheck_share
    affordable = int(reserve // sc.budget.cost_per_batch_yuan)
    idx = np.flatnonzero(wanted)
    if len(idx) > affordable:
        wanted[:] = False
        wanted[model.rng.choice(idx, affordable, replace=False)] = True
    return wanted


def _fine_agencies(model: GovernanceModel, reports, found: np.ndarray) -> None:
    law = model.params.law
    fines = law.agency_fine_multiple * reports.price_yuan[found]
    if law.agency_liability:
        fines = fines + law.business_fine_yuan * reports.colluded[found]
    model.tally["fines_collected"] += float(fines.sum())
    model.tally["fees_recovered_yuan"] += float(reports.price_yuan[found].sum())
    np.add.at(model.agencies.strikes, reports.agency[found], 1)


def _update_scores(model: GovernanceModel, checks: np.ndarray, caught: np.ndarray) -> None:
    ag = model.agencies
    seen = checks > 0
    clean = 1.0 - caught[seen] / checks[seen]
    ag.score[seen] = SCORE_MEMORY * ag.score[seen] + (1 - SCORE_MEMORY) * clean


def _blacklist(model: GovernanceModel, caught: np.ndarray) -> None:
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
