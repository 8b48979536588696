"""Disturbances: an unstable supervision system.

Each month an undisrupted regulator is disrupted (staff turnover, a policy swing) with
chance ``DISRUPTION_RATE * (1 - system.stability)``; for ``system.disruption_months`` it
works at ``1 - system.disruption_severity`` of its capacity (inspections, back-checks and
follow-through of enforcement). Budget changes are timeline changes
(:mod:`govsim.phases.policy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from govsim.model import GovernanceModel

DISRUPTION_RATE = 0.1  # monthly chance of a disruption at stability 0


def disturb(model: GovernanceModel) -> None:
    """Start or end disruptions."""
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
