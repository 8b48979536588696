"""The compiled loops of the phases (govsim.jit) give the same numbers, bit for bit, as the
numpy code they replaced.

Each test keeps the replaced numpy code as the reference and runs both on copies of a real
model caught just before the phase, so both start from the same state and the same random
generator, and compares everything the phase touches.
"""

from __future__ import annotations

import copy
from dataclasses import fields

import numpy as np
import pytest

from govsim import metrics
from govsim import model as model_module
from govsim.model import GovernanceModel
from govsim.phases import inspections, production, reports, sampling
from govsim.phases.enforcement import batch_value_yuan, distinct_businesses, publish
from govsim.phases.grading import FAILED_SAMPLE_POINTS, note_record
from govsim.state import SECTOR_NAMES, Batches


def state_before(phase: str, months: int = 12, seed: int = 3, **params) -> GovernanceModel:
    """A copy of the model as ``phase`` (a name in govsim.model) starts in month
    ``months + 1``."""
    model = GovernanceModel(seed=seed, **params)
    for _ in range(months):
        model.step()
    caught = []
    original = getattr(model_module, phase)

    def catch(m, *args):
        caught.append(copy.deepcopy(m))
        return original(m, *args)

    mp = pytest.MonkeyPatch()
    mp.setattr(model_module, phase, catch)
    try:
        model.step()
    finally:
        mp.undo()
    return caught[0]


def _arrays(obj) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)
            if isinstance(getattr(obj, f.name), np.ndarray)}


def assert_same(a: GovernanceModel, b: GovernanceModel) -> None:
    """Everything a phase may touch is equal, bit for bit and dtype for dtype."""
    for x, y in ((a.businesses, b.businesses), (a.agencies, b.agencies)):
        for name, value in _arrays(x).items():
            other = getattr(y, name)
            assert value.dtype == other.dtype, name
            assert np.array_equal(value, other), name
    assert a.tally.keys() == b.tally.keys()
    for key, value in a.tally.items():  # a Python float or a numpy one: the row has floats
        assert np.array_equal(value, b.tally[key], equal_nan=True), key
    kinds = set(a.seen._noted) | set(b.seen._noted)
    for kind in kinds:
        assert np.array_equal(a.seen.by_sector(kind), b.seen.by_sector(kind)), kind
    assert list(a.investigations) == list(b.investigations)
    assert a.rng.bit_generator.state == b.rng.bit_generator.state
    for x, y in ((a.arrived_reports, b.arrived_reports),
                 (a.tested_this_month, b.tested_this_month)):
        if x is not None:
            for name, value in _arrays(x).items():
                assert value.dtype == getattr(y, name).dtype, name
                assert np.array_equal(value, getattr(y, name)), name


def assert_changed(before: np.ndarray, after: np.ndarray) -> None:
    """The phase did something (so the comparison is not vacuous)."""
    assert not np.array_equal(before, after)


# --- reports: passes remembered, re-tests ---------------------------------------------

