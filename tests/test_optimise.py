"""govsim optimise: known optima and fronts found, resume after SIGKILL, executor
equivalence, the noise check, problem validation, and the report of a tiny real problem.

Toy models (govsim.optimise.toys) run in microseconds, so these tests time the machinery,
not the model; the one real-model test uses a tiny district (2,000 consumers, 300
businesses, 24 months).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

from govsim.cli import main
from govsim.optimise import load_problem, optimise
from govsim.optimise.driver import distributions, open_study, plan_batch
from govsim.optimise.evaluation import replicate_seeds
from govsim.optimise.problem import prepare
from govsim.optimise.toys import BOWL_OPTIMUM, _error
from govsim.scenario import Scenario
from govsim.sweep.executors import DaskExecutor, ProcessExecutor, SerialExecutor

FRONT = """
model = "govsim.optimise.toys:toy_front"
replicates = {replicates}
trials = {trials}
batch = 8
population = 16
seed = 7
reevaluate = {reevaluate}
front_max = 12
[fixed]
noise = {noise}
[levers]
x = {{ range = [0.0, 1.0] }}
y = {{ range = [0.0, 1.0] }}
[[objectives]]
output = "cost"
direction = "minimise"
[[objectives]]
output = "harm"
direction = "minimise"
"""

BOWL = """
model = "govsim.optimise.toys:toy_bowl"
replicates = 2
trials = {trials}
batch = 4
seed = 5
reevaluate = 4
front_max = 3
[fixed]
noise = 0.0
delay = {delay}
[levers]
x = {{ range = [0.0, 1.0] }}
y = {{ range = [0.0, 1.0] }}
[[objectives]]
output = "loss"
direction = "minimise"
[[constraints]]
output = "reach"
at_least = 1.2
"""


def write(tmp_path: Path, text: str, name: str = "problem.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def quiet(_line: str) -> None:
    return None


def trials_of(out: Path, name: str = "problem") -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{out / 'study.db'}")
    return study.get_trials(deepcopy=False)


# --- finding known answers -----------------------------------------------------------------


def test_two_objective_toy_front_is_found_within_tolerance(tmp_path):
    text = FRONT.format(replicates=1, trials=96, reevaluate=2, noise=0.0)
    problem = write(tmp_path, text.replace("population = 16", "population = 24"))
    result = optimise(problem, out=tmp_path / "out", executor=SerialExecutor(), echo=quiet)
    front = result.kept
    assert len(front) >= 5
    costs = np.array([c.figures["cost"] for c in front])
    harms = np.array([c.figures["harm"] for c in front])
    # the true front is harm = (1 - cost)^2 (y = 0); the points found lie near it ...
    gap = harms - (1 - costs) ** 2
    assert gap.mean() < 0.07 and gap.max() < 0.15
    # ... and the points found spread along it
    assert costs.max() - costs.min() > 0.5


def test_one_objective_toy_optimum_under_a_limit_is_found(tmp_path):
    problem = write(tmp_path, BOWL.format(trials=48, delay=0.0))
    result = optimise(problem, out=tmp_path / "out", executor=SerialExecutor(), echo=quiet)
    best = result.kept[0]
    assert best.figures["reach"] >= 1.2  # the limit holds on the re-evaluated figures
    assert best.figures["loss"] == pytest.approx(BOWL_OPTIMUM["loss"], abs=0.02)
    assert best.params["x"] == pytest.approx(BOWL_OPTIMUM["x"], abs=0.12)
    assert best.params["y"] == pytest.approx(BOWL_OPTIMUM["y"], abs=0.12)
    report = (tmp_path / "out" / "report.md").read_text()
    assert "The best mix found that meets reach >= 1.2 has loss" in report


def test_failing_runs_fail_their_trial_and_the_search_goes_on(tmp_path):
    text = BOWL.format(trials=16, delay=0.0).replace("delay = 0.0", "delay = 0.0\nfail_above = 0.6")
    lines: list[str] = []
    result = optimise(write(tmp_path, text), out=tmp_path / "out", executor=SerialExecutor(),
                      echo=lines.append)
    failed = [r for r in result.rows if r["state"] == "fail"]
    assert failed and all(r["x"] > 0.6 for r in failed)
    assert "is above fail_above" in failed[0]["error"]
    assert any("failed (first: ValueError: x = " in line for line in lines)
    assert len(result.rows) == 16
    assert result.kept and all(c.params["x"] <= 0.6 for c in result.kept)


# --- resume, executors ---------------------------------------------------------------------


def test_resume_after_sigkill_continues_to_the_requested_trials(tmp_path, capsys):
    problem = write(tmp_path, BOWL.format(trials=24, delay=0.05))
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "govsim.cli", "optimise", str(problem), "--workers", "1",
               "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if (out / "study.db").exists() and _complete(out) >= 6:
                break
            time.sleep(0.05)
        assert proc.poll() is None, f"ended before the kill: {proc.stderr.read()!r}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    at_kill = {t.number: t.values for t in trials_of(out)
               if t.state == optuna.trial.TrialState.COMPLETE}
    assert 6 <= len(at_kill) < 24

    # the same command without --resume refuses to touch the folder
    assert main(["optimise", str(problem), "--workers", "1", "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err

    assert main(["optimise", str(problem), "--workers", "1", "--out", str(out),
                 "--resume"]) == 0
    trials = trials_of(out)
    assert [t.number for t in trials] == list(range(24))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert all(trials[n].values == values for n, values in at_kill.items())

    # and it is the study an uninterrupted run gives (the sampler is seeded per batch)
    whole = optimise(problem, out=tmp_path / "whole", executor=SerialExecutor(), echo=quiet)
    assert [t.params for t in trials_of(tmp_path / "whole")] == [t.params for t in trials]
    assert whole.search.trials == 24


def test_a_batch_cut_short_between_trials_is_completed_as_planned(tmp_path):
    # A kill can come while a batch's candidates are being written: the study then holds
    # part of a batch. The resume completes it with the candidates it was planned with, so
    # the study is the uninterrupted one, every trial whole.
    problem = write(tmp_path, BOWL.format(trials=12, delay=0.0))
    optimise(problem, out=tmp_path / "whole", executor=SerialExecutor(), echo=quiet)
    optimise(problem, out=tmp_path / "cut", trials=4, executor=SerialExecutor(), echo=quiet)
    prepared = prepare(load_problem(problem))
    study = open_study(prepared.problem, tmp_path / "cut")
    planned = plan_batch(study, prepared.problem, distributions(prepared), study.get_trials(),
                         [], index=1, size=4)
    study.add_trial(planned[0])  # the kill came after the second candidate was written
    study.add_trial(planned[1])
    lines: list[str] = []
    optimise(problem, out=tmp_path / "cut", resume=True, executor=SerialExecutor(),
             echo=lines.append)
    assert "resuming: running again the 2 trials the interrupted session left" in lines
    cut, whole = trials_of(tmp_path / "cut"), trials_of(tmp_path / "whole")
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in cut)
    assert [(t.params, t.values) for t in cut] == [(t.params, t.values) for t in whole]


def _complete(out: Path) -> int:
    """Finished trials, read without writing (opening it with optuna would write its schema
    while the optimisation creates it)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{out / 'study.db'}?mode=ro",
                                                uri=True, timeout=5)) as db:
            return db.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'"
                              ).fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


