"""Policy: the scenario's timeline, applied at the start of each month (phase 0).

At the start of month m every change of the timeline dated m replaces ``model.params`` with
the scenario after that change, in order, and is logged as an event
("enforcement probability 50% -> 90% (two-year crackdown)"). The other phases read their
parameters from ``model.params`` each month, so a change is in force from that month on.
What agents learn of it follows the channels of each parameter (docs/ODD.md, "Policy
timelines"): a published fine or reward is known at once, the real chance of enforcement
only through the punishments businesses see. A change of the testing budget is the one
change that also needs state updated: the regulator's budget, and running contracts cut
(or re-tendered) to fit, as a budget cut does in a real district.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govsim.phases.procurement import rescale_quotas
from govsim.timeline import Step, describe

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

#: Fields whose change alters the money for purchased tests in running contracts.
_MONEY = ("budget.annual_yuan", "budget.backcheck_share")


def apply_timeline(model: GovernanceModel) -> None:
    """Apply the changes dated this month, in order, and log each."""
    month = model.steps
    for step in model.timeline:
        if step.month == month:
            apply_change(model, step)


def apply_change(model: GovernanceModel, step: Step) -> None:
    """Put one change in force now: new ``model.params``, budget and contracts, an event."""
    old = model.params.flat()
    model.params = model.params.with_overrides(step.values,
                                               source=f"timeline (month {step.month})")
    changed = {k: v for k, v in step.values.items() if old[k] != v}
    if not changed:
        return
    if "budget.annual_yuan" in changed:
        model.regulator.annual_budget_yuan = model.params.budget.annual_yuan
    contract = model.params.performance.contract_months
    # procurement tenders this month anyway (month 1 runs the contract tendered before the run)
    tender_month = model.steps > 1 and (model.steps - 1) % contract == 0
    if any(k in changed for k in _MONEY) and not tender_month:
        rescale_quotas(model)
    words = "; ".join(describe(k, old[k], v) for k, v in changed.items())
    model.log_event(f"{words} ({step.label})")