def _act_on_reports_numpy(model):
    """act_on_reports with passes, re-tests and peers' news as numpy code."""
    r = model.arrived_reports
    if r is None or len(r) == 0:
        return
    b = model.businesses
    passed = (~r.failed).nonzero()[0]
    who = r.business[passed]
    b.last_pass_month[who] = r.month if r.sampled is None else r.sampled[passed]
    b.last_pass_agency[who] = r.agency[passed]
    b.last_pass_false[who] = r.false_report[passed]
    b.last_pass_colluded[who] = r.colluded[passed]
    b.last_pass_unsafe[who] = r.unsafe[passed]
    b.last_pass_price[who] = r.price_yuan[passed]
    sc = model.params
    asks = r.failed & b.complying[r.business]
    draw = model.rng.random(len(r))
    clears = np.where(r.unsafe, draw >= sc.market.sensitivity_qualified,
                      draw < sc.market.specificity)
    r.retested = asks
    r.overturned = asks & clears
    fee = sc.law.retest_fee_yuan
    asked = np.count_nonzero(asks)
    overturned = np.count_nonzero(r.overturned)
    model.tally["retests_requested"] += asked
    model.tally["retests_overturned"] += overturned
    model.tally["retest_fees_business_yuan"] += fee * (asked - overturned)
    model.tally["retest_fees_agency_yuan"] += fee * overturned
    stands = r.failed & ~r.overturned
    model.seen.note("unsafe_sampled", r.business[r.unsafe])
    model.seen.note("unsafe_failed", r.business[r.unsafe & stands])
    stands = stands.nonzero()[0]
    model.tally["recalls"] += len(stands)
    if len(stands) == 0:
        return
    failed = r.business[stands]
    b.notified[failed] = True
    model.tally["recall_cost_yuan"] += float(batch_value_yuan(model, failed).sum())
    publish(model, distinct_businesses(failed), "sampling")
    note_record(model, failed, FAILED_SAMPLE_POINTS)
    b.followups_due[failed] = sc.system.followup_samples
    channel = [reports.FAILURE_CHANNEL[f] for f in r.followup[stands].tolist()]
    model.investigations.extend(zip(failed.tolist(), channel, strict=True))


@pytest.mark.parametrize(("seed", "params"), [
    (3, {}),
    (5, {"system__report_delay_months": 0}),
    (1, {"procurement__payer": "business"}),
    (2, {"participation__disclosure": True, "market__specificity": 0.8}),  # many failures
])
def test_reports_compiled_equal_numpy(seed, params):
    start = state_before("act_on_reports", seed=seed, **params)
    compiled, numpy_ = copy.deepcopy(start), copy.deepcopy(start)
    reports.act_on_reports(compiled)
    _act_on_reports_numpy(numpy_)
    assert_same(compiled, numpy_)
    assert_changed(start.businesses.last_pass_month, compiled.businesses.last_pass_month)
    if "market__specificity" in params:  # many false failures: re-tests overturn some
        assert compiled.arrived_reports.overturned.any()


def test_reports_joined_months_compiled_equal_numpy():
    """Several months' reports at once (the delay shortened): each pass keeps its month."""
    start = state_before("act_on_reports", seed=4, system__report_delay_months=2)
    start.arrived_reports = Batches.joined(
        [start.arrived_reports, start.tested_this_month])
    assert start.arrived_reports.sampled is not None
    compiled, numpy_ = copy.deepcopy(start), copy.deepcopy(start)
    reports.act_on_reports(compiled)
    _act_on_reports_numpy(numpy_)
    assert_same(compiled, numpy_)
    assert_changed(start.businesses.last_pass_month, compiled.businesses.last_pass_month)


# --- sampling: what agencies do with each batch ---------------------------------------

def _sample_and_test_numpy(model):
    """sample_and_test with the tests and their counts as numpy code."""
    if model.params.procurement.payer == "government":
        agency = sampling._agency_per_batch_contracted(model)
        model.rng.shuffle(agency)
        business, followup = sampling.plan_samples(model, len(agency))
    else:
        business, followup = sampling.plan_samples(
            model, sampling.monthly_batches_business_paid(model))
        agency = sampling._agency_chosen_by_business(model, business)
    rng, ag, b = model.rng, model.agencies, model.businesses
    n = len(business)
    unsafe = b.unsafe[business]
    if len(agency) < n:
        n = len(agency)
        business, unsafe, followup = business[:n], unsafe[:n], followup[:n]
    cutting = ~b.complying[business]
    offer = 1.0 if model.params.procurement.payer == "business" else \
        model.params.businesses.bribe_propensity
    offer_draw, collude_draw, shirk_draw, test_draw = rng.random((4, n))
    bribe_offered = cutting & (offer_draw < offer)
    colluded = bribe_offered & (collude_draw < ag.collude[agency])
    false_report = colluded | (shirk_draw < ag.shirk[agency])
    detects = np.where(unsafe, ag.sensitivity[agency], 1.0 - model.params.market.specificity)
    failed = (test_draw < detects) & ~false_report
    batches = Batches(month=model.steps, business=business, agency=agency, unsafe=unsafe,
                      failed=failed, false_report=false_report, colluded=colluded,
                      price_yuan=ag.price_yuan[agency], followup=followup,
                      retested=np.zeros(n, dtype=bool), overturned=np.zeros(n, dtype=bool))
    times = b.times_sampled
    np.add.at(times, batches.business, times.dtype.type(1))
    ag.tested = np.bincount(batches.agency, minlength=ag.count)
    model.tested_this_month = batches
    model.pending_reports.append(batches)
    paid_by = "budget_spent" if model.params.procurement.payer == "government" else \
        "fees_paid_by_business_yuan"
    model.tally[paid_by] += float(batches.price_yuan.sum())
    model.tally["batches_tested"] += len(batches)


