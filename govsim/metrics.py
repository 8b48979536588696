"""The monthly figures, computed in one place.

Counts and money are per month and in real-world units (people, batches, yuan). Figures
``*_per_100k`` and ``batches_per_1000_people`` are per month per 100,000 (1,000) people, so
districts of any size compare. Rates about reports (``sample_failure_rate``,
``false_pass_rate``, ``collusion_rate``, the ``failure_rate_<sector>`` figures) are over the
reports that reached the regulator this month, and missing (NaN) in a month with no such
report: nothing was reported, which is not a rate of 0. ``detection_rate`` (the share of
truly unsafe reported batches reported as failed) is over the last 12 months of reports,
since a month's reports hold only a few unsafe batches; it is missing while they hold none.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from govsim.jit import compiled
from govsim.phases.enforcement import CHANNELS
from govsim.state import NO_BATCHES, SECTOR_NAMES

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

DETECTION_WINDOW = 12  # months of reports behind detection_rate

#: The contract's columns, in order (``step`` first).
CONTRACT_COLUMNS = (
    "step", "compliance_rate", "unsafe_share", "illness_cases", "complaints", "inspections",
    "detected_violations", "sample_failure_rate", "detection_rate", "false_pass_rate",
    "collusion_rate", "fines_collected", "budget_spent", "public_trust", "agency_score_mean",
)

#: Further columns, for reports, the browser view and calibration.
EXTRA_COLUMNS = (
    "unsafe_purchase_share", "illness_from_businesses", "illness_per_100k",
    "complaints_per_100k",
    "complaint_share_of_ill", "batches_tested", "batches_reported", "batches_per_1000_people",
    *(f"failure_rate_{s}" for s in SECTOR_NAMES),
    *(f"detected_by_{c}" for c in CHANNELS),
    "complaint_inspections", "routine_inspections", "inspection_queue",
    "complaints_followed_share", "investigations_waiting", "clusters_traced",
    "outbreak_backchecks", "backchecks", "false_reports_found", "retests_requested",
    "retests_overturned", "recalls", "recall_cost_yuan", "businesses_fined",
    "businesses_published", "damages_claims", "damages_paid_yuan", "businesses_hit_by_claims",
    "never_sampled_share", "testing_fees_yuan", "backcheck_cost_yuan", "rewards_paid_yuan",
    "inspection_cost_yuan", "public_cost_yuan", "unspent_testing_yuan", "fees_recovered_yuan",
    "fees_paid_by_business_yuan", "annual_budget_yuan", "regulator_capacity",
    "contracted_agencies", "outside_agencies_contracted", "blacklisted_agencies",
)

COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS

#: Columns that are fractions in [0, 1] (or missing).
RATE_COLUMNS = (
    "compliance_rate", "unsafe_share", "sample_failure_rate", "detection_rate",
    "false_pass_rate", "collusion_rate", "public_trust", "agency_score_mean",
    "unsafe_purchase_share", "complaint_share_of_ill", "complaints_followed_share",
    "never_sampled_share", "regulator_capacity", *(f"failure_rate_{s}" for s in SECTOR_NAMES),
)

#: Columns the phases tally during the month.
_TALLIED = (
    "compliance_rate", "unsafe_share", "unsafe_purchase_share", "illness_cases",
    "illness_from_businesses", "complaints",
    "inspections", "detected_violations", "fines_collected", "budget_spent", "batches_tested",
    "backchecks", "businesses_fined", "rewards_paid_yuan", "fees_recovered_yuan",
    "fees_paid_by_business_yuan", *(f"detected_by_{c}" for c in CHANNELS),
    "complaint_inspections", "routine_inspections", "inspection_queue",
    "investigations_waiting", "clusters_traced", "outbreak_backchecks", "retests_requested",
    "retests_overturned", "recalls", "recall_cost_yuan", "businesses_published",
    "damages_claims", "damages_paid_yuan", "businesses_hit_by_claims", "backcheck_cost_yuan",
)

_REPORT_RATES = ("sample_failure_rate", "false_pass_rate", "collusion_rate",
                 *(f"failure_rate_{s}" for s in SECTOR_NAMES))


def new_tally() -> defaultdict:
    """Accumulators the phases add to during a month."""
    return defaultdict(float)


def compute(model: GovernanceModel) -> dict[str, float]:
    """This month's row of figures."""
    t = model.tally
    ag = model.agencies
    b = model.businesses
    reports = model.arrived_reports
    if reports is None:
        reports = NO_BATCHES
    (stands, false_reports, colluded, unsafe, caught, tested, failed, never_sampled,
     active_score, contracted, outside_contracted, blacklisted, false_found) = _counts(
        reports.business, reports.failed, reports.overturned, reports.false_report,
        reports.colluded, reports.unsafe, b.sector, b.times_sampled, model.steps,
        ag.blacklisted_until, ag.outside, ag.score, ag.tested, model.last_false_found)
    row = dict.fromkeys(COLUMNS, 0.0)
    row.update({key: float(t[key]) for key in _TALLIED})
    row["step"] = model.steps
    n = len(reports)
    row["batches_reported"] = float(n)
    row.update(dict.fromkeys(_REPORT_RATES, np.nan))
    if n:
        row["sample_failure_rate"] = stands / n
        row["false_pass_rate"] = false_reports / n
        row["collusion_rate"] = colluded / n
        for s, name in enumerate(SECTOR_NAMES):
            if tested[s]:
                row[f"failure_rate_{name}"] = failed[s] / tested[s]
    model.report_history.append((unsafe, caught))
    unsafe, caught = map(sum, zip(*model.report_history, strict=True))
    row["detection_rate"] = caught / unsafe if unsafe else np.nan
    row.update(_per_capita(model, row))
    row.update(_costs(model, row))
    row["complaints_followed_share"] = float(t.get("complaints_followed_share", np.nan))
    # sum / count is what ndarray.mean computes, without its wrapper (a fiftieth of a month)
    row["public_trust"] = float(model.consumers.trust.sum() / model.consumers.count)
    n_active = len(active_score)
    row["agency_score_mean"] = float(active_score.sum() / n_active) if n_active else np.nan
    row["false_reports_found"] = float(false_found)
    row["never_sampled_share"] = float(never_sampled / b.count)
    row["annual_budget_yuan"] = float(t["annual_budget_yuan"])  # in force during the month
    row["regulator_capacity"] = model.regulator.capacity
    row["contracted_agencies"] = float(contracted)
    row["outside_agencies_contracted"] = float(outside_contracted)
    row["blacklisted_agencies"] = float(blacklisted)
    return row


