"""Policy timelines: dated changes in scenario files, the CLI and the model."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd
import pytest
from test_cli import govsim as cli

import govsim
from govsim.model import GovernanceModel
from govsim.phases.procurement import rescale_quotas
from govsim.scenario import ScenarioError
from govsim.windows import PHASE_OUTCOMES


@pytest.fixture
def tiny(baseline) -> govsim.Scenario:
    return baseline.with_overrides({"consumers.count": 2_000, "businesses.count": 300,
                                    "run.months": 24})


def crackdown(month: int, **extra) -> dict:
    return {"timeline": [{"month": month, "note": "crackdown",
                          "set": {"law.enforcement_probability": 0.95,
                                  "law.business_fine_yuan": 150_000.0}, **extra}]}


def test_a_change_at_month_m_leaves_earlier_months_identical(tiny):
    plain = govsim.run(tiny, seed=4).timeseries
    changed = govsim.run(tiny.with_overrides(crackdown(10)), seed=4).timeseries
    pd.testing.assert_frame_equal(plain[plain.step < 10], changed[changed.step < 10])
    assert not plain[plain.step >= 10].equals(changed[changed.step >= 10])


def test_the_change_is_in_force_from_its_month_and_logged(tiny):
    model = GovernanceModel(tiny.with_overrides(crackdown(10)), seed=1)
    for _ in range(9):
        model.step()
    assert model.params.law.enforcement_probability == 0.5
    model.step()
    assert model.params.law.enforcement_probability == 0.95
    texts = [t for m, t in model.events if m == 10]
    assert "enforcement probability 50% -> 95%; business fine yuan 50,000 -> 150,000 " \
           "(crackdown)" in texts


def test_a_change_with_a_length_is_undone_after_it(tiny):
    model = GovernanceModel(tiny.with_overrides(crackdown(5, length=6)), seed=1)
    seen = []
    for _ in range(14):
        model.step()
        seen.append(model.params.law.enforcement_probability)
    assert seen[3] == 0.5 and seen[4] == 0.95 and seen[9] == 0.95 and seen[10] == 0.5
    assert any("(end of crackdown)" in t for m, t in model.events if m == 11)


def _enforcement_by_month(scenario, months: int = 9) -> list[float]:
    return [scenario.at(m).law.enforcement_probability for m in range(1, months + 1)]


def _changes(*changes: tuple[int, int | None, float], **also) -> dict:
    """Timeline entries ``(month, length, enforcement)``, with ``also`` set by the first."""
    entries = []
    for i, (month, length, value) in enumerate(changes):
        entry = {"month": month, "note": f"change {i}",
                 "set": {"law.enforcement_probability": value, **(also if i == 0 else {})}}
        entries.append(entry | ({"length": length} if length else {}))
    return {"timeline": entries}


def test_the_end_of_a_change_does_not_undo_a_later_lasting_change(tiny):
    scenario = tiny.with_overrides(_changes((3, 4, 0.9), (5, None, 0.7)))
    assert _enforcement_by_month(scenario) == [0.5, 0.5, 0.9, 0.9, 0.7, 0.7, 0.7, 0.7, 0.7]
    assert [(s.month, s.ends) for s in scenario.steps()] == [(3, False), (5, False)]
    model = GovernanceModel(scenario, seed=1)
    seen = []
    for _ in range(9):
        model.step()
        seen.append(model.params.law.enforcement_probability)
    assert seen == _enforcement_by_month(scenario)
    from govsim.windows import endings

    assert endings(scenario) == []  # the first change never ends: the second took over


def test_the_end_of_a_change_gives_back_only_the_fields_no_later_change_set(tiny):
    scenario = tiny.with_overrides(_changes((3, 4, 0.9), (5, None, 0.7),
                                            **{"law.business_fine_yuan": 90_000.0}))
    assert _enforcement_by_month(scenario)[6:] == [0.7, 0.7, 0.7]
    assert [scenario.at(m).law.business_fine_yuan for m in (6, 7)] == [90_000.0, 50_000.0]
    end = scenario.steps()[-1]
    assert (end.month, end.ends, end.values) == (7, True, {"law.business_fine_yuan": 50_000.0})
    from govsim.windows import endings

    assert endings(scenario) == [("change 0", 3, 7)]


@pytest.mark.parametrize("changes, expected", [
    # a shorter change inside a longer one: back to the longer one's value, then the base
    (((3, 6, 0.9), (4, 2, 0.7)), [0.5, 0.5, 0.9, 0.7, 0.7, 0.9, 0.9, 0.9, 0.5]),
    # an earlier change ends while a later one holds the field: the later one's end goes
    # back to the scenario's own value, not to the earlier change's, which has ended
    (((1, 5, 0.8), (3, 4, 0.9)), [0.8, 0.8, 0.9, 0.9, 0.9, 0.9, 0.5, 0.5, 0.5]),
    # a lasting change before a temporary one is what its end goes back to
    (((2, None, 0.8), (3, 2, 0.9)), [0.5, 0.8, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]),
    # no overlap: each end goes back to the value just before its change
    (((2, 2, 0.8), (5, 2, 0.9)), [0.5, 0.8, 0.8, 0.5, 0.9, 0.9, 0.5, 0.5, 0.5]),
])
def test_each_field_has_the_value_of_the_latest_change_in_force(tiny, changes, expected):
    assert _enforcement_by_month(tiny.with_overrides(_changes(*changes))) == expected


def test_a_budget_change_gives_the_numbers_of_the_old_budget_shock(tiny):
    # The old mechanism, reproduced here: at the end of month m-1 the budget was multiplied
    # and running contracts rescaled. The timeline change applies at the start of month m.
    month, factor = 9, 0.4
    old = GovernanceModel(tiny, seed=7)
    for _ in range(tiny.run.months):
        old.step()
        if old.steps == month - 1:
            old.regulator.annual_budget_yuan *= factor
            rescale_quotas(old)
    new_budget = tiny.budget.annual_yuan * factor
    scenario = tiny.with_overrides({"timeline": [{"month": month, "note": "budget cut",
                                                  "set": {"budget.annual_yuan": new_budget}}]})
    new = govsim.run(scenario, seed=7).timeseries
    old_frame = old.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    for column in ("compliance_rate", "budget_spent", "batches_tested", "illness_cases",
                   "annual_budget_yuan", "false_pass_rate"):
        np.testing.assert_array_equal(old_frame[column].to_numpy(), new[column].to_numpy(),
                                      err_msg=column)
    assert new.loc[new.step >= month, "budget_spent"].mean() < \
        0.6 * new.loc[new.step < month, "budget_spent"].mean()


def test_timeline_fields_can_be_nested_or_dotted(tiny):
    nested = tiny.with_overrides({"timeline": [
        {"month": 3, "set": {"law": {"enforcement_probability": 0.9}}}]})
    assert nested.timeline[0].set == {"law.enforcement_probability": 0.9}
    assert nested.at(2).law.enforcement_probability == 0.5
    assert nested.at(3).law.enforcement_probability == 0.9


def test_sweeps_vary_named_changes_by_dotted_names(tiny):
    named = tiny.with_overrides(crackdown(5, length=6, name="crackdown"))
    moved = named.with_overrides({"timeline.crackdown.month": 8,
                                  "timeline.crackdown.length": 12,
                                  "timeline.crackdown.set.law.enforcement_probability": 0.7})
    steps = moved.steps()
    assert [(s.month, s.values["law.enforcement_probability"]) for s in steps] == \
        [(8, 0.7), (20, 0.5)]
    with pytest.raises(ScenarioError, match="no change named 'purge'"):
        named.with_overrides({"timeline.purge.month": 3})
    with pytest.raises(ScenarioError, match="length 30 ends at month 35"):
        named.with_overrides({"timeline.crackdown.length": 30})


@pytest.mark.parametrize("at, expected", [
    ("30:law.enforcement_probability=0.9", "month 30 is after the run's last month (24)"),
    ("5:consumers.count=500", "consumers.count cannot change within a run"),
    ("5:consumers.initial_trust=0.3", "consumers.initial_trust cannot change within a run"),
    ("5:participation.network=random", "participation.network cannot change within a run"),
    ("5:market.n_agencies=8", "market.n_agencies cannot change within a run"),
    ("5:law.enforcement_probability=1.5", "law.enforcement_probability = 1.5 is not allowed"),
    ("5:law.enforcment_probability=0.9", "law.enforcment_probability is not a known field"),
    ("5:law.business_fine_yuan=lots", "law.business_fine_yuan = 'lots' is not allowed"),
    ("x:law.business_fine_yuan=1", "expected MONTH:FIELD=VALUE"),
    # a Unicode digit passes str.isdigit() but not int()
    ("\u00b2:law.enforcement_probability=0.9", "expected MONTH:FIELD=VALUE"),
    ("9" * 5000 + ":law.enforcement_probability=0.9", "expected MONTH:FIELD=VALUE"),
    # the message names --at and its form, not --set
    ("3:law.enforcement_probability", "--at 3:law.enforcement_probability: expected "
                                      "MONTH:FIELD=VALUE"),
    ("3:=0.9", "--at 3:=0.9: expected MONTH:FIELD=VALUE"),
])
def test_bad_timeline_changes_from_the_command_line_exit_2(tmp_path, at, expected):
    done = cli("run", "baseline", "--months", "24", "--set", "consumers.count=500",
               "--at", at, "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "--set" not in done.stderr


@pytest.mark.parametrize("table, expected", [
    ('month = 0\nset = { "law.enforcement_probability" = 0.9 }',
     "timeline[0].month = 0 is not allowed"),
    ('month = 3\nset = { "businesses.initial_compliance" = 0.9 }',
     "businesses.initial_compliance cannot change within a run"),
    ('month = 3\nset = { "law.enforcement_probability" = 0.9 }\nwhen = 4',
     "timeline[0].when is not a known field; allowed in [timeline]: month, set"),
    ('month = 3\nset = { "law.enforcement_probability" = 0.9 }\nlength = 30',
     "length 30 ends at month 33"),
])
def test_bad_timeline_in_a_file_exits_2_naming_the_file(tmp_path, table, expected):
    path = tmp_path / "bad.toml"
    path.write_text(f"[run]\nmonths = 12\n[consumers]\ncount = 500\n\n[[timeline]]\n{table}\n")
    done = cli("run", str(path), "--out", str(tmp_path / "o"))
    assert done.returncode == 2, done.stderr
    assert str(path) in done.stderr and expected in done.stderr, done.stderr


def test_old_budget_shock_fields_say_what_replaced_them(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text("[budget]\nshock_month = 13\nshock_factor = 0.5\n")
    done = cli("run", str(path))
    assert done.returncode == 2
    assert "budget.shock_month: the budget shock is now a timeline change" in done.stderr


def test_run_with_at_applies_the_change_and_records_it(tmp_path):
    out = tmp_path / "o"
    done = cli("run", "baseline", "--months", "12", "--seed", "2", "--set",
               "consumers.count=1000", "--at", "6:law.enforcement_probability=0.9",
               "--out", str(out))
    assert done.returncode == 0, done.stderr
    events = json.loads((out / "summary.json").read_text())["events"]
    assert "month 6: enforcement probability 50% -> 90% (--at)" in events


def _write_small(tmp_path, name: str, body: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\n[run]\nmonths = 24\n[consumers]\ncount = 1000\n'
                    f"[businesses]\ncount = 300\n{body}")
    return str(path)


def test_compare_report_marks_the_changes_and_shows_phases_and_persistence(tmp_path):
    from govsim import compare
    from govsim.compare.report import render

    base = _write_small(tmp_path, "base", "")
    crack = _write_small(tmp_path, "crack", '[[timeline]]\nmonth = 7\nlength = 8\n'
                         'note = "short crackdown"\n'
                         'set = { "law.enforcement_probability" = 1.0, '
                         '"law.business_fine_yuan" = 200000.0 }\n')
    c = compare.compare(compare.plan([crack], baseline=base, replicates=2))
    files = render(c, tmp_path / "report")
    md, html = files["report.md"], files["report.html"]
    assert files["timeline.png"][:8] == b"\x89PNG\r\n\x1a\n"
    for text in (md, html):
        assert "Policy timelines" in text
        assert "month 7: short crackdown" in text and "month 15: end of short crackdown" in text
        assert "before (months 1-6)" in text and "short crackdown (months 7-14)" in text
        assert "after short crackdown (months 15-24)" in text
        assert "Persistence after short crackdown (months 7-14): compliance" in text


def test_markers_sit_between_the_last_month_without_and_the_first_with_a_change(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from govsim.windows import draw_markers

    fig, ax = plt.subplots()
    draw_markers(ax, tiny.with_overrides(crackdown(10, length=6)))
    xs = sorted(line.get_xdata()[0] for line in ax.get_lines())
    labels = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert xs == [9.5, 15.5] and labels == ["crackdown", "end of crackdown"]


def test_persistence_counts_months_until_back_in_the_pre_change_band(tiny):
    from govsim.windows import persistence

    scenario = tiny.with_overrides(crackdown(7, length=6))  # months 7-12, ends at 13
    level = [0.80, 0.81, 0.79, 0.80, 0.81, 0.79]
    during = [0.85, 0.88, 0.90, 0.91, 0.92, 0.93]
    after = [0.90, 0.86, 0.84, 0.80, 0.81, 0.80, 0.79, 0.80, 0.81, 0.80, 0.80, 0.80]
    runs = pd.DataFrame({"step": range(1, 25), "compliance_rate": level + during + after})
    (found,) = persistence(runs, scenario)
    assert (found.start, found.end, found.left, found.months) == (7, 13, True, 3)
    stuck = runs.assign(compliance_rate=level + during + [0.9] * 12)
    assert persistence(stuck, scenario)[0].text == "did not return within the run"


def _paired_runs(effect: list[float], drift: float = 0.0, replicates: int = 6):
    """A baseline drifting by ``drift`` a month and a scenario ``effect[month - 1]`` above
    it, both with the same per-replicate noise (paired seeds) plus a little of their own."""
    rng = np.random.default_rng(3)
    months = len(effect)
    rows = []
    for r in range(replicates):
        shared = rng.normal(0.0, 0.01, months)
        for name, extra in (("baseline", np.zeros(months)), ("cure", np.array(effect))):
            own = rng.normal(0.0, 0.002, months) if name == "cure" else 0.0
            values = 0.80 - drift * np.arange(months) + shared + extra + own
            rows += [{"scenario": name, "replicate": r, "step": m + 1,
                      "compliance_rate": v} for m, v in enumerate(values)]
    runs = pd.DataFrame(rows)
    for column, _, _ in PHASE_OUTCOMES:  # the phase table's other outcomes: flat
        if column not in runs:
            runs[column] = 1.0
    return runs[runs.scenario == "cure"], runs[runs.scenario == "baseline"]


def test_paired_persistence_counts_months_until_the_difference_from_the_baseline_is_noise(
        tiny):
    from govsim.windows import paired_differences, paired_persistence

    scenario = tiny.with_overrides(crackdown(7, length=6))  # months 7-12, ends at 13
    effect = [0.0] * 6 + [0.05] * 6 + [0.05, 0.04, 0.03] + [0.0] * 9
    cure, base = _paired_runs(effect)
    (found,) = paired_persistence(paired_differences(cure, base, ["compliance_rate"]),
                                  scenario)
    assert (found.start, found.end, found.left, found.months) == (7, 13, True, 3)
    assert found.text == "within noise of the baseline after 3 months"


def test_a_lasting_effect_on_a_drifting_baseline_is_not_called_gone(tiny):
    # the baseline drifts down; the cure stays 3 points above it after the change ends. Its
    # own pre-change band is reached again, but the effect has not gone
    from govsim.windows import paired_persistence_lines, persistence

    scenario = tiny.with_overrides(crackdown(7, length=6))
    cure, base = _paired_runs([0.0] * 6 + [0.03] * 18, drift=0.003)
    assert persistence(cure, scenario)[0].months is not None  # "back within its band"
    (line,) = paired_persistence_lines(cure, base, scenario)
    assert "still significantly different from baseline at the end of the run" in line
    assert "+3.0 pp" in line


def test_the_compare_phase_table_shows_each_windows_difference_from_the_baseline(tiny):
    from govsim.windows import phase_rows

    scenario = tiny.with_overrides(crackdown(7, length=6))
    cure, base = _paired_runs([0.0] * 6 + [0.05] * 6 + [0.0] * 12)
    rows = phase_rows(cure, scenario, base, "baseline")
    label = rows.index(next(r for r in rows if r[0] == "Businesses complying"))
    difference = rows[label + 1]
    assert difference[0].strip() == "difference from baseline"
    assert difference[1].startswith("+0.0 pp") and difference[2].startswith("+5.")


def test_experiments_vary_named_timeline_changes_and_refuse_unknown_ones():
    from govsim.sweep.experiment import (
        ExperimentError,
        experiment_from_dict,
        load_experiment,
        prepare,
        resolve_experiment,
    )

    bundled = prepare(load_experiment(resolve_experiment("crackdown_persistence")))
    assert "timeline.crackdown.length" in bundled.names
    data = {"scenario": "crackdown_then_relax", "design": "grid", "name": "x",
            "parameters": {"timeline.purge.length": {"levels": [6, 12]}}}
    with pytest.raises(ExperimentError, match="timeline.purge.length"):
        prepare(experiment_from_dict(data))
    data["parameters"] = {"timeline.crackdown.length": {"levels": [6, 80]}}
    with pytest.raises(ExperimentError, match="length 80 ends at month 93"):
        prepare(experiment_from_dict(data))



def _timeline_grid(months: int, parameters: dict) -> list[dict]:
    """The design points of a grid over crackdown_then_relax (a crackdown from month 13,
    24 months long), after every check that runs before a sweep starts."""
    from govsim.sweep.design import build_design
    from govsim.sweep.experiment import check_points, experiment_from_dict, prepare

    data = {"scenario": "crackdown_then_relax", "design": "grid", "name": "x",
            "months": months, "parameters": {n: {"levels": v} for n, v in parameters.items()}}
    prepared = prepare(experiment_from_dict(data))
    points = build_design(prepared).point_params()
    check_points(prepared, points)
    return points


def test_a_timeline_design_is_judged_point_by_point_not_level_by_level():
    from govsim.sweep.experiment import ExperimentError

    # month 20 with the scenario's length 24 would end after month 40, but every point of
    # the design ends by month 32
    points = _timeline_grid(40, {"timeline.crackdown.length": [6, 12],
                                 "timeline.crackdown.month": [2, 20]})
    assert len(points) == 4
    # the scenario's crackdown (months 13-36) does not fit 24 months; the varied lengths do
    assert len(_timeline_grid(24, {"timeline.crackdown.length": [6, 11]})) == 2
    with pytest.raises(ExperimentError, match=r"^experiment x: months = 24: timeline\[0\]"):
        _timeline_grid(24, {"timeline.crackdown.length": [24, 30]})
    with pytest.raises(ExperimentError, match="design point 3: .*ends at month 42") as caught:
        _timeline_grid(40, {"timeline.crackdown.length": [6, 12],
                            "timeline.crackdown.month": [2, 30]})
    assert "\n" not in str(caught.value)
    with pytest.raises(ExperimentError, match=r'"timeline.crackdown.length".levels: .*length 50'):
        _timeline_grid(40, {"timeline.crackdown.length": [6, 50],
                            "timeline.crackdown.month": [2, 20]})

def test_the_timeline_sweep_model_reports_persistence(tiny):
    from govsim.windows import SWEEP_OUTPUTS, timeline_model

    base = tiny.with_overrides(crackdown(5, length=6, name="crackdown"))
    out = timeline_model({"timeline.crackdown.length": 8}, 3, base, False)
    assert set(SWEEP_OUTPUTS) <= set(out) and out["returned"] in (0.0, 1.0)
    assert out["compliance_during"] > out["compliance_before"]


def _alternating(tiny, n: int) -> govsim.Scenario:
    """``n`` one-month changes, one a month, alternating enforcement between two values."""
    return tiny.with_overrides({"run.months": n + 1, "timeline": [
        {"month": m, "length": 1, "set": {"law.enforcement_probability": 0.9 - m % 2 / 10}}
        for m in range(1, n + 1)]})


def _count_work(monkeypatch, scenario: govsim.Scenario) -> dict[str, int]:
    """How often the timeline's report (summary.json's windows and persistence, the phase
    text) builds or validates a scenario, or expands the timeline."""
    from govsim import timeline, windows

    counts = {"validate": 0, "expand": 0}

    def counted(name, real):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(timeline, "validate", counted("validate", timeline.validate))
    monkeypatch.setattr(timeline, "expand", counted("expand", timeline.expand))
    months = scenario.run.months
    runs = pd.DataFrame({"step": range(1, months + 1),
                         **{c: np.linspace(0.7, 0.8, months) for c, _, _ in PHASE_OUTCOMES}})
    windows.summary(runs, scenario)
    windows.phase_text(runs, scenario)
    monkeypatch.undo()
    return counts


def test_a_long_timeline_is_reported_without_rebuilding_the_scenario_per_change(
        tiny, monkeypatch):
    # counts, not seconds: the report of a timeline re-validated the whole scenario for
    # every step (Scenario.at), so 999 changes took minutes after a run of seconds
    few, many = _alternating(tiny, 20), _alternating(tiny, 300)
    assert len(many.steps()) == 600
    counts = _count_work(monkeypatch, many)
    assert counts["validate"] == 0
    assert counts == _count_work(monkeypatch, few)  # as many expansions for 300 as for 20


def test_window_table_means_each_window_over_its_own_months_in_any_row_order(tiny):
    from govsim.windows import window_table, windows

    scenario = _alternating(tiny, 8)  # windows of one or two months
    rng = np.random.default_rng(5)
    runs = pd.DataFrame({"replicate": np.repeat([0, 1, 2], 9), "step": np.tile(range(1, 10), 3),
                         "compliance_rate": rng.random(27)}).sample(frac=1, random_state=2)
    table = window_table(runs, scenario, ["compliance_rate"])
    assert list(zip(table["first"], table["last"], strict=True)) == \
        [(w.first, w.last) for w in windows(scenario)]
    for row in table.itertuples():
        inside = runs[(runs.step >= row.first) & (runs.step <= row.last)]
        per_run = inside.groupby("replicate")["compliance_rate"].mean()
        assert row.mean == pytest.approx(per_run.mean()) and row.n == 3


def test_many_changes_are_marked_by_one_set_of_unlabelled_lines(tiny):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from govsim.windows import MANY_MARKERS, draw_markers, markers

    scenario = _alternating(tiny, MANY_MARKERS + 10)
    fig, ax = plt.subplots()
    draw_markers(ax, scenario)
    plt.close(fig)
    assert not ax.get_lines() and not ax.texts and len(ax.collections) == 1
    xs = [segment[0][0] for segment in ax.collections[0].get_segments()]
    assert xs == [month - 0.5 for month, _ in markers(scenario)]


def test_persistence_of_a_change_from_month_1_says_why_it_is_not_measured(tiny):
    from govsim.windows import persistence_lines

    scenario = tiny.with_overrides({"timeline": [
        {"month": 1, "length": 12, "note": "early", "set": {"law.enforcement_probability": 0.9}},
        {"month": 15, "length": 3, "note": "late", "set": {"law.business_fine_yuan": 9e4}}]})
    runs = pd.DataFrame({"step": range(1, 25), "compliance_rate": [0.8] * 24})
    early, late = persistence_lines(runs, scenario)
    assert early == ("Persistence after early (months 1-12): not measured: the change starts "
                     "in month 1, so there are no months before it to measure against")
    assert late.startswith("Persistence after late (months 15-17): compliance never left")


def test_a_shortened_report_delay_hands_over_the_reports_already_due(tiny):
    # delay 1 until month 4, then 0: at month 4 the reports of months 3 and 4 are both due
    scenario = tiny.with_overrides({"system.report_delay_months": 1, "timeline": [
        {"month": 4, "set": {"system.report_delay_months": 0}}]})
    model = GovernanceModel(scenario, seed=2)
    arrived = {}
    for _ in range(8):
        model.step()
        reports = model.arrived_reports
        arrived[model.steps] = (sorted(set(reports.sampled)) if reports.sampled is not None
                                else [reports.month])
    assert arrived[3] == [2] and arrived[4] == [3, 4] and arrived[5] == [5]
    assert all(arrived[m] == [m] for m in range(5, 9))  # no backlog left behind


def test_the_scenario_in_force_at_a_month_goes_on_as_the_original_would():
    from govsim.scenario import resolve

    original = govsim.Scenario.load(resolve("crackdown_then_relax"))  # 13-36, then back
    during = original.at(20)
    assert during.law.enforcement_probability == 0.9
    assert [(s.month, s.values["law.enforcement_probability"]) for s in during.steps()] == [
        (37, 0.5)]  # the crackdown still ends, back to the original law
    for month in (20, 36, 37, 60):
        assert during.at(month).flat() | {"timeline": None} == \
            original.at(month).flat() | {"timeline": None}, month


def test_numpy_and_whole_float_values_for_a_named_change_are_taken_as_plain_values():
    from govsim.scenario import resolve

    original = govsim.Scenario.load(resolve("crackdown_then_relax"))
    changed = original.with_overrides({  # as mesa.batch_run or a numpy grid passes them
        "timeline.crackdown.length": np.int64(6), "timeline.crackdown.month": 14.0,
        "timeline.crackdown.set.performance.blacklist_months": np.int64(24),
        "timeline.crackdown.set.participation.disclosure": np.True_})
    (change,) = changed.timeline
    assert (change.month, change.length) == (14, 6)
    assert change.set["performance.blacklist_months"] == 24
    assert change.set["participation.disclosure"] is True
    assert govsim.Scenario.from_dict(tomllib.loads(changed.to_toml())) == changed


def test_reports_without_delay_arrive_in_their_own_month_from_the_first(tiny):
    model = GovernanceModel(tiny.with_overrides({"system.report_delay_months": 0}), seed=2)
    for month in range(1, 4):
        model.step()
        assert model.arrived_reports.month == month and model.arrived_reports.sampled is None
