"""Scenarios that are valid field by field but make no testing possible, said before a run.

The schema checks each field alone; these combinations pass it and yet leave the district
without purchased testing for the whole run (every tender fails), which a user would
otherwise learn only from an empty column. :func:`warnings_for` names them before the run;
:func:`no_testing_note` says so after it, in the run's summary.
"""

from __future__ import annotations

import pandas as pd

from govsim.scenario import Scenario

#: Spread of agencies' costs around ``market.cost_per_test_yuan`` (see govsim.state): the
#: cheapest agency costs at least this fraction of it.
CHEAPEST_COST_SHARE = 0.85 * 0.9


def warnings_for(s: Scenario) -> list[str]:
    """Why this scenario's government-paid testing cannot happen, one line each (or [])."""
    if s.procurement.payer != "government":
        return []
    out = []
    m, b = s.market, s.budget
    if m.markup == 0:
        out.append("market.markup = 0: agencies bid at cost and none tests at a loss or for "
                   "nothing, so every tender fails and no batch is tested")
    elif m.cost_per_test_yuan * CHEAPEST_COST_SHARE >= b.cost_per_batch_yuan:
        out.append(f"market.cost_per_test_yuan = {m.cost_per_test_yuan:g} is above the tender "
                   f"ceiling budget.cost_per_batch_yuan = {b.cost_per_batch_yuan:g} for every "
                   "agency, so every tender fails and no batch is tested")
    # outside agencies (invited when locals are few) are qualified
    best = max(m.sensitivity_qualified if m.qualified_share > 0 or m.outside_agencies else 0.0,
               m.sensitivity_unqualified if m.qualified_share < 1 else 0.0)
    if s.performance.min_sensitivity > best:
        out.append(f"performance.min_sensitivity = {s.performance.min_sensitivity:g} is above "
                   f"every agency's sensitivity ({best:g}), so no agency may bid and no batch "
                   "is tested")
    if b.annual_yuan == 0:
        out.append("budget.annual_yuan = 0: there is no money for purchased testing, so no "
                   "batch is tested")
    elif b.backcheck_share >= 1:
        out.append(f"budget.backcheck_share = {b.backcheck_share:g}: the whole budget is kept "
                   "for back-checks, none is left to buy testing, so no batch is tested")
    return out


#: Fields that size a run rather than set a policy: compared scenarios should share them.
SIZE_FIELDS = ("run.months", "consumers.count", "consumers.population", "businesses.count")


def unlike_sizes(scenarios) -> list[str]:
    """Size fields on which compared scenarios differ, one line each (or []): their
    differences then mix the policy with the size of the run or of the district."""
    flat = {s.name: s.flat() for s in scenarios}
    out = []
    for field in SIZE_FIELDS:
        values = {name: fields[field] for name, fields in flat.items()}
        if len(set(values.values())) > 1:
            shown = ", ".join(f"{name} {value:,}" for name, value in values.items())
            out.append(f"the scenarios differ in {field} ({shown}), so their differences are "
                       "not the policies' alone"
                       + (" (--months N runs them all for N months)"
                          if field == "run.months" else ""))
    return out


def no_testing_note(timeseries: pd.DataFrame) -> str | None:
    """A sentence for a run in which no batch was ever tested, else None."""
    if "batches_tested" in timeseries and float(timeseries["batches_tested"].sum()) == 0:
        return ("No batch was tested in this run (every tender failed or there was no "
                "testing money): the testing figures (failure, detection, false-report rates) "
                "are empty, not zero.")
    return None
