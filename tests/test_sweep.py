"""The experiment runner: resume after SIGKILL, executor equivalence, faults, Sobol accuracy.

Runs are tiny (12 months, 500 consumers, 300 businesses) so the file stays quick on a busy
machine; no test compares against numbers of the model (it is being calibrated): runs are
compared with runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from govsim.cli import main
from govsim.provenance import model_sources
from govsim.sweep import analyze, load_experiment, read_results, reproduce, run_sweep
from govsim.sweep.design import build_design, run_seed
from govsim.sweep.executors import DaskExecutor, SerialExecutor
from govsim.sweep.experiment import ExperimentError, prepare
from govsim.sweep.storage import fingerprints, part_files
from govsim.sweep.toys import FAULT_BUDGET, ISHIGAMI_S1, ISHIGAMI_ST

TINY = """
scenario = "baseline"
months = 12
seed = 11
"""
FIXED = """
[fixed]
"consumers.count" = 500
"businesses.count" = 300
"""

GRID = TINY + """
design = "grid"
replicates = 2
outcomes = ["compliance_rate", "illness_cases", "public_trust"]
""" + FIXED + """
[parameters]
"budget.annual_yuan" = { levels = [200000.0, 800000.0] }
"performance.backcheck_rate" = { range = [0.0, 0.2], steps = 3 }
"performance.blacklist" = { levels = [false, true] }
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def sweep(*args) -> int:
    return main(["sweep", *map(str, args)])


# --- resume -------------------------------------------------------------------------------