@pytest.mark.parametrize(("seed", "params"), [
    (3, {}),
    (1, {"procurement__payer": "business"}),
    (2, {"businesses__bribe_propensity": 1.0, "market__integrity": 0.2}),  # many bought
])
def test_sampling_compiled_equals_numpy(seed, params):
    start = state_before("sample_and_test", seed=seed, **params)
    compiled, numpy_ = copy.deepcopy(start), copy.deepcopy(start)
    sampling.sample_and_test(compiled)
    _sample_and_test_numpy(numpy_)
    assert_same(compiled, numpy_)
    batches = compiled.tested_this_month
    assert batches is not start.tested_this_month and len(batches) > 0
    assert batches.false_report.any()
    assert_changed(start.businesses.times_sampled, compiled.businesses.times_sampled)
    if "businesses__bribe_propensity" in params:
        assert batches.colluded.any()


# --- metrics: the month's counts ------------------------------------------------------

def _compute_numpy(model):
    """metrics.compute with the counts as numpy code."""
    t = model.tally
    ag = model.agencies
    row = dict.fromkeys(metrics.COLUMNS, 0.0)
    row.update({key: float(t[key]) for key in metrics._TALLIED})
    row["step"] = model.steps
    reports = model.arrived_reports
    out = dict.fromkeys(metrics._REPORT_RATES, np.nan)
    n = 0 if reports is None else len(reports)
    out["batches_reported"] = float(n)
    if n:
        stands = reports.failed & ~reports.overturned
        out["sample_failure_rate"] = np.count_nonzero(stands) / n
        out["false_pass_rate"] = np.count_nonzero(reports.false_report) / n
        out["collusion_rate"] = np.count_nonzero(reports.colluded) / n
        sector = model.businesses.sector[reports.business]
        tested = np.bincount(sector, minlength=3)
        failed = np.bincount(sector, weights=stands, minlength=3)
        for s, name in enumerate(SECTOR_NAMES):
            if tested[s]:
                out[f"failure_rate_{name}"] = failed[s] / tested[s]
        model.report_history.append((int(np.count_nonzero(reports.unsafe)),
                                     int(np.count_nonzero(stands & reports.unsafe))))
    else:
        model.report_history.append((0, 0))
    unsafe, caught = map(sum, zip(*model.report_history, strict=True))
    out["detection_rate"] = caught / unsafe if unsafe else np.nan
    row.update(out)
    row.update(metrics._per_capita(model, row))
    row.update(metrics._costs(model, row))
    row["complaints_followed_share"] = float(t.get("complaints_followed_share", np.nan))
    row["public_trust"] = float(model.consumers.trust.sum() / model.consumers.count)
    open_ = ag.open_to_bid(model.steps)
    active = ag.score[open_ & ~ag.outside]
    row["agency_score_mean"] = float(active.sum() / len(active)) if len(active) else np.nan
    row["false_reports_found"] = float(model.last_false_found.sum())
    row["never_sampled_share"] = float(np.count_nonzero(model.businesses.times_sampled == 0)
                                       / model.businesses.count)
    row["annual_budget_yuan"] = float(t["annual_budget_yuan"])
    row["regulator_capacity"] = model.regulator.capacity
    row["contracted_agencies"] = float(np.count_nonzero(ag.tested))
    row["outside_agencies_contracted"] = float(np.count_nonzero(ag.tested[ag.outside]))
    row["blacklisted_agencies"] = float(len(open_) - np.count_nonzero(open_))
    return row


