"""Enforcement: confirmed violations, fines, disclosure, and complaint-driven inspections.

A violation is confirmed by a failed test report, by an inspection that a complaint
triggered, or by a back-check that exposes a bought pass. Each confirmed violation is punished
with the law's enforcement probability (law completeness), lowered while the regulator is
disrupted. With disclosure on, the confirmed violator is published and loses part of its
demand, whether or not the fine follows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


def enforce(model: GovernanceModel) -> None:
    """Act on this month's failed reports and on complaints."""
    model.businesses.punished[:] = False
    reports = model.arrived_reports
    if reports is not None:
        confirm(model, reports.business[reports.failed])
    inspected = inspect_complaints(model)
    found = _inspection_findings(model, inspected)
    punished = confirm(model, found)
    rewards = len(punished) * model.params.participation.reward_yuan
    model.tally["rewards_paid_yuan"] += rewards


def confirm(model: GovernanceModel, businesses: np.ndarray) -> np.ndarray:
    """Record confirmed violations and punish each with the enforcement probability.

    Returns:
        The businesses that were fined.
    """
    b = model.businesses
    if len(businesses) == 0:
        return businesses
    businesses = np.unique(businesses)
    model.tally["detected_violations"] += len(businesses)
    b.violations[businesses] += 1
    p = model.params.law.enforcement_probability * model.regulator.capacity
    fined = businesses[model.rng.random(len(businesses)) < p]
    b.punished[fined] = True
    model.tally["fines_collected"] += len(fined) * model.params.law.business_fine_yuan
    model.tally["businesses_fined"] += len(fined)
    part = model.params.participation
    if part.disclosure:  # results are published whether or not the fine follows
        b.demand[businesses] *= 1.0 - part.disclosure_demand_loss
    return fined


def inspect_complaints(model: GovernanceModel) -> np.ndarray:
    """Inspect the most complained-about businesses, as far as staff capacity allows."""
    b = model.businesses
    capacity = int(model.params.system.inspection_capacity * model.regulator.capacity)
    complained = np.flatnonzero(b.complaints > 0)
    if len(complained) > capacity:
        # most complaints first; ties broken at random so no business id is favoured
        noise = model.rng.random(len(complained))
        order = np.lexsort((noise, -b.complaints[complained]))
        complained = complained[order[:capacity]]
    model.tally["inspections"] += len(complained)
    return complained


def _inspection_findings(model: GovernanceModel, inspected: np.ndarray) -> np.ndarray:
    b = model.businesses
    at_fault = ~b.complying[inspected] | b.unsafe[inspected]
    seen = model.rng.random(len(inspected)) < model.params.system.inspection_sensitivity
    return inspected[at_fault & seen]
