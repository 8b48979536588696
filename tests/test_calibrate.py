"""govsim calibrate: ABC-SMC recovers known parameters, resumes, is reproducible on any
executor, refuses bad targets files, and carries the posterior into compare.

The toy simulator (govsim.calibrate.toys:linear) goes through the same path as govsim:
targets file, priors, seeded sampler, executors, pyabc history, outputs.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govsim.calibrate import targets as targets_mod
from govsim.calibrate.outputs import weighted_quantile
from govsim.cli import main

ROOT = Path(__file__).resolve().parent.parent

TOY = """
model = "govsim.calibrate.toys:linear"
seed = 7
[fixed]
months = 24
{delay}
[targets.first]
column = "y1"
window = 12
observed = 1.0
sd = 0.1
source = "toy: y1 = a"
[targets.second]
column = "y2"
window = 12
observed = 3.0
sd = 0.1
source = "toy: y2 = a + b"
[priors.a]
low = -3.0
high = 3.0
[priors.b]
low = 0.0
high = 4.0
[priors.c]
low = 0.0
high = 1.0
"""

#: The toy's parameters that produce the observed figures above.
TRUE = {"a": 1.0, "b": 2.0}


def toy_file(tmp_path: Path, delay: float = 0.0) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(TOY.format(delay=f"delay = {delay}" if delay else ""), encoding="utf-8")
    return path


def calibrate(*args: str) -> int:
    return main(["calibrate", *args])


def posterior(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "posterior.parquet")


def test_posterior_recovers_the_true_parameters_of_the_toy(tmp_path, capsys):
    out, targets = tmp_path / "cal", toy_file(tmp_path)
    assert calibrate(str(targets), "--population", "150", "--generations", "5",
                     "--workers", "1", "--out", str(out)) == 0
    post = posterior(out)
    assert len(post) == 150 and post["weight"].sum() == pytest.approx(1.0)
    for name, truth in TRUE.items():
        low, high = weighted_quantile(post[name], post["weight"], [0.05, 0.95])
        assert low <= truth <= high, f"{name}: 90% interval {low:.2f}-{high:.2f}"
    ident = pd.read_csv(out / "predictive.csv")
    assert ident["inside"].all()
    report = (out / "calibration.md").read_text()
    # a and b are pinned by the data (interval much narrower than the prior); c is not
    assert "| a | -3 to 3 (linear)" in report
    table = {line.split("|")[1].strip(): line for line in report.splitlines()
             if line.startswith("| ") and "(linear)" in line}
    assert "identified by the data" in table["a"] and "identified by the data" in table["b"]
    assert "stays at its prior" in table["c"]
    for name in ("posterior.png", "predictive.png", "calibration.html", "calibrated.toml",
                 "generations.csv"):
        assert (out / name).stat().st_size > 0
    assert "generation 5/5" in capsys.readouterr().err
    # the command that made it, as it was typed (the folder, not only the file's name)
    assert (out / "calibrated.toml").read_text().startswith(
        f"# Calibrated by `govsim calibrate {targets}`")


def test_local_workers_and_dask_local_give_the_same_posterior(tmp_path):
    toy = str(toy_file(tmp_path))
    runs = {}
    for flag in (("--workers", "2"), ("--dask-local", "2"), ("--workers", "1")):
        out = tmp_path / flag[0].strip("-") / flag[1]
        assert calibrate(toy, "--population", "30", "--generations", "2", *flag,
                         "--out", str(out)) == 0
        runs[flag] = posterior(out)
    first, *others = runs.values()
    for other in others:
        pd.testing.assert_frame_equal(first, other)


def test_another_seed_gives_another_posterior(tmp_path):
    toy = str(toy_file(tmp_path))
    frames = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        assert calibrate(toy, "--population", "20", "--generations", "1", "--workers", "1",
                         "--seed", seed, "--out", str(out)) == 0
        frames.append(posterior(out))
    assert not frames[0]["a"].equals(frames[1]["a"])


def _finished_generations(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            row = con.execute("select max(t) from populations").fetchone()
    except sqlite3.Error:
        return 0
    return 0 if row[0] is None else int(row[0]) + 1


def test_resume_after_sigkill_continues_from_the_last_finished_generation(tmp_path):
    toy = str(toy_file(tmp_path, delay=0.004))
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "govsim.cli", "calibrate", toy, "--population", "60",
               "--generations", "4", "--workers", "1", "--out", str(out)]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _finished_generations(out / "abc.db") < 2 and time.monotonic() < deadline:
        assert process.poll() is None, "the calibration ended before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = _finished_generations(out / "abc.db")
    assert 2 <= killed_at < 4
    assert not (out / "posterior.parquet").exists()

    # the same command without --resume refuses to touch the folder
    assert calibrate(toy, "--population", "60", "--generations", "4", "--workers", "1",
                     "--out", str(out)) == 2
    result = subprocess.run([*command, "--resume"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"resuming after generation {killed_at} of 4" in result.stderr
    assert f"generation {killed_at}/4" not in result.stderr  # finished ones are not redone
    assert _finished_generations(out / "abc.db") == 4
    resumed = posterior(out)

    whole = tmp_path / "whole"
    assert calibrate(toy, "--population", "60", "--generations", "4", "--workers", "1",
                     "--out", str(whole)) == 0
    uninterrupted = posterior(whole)
    for name in ("a", "b"):  # the same posterior in distribution
        med_resumed = weighted_quantile(resumed[name], resumed["weight"], 0.5)
        med_whole = weighted_quantile(uninterrupted[name], uninterrupted["weight"], 0.5)
        spread = np.subtract(*weighted_quantile(uninterrupted[name], uninterrupted["weight"],
                                                [0.95, 0.05]))
        assert abs(med_resumed - med_whole) < 0.5 * spread


def test_a_folder_another_calibration_is_writing_is_refused_and_left_alone(tmp_path,
                                                                          capsys):
    from govsim import folders

    toy, out = str(toy_file(tmp_path)), tmp_path / "cal"
    args = [toy, "--population", "20", "--generations", "1", "--workers", "1", "--out",
            str(out)]
    assert calibrate(*args) == 0
    assert folders.read_marker(out)["kind"] == "calibrate"
    assert not (out / folders.LOCK).exists()  # the lock goes when the calibration ends
    with folders.locked(out, "test"):  # a calibration still writing there
        assert calibrate(*args, "--resume") == 2
    assert "another govsim calibrate is writing to this folder" in capsys.readouterr().err
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    assert calibrate(*args[:-1], str(foreign)) == 2
    assert "was not written by govsim" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


BAD_TARGETS = [
    ('column = "y1"', 'column = "y_one"', "targets.first.column = 'y_one' is not a model "
                                          "output; allowed: y1, y2"),
    ("sd = 0.1\nsource = \"toy: y1 = a\"", "sd = -1.0\nsource = \"toy: y1 = a\"",
     "targets.first.sd = -1.0 is not allowed"),
    ("sd = 0.1\nsource = \"toy: y1 = a\"", "sd = inf\nsource = \"toy: y1 = a\"",
     "targets.first.sd = inf is not allowed: Input should be a finite number"),
    ("window = 12\nobserved = 1.0", "window = 12\nobserved = nan",
     "targets.first.observed = nan is not allowed: Input should be a finite number"),
    ("window = 12\nobserved = 1.0", "window = 12\nobserved = 1.0\nspread = 2.0",
     "targets.first.spread is not a known field; allowed: column, over"),
    ("[priors.a]\nlow = -3.0\nhigh = 3.0", "[priors.a]\nlow = 3.0\nhigh = -3.0",
     'priors."a": low = 3 must be below high = -3'),
    ("[priors.c]", "[priors.d]", 'priors."d" is not a parameter of model'),
    ("[priors.b]\nlow = 0.0", "[priors.b]\nlog = true\nlow = 0.0",
     'priors."b": low = 0 with log = true is not allowed'),
    # the name names the output folder: the scenario names' rule, at most 64 characters
    ("seed = 7", 'name = "../elsewhere"\nseed = 7',
     "name = '../elsewhere' is not allowed: a name is 1 to 64 letters"),
    ("seed = 7", f'name = "{"n" * 65}"\nseed = 7', "is not allowed: a name is 1 to 64"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD_TARGETS)
def test_bad_targets_file_is_refused_with_one_line_naming_field_and_value(
        tmp_path, capsys, old, new, message):
    path = toy_file(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    assert calibrate(str(path), "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


GOVSIM_TARGETS = """
scenario = "{scenario}"
seed = 3
[fixed]
"consumers.count" = 2000
"run.months" = 24
[targets.failure_rate]
column = "sample_failure_rate"
window = 12
observed = 0.026
sd = 0.004
source = "SAMR"
[targets.complaints]
column = "complaint_share_of_ill"
window = 12
observed = 0.178
sd = 0.02
source = "survey"
[priors."participation.complaint_probability"]
low = 0.02
high = 0.5
[priors."businesses.compliance_cost_yuan"]
low = 100.0
high = 3000.0
log = true
"""


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--population", "1", "--population 1: at least 2 particles are needed"),
    ("--generations", "0", "--generations 0: at least 1 is needed"),
    ("--workers", "0", "--workers 0: must be at least 1"),
])
def test_a_bad_number_is_refused_before_the_folder_is_made(tmp_path, capsys, option, value,
                                                           message):
    out = tmp_path / "out"
    assert calibrate(str(toy_file(tmp_path)), option, value, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()  # "whole folders or nothing": not even an empty one


@pytest.mark.parametrize(("field", "line", "message"), [
    ('"participation.network"', "", 'priors."participation.network" is not allowed: only '
                                    "numeric fields can be fitted"),
    ('"market.integrity"', "low = 0.5\nhigh = 1.5",
     'priors."market.integrity": range [0.5, 1.5] is not allowed: the field takes 0 to 1'),
    ('"market.integrityy"', "", 'priors."market.integrityy" is not a scenario field'),
])
def test_bad_prior_on_a_scenario_field_is_refused(tmp_path, capsys, field, line, message):
    path = tmp_path / "district.toml"
    path.write_text(GOVSIM_TARGETS.format(scenario=ROOT / "scenarios" / "baseline.toml")
                    + f"[priors.{field}]\n{line}\n")
    assert calibrate(str(path)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_dotted_names_may_be_sub_tables_and_fixed_ones_change_only_their_field(tmp_path):
    scenario = tmp_path / "district_scenario.toml"
    scenario.write_text('name = "district"\n[consumers]\ninitial_trust = 0.3\n')
    dotted = tmp_path / "dotted.toml"
    dotted.write_text(GOVSIM_TARGETS.format(scenario=scenario.name))
    tables = tmp_path / "tables.toml"
    tables.write_text(dotted.read_text()
                      .replace('"consumers.count" = 2000\n', "")
                      .replace("[targets.failure_rate]",
                               "[fixed.consumers]\ncount = 2000\n[targets.failure_rate]")
                      .replace('[priors."participation.complaint_probability"]',
                               "[priors.participation.complaint_probability]"))
    by_name, by_table = targets_mod.load(dotted), targets_mod.load(tables)
    assert by_table.base.consumers.count == 2000
    assert by_table.base.consumers.initial_trust == 0.3  # the rest of [consumers] is kept
    assert by_table.base == by_name.base and by_table.priors == by_name.priors


def test_bundled_guangdong_targets_are_valid_and_all_computable():
    targets = targets_mod.load("guangdong_district")
    assert set(targets.active) == {"failure_rate", "catering_ratio", "producer_failure_rate",
                                   "complaint_share", "illness"}
    assert not targets.skipped
    assert all(t.source for t in targets.active.values())
    assert targets.base.consumers.population == 200_000


def test_govsim_calibration_writes_a_loadable_calibrated_scenario(tmp_path):
    import govsim

    path = tmp_path / "district.toml"
    path.write_text(GOVSIM_TARGETS.format(scenario=ROOT / "scenarios" / "baseline.toml"))
    out = tmp_path / "cal"
    assert calibrate(str(path), "--population", "8", "--generations", "1", "--workers", "1",
                     "--out", str(out)) == 0
    scenario = govsim.Scenario.load(out / "calibrated.toml")
    post = posterior(out)
    median = weighted_quantile(post["participation.complaint_probability"], post["weight"],
                               0.5)
    assert scenario.participation.complaint_probability == pytest.approx(median)
    assert scenario.consumers.count == 2000 and scenario.run.months == 24
    assert "# Fit:" in (out / "calibrated.toml").read_text().replace(
        "Fitted parameters are set to their posterior median. Fit:", "# Fit:")


# --- compare --posterior ----------------------------------------------------------------------


def _posterior_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "posterior"
    folder.mkdir()
    pd.DataFrame({"market.integrity": [0.55, 0.75, 0.95],
                  "participation.complaint_probability": [0.05, 0.1, 0.3],
                  "weight": [0.2, 0.3, 0.5], "generation": 3}).to_parquet(
        folder / "posterior.parquet")
    return folder


def test_posterior_draws_are_paired_across_scenarios_and_reproducible(tmp_path, small):
    from govsim import compare
    from govsim.calibrate.posterior import load

    base = tmp_path / "base.toml"
    base.write_text(small.to_toml())
    cure = tmp_path / "cure.toml"
    cure.write_text(small.with_overrides({"market.integrity": 0.99, "name": "cure"}).to_toml())
    p = compare.plan([str(cure)], baseline=str(base), replicates=6, months=12, seed=5)
    post = load(_posterior_folder(tmp_path))
    draws = post.draws(p.master_seed, p.replicates)
    assert draws == post.draws(5, 6) and draws[:3] == post.draws(5, 3)
    assert len({d["market.integrity"] for d in draws}) > 1  # draws differ between replicates
    from dataclasses import replace

    p = replace(p, draws=draws, posterior="posterior")
    for r, d in enumerate(draws):
        base_r, cure_r = p.scenario(0, r), p.scenario(1, r)
        # the same draw in both scenarios ...
        assert base_r.participation.complaint_probability == d[
            "participation.complaint_probability"]
        assert cure_r.participation.complaint_probability == d[
            "participation.complaint_probability"]
        # ... except where the cure sets the field itself
        assert base_r.market.integrity == d["market.integrity"]
        assert cure_r.market.integrity == 0.99


def test_compare_with_posterior_reports_parameter_uncertainty_and_repeats_exactly(
        tmp_path, small):
    base = tmp_path / "base.toml"
    base.write_text(small.to_toml())
    cure = tmp_path / "cure.toml"
    cure.write_text(small.with_overrides({"law.enforcement_probability": 0.9,
                                          "name": "cure"}).to_toml())
    folder = _posterior_folder(tmp_path)
    summaries = []
    for k in range(2):
        out = tmp_path / f"cmp{k}"
        assert main(["compare", str(cure), "--baseline", str(base), "--replicates", "3",
                     "--months", "12", "--workers", "1", "--posterior", str(folder),
                     "--out", str(out)]) == 0
        summaries.append((out / "summary.csv").read_text())
        report = (out / "report.md").read_text()
        assert "Intervals include parameter uncertainty" in report
        runs = pd.read_parquet(out / "runs.parquet")
        # replicate r has the same seed in both scenarios (paired)
        seeds = runs.groupby(["scenario", "replicate"])["seed"].first().unstack(0)
        assert (seeds["cure"] == seeds["baseline"]).all()
    assert summaries[0] == summaries[1]
    plain = tmp_path / "plain"
    assert main(["compare", str(cure), "--baseline", str(base), "--replicates", "3",
                 "--months", "12", "--workers", "1", "--out", str(plain)]) == 0
    assert (plain / "summary.csv").read_text() != summaries[0]


def test_compare_with_posterior_records_each_runs_draw_and_its_rerun_command(tmp_path, small):
    import shlex

    import govsim

    base = tmp_path / "base.toml"
    base.write_text(small.to_toml())
    cure = tmp_path / "cure.toml"
    cure.write_text(small.with_overrides({"market.integrity": 0.9, "name": "cure"}).to_toml())
    out = tmp_path / "cmp"
    assert main(["compare", str(cure), "--baseline", str(base), "--replicates", "3",
                 "--months", "12", "--workers", "1", "--posterior",
                 str(_posterior_folder(tmp_path)), "--out", str(out)]) == 0
    per_run = pd.read_csv(out / "runs_summary.csv").set_index(["scenario", "replicate"])
    drawn = per_run["posterior:participation.complaint_probability"]
    assert set(drawn) <= {0.05, 0.1, 0.3}
    assert (drawn.loc["cure"] == drawn.loc["baseline"]).all()  # paired draws
    # the cure sets integrity itself, so only the baseline runs with the drawn integrity
    assert per_run.loc["cure", "posterior:market.integrity"].isna().all()
    assert per_run.loc["baseline", "posterior:market.integrity"].notna().all()
    lines = (out / "report.md").read_text().splitlines()
    note = next(i for i, line in enumerate(lines) if line.startswith("# one run alone"))
    command = shlex.split(lines[note + 1])
    seed = int(command[command.index("--seed") + 1])
    sets = dict(a.removeprefix("--set=").split("=", 1) for a in command if a.startswith("--set="))
    assert set(sets) == {"participation.complaint_probability"}
    scenario = govsim.Scenario.load(command[2]).with_overrides(
        {k: float(v) for k, v in sets.items()})
    runs = pd.read_parquet(out / "runs.parquet")
    mine = runs[(runs.scenario == "cure") & (runs.seed == seed)]
    again = govsim.run(scenario, seed=seed).timeseries
    pd.testing.assert_frame_equal(mine[list(again.columns)].reset_index(drop=True), again,
                                  check_exact=True)


def test_compare_posterior_that_is_not_a_calibration_is_refused(tmp_path, capsys):
    assert main(["compare", "--posterior", str(tmp_path), "--replicates", "2"]) == 2
    assert "no posterior.parquet there" in capsys.readouterr().err


SWEEP = """
scenario = "baseline"
months = 6
seed = 11
design = "grid"
replicates = 3
[fixed]
"consumers.count" = 500
"businesses.count" = 300
[parameters]
"market.integrity" = { levels = [0.6, 0.9] }
"""


def test_sweep_with_posterior_runs_replicate_r_of_every_point_with_draw_r(tmp_path, capsys):
    from govsim.calibrate.posterior import load

    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP, encoding="utf-8")
    folder = _posterior_folder(tmp_path)
    out = tmp_path / "sweep"
    assert main(["sweep", str(exp), "--workers", "1", "--posterior", str(folder),
                 "--out", str(out)]) == 0
    design = pd.read_csv(out / "design.csv")
    draws = load(folder).draws(11, 3)
    column = "posterior:participation.complaint_probability"
    for row in design.to_dict("records"):
        assert row[column] == draws[row["replicate"]]["participation.complaint_probability"]
    # the design's own parameter keeps the design's values, not the draw's
    assert "posterior:market.integrity" not in design
    # a different posterior is refused in the same folder (it changes the design)
    other = tmp_path / "other"
    other.mkdir()
    changed = pd.read_parquet(folder / "posterior.parquet")
    changed["participation.complaint_probability"] *= 2
    changed.to_parquet(other / "posterior.parquet")
    assert main(["sweep", str(exp), "--workers", "1", "--posterior", str(other),
                 "--out", str(out)]) == 2
    assert "design" in capsys.readouterr().err