@compiled
def _counts(business, failed, overturned, false_report, colluded, unsafe, sector,
            times_sampled, month, blacklisted_until, outside, score, tested, false_found):
    """The month's counts behind the row, in one pass over each population.

    Reports: failures that stand, false reports, bought passes, unsafe batches and those
    caught (failures that stand), and reports and failures by sector (failures as floats,
    as ``np.bincount`` with weights gave them). Businesses never sampled. Agencies open to
    bid and local or outside: their scores; agencies that tested this month (outside ones
    among them), blacklisted ones, and false reports found.
    """
    n_stands = n_false = n_colluded = n_unsafe = n_caught = 0
    tested_by_sector = np.zeros(3, dtype=np.int64)
    failed_by_sector = np.zeros(3, dtype=np.float64)
    for i in range(len(business)):
        s = sector[business[i]]
        tested_by_sector[s] += 1
        stood = failed[i] and not overturned[i]
        if stood:
            n_stands += 1
            failed_by_sector[s] += 1.0
        n_false += false_report[i]
        n_colluded += colluded[i]
        if unsafe[i]:
            n_unsafe += 1
            n_caught += stood
    never_sampled = 0
    for times in times_sampled:
        never_sampled += times == 0
    active = np.empty(len(score), dtype=score.dtype)
    n_active = contracted = outside_contracted = blacklisted = found = 0
    for a in range(len(score)):
        if blacklisted_until[a] <= month:
            if not outside[a]:
                active[n_active] = score[a]
                n_active += 1
        else:
            blacklisted += 1
        if tested[a] != 0:
            contracted += 1
            outside_contracted += outside[a]
        found += false_found[a]
    return (n_stands, n_false, n_colluded, n_unsafe, n_caught, tested_by_sector,
            failed_by_sector, never_sampled, active[:n_active], contracted, outside_contracted,
            blacklisted, found)


def _per_capita(model: GovernanceModel, row: dict) -> dict[str, float]:
    per_100k = 100_000 / model.params.consumers.population
    ill = row["illness_cases"]
    return {
        "illness_per_100k": ill * per_100k,
        "complaints_per_100k": row["complaints"] * per_100k,
        "complaint_share_of_ill": row["complaints"] / ill if ill > 0 else np.nan,
        "batches_per_1000_people": row["batches_reported"] * per_100k / 100,
    }


def _costs(model: GovernanceModel, row: dict) -> dict[str, float]:
    """Public money this month: testing fees, back-checks, rewards, inspectors' time."""
    inspection_cost = (row["inspections"] + 0.5 * row["backchecks"]) \
        * model.params.system.inspection_cost_yuan
    return {
        "testing_fees_yuan": row["budget_spent"] - row["backcheck_cost_yuan"],
        "inspection_cost_yuan": inspection_cost,
        "public_cost_yuan": row["budget_spent"] + row["rewards_paid_yuan"] + inspection_cost,
        "unspent_testing_yuan": float(model.unspent_testing_yuan),
    }