@pytest.mark.parametrize("case", ["default", "no reports", "blacklisted", "outside"])
def test_metrics_compiled_equal_numpy(case):
    model = GovernanceModel(seed=3, market__specificity=0.9)
    for _ in range(12):
        model.step()
    if case == "no reports":
        model.arrived_reports = None
    elif case == "blacklisted":
        model.agencies.blacklisted_until[:2] = model.steps + 3
        model.last_false_found[1] = 2
    elif case == "outside":
        model.agencies.tested[model.agencies.outside] = 4
    compiled, numpy_ = copy.deepcopy(model), copy.deepcopy(model)
    row, expected = metrics.compute(compiled), _compute_numpy(numpy_)
    assert list(row) == list(expected)
    for key, value in row.items():  # bit for bit (Python or numpy floats alike)
        assert isinstance(value, float | int), key
        assert np.array_equal(value, expected[key], equal_nan=True), key
    assert compiled.report_history == numpy_.report_history
    assert case == "no reports" or row["sample_failure_rate"] > 0
    assert case != "blacklisted" or row["blacklisted_agencies"] == 2.0
    assert case != "outside" or row["outside_agencies_contracted"] > 0


# --- inspections: who is found at fault -------------------------------------------------

def _findings_numpy(model, inspected):
    b = model.businesses
    cutting = ~b.complying[inspected]
    seen = model.rng.random(len(inspected)) < model.params.system.inspection_sensitivity
    return inspected[(cutting | b.unsafe[inspected]) & seen], inspected[cutting & seen]


@pytest.mark.parametrize("phase", ["follow_up_complaints", "inspect_routinely"])
def test_inspections_compiled_equal_numpy(phase, monkeypatch):
    start = state_before(phase, seed=3, system__inspection_sensitivity=0.7)
    compiled, numpy_ = copy.deepcopy(start), copy.deepcopy(start)
    found = []
    original = inspections._findings

    def keep(model, inspected):
        found.append(original(model, inspected))
        return found[-1]

    monkeypatch.setattr(inspections, "_findings", keep)
    getattr(inspections, phase)(compiled)
    monkeypatch.setattr(inspections, "_findings", _findings_numpy)
    getattr(inspections, phase)(numpy_)
    assert_same(compiled, numpy_)
    (at_fault, cutters), = found
    assert len(at_fault) >= len(cutters) > 0
    assert at_fault.dtype == cutters.dtype == np.int64
    assert_changed(start.businesses.caught_by_inspection, compiled.businesses.caught_by_inspection)


# --- production: unsafe batches ---------------------------------------------------------

def _produce_numpy(model):
    b = model.businesses
    hazard = np.where(b.complying, b.hazard_comply, b.hazard_cut)
    b.unsafe = model.rng.random(b.count) < hazard
    model.tally["compliance_rate"] = np.count_nonzero(b.complying) / b.count
    model.tally["unsafe_share"] = np.count_nonzero(b.unsafe) / b.count


def test_production_compiled_equals_numpy():
    start = state_before("produce", seed=3)
    compiled, numpy_ = copy.deepcopy(start), copy.deepcopy(start)
    production.produce(compiled)
    _produce_numpy(numpy_)
    assert_same(compiled, numpy_)
    for key in ("compliance_rate", "unsafe_share"):
        assert compiled.tally[key] == numpy_.tally[key]
    assert 0 < compiled.tally["compliance_rate"] < 1
    assert_changed(start.businesses.unsafe, compiled.businesses.unsafe)