@pytest.mark.slow
def test_local_workers_and_dask_local_give_identical_studies(tmp_path):
    problem = write(tmp_path, FRONT.format(replicates=2, trials=16, reevaluate=4, noise=0.1))
    local = optimise(problem, out=tmp_path / "local", executor=ProcessExecutor(2), echo=quiet)
    dask = optimise(problem, out=tmp_path / "dask", executor=DaskExecutor(local_workers=2),
                    echo=quiet)
    a, b = trials_of(tmp_path / "local"), trials_of(tmp_path / "dask")
    assert [(t.params, t.values, t.user_attrs) for t in a] == \
        [(t.params, t.values, t.user_attrs) for t in b]
    assert (tmp_path / "local" / "front.csv").read_text() == \
        (tmp_path / "dask" / "front.csv").read_text()
    assert local.search.trials == dask.search.trials == 16


# --- the noise check -----------------------------------------------------------------------


def test_noise_check_drops_a_point_planted_to_look_good_by_luck(tmp_path):
    text = FRONT.format(replicates=1, trials=8, reevaluate=64, noise=0.2)
    problem = write(tmp_path, text)
    seed = load_problem(problem).seed
    search_seed = replicate_seeds(seed, 1)[0]
    # A dominated mix (x = 0.5, y = 0.3: true harm 0.55) whose single search run drew an
    # error below -2.5 sd: its search harm is under 0.05, better than anything honest.
    lucky_y = next(y for y in np.linspace(0.3, 0.31, 20001)
                   if _error({"x": 0.5, "y": float(y)}, search_seed) < -2.5)
    lucky = {"x": 0.5, "y": float(lucky_y)}
    honest = {"x": 0.45, "y": 0.0}  # true harm 0.3025 at a lower cost: dominates the lucky one

    def plant(study):
        study.enqueue_trial(lucky)
        study.enqueue_trial(honest)

    result = optimise(problem, out=tmp_path / "out", executor=SerialExecutor(), echo=quiet,
                      setup=plant)
    by_params = {(c.params["x"], c.params["y"]): c for c in result.checked}
    planted = by_params[(lucky["x"], lucky["y"])]
    assert planted.search["harm"] < 0.05  # it was on the search's front ...
    assert not planted.kept  # ... and the fresh runs drop it
    assert "dominated" in planted.reason
    assert planted.figures["harm"] == pytest.approx(0.55, abs=0.1)
    assert by_params[(0.45, 0.0)].kept
    report = (tmp_path / "out" / "report.md").read_text()
    assert "DROPPED" in report and "were DROPPED" in report


