"""Calibration against public figures (docs/ODD.md, section 8)."""

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


def test_share_of_the_ill_who_complain_matches_the_survey(baseline):
    """National consumer association survey: 17.8% complain to an authority."""
    frames = [govsim.run(baseline, seed=s).timeseries.tail(24) for s in range(5)]
    share = sum(f.complaints.sum() for f in frames) / sum(f.illness_cases.sum() for f in frames)
    assert 0.15 <= share <= 0.21


def test_catering_fails_more_and_staples_below_one_percent(baseline):
    """Catering fails at about twice the overall rate nationally; staples below 1%."""
    from govsim.model import GovernanceModel

    tested, failed = np.zeros(3), np.zeros(3)
    for seed in range(6):
        model = GovernanceModel(baseline, seed=seed)
        for month in range(baseline.run.months):
            model.step()
            reports = model.arrived_reports
            if month >= 24 and reports is not None:
                sector = model.businesses.sector[reports.business]
                tested += np.bincount(sector, minlength=3)
                failed += np.bincount(sector, weights=reports.failed, minlength=3)
    rate = failed / tested
    overall = failed.sum() / tested.sum()
    catering, _, producer = rate
    assert catering > 1.3 * overall
    assert producer < 0.01
