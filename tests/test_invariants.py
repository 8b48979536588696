"""Invariants that must hold for any valid scenario: money, capacity, rates.

The property-based test draws scenarios from the schema's ranges (hypothesis) and steps the
model month by month, checking the invariants after every month.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import govsim
from govsim.metrics import RATE_COLUMNS
from govsim.model import GovernanceModel
from govsim.phases.procurement import contract_capacity, purchase_money_yuan


def check_month(model: GovernanceModel) -> None:
    """The invariants of one month that has just been stepped."""
    row = model.row
    ag = model.agencies
    allowance = row["annual_budget_yuan"] / 12.0
    assert row["budget_spent"] <= allowance + 1e-6, "spent more than the month's budget"
    assert np.all(ag.tested <= contract_capacity(model)), "an agency tested beyond its capacity"
    if model.params.procurement.payer == "government":
        assert np.all(ag.tested <= model.last_quota), "an agency tested beyond its contract"
    assert row["batches_reported"] <= sum(contract_capacity(model))
    for column in RATE_COLUMNS:  # a fraction, or missing when there is nothing to divide
        assert np.isnan(row[column]) or 0.0 <= row[column] <= 1.0, column
    for column in ("illness_cases", "complaints", "inspections", "fines_collected"):
        assert row[column] >= 0.0, column


def test_invariants_hold_each_month_of_the_baseline(baseline):
    model = GovernanceModel(baseline.with_overrides({"consumers.count": 2_000}), seed=1)
    for _ in range(baseline.run.months):
        model.step()
        check_month(model)


def test_budget_is_never_exceeded_even_across_a_cut(small):
    cut = small.with_overrides({"timeline": [{"month": 7,
                                              "set": {"budget.annual_yuan": 120_000.0}}],
                                "budget.backcheck_share": 0.4,
                                "performance.backcheck_rate": 1.0})
    model = GovernanceModel(cut, seed=2)
    for _ in range(24):
        model.step()
        check_month(model)
        assert (model.agencies.quota * model.agencies.price_yuan).sum() <= \
            purchase_money_yuan(model) + 1e-6


scenarios = st.fixed_dictionaries({
    "run.months": st.integers(1, 18),
    "consumers.count": st.integers(100, 1_500),
    "consumers.population": st.integers(1_500, 400_000),
    "businesses.count": st.integers(10, 400),
    "market.n_agencies": st.integers(1, 10),
    "budget.annual_yuan": st.floats(0, 3e6),
    "budget.backcheck_share": st.floats(0, 1),
    "budget.cost_per_batch_yuan": st.floats(100, 3_000),
    "law.enforcement_probability": st.floats(0, 1),
    "law.agency_liability": st.booleans(),
    "performance.backcheck_rate": st.floats(0, 1),
    "performance.quality_weight": st.floats(0, 1),
    "performance.blacklist": st.booleans(),
    "performance.blacklist_threshold": st.integers(1, 5),
    "performance.contract_months": st.integers(1, 24),
    "performance.min_sensitivity": st.floats(0, 1),
    "participation.complaint_probability": st.floats(0, 1),
    "participation.reward_yuan": st.floats(0, 10_000),
    "participation.disclosure": st.booleans(),
    "participation.network": st.sampled_from(["small_world", "scale_free", "random"]),
    "participation.degree": st.integers(2, 20),
    "businesses.initial_compliance": st.floats(0, 1),
    "system.stability": st.floats(0, 1),
    "system.sampling": st.sampled_from(["random", "risk_based", "complaint_driven"]),
    "system.report_delay_months": st.integers(0, 3),
    "procurement.payer": st.sampled_from(["government", "business"]),
})
#: A mid-run change of the budget and of enforcement: (month, yuan/year, probability).
changes = st.tuples(st.integers(1, 18), st.floats(0, 3e6), st.floats(0, 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=scenarios, change=changes, seed=st.integers(0, 2**32 - 1))
def test_any_valid_scenario_runs_and_keeps_the_invariants(overrides, change, seed):
    month, yuan, enforcement = change
    overrides["timeline"] = [{"month": min(month, overrides["run.months"]), "note": "change",
                              "set": {"budget.annual_yuan": yuan,
                                      "law.enforcement_probability": enforcement}}]
    scenario = govsim.Scenario().with_overrides(overrides)
    model = GovernanceModel(scenario, seed=seed)
    for _ in range(scenario.run.months):
        model.step()
        check_month(model)