# --- validation ----------------------------------------------------------------------------

REAL = """
scenario = "baseline"
months = 24
replicates = 1
trials = 4
batch = 4
seed = 3
reevaluate = 2
front_max = 2
[fixed]
"consumers.count" = 2000
"businesses.count" = 300
[levers]
"budget.annual_yuan" = { range = [200_000, 1_000_000], scale = "log" }
"participation.disclosure" = {}
[[objectives]]
output = "public_cost_yuan"
per = "year"
direction = "minimise"
[[constraints]]
output = "compliance_rate"
at_least = 0.5
"""


@pytest.mark.parametrize(("change", "expected"), [
    (('"participation.disclosure" = {}', '"participation.disclosur" = {}'),
     'levers."participation.disclosur": \'participation.disclosur\' is not a scenario field; '
     "did you mean participation.disclosure"),
    (('"participation.disclosure" = {}', '"participation.disclosure" = { range = [0, 1] }'),
     'levers."participation.disclosure".range: participation.disclosure is a bool field'),
    (("[200_000, 1_000_000]", "[0, 1_000_000]"),
     'levers."budget.annual_yuan": range = [0, 1e+06] with scale = \'log\': the range must '
     "be above 0"),
    (('output = "public_cost_yuan"', 'output = "public_cost"'),
     "objectives[0].output = 'public_cost' is not a figure of the model; did you mean "
     "public_cost_yuan"),
    (("at_least = 0.5", "at_least = 0.5\nat_most = 0.9"),
     "constraints[0]: give at_least = X or at_most = X (exactly one)"),
    (("at_least = 0.5", "at_least = nan"),
     "constraints[0].at_least = nan is not allowed: Input should be a finite number"),
    (("trials = 4", "trials = 0"), "trials = 0 is not allowed"),
    (("seed = 3", "sed = 3"), "sed is not a known field; did you mean seed?"),
    (('direction = "minimise"', 'direction = "minimize"'),
     "objectives[0].direction = 'minimize' is not allowed"),
    (("[200_000, 1_000_000]", "[200_000, 1e12]"), "budget.annual_yuan"),
    # the name names the output folder: the scenario names' rule, at most 64 characters
    (("seed = 3", 'name = "../elsewhere"\nseed = 3'),
     "name = '../elsewhere' is not allowed: a name is 1 to 64 letters"),
    (("seed = 3", 'name = "' + 'n' * 65 + '"\nseed = 3'), "is not allowed: a name is 1 to 64"),
])
def test_bad_problems_are_refused_with_one_line(tmp_path, capsys, change, expected):
    path = write(tmp_path, REAL.replace(*change))
    assert main(["optimise", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"govsim: {path}")
    assert expected in err
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "study.db").exists()


