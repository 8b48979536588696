"""Calibration: the baseline reproduces several public figures at once (docs/ODD.md, 8).

Each target is the mean over seeds 0-9 of the last 24 of 60 months. Which parameters were
fitted to which target is stated in the ODD; the rest are assumptions.
"""

from __future__ import annotations

import numpy as np
import pytest

import govsim
from govsim.scenario import bundled_scenarios

SEEDS = range(10)


def last_two_years(scenario: govsim.Scenario) -> list:
    return [govsim.run(scenario, seed=s).timeseries.tail(24) for s in SEEDS]


@pytest.fixture(scope="module")
def frames() -> list:
    return last_two_years(govsim.Scenario.load(bundled_scenarios()["baseline"]))


def mean_of(frames: list, column: str) -> float:
    return float(np.mean([f[column].mean() for f in frames]))


def test_official_failure_rate_matches_national_statistics(frames):
    """National sampling failure rate 2019-2024: 2.31-2.96% (SAMR); Guangdong 2023 ~2.2%."""
    assert 0.02 <= mean_of(frames, "sample_failure_rate") <= 0.03


def test_catering_fails_at_about_twice_the_overall_rate(frames):
    """Catering food fails at roughly twice the overall rate in the national bulletins."""
    ratio = mean_of(frames, "failure_rate_catering") / mean_of(frames, "sample_failure_rate")
    assert 1.7 <= ratio <= 2.5


def test_staples_fail_below_one_percent(frames):
    """Staples (grain, oil: the producers here) fail below 1% nationally."""
    assert mean_of(frames, "failure_rate_producer") < 0.01


def test_share_of_the_ill_who_complain_matches_the_survey(frames):
    """China Consumers' Association survey: 17.8% complain to an authority."""
    share = sum(f.complaints.sum() for f in frames) / sum(f.illness_cases.sum() for f in frames)
    assert 0.15 <= share <= 0.21


def test_foodborne_illness_lies_in_the_documented_band(frames):
    """5,000-15,000 episodes per 100,000 people a year (ODD, 8.2: above Li et al. 2022's
    ~1,100 for three pathogens alone, below the ~15% of people a year of the US estimate)."""
    per_year = 12 * mean_of(frames, "illness_per_100k")
    assert 5_000 <= per_year <= 15_000


def test_funded_sampling_reaches_the_state_target():
    """State target: 4 batches per 1,000 people a year; the nation samples about 5."""
    funded = last_two_years(govsim.Scenario.load(bundled_scenarios()["more_budget"]))
    assert 4.0 <= 12 * mean_of(funded, "batches_per_1000_people") <= 5.0


def test_baseline_budget_falls_short_of_the_target(frames):
    assert 12 * mean_of(frames, "batches_per_1000_people") < 4.0


def test_agency_capacity_does_not_cap_a_funded_plan_silently():
    """A budget for the state target buys it: no money is left unspent for lack of capacity."""
    funded = govsim.Scenario.load(bundled_scenarios()["more_budget"])
    result = govsim.run(funded, seed=0)
    assert result.timeseries.unspent_testing_yuan.max() == 0