@pytest.mark.slow
def test_resume_after_sigkill_gives_the_uninterrupted_dataset(tmp_path, capsys):
    exp = write(tmp_path, TINY + """
design = "grid"
replicates = 16
outputs = "series"
""" + FIXED + """
[parameters]
"budget.annual_yuan" = { levels = [200000.0, 400000.0, 800000.0, 1600000.0] }
"law.enforcement_probability" = { range = [0.2, 1.0], steps = 5 }
""")
    out = tmp_path / "killed"
    total_chunks = 320 // 8
    command = [sys.executable, "-m", "govsim.cli", "sweep", str(exp), "--workers", "2",
               "--chunk-size", "8", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while len(part_files(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, f"the sweep ended before the kill: {proc.stderr.read()!r}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        _kill_group(proc.pid)  # its worker processes exit by themselves; be sure of it
    at_kill = part_files(out)
    assert 0 < len(at_kill) < total_chunks, "killed mid-sweep"
    assert all(p.stat().st_size > 0 for p in at_kill)

    assert sweep(exp, "--workers", "1", "--out", out) == 0
    text = capsys.readouterr().out
    assert "320 of 320 runs finished, 320 ok, 0 failed" in text
    skipped = int(re.search(r"(\d+) were already done", text).group(1))
    assert skipped >= 8 * len(at_kill)  # every chunk finished before the kill was kept

    reference = tmp_path / "uninterrupted"
    report = run_sweep(load_experiment(exp), reference, executor=SerialExecutor())
    assert report.complete and report.failed_total == 0
    resumed, expected = read_results(out), read_results(reference)
    assert len(resumed) == 320 * 12
    pd.testing.assert_frame_equal(resumed, expected)
    assert not list((out / "runs").glob(".*"))  # no temporary file left behind


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def test_running_again_skips_finished_runs(tmp_path, capsys):
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    assert sweep(exp, "--workers", "1", "--out", out) == 0
    first = read_results(out)
    parts = {p.name: p.stat().st_mtime_ns for p in part_files(out)}
    capsys.readouterr()
    assert sweep(exp, "--workers", "1", "--out", out) == 0
    assert "nothing to run, all 24 runs were already done" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in part_files(out)} == parts
    pd.testing.assert_frame_equal(read_results(out), first)


def test_a_changed_experiment_is_refused_unless_forced(tmp_path, capsys):
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    assert sweep(exp, "--workers", "1", "--out", out) == 0
    exp.write_text(GRID.replace("seed = 11", "seed = 12"), encoding="utf-8")
    capsys.readouterr()
    assert sweep(exp, "--workers", "1", "--out", out) == 2
    err = capsys.readouterr().err
    assert "has changed" in err and "--force" in err and "traceback" not in err.lower()
    assert sweep(exp, "--workers", "1", "--out", out, "--force") == 0
    assert read_results(out)["seed"].iloc[0] == run_seed(12, 0)


def test_a_changed_model_code_is_refused_unless_forced(tmp_path, capsys, monkeypatch):
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    assert sweep(exp, "--workers", "1", "--out", out) == 0
    monkeypatch.setattr("govsim.sweep.storage.model_code_fingerprint",
                        lambda *args: "edited-model")
    capsys.readouterr()
    assert sweep(exp, "--workers", "1", "--out", out) == 2
    assert "the model's code" in capsys.readouterr().err
    assert sweep(exp, "--workers", "1", "--out", out, "--force") == 0


def test_editing_only_the_description_keeps_the_results(tmp_path):
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    assert sweep(exp, "--workers", "1", "--out", out) == 0
    exp.write_text('description = "now explained"\n' + GRID, encoding="utf-8")
    assert sweep(exp, "--workers", "1", "--out", out) == 0
    assert "now explained" in (out / "experiment.toml").read_text()


# --- executors ------------------------------------------------------------------------------


@pytest.mark.slow
def test_workers_1_2_and_dask_local_give_identical_results(tmp_path):
    exp = write(tmp_path, GRID)
    outs = {}
    for label, flags in {"serial": ["--workers", "1"], "two": ["--workers", "2"],
                         "dask": ["--dask-local", "2"]}.items():
        outs[label] = tmp_path / label
        assert sweep(exp, *flags, "--out", outs[label]) == 0
    serial = read_results(outs["serial"])
    assert len(serial) == 24 and (serial["status"] == "ok").all()
    for label in ("two", "dask"):
        pd.testing.assert_frame_equal(read_results(outs[label]), serial)


@pytest.mark.slow
def test_a_lost_dask_worker_has_its_tasks_redone(tmp_path):
    from distributed import Client, LocalCluster

    exp = write(tmp_path, """
model = "govsim.sweep.toys:sleepy"
design = "grid"
[fixed]
delay = 0.1
[parameters]
x = { range = [0.0, 39.0], steps = 40 }
""")
    out = tmp_path / "out"
    killed = {}

    def kill_a_worker(pids):
        deadline = time.monotonic() + 60
        while not part_files(out) and time.monotonic() < deadline:
            time.sleep(0.01)
        killed["mid_sweep"] = len(part_files(out)) < 20
        os.kill(pids[0], signal.SIGKILL)
        killed["pid"] = pids[0]

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        killer = threading.Thread(target=kill_a_worker, args=(pids,))
        killer.start()
        report = run_sweep(load_experiment(exp), out, executor=DaskExecutor(client=client),
                           chunk_size=2)
        killer.join()
    assert killed.get("mid_sweep"), "the worker was killed while the sweep ran"
    assert report.complete and report.failed_total == 0
    data = read_results(out)
    assert list(data["run_id"]) == list(range(40))
    assert np.array_equal(data["y"].to_numpy(), data["x"].to_numpy())


# --- faults ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_local_worker_that_dies_has_its_chunks_sent_again(tmp_path):
    marker = tmp_path / "crashed"
    exp = write(tmp_path, f"""
model = "govsim.sweep.toys:crash_once"
design = "grid"
[fixed]
marker = "{marker}"
[parameters]
x = {{ range = [0.0, 7.0], steps = 8 }}
""")
    out = tmp_path / "out"
    assert sweep(exp, "--workers", "2", "--chunk-size", "1", "--out", out) == 0
    assert marker.exists()  # a worker did die
    data = read_results(out)
    assert list(data["run_id"]) == list(range(8)) and (data["status"] == "ok").all()
    assert np.array_equal(data["y"].to_numpy(), data["x"].to_numpy())


def test_a_failing_run_is_recorded_and_the_sweep_completes(tmp_path, capsys):
    exp = write(tmp_path, TINY + """
model = "govsim.sweep.toys:govsim_with_fault"
design = "grid"
replicates = 2
""" + FIXED + f"""
[parameters]
"budget.annual_yuan" = {{ levels = [300000.0, {FAULT_BUDGET}] }}
""")
    out = tmp_path / "out"
    assert sweep(exp, "--workers", "1", "--out", out) == 1  # finished, with failures
    text = capsys.readouterr().out
    assert "4 of 4 runs finished, 2 ok, 2 failed" in text
    assert "injected failure" in text
    data = read_results(out)
    failed = data[data["status"] == "failed"]
    assert list(failed["run_id"]) == [2, 3]
    assert (failed["budget.annual_yuan"] == FAULT_BUDGET).all()
    assert list(failed["seed"]) == [run_seed(11, 2), run_seed(11, 3)]
    assert failed["error"].str.contains("RuntimeError: injected failure").all()
    assert failed["compliance_rate"].isna().all()
    ok = data[data["status"] == "ok"]
    assert ok["compliance_rate"].notna().all() and ok["error"].isna().all()
    result = analyze(out)
    assert result.counts == {"runs": 4, "ok": 2, "failed": 2, "missing": 0}
    assert "incomplete" in result.markdown


# --- designs, seeds and analysis ----------------------------------------------------------------


def test_sobol_analysis_recovers_the_ishigami_indices(tmp_path):
    exp = write(tmp_path, """
model = "govsim.sweep.toys:ishigami"
design = "sobol"
samples = 1024
seed = 3
[parameters]
x1 = { range = [-3.141592653589793, 3.141592653589793] }
x2 = { range = [-3.141592653589793, 3.141592653589793] }
x3 = { range = [-3.141592653589793, 3.141592653589793] }
""")
    out = tmp_path / "out"
    report = run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    assert report.n_runs == 1024 * 5 and report.failed_total == 0
    analyze(out)
    table = pd.read_csv(out / "analysis" / "sobol_indices.csv").set_index("parameter")
    for name in ("x1", "x2", "x3"):
        assert table.loc[name, "S1"] == pytest.approx(ISHIGAMI_S1[name], abs=0.05)
        assert table.loc[name, "ST"] == pytest.approx(ISHIGAMI_ST[name], abs=0.05)
    assert (out / "analysis" / "sobol_y.png").stat().st_size > 0
    assert "Sobol indices" in (out / "analysis" / "analysis.md").read_text()


def test_grid_analysis_writes_heatmaps_tables_and_report(tmp_path):
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    result = analyze(out)
    names = {p.name for p in result.files}
    assert {"means_by_level.csv", "point_means.csv", "analysis.md"} <= names
    assert "heatmaps__budget.annual_yuan__performance.backcheck_rate.png" in names
    assert "noise.csv" in names  # replicated: the seed-noise diagnostic
    levels = pd.read_csv(out / "analysis" / "means_by_level.csv")
    budget = levels[(levels.parameter == "budget.annual_yuan") &
                    (levels.outcome == "compliance_rate")]
    assert list(budget["n"]) == [12, 12]
    data = read_results(out)
    low = data.loc[data["budget.annual_yuan"] == 200000.0, "compliance_rate"].mean()
    assert budget["mean"].iloc[0] == pytest.approx(low, rel=1e-5)


def test_morris_and_lhs_designs_run_and_analyse(tmp_path):
    for design, size in (("morris", 8), ("lhs", 40)):
        exp = write(tmp_path, f"""
model = "govsim.sweep.toys:ishigami"
design = "{design}"
samples = {size}
[parameters]
x1 = {{ range = [-3.141592653589793, 3.141592653589793] }}
x2 = {{ range = [-3.141592653589793, 3.141592653589793] }}
x3 = {{ range = [-3.141592653589793, 3.141592653589793] }}
""", f"{design}.toml")
        out = tmp_path / design
        report = run_sweep(load_experiment(exp), out, executor=SerialExecutor())
        assert report.complete
        result = analyze(out)
        if design == "morris":
            morris = pd.read_csv(out / "analysis" / "morris.csv").set_index("parameter")
            assert report.n_runs == 8 * 4
            assert set(morris.columns) >= {"mu", "mu_star", "mu_star_conf", "sigma"}
            assert (morris["mu_star"] > 0).all()
        else:
            assert any(p.name == "main_effects_y.png" for p in result.files)


def test_lhs_is_a_latin_hypercube_and_levels_are_balanced(tmp_path):
    exp = write(tmp_path, TINY + """
design = "lhs"
samples = 30
""" + FIXED + """
[parameters]
"law.enforcement_probability" = { range = [0.2, 0.8] }
"market.n_agencies" = { range = [2, 6] }
"participation.network" = { levels = ["small_world", "scale_free", "random"] }
""")
    design = build_design(prepare(load_experiment(exp)))
    strata = np.floor(design.unit * 30).astype(int)
    for column in strata.T:  # one point per stratum in every dimension
        assert sorted(column) == list(range(30))
    assert design.points["participation.network"].value_counts().tolist() == [10, 10, 10]
    assert design.points["market.n_agencies"].between(2, 6).all()
    assert design.points["market.n_agencies"].map(type).eq(int).all()


def test_seeds_come_from_seed_sequence_spawn_and_any_run_reproduces_alone(tmp_path):
    children = np.random.SeedSequence(11).spawn(24)
    expected = [int(c.generate_state(1, np.uint64)[0] >> np.uint64(1)) for c in children]
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    data = read_results(out)
    assert list(data["seed"]) == expected
    row = data.iloc[17]
    summary = reproduce(out, 17)
    for figure in ("compliance_rate", "illness_cases", "public_trust"):
        assert summary[figure] == row[figure]


def test_each_chunk_is_written_as_its_own_part_file(tmp_path):
    exp = write(tmp_path, GRID)
    out = tmp_path / "out"
    report = run_sweep(load_experiment(exp), out, executor=SerialExecutor(), chunk_size=5)
    assert report.complete
    sizes = [len(pd.read_parquet(p)) for p in part_files(out)]
    assert sizes == [5, 5, 5, 5, 4]


# --- a model of your own ----------------------------------------------------------------------

OWN_MODEL = '''
from govsim.sweep.models import free_parameters


@free_parameters("x", outputs=("y", "z"))
def f(params, seed, base, series):
    return {"y": FACTOR * params["x"], "z": -params["x"]}


FACTOR = 2.0
'''


def own_model(tmp_path: Path, monkeypatch, module: str, factor: float = 2.0) -> Path:
    """An importable model module of one's own, ``y = factor x, z = -x``; returns its file."""
    path = tmp_path / f"{module}.py"
    path.write_text(OWN_MODEL.replace("FACTOR = 2.0", f"FACTOR = {factor}"), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return path


def own_experiment(module: str, extra: str = "") -> str:
    return f'model = "{module}:f"\ndesign = "grid"\nreplicates = 2\n{extra}' + """
[parameters]
x = { levels = [1.0, 2.0, 3.0] }
"""


def test_new_outcomes_and_description_on_resume_are_what_analyze_reports(tmp_path,
                                                                          monkeypatch):
    own_model(tmp_path, monkeypatch, "own_outcomes")
    exp = write(tmp_path, own_experiment("own_outcomes", 'outcomes = ["y"]\n'))
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    analyze(out)
    assert set(pd.read_csv(out / "analysis" / "means_by_level.csv")["outcome"]) == {"y"}
    exp.write_text(own_experiment("own_outcomes", 'description = "now z"\noutcomes = ["z"]\n'),
                   encoding="utf-8")
    report = run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    assert report.ran == 0 and report.complete  # the runs stand
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["outcomes"] == ["z"] and manifest["description"] == "now z"
    result = analyze(out)
    assert set(pd.read_csv(out / "analysis" / "means_by_level.csv")["outcome"]) == {"z"}
    assert "now z" in result.markdown


def test_a_change_to_the_code_of_ones_own_model_is_refused_on_resume(tmp_path, monkeypatch):
    path = own_model(tmp_path, monkeypatch, "own_code")
    exp = write(tmp_path, own_experiment("own_code"))
    out = tmp_path / "out"
    assert run_sweep(load_experiment(exp), out, executor=SerialExecutor()).complete
    path.write_text(path.read_text().replace("FACTOR = 2.0", "FACTOR = 3.0"))
    with pytest.raises(ExperimentError, match="changed: the model's code"):
        run_sweep(load_experiment(exp), out, executor=SerialExecutor())


def test_the_model_fingerprint_covers_every_module_of_govsims_model():
    from govsim.windows import timeline_model

    hashed = set(model_sources(timeline_model))
    assert {"model.py", "draws.py", "timeline.py", "mesa_patches.py", "windows.py",
            "scenario.py", "phases/learning.py", "sweep/models.py"} <= hashed
    assert not {"app.py", "cli.py", "viz.py"} & hashed  # the browser app and the CLI


ISHIGAMI_GRID = """
model = "govsim.sweep.toys:ishigami"
design = "grid"
[parameters]
"""


def test_reordered_parameters_are_refused_for_what_they_are(tmp_path):
    x1, x2 = "x1 = { levels = [0.0, 1.0] }\n", "x2 = { levels = [0.0, 2.0] }\n"
    exp = write(tmp_path, ISHIGAMI_GRID + x1 + x2)
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    exp.write_text(ISHIGAMI_GRID + x2 + x1, encoding="utf-8")
    with pytest.raises(ExperimentError, match=r"order of its \[parameters\] \(was x1, x2; "
                                              r"now x2, x1\)") as caught:
        run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    assert "SciPy" not in str(caught.value)


def test_a_whole_number_written_for_a_float_level_is_the_same_setting(tmp_path):
    def prints(level: str) -> dict:
        prepared = prepare(load_experiment(write(tmp_path, GRID.replace("800000.0", level))))
        return fingerprints(prepared, build_design(prepared))

    assert prints("800_000") == prints("800000.0")


UNDECLARED = '''
from govsim.sweep.models import free_parameters


@free_parameters("x")  # no outputs declared: the columns come from the results
def f(params, seed, base, series):
    if params["x"] < 2:
        raise ValueError("fails below 2")
    return {"y": 2.0 * params["x"]}
'''


def test_read_results_keeps_the_figures_when_the_first_part_holds_only_failed_runs(
        tmp_path, monkeypatch):
    (tmp_path / "own_undeclared.py").write_text(UNDECLARED, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    exp = write(tmp_path, 'model = "own_undeclared:f"\ndesign = "grid"\n[parameters]\n'
                          "x = { levels = [0.0, 1.0, 2.0, 3.0] }\n")
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor(), chunk_size=2)
    assert "y" not in pd.read_parquet(part_files(out)[0]).columns  # failed runs only
    runs = read_results(out)
    assert list(runs["status"]) == ["failed", "failed", "ok", "ok"]
    assert runs["y"].isna().tolist() == [True, True, False, False]
    assert runs["y"].iloc[2:].tolist() == [4.0, 6.0]