TIMELINE = """
scenario = "crackdown_then_relax"
months = 40
[fixed]
"timeline.crackdown.month" = 7
[levers]
"timeline.crackdown.length" = { range = [6, 24] }
"timeline.crackdown.set.law.enforcement_probability" = { range = [0.5, 0.95] }
[[objectives]]
output = "public_cost_yuan"
direction = "minimise"
"""


def test_levers_may_be_the_parts_of_a_named_timeline_change_as_in_a_sweep(tmp_path):
    from types import SimpleNamespace

    from optuna.distributions import IntDistribution

    from govsim.optimise.problem import ProblemError
    from govsim.optimise.report import changes

    prepared = prepare(load_problem(write(tmp_path, TIMELINE)))
    length, enforcement = prepared.problem.levers
    assert prepared.kinds == {length: "int", enforcement: "float"}
    assert isinstance(distributions(prepared)[length], IntDistribution)
    params = {length: 10, enforcement: 0.6}
    (change,) = prepared.base.with_overrides(params).timeline
    assert (change.month, change.length) == (7, 10)
    assert change.set["law.enforcement_probability"] == 0.6
    assert changes(SimpleNamespace(prepared=prepared), params) == [
        f"{length} 10 (status quo 24)", f"{enforcement} 0.6 (status quo 0.9)"]
    unknown = write(tmp_path, TIMELINE.replace("crackdown.length", "purge.length"))
    with pytest.raises(ProblemError, match="'timeline.purge.length' is not a scenario field"):
        prepare(load_problem(unknown))


def test_output_names_are_checked_against_the_models_columns_at_run_time(monkeypatch,
                                                                         tmp_path, capsys):
    import govsim.metrics

    path = write(tmp_path, REAL.replace('output = "compliance_rate"',
                                        'output = "a_future_column"'))
    assert main(["optimise", str(path), "--out", str(tmp_path / "a")]) == 2
    assert "'a_future_column' is not a figure of the model" in capsys.readouterr().err
    monkeypatch.setattr(govsim.metrics, "COLUMNS", (*govsim.metrics.COLUMNS, "a_future_column"))
    from govsim.optimise import prepare

    prepare(load_problem(path))  # accepted once the model has the column


def test_a_foreign_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    path = write(tmp_path, BOWL.format(trials=4, delay=0.0))
    assert main(["optimise", str(path), "--workers", "1", "--out", str(out)]) == 2
    assert "was not written by govsim" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"


def test_a_folder_another_optimisation_is_writing_is_refused(tmp_path, capsys):
    from govsim import folders

    out = tmp_path / "out"
    path = write(tmp_path, BOWL.format(trials=4, delay=0.0))
    assert main(["optimise", str(path), "--workers", "1", "--out", str(out)]) == 0
    assert folders.read_marker(out)["kind"] == "optimise"
    assert not (out / folders.LOCK).exists()  # the lock goes when the optimisation ends
    with folders.locked(out, "test"):  # an optimisation still writing there
        assert main(["optimise", str(path), "--workers", "1", "--out", str(out),
                     "--resume"]) == 2
    assert "another govsim optimise is writing to this folder" in capsys.readouterr().err


# --- a tiny real problem, end to end ------------------------------------------------------


