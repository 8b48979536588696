"""Calibration against public figures (MODEL.md, "Figures to calibrate against")."""

from __future__ import annotations

import numpy as np

import govsim
from govsim.scenario import bundled_scenarios


def test_baseline_failure_rate_matches_national_statistics(baseline):
    """National sampling failure rate 2019-2024: 2.3-3.0%; Guangdong 2023 about 2.2%."""
    rates = [govsim.run(baseline, seed=s).timeseries["sample_failure_rate"].tail(24).mean()
             for s in range(10)]
    assert 0.02 <= float(np.mean(rates)) <= 0.03


def batches_per_thousand_people_a_year(scenario: govsim.Scenario) -> float:
    ts = govsim.run(scenario, seed=0).timeseries.tail(24)
    return ts.batches_tested.mean() * 12 / scenario.consumers.population * 1_000


def test_funded_sampling_reaches_the_state_target():
    """State target: 4 batches per 1,000 people a year; the nation runs at about 5."""
    funded = govsim.Scenario.load(bundled_scenarios()["more_budget"])
    assert 4.0 <= batches_per_thousand_people_a_year(funded) <= 5.5


def test_baseline_budget_falls_short_of_the_target(baseline):
    assert batches_per_thousand_people_a_year(baseline) < 4.0
