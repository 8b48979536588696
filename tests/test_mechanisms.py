"""Each mechanism on its own: the levers move the outcomes the way the design says.

Each test compares means over the last 24 months of several seeds, at a tenth of the
default consumers (the mechanisms do not depend on the consumer scale).
"""

from __future__ import annotations

import numpy as np

import govsim
from govsim.model import GovernanceModel

SEEDS = range(4)


def late_mean(scenario: govsim.Scenario, column: str, months: int = 24) -> float:
    return float(np.mean([govsim.run(scenario, seed=s).timeseries[column].tail(months).mean()
                          for s in SEEDS]))


def test_no_backchecks_and_a_high_bribe_keep_collusion_alive(small):
    lax = small.with_overrides({"performance.backcheck_rate": 0.0, "market.bribe_yuan": 5_000,
                                "market.integrity": 0.5})
    model = GovernanceModel(lax, seed=1)
    for _ in range(36):
        model.step()
    dishonesty = 1 - model.agencies.integrity
    # with nothing to fear, every agency colludes as much as its dishonesty allows
    assert np.all(model.agencies.collude > 0.9 * dishonesty)
    assert late_mean(lax, "collusion_rate") > 0.03


def test_frequent_backchecks_with_high_agency_fines_drive_false_passes_to_zero(small):
    strict = small.with_overrides({
        "performance.backcheck_rate": 0.3, "budget.backcheck_share": 0.3,
        "law.agency_fine_multiple": 10, "law.agency_liability": True,
        "market.integrity": 0.5})
    lax = strict.with_overrides({"performance.backcheck_rate": 0.0})
    assert late_mean(lax, "false_pass_rate") > 0.3
    assert late_mean(strict, "false_pass_rate", months=12) < 0.02
    assert late_mean(strict, "collusion_rate", months=12) < 0.005


def test_higher_enforcement_probability_raises_compliance(small):
    rates = [late_mean(small.with_overrides({"law.enforcement_probability": p}),
                       "compliance_rate") for p in (0.1, 0.5, 0.95)]
    assert rates[0] < rates[1] < rates[2]
    assert rates[2] - rates[0] > 0.05


def test_disclosure_lowers_illness(small):
    hidden = late_mean(small, "illness_cases")
    disclosed = late_mean(small.with_overrides({"participation.disclosure": True}),
                          "illness_cases")
    assert disclosed < 0.95 * hidden


def test_reporting_rewards_raise_complaints_per_illness(small):
    def complaints_per_case(s):
        return late_mean(s, "complaints") / late_mean(s, "illness_cases")

    rewarded = small.with_overrides({"participation.reward_yuan": 5_000})
    assert complaints_per_case(rewarded) > 1.2 * complaints_per_case(small)


def test_more_budget_buys_more_batches_and_finds_more(small):
    rich = small.with_overrides({"budget.annual_yuan": 800_000})
    assert late_mean(rich, "batches_tested") > 1.7 * late_mean(small, "batches_tested")


def test_self_paid_testing_breeds_collusion(small):
    """Duflo et al. 2013: testers chosen and paid by the tested firm report leniently."""
    government = small
    business = small.with_overrides({"procurement.payer": "business"})
    assert late_mean(business, "collusion_rate") > 1.5 * late_mean(government, "collusion_rate")
    assert late_mean(business, "budget_spent") < 0.1 * late_mean(government, "budget_spent")


def test_instability_lowers_regulator_capacity(small):
    stable = small.with_overrides({"system.stability": 1.0})
    shaky = small.with_overrides({"system.stability": 0.0})
    assert late_mean(stable, "regulator_capacity", months=36) == 1.0
    assert late_mean(shaky, "regulator_capacity", months=36) < 0.95
    assert late_mean(shaky, "inspections", 36) < late_mean(stable, "inspections", 36)


def test_budget_cut_mid_run_cuts_spending_and_is_logged(small):
    half = small.budget.annual_yuan / 2
    cut = small.with_overrides({"timeline": [{"month": 13, "set": {"budget.annual_yuan": half},
                                              "note": "budget cut"}]})
    result = govsim.run(cut, seed=1)
    ts = result.timeseries
    before = ts.loc[ts.step < 13, "budget_spent"].mean()
    after = ts.loc[ts.step >= 13, "budget_spent"].mean()
    assert after < 0.55 * before
    assert any("budget cut" in text for _, text in result.events)


def test_blacklisting_removes_cheating_agencies_from_tenders(small):
    harsh = small.with_overrides({
        "performance.backcheck_rate": 0.5, "budget.backcheck_share": 0.5,
        "performance.blacklist": True, "performance.blacklist_threshold": 1,
        "market.integrity": 0.2, "market.n_agencies": 6})
    result = govsim.run(harsh, seed=2)
    assert result.timeseries["blacklisted_agencies"].max() >= 1
    assert any("blacklisted" in text for _, text in result.events)


def test_quality_weighted_tenders_pick_more_sensitive_agencies(small):
    cheap = small.with_overrides({"performance.quality_weight": 0.0})
    quality = small.with_overrides({"performance.quality_weight": 1.0})

    def contracted_sensitivity(s):
        m = GovernanceModel(s, seed=3)
        m.step()
        ag = m.agencies
        return float((ag.quota * ag.sensitivity).sum() / ag.quota.sum())

    assert contracted_sensitivity(quality) > contracted_sensitivity(cheap)
