"""The real supervision channels, each acting on its own.

What a failed sample sets in motion (re-test, recall, bulletin, follow-ups, grade,
investigation), risk grades, beliefs learned from peers, the inspectors' finite time,
damages that are paid, traced illness clusters that back-check testers, outside agencies
when the local market empties, and honest (missing) report rates.
"""

from __future__ import annotations

import numpy as np

import govsim
from govsim.model import GovernanceModel
from govsim.phases import grading
from govsim.phases.learning import expected_loss_if_cutting
from govsim.phases.reports import act_on_reports
from govsim.state import CATERING, Batches


def batches_for(model: GovernanceModel, business, *, unsafe, failed, false_report=None,
                colluded=None, agency=0) -> Batches:
    n = len(business)
    zeros = np.zeros(n, dtype=bool)
    return Batches(month=model.steps, business=np.asarray(business, dtype=np.int64),
                   agency=np.full(n, agency), unsafe=np.asarray(unsafe),
                   failed=np.asarray(failed),
                   false_report=zeros if false_report is None else np.asarray(false_report),
                   colluded=zeros if colluded is None else np.asarray(colluded),
                   price_yuan=np.full(n, 500.0), followup=zeros.copy(),
                   retested=zeros.copy(), overturned=zeros.copy())


def months_of(scenario: govsim.Scenario, seeds=range(3), months: int = 24):
    return [govsim.run(scenario, seed=s).timeseries.tail(months) for s in seeds]


def test_a_failed_sample_sets_recall_bulletin_followups_grade_and_investigation(small):
    model = GovernanceModel(small, seed=1)
    model.step()
    cutter = int(np.flatnonzero(~model.businesses.complying)[0])
    demand, record = model.businesses.demand[cutter], model.businesses.record[cutter]
    model.arrived_reports = batches_for(model, [cutter], unsafe=[True], failed=[True])
    model.tally.clear()
    waiting = len(model.investigations)
    act_on_reports(model)
    b = model.businesses
    assert model.tally["recalls"] == 1 and model.tally["recall_cost_yuan"] > 0
    assert b.demand[cutter] < demand  # the bulletin told some customers
    assert b.followups_due[cutter] == small.system.followup_samples
    assert b.record[cutter] == record + grading.FAILED_SAMPLE_POINTS
    assert len(model.investigations) == waiting + 1
    assert model.tally["retests_requested"] == 0  # a corner-cutter knows better than to ask


def test_follow_up_samples_come_first_next_month(small):
    model = GovernanceModel(small, seed=2)
    model.step()
    owed = np.array([5, 17, 42])
    model.businesses.followups_due[owed] = 1
    model.step()
    tested = model.tested_this_month
    assert set(owed) <= set(tested.business[tested.followup])
    assert (model.businesses.followups_due[owed] == 0).all()


def test_a_false_failure_is_overturned_on_re_test_and_a_true_one_stands(small):
    sc = small.with_overrides({"market.specificity": 1.0, "market.sensitivity_qualified": 1.0})
    model = GovernanceModel(sc, seed=3)
    model.step()
    complier = np.flatnonzero(model.businesses.complying)[:2]
    model.arrived_reports = batches_for(model, complier, unsafe=[False, True],
                                        failed=[True, True])
    model.tally.clear()
    act_on_reports(model)
    reports = model.arrived_reports
    assert reports.retested.tolist() == [True, True]
    assert reports.overturned.tolist() == [True, False]
    assert model.tally["retest_fees_agency_yuan"] == sc.law.retest_fee_yuan
    assert model.tally["retest_fees_business_yuan"] == sc.law.retest_fee_yuan
    assert model.tally["recalls"] == 1


def test_a_record_of_failures_worsens_the_grade_and_raises_risk_based_sampling(small):
    sc = small.with_overrides({"system.sampling": "risk_based"})
    model = GovernanceModel(sc, seed=4)
    model.step()
    b = model.businesses
    catering = int(np.flatnonzero((b.sector == CATERING) & ~b.complying)[0])
    before = grading.sampling_chance(model, 100)[catering]
    loss_before = expected_loss_if_cutting(model, np.array([catering]))[0]
    grading.note_record(model, np.array([catering]), 2 * grading.FAILED_SAMPLE_POINTS)
    grading.grade_businesses(model)
    assert grading.GRADES[b.grade[catering]] == "D"
    assert grading.sampling_chance(model, 100)[catering] > before
    # the grade is public, so the business expects to be sampled more: cutting costs more
    assert expected_loss_if_cutting(model, np.array([catering]))[0] > loss_before


def test_finite_inspectors_cap_follow_ups_and_leave_a_queue(small):
    few = small.with_overrides({"system.inspectors": 1, "system.inspections_per_inspector": 5.0})
    many = small.with_overrides({"system.inspectors": 200})
    ts_few = govsim.run(few, seed=5).timeseries
    ts_many = govsim.run(many, seed=5).timeseries
    assert (ts_few.inspections <= 5).all()
    assert ts_few.inspection_queue.tail(12).mean() > 10
    assert ts_many.inspection_queue.tail(12).mean() < 1
    assert ts_many.complaints_followed_share.tail(12).mean() > \
        ts_few.complaints_followed_share.tail(12).mean()


def test_damages_paid_equal_the_claims_drawn(small):
    sc = small.with_overrides({"law.damages_claim_probability": 0.3,
                               "law.consumer_damages_yuan": 2_000})
    ts = govsim.run(sc, seed=6).timeseries
    assert ts.damages_claims.sum() > 0
    assert np.allclose(ts.damages_paid_yuan, ts.damages_claims * 2_000)
    assert (ts.businesses_hit_by_claims <= ts.damages_claims).all()
    none = govsim.run(small.with_overrides({"law.damages_claim_probability": 0.0}), seed=6)
    assert none.timeseries.damages_paid_yuan.sum() == 0


