"""The monthly figures of the contract, computed in one place.

Counts and money are per month and in real-world units (people, batches, yuan);
``illness_per_100k`` and ``complaints_per_100k`` are the month's illness cases and complaints
per 100,000 people of the district (``consumers.population``). Rates about
reports (``sample_failure_rate``, ``detection_rate``, ``false_pass_rate``, ``collusion_rate``)
are over the reports that reached the regulator this month. In a month with no report (the
first month, or no contract) they are 0, since nothing was reported (``batches_reported``
shows it); in a month whose reports hold no unsafe batch, ``detection_rate`` keeps its last
value, as official statistics keep their latest figure.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

#: The contract's columns, in order (``step`` first).
CONTRACT_COLUMNS = (
    "step", "compliance_rate", "unsafe_share", "illness_cases", "complaints", "inspections",
    "detected_violations", "sample_failure_rate", "detection_rate", "false_pass_rate",
    "collusion_rate", "fines_collected", "budget_spent", "public_trust", "agency_score_mean",
)

#: Further columns, for reports and the browser view.
EXTRA_COLUMNS = (
    "unsafe_purchase_share", "batches_tested", "batches_reported", "backchecks",
    "false_reports_found", "businesses_fined", "rewards_paid_yuan", "fees_recovered_yuan",
    "fees_paid_by_business_yuan", "annual_budget_yuan", "regulator_capacity",
    "contracted_agencies", "blacklisted_agencies", "illness_per_100k", "complaints_per_100k",
)

COLUMNS = CONTRACT_COLUMNS + EXTRA_COLUMNS

#: Columns that are fractions in [0, 1].
RATE_COLUMNS = (
    "compliance_rate", "unsafe_share", "sample_failure_rate", "detection_rate",
    "false_pass_rate", "collusion_rate", "public_trust", "agency_score_mean",
    "unsafe_purchase_share", "regulator_capacity",
)

#: Columns the phases tally during the month.
_TALLIED = (
    "compliance_rate", "unsafe_share", "unsafe_purchase_share", "illness_cases",
    "complaints", "inspections", "detected_violations", "fines_collected", "budget_spent",
    "batches_tested", "backchecks", "businesses_fined", "rewards_paid_yuan",
    "fees_recovered_yuan", "fees_paid_by_business_yuan")

_REPORT_RATES = ("sample_failure_rate", "detection_rate", "false_pass_rate", "collusion_rate")


def new_tally() -> defaultdict:
    """Accumulators the phases add to during a month."""
    return defaultdict(float)


def compute(model: GovernanceModel, previous: dict | None) -> dict[str, float]:
    """This month's row of figures."""
    t = model.tally
    ag = model.agencies
    row = dict.fromkeys(COLUMNS, 0.0)
    for key in _TALLIED:
        row[key] = float(t[key])
    row["step"] = model.steps
    row.update(_report_rates(model, previous))
    row["public_trust"] = float(model.consumers.trust.mean())
    active = ag.open_to_bid(model.steps)
    row["agency_score_mean"] = float(ag.score[active].mean()) if active.any() else 0.0
    row["false_reports_found"] = float(model.last_false_found.sum())
    row["annual_budget_yuan"] = float(t["annual_budget_yuan"])  # in force during the month
    row["regulator_capacity"] = model.regulator.capacity
    row["contracted_agencies"] = float(np.count_nonzero(ag.tested))
    row["blacklisted_agencies"] = float(np.count_nonzero(~active))
    # per 100,000 people this month, so districts of any size compare
    per_100k = 100_000 / model.params.consumers.population
    row["illness_per_100k"] = row["illness_cases"] * per_100k
    row["complaints_per_100k"] = row["complaints"] * per_100k
    return row


def _report_rates(model: GovernanceModel, previous: dict | None) -> dict[str, float]:
    reports = model.arrived_reports
    out = dict.fromkeys(_REPORT_RATES, 0.0)
    out["detection_rate"] = (previous or {}).get("detection_rate", 0.0)
    n = 0 if reports is None else len(reports)
    out["batches_reported"] = float(n)
    if n == 0:
        out["detection_rate"] = 0.0
        return out
    out["sample_failure_rate"] = np.count_nonzero(reports.failed) / n
    out["false_pass_rate"] = np.count_nonzero(reports.false_report) / n
    out["collusion_rate"] = np.count_nonzero(reports.colluded) / n
    unsafe = np.count_nonzero(reports.unsafe)
    if unsafe:
        out["detection_rate"] = np.count_nonzero(reports.failed & reports.unsafe) / unsafe
    return out
