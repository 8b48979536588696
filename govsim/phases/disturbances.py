"""Disturbances: an unstable supervision system and budget shocks.

Each month an undisrupted regulator is disrupted (staff turnover, a policy swing) with
chance ``DISRUPTION_RATE * (1 - system.stability)``; for ``system.disruption_months`` it
works at ``1 - system.disruption_severity`` of its capacity (inspections, back-checks and
follow-through of enforcement). At ``budget.shock_month`` the budget is multiplied by
``budget.shock_factor`` and running contracts are cut, or re-tendered, to fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govsim.phases.procurement import rescale_quotas

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

DISRUPTION_RATE = 0.1  # monthly chance of a disruption at stability 0


def disturb(model: GovernanceModel) -> None:
    """Start or end disruptions; apply a budget shock in its month."""
    sc = model.params
    reg = model.regulator
    month = model.steps
    if reg.disrupted_until <= month:
        if reg.capacity < 1.0:
            model.log_event("regulator back to full capacity")
        reg.capacity = 1.0
        if model.rng.random() < DISRUPTION_RATE * (1.0 - sc.system.stability):
            reg.disrupted_until = month + sc.system.disruption_months
            reg.capacity = 1.0 - sc.system.disruption_severity
            model.log_event(f"disruption: regulator at {reg.capacity:.0%} capacity "
                            f"for {sc.system.disruption_months} months")
    if sc.budget.shock_month == month + 1:
        reg.annual_budget_yuan *= sc.budget.shock_factor
        rescale_quotas(model)
        verb = "cut" if sc.budget.shock_factor < 1 else "raised"
        model.log_event(f"budget {verb} to {reg.annual_budget_yuan:,.0f} yuan/year")
