"""The bundled cures differ from the baseline the way their comments say."""

from __future__ import annotations

import numpy as np
import pytest

import govsim
from govsim.scenario import bundled_scenarios

SEEDS = range(4)


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict[str, float]]:
    """Mean of the last 24 months over 4 seeds, per bundled scenario (5,000 consumers)."""
    out = {}
    for name, path in bundled_scenarios().items():
        scenario = govsim.Scenario.load(path).with_overrides({"consumers.count": 5_000})
        frames = [govsim.run(scenario, seed=s).timeseries.tail(24) for s in SEEDS]
        out[name] = {k: float(np.mean([f[k].mean() for f in frames])) for k in frames[0]}
    return out


def test_stronger_law_raises_compliance_and_cuts_illness(outcomes):
    base, cure = outcomes["baseline"], outcomes["stronger_law"]
    assert cure["compliance_rate"] > base["compliance_rate"] + 0.03
    # only illness from businesses' unsafe food can fall; other foodborne illness stays
    assert cure["illness_from_businesses"] < 0.9 * base["illness_from_businesses"]


def test_more_budget_reaches_more_batches(outcomes):
    base, cure = outcomes["baseline"], outcomes["more_budget"]
    assert cure["batches_tested"] > 1.25 * base["batches_tested"]
    assert cure["budget_spent"] > 1.25 * base["budget_spent"]


def test_performance_management_makes_reports_honest_at_the_cost_of_batches(outcomes):
    base, cure = outcomes["baseline"], outcomes["performance_management"]
    assert cure["false_pass_rate"] < 0.25 * base["false_pass_rate"]
    assert cure["detection_rate"] > base["detection_rate"] + 0.1
    assert cure["batches_tested"] < base["batches_tested"]


def test_agency_market_buys_more_batches_with_better_agencies(outcomes):
    base, cure = outcomes["baseline"], outcomes["agency_market"]
    assert cure["batches_tested"] > base["batches_tested"]
    assert cure["detection_rate"] > base["detection_rate"]


def test_public_participation_raises_compliance_and_trust(outcomes):
    base, cure = outcomes["baseline"], outcomes["public_participation"]
    assert cure["compliance_rate"] > base["compliance_rate"] + 0.05
    assert cure["public_trust"] > base["public_trust"] + 0.02
    assert cure["complaints"] / cure["illness_cases"] > base["complaints"] / base["illness_cases"]


def test_collaborative_governance_beats_every_single_cure(outcomes):
    best_single = max(outcomes[n]["compliance_rate"] for n in outcomes
                      if n not in ("baseline", "collaborative"))
    assert outcomes["collaborative"]["compliance_rate"] > best_single
    assert outcomes["collaborative"]["illness_from_businesses"] < min(
        outcomes[n]["illness_from_businesses"] for n in outcomes if n != "collaborative")