def test_tiny_real_problem_writes_answer_front_and_scenarios(tmp_path, capsys):
    path = write(tmp_path, REAL)
    out = tmp_path / "out"
    assert main(["optimise", str(path), "--workers", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    report = (out / "report.md").read_text()
    first = report.split("> ", 1)[1].splitlines()[0]
    assert first.startswith("The cheapest mix found that reaches compliance rate >= 0.5 "
                            "costs") or first.startswith("No mix found")
    assert first in printed
    for name in ("front.png", "front.csv", "trials.csv", "report.html", "optimise.json",
                 "problem.toml"):
        assert (out / name).stat().st_size > 0
    assert "status quo" in report and "more_budget" in report
    points = sorted((out / "front").glob("point_*.toml"))
    assert points
    scenario = Scenario.load(points[0])
    assert scenario.consumers.count == 2000 and scenario.run.months == 24
    # the status quo to compare it with has the same fixed settings: only the levers differ
    status_quo = Scenario.load(out / "front" / "status_quo.toml")
    differ = {k.partition(".")[0] for k in scenario.diff(status_quo)}
    assert differ <= {"budget", "participation"}  # the sections of REAL's levers
    assert f"--baseline {out / 'front' / 'status_quo.toml'}" in report
    study = open_study(load_problem(path), out)
    assert len(study.trials) == 4


def test_bundled_problems_and_the_readme_example_are_valid_problems():
    from govsim.optimise import prepare
    from govsim.optimise.problem import bundled_problems, problem_from_dict

    assert {"cheapest_95", "safety_vs_cost"} <= set(bundled_problems())
    for name in bundled_problems():
        prepare(load_problem(name))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Find the cheapest policy mix", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    import tomllib

    prepare(problem_from_dict({"name": "readme", **tomllib.loads(example)}, source="README"))


def test_a_limit_met_on_the_mean_but_not_surely_is_said(tmp_path):
    from govsim.optimise.front import Checked
    from govsim.optimise.report import close_to_limits

    problem = load_problem(write(tmp_path, BOWL.format(trials=4, delay=0.0)))  # reach >= 1.2
    def candidate(low: float) -> Checked:
        return Checked(0, {}, {}, None, interval={"loss": (0.02, 0.01, 0.03),
                                                  "reach": (1.25, low, 1.3)})

    (note,) = close_to_limits(problem, candidate(low=1.18))
    assert "meets reach >= 1.2 on the mean" in note and "1.18 to 1.3" in note
    assert close_to_limits(problem, candidate(low=1.21)) == []  # surely met: nothing to say


def test_a_bundled_scenario_that_beats_front_points_on_both_is_named(tmp_path):
    from types import SimpleNamespace

    from govsim.optimise.report import STATUS_QUO, bundled_beating

    problem = load_problem(write(tmp_path, FRONT.format(replicates=1, trials=8, reevaluate=2,
                                                        noise=0.0)))  # minimise cost, harm
    base = Scenario()
    law = base.with_overrides({"name": "law", "law.business_fine_yuan": 100_000.0})
    result = SimpleNamespace(problem=problem, kept=[_point(0.2, 0.7), _point(0.6, 0.2)],
                             references={STATUS_QUO: (base, _evaluation(0.0, 1.0)),
                                         "law": (law, _evaluation(0.5, 0.15)),
                                         "weak": (law, _evaluation(0.9, 0.9)),
                                         "noisy": (law, _evaluation(0.5, 0.15, noise=0.3))})
    # "weak" beats nothing; "noisy" beats point 2 on the mean only, within its noise
    (note,) = bundled_beating(result)
    assert note.startswith("The bundled scenario law, which also changes "
                           "law.business_fine_yuan, does better on both than point 2 ")


def _evaluation(cost: float, harm: float, noise: float = 0.01):
    """Four replicates around (cost, harm), the same seeds as every other: the noise they
    share cancels in a paired difference, the rest (``noise``) does not."""
    from types import SimpleNamespace

    shared = np.array([0.03, -0.01, 0.02, -0.04])
    own = noise * np.array([1.0, -1.0, -1.0, 1.0])
    per_run = pd.DataFrame({"cost": cost + shared + own, "harm": harm + shared + own})
    return SimpleNamespace(ok=True, per_run=per_run, means=lambda: per_run.mean().to_dict())


def _point(cost: float, harm: float, noise: float = 0.01):
    from types import SimpleNamespace

    fresh = _evaluation(cost, harm, noise)
    return SimpleNamespace(fresh=fresh, figures=fresh.means())


def test_the_status_quo_is_beaten_only_beyond_noise(tmp_path):
    from types import SimpleNamespace

    from govsim.optimise.report import STATUS_QUO, answer

    problem = load_problem(write(tmp_path, FRONT.format(replicates=1, trials=8, reevaluate=2,
                                                        noise=0.0)))  # minimise cost, harm
    kept = [_point(0.2, 0.7), _point(0.5, 0.5, noise=0.4), _point(0.6, 1.2)]
    result = SimpleNamespace(problem=problem, rows=[], kept=kept, dropped=[],
                             references={STATUS_QUO: (Scenario(), _evaluation(0.8, 0.9))})
    text = answer(result)
    # point 1 is surely better on both; point 2 on the mean only; point 3 is worse on harm
    assert "is beaten on both by 1 of them (paired by replicate" in text
    assert "1 more do better on both on the mean only, within noise" in text


def test_a_marginal_cost_over_a_step_within_noise_is_not_given(tmp_path):
    from types import SimpleNamespace

    from govsim.optimise.report import _marginal_section

    problem = load_problem(write(tmp_path, FRONT.format(replicates=1, trials=8, reevaluate=2,
                                                        noise=0.0)))  # cost against harm
    def point(cost: float, harm: float, half: float):
        return SimpleNamespace(figures={"cost": cost, "harm": harm},
                               interval={"cost": (cost, cost, cost),
                                         "harm": (harm, harm - half, harm + half)})

    result = SimpleNamespace(problem=problem, kept=[
        point(0.2, 0.70, 0.01), point(0.4, 0.69, 0.05), point(0.6, 0.30, 0.01)])
    (_, _), (_, _), (_, _, rows) = _marginal_section(result)
    # 0.70 -> 0.69 is within the intervals (+-0.05): the step runs on to the third point
    assert [row[:3] for row in rows] == [["0.2 → 0.6", "0.7 → 0.3", "0.4"]]
    assert rows[0][3] == "1"  # 0.4 more cost for 0.4 less harm (harm is not a rate)


def test_the_answers_difference_from_the_status_quo_is_paired_and_says_when_within_noise(
        tmp_path):
    from types import SimpleNamespace

    from govsim.optimise.report import _against_status_quo

    problem = load_problem(write(tmp_path, BOWL.format(trials=4, delay=0.0)))
    o = problem.objectives[0]

    def evaluation(value: float, noise: float = 0.01):
        return SimpleNamespace(per_run=_evaluation(value, value, noise).per_run.rename(
            columns={"cost": o.key}))

    sq = evaluation(1.0)
    clear = _against_status_quo(o, evaluation(0.5), sq)
    assert clear.startswith(f"Its {o.title} differs from the status quo's by -0.5 (95% interval")
    assert "paired by replicate" in clear and "within noise" not in clear
    assert _against_status_quo(o, evaluation(0.95, noise=0.3), sq).endswith("(within noise).")


def test_one_objective_marginal_costs_skip_steps_within_a_search_figures_noise(tmp_path):
    # search figures are means of a few runs: a step smaller than their noise (estimated
    # from the re-run candidates' spread) gets no marginal cost
    from types import SimpleNamespace

    from govsim.optimise.report import _marginal_section

    problem = load_problem(write(tmp_path, BOWL.format(trials=4, delay=0.0)))  # 2 runs a point
    rows = [{"state": "complete", "loss": loss, "reach": reach}
            for loss, reach in ((0.1, 1.00), (0.2, 1.01), (0.4, 1.50))]
    spread = pd.DataFrame({"loss": [0.0, 0.0, 0.0, 0.0], "reach": [1.0, 1.02, 0.98, 1.0]})
    checked = [SimpleNamespace(fresh=SimpleNamespace(ok=True, per_run=spread))]
    result = SimpleNamespace(problem=problem, rows=rows, checked=checked)
    (_, _), (_, text), (_, _, table) = _marginal_section(result)
    assert "noise is estimated from the spread of the re-run candidates' runs" in text
    # half-width 1.96 x sd 0.0163 / sqrt(2) = 0.023 per point: 1.00 -> 1.01 is within it,
    # so the step runs on to 1.50: 0.3 more loss for 0.5 more reach (not a rate)
    assert table == [["0.1 → 0.4", "1 → 1.5", "0.3", "0.6"]]
    rows.append({"state": "complete", "loss": 0.5, "reach": 1.51})  # within noise of 1.50
    (_, _), (_, _), (_, _, table) = _marginal_section(result)
    assert table[-1] == ["0.4 → 0.5", "1.5 → 1.51", "0.1", "n/a (the step is within noise)"]
