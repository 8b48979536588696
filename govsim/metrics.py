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

from govsim.phases.enforcement import CHANNELS
from govsim.state import SECTOR_NAMES

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
    row = dict.fromkeys(COLUMNS, 0.0)
    row.update({key: float(t[key]) for key in _TALLIED})
    row["step"] = model.steps
    row.update(_report_rates(model))
    row.update(_per_capita(model, row))
    row.update(_costs(model, row))
    row["complaints_followed_share"] = float(t.get("complaints_followed_share", np.nan))
    # sum / count is what ndarray.mean computes, without its wrapper (a fiftieth of a month)
    row["public_trust"] = float(model.consumers.trust.sum() / model.consumers.count)
    open_ = ag.open_to_bid(model.steps)
    active = ag.score[open_ & ~ag.outside]
    row["agency_score_mean"] = float(active.sum() / len(active)) if len(active) else np.nan
    row["false_reports_found"] = float(model.last_false_found.sum())
    row["never_sampled_share"] = float(np.count_nonzero(model.businesses.times_sampled == 0)
                                       / model.businesses.count)
    row["annual_budget_yuan"] = float(t["annual_budget_yuan"])  # in force during the month
    row["regulator_capacity"] = model.regulator.capacity
    row["contracted_agencies"] = float(np.count_nonzero(ag.tested))
    row["outside_agencies_contracted"] = float(np.count_nonzero(ag.tested[ag.outside]))
    row["blacklisted_agencies"] = float(len(open_) - np.count_nonzero(open_))
    return row


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


def _report_rates(model: GovernanceModel) -> dict[str, float]:
    reports = model.arrived_reports
    out = dict.fromkeys(_REPORT_RATES, np.nan)
    n = 0 if reports is None else len(reports)
    out["batches_reported"] = float(n)
    if n:
        stands = reports.failed & ~reports.overturned
        out["sample_failure_rate"] = np.count_nonzero(stands) / n
        out["false_pass_rate"] = np.count_nonzero(reports.false_report) / n
        out["collusion_rate"] = np.count_nonzero(reports.colluded) / n
        sector = model.businesses.sector[reports.business]
        tested = np.bincount(sector, minlength=3)
        failed = np.bincount(sector, weights=stands, minlength=3)
        for s, name in enumerate(SECTOR_NAMES):
            if tested[s]:
                out[f"failure_rate_{name}"] = failed[s] / tested[s]
        model.report_history.append((int(np.count_nonzero(reports.unsafe)),
                                     int(np.count_nonzero(stands & reports.unsafe))))
    else:
        model.report_history.append((0, 0))
    unsafe, caught = map(sum, zip(*model.report_history, strict=True))
    out["detection_rate"] = caught / unsafe if unsafe else np.nan
    return out