def test_a_traced_cluster_back_checks_the_pass_that_let_it_through(small):
    model = GovernanceModel(small.with_overrides({"performance.backcheck_sensitivity": 1.0}),
                            seed=7)
    model.step()
    b = model.businesses
    source = 11
    b.last_pass_month[source] = model.steps - 1
    b.last_pass_agency[source] = 2
    b.last_pass_false[source] = True
    b.last_pass_colluded[source] = True
    b.last_pass_unsafe[source] = True
    b.last_pass_price[source] = 500.0
    b.complaints_true[:] = 0
    b.complaints_true[source] = small.system.outbreak_complaints
    strikes = model.agencies.strikes[2]
    model.arrived_reports = None
    model.tally.clear()
    from govsim.phases.inspections import open_month
    from govsim.phases.performance import manage_performance
    open_month(model)
    manage_performance(model)
    assert model.tally["outbreak_backchecks"] == 1
    assert model.agencies.strikes[2] == strikes + 1
    assert model.last_false_found[2] == 1  # the agency learns from it
    assert model.tally["detected_by_outbreak"] == 1  # the bought pass convicts the business


def test_without_tracing_clusters_no_outbreak_back_checks(small):
    ts = govsim.run(small.with_overrides({"performance.trace_outbreaks": False}), seed=8)
    assert ts.timeseries.outbreak_backchecks.sum() == 0
    traced = govsim.run(small, seed=8).timeseries
    assert traced.clusters_traced.sum() > 0


def test_dishonest_testing_lowers_what_businesses_learn_of_detection(small):
    honest = small.with_overrides({"market.integrity": 1.0, "run.months": 36})
    lenient = small.with_overrides({"market.integrity": 0.1, "run.months": 36})
    beliefs = []
    for sc in (honest, lenient):
        model = GovernanceModel(sc, seed=9)
        for _ in range(36):
            model.step()
        beliefs.append(model.beliefs.fail_given_unsafe.mean())
    assert beliefs[1] < beliefs[0] - 0.15


def test_more_sampling_money_raises_compliance(small):
    none = small.with_overrides({"budget.annual_yuan": 0.0})
    lots = small.with_overrides({"budget.annual_yuan": 2_000_000.0})
    low = np.mean([f.compliance_rate.mean() for f in months_of(none)])
    high = np.mean([f.compliance_rate.mean() for f in months_of(lots)])
    assert high > low + 0.03


def test_an_emptied_market_brings_in_outside_agencies_and_testing_goes_on(small):
    """Blacklisting in a 4-agency market once left a run without testing for three years."""
    from govsim.scenario import bundled_scenarios

    strict = govsim.Scenario.load(bundled_scenarios()["performance_management"])
    strict = strict.with_overrides({"consumers.count": 2_000, "market.integrity": 0.4,
                                    "performance.blacklist_threshold": 1})
    result = govsim.run(strict, seed=0)
    ts = result.timeseries
    assert ts.blacklisted_agencies.max() >= 3
    assert ts.outside_agencies_contracted.max() >= 1
    assert any("from outside the district" in text for _, text in result.events)
    assert (ts.batches_tested > 0).all()
    stranded = govsim.run(strict.with_overrides({"market.outside_agencies": 0}), seed=0)
    assert (stranded.timeseries.batches_tested == 0).sum() > 12


def test_a_capacity_cap_is_an_event_not_silent(small):
    rich = small.with_overrides({"budget.annual_yuan": 5_000_000.0})
    result = govsim.run(rich, seed=1)
    assert result.timeseries.unspent_testing_yuan.iloc[0] > 0
    assert any("capacity is full" in text for _, text in result.events)


def test_report_rates_are_missing_when_nothing_is_reported(small):
    result = govsim.run(small.with_overrides({"budget.annual_yuan": 0.0}), seed=1)
    ts = result.timeseries
    assert ts.batches_reported.sum() == 0
    for column in ("sample_failure_rate", "false_pass_rate", "collusion_rate",
                   "detection_rate", "failure_rate_catering"):
        assert ts[column].isna().all(), column
        assert np.isnan(result.summary[column])


def test_the_first_month_has_reports_from_the_month_before_the_run(small):
    ts = govsim.run(small, seed=1).timeseries
    assert ts.batches_reported.iloc[0] > 0
    assert not ts.sample_failure_rate.isna().any()


def test_detections_by_channel_add_up(small):
    ts = govsim.run(small, seed=2).timeseries
    channels = [c for c in ts.columns if c.startswith("detected_by_")]
    assert len(channels) == 6
    assert np.allclose(ts[channels].sum(axis=1), ts.detected_violations)
    assert ts.detected_by_sampling.sum() > 0 and ts.detected_by_complaint.sum() > 0


def test_public_cost_is_the_sum_of_its_lines(small):
    ts = govsim.run(small.with_overrides({"participation.reward_yuan": 2_000}), seed=3).timeseries
    parts = ts.testing_fees_yuan + ts.backcheck_cost_yuan + ts.rewards_paid_yuan + \
        ts.inspection_cost_yuan
    assert np.allclose(ts.public_cost_yuan, parts)
    assert np.allclose(ts.budget_spent, ts.testing_fees_yuan + ts.backcheck_cost_yuan)
