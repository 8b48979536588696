"""Hostile input, faults and load: each failure of issue 11, with a test that would catch it.

Commands are called in-process (``govsim.cli.main``) unless a real process is needed (a
kill). Scenarios are tiny (200-2,000 consumers, a few months), so the file stays quick.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from govsim import folders, sanity, sizing
from govsim.cli import main
from govsim.scenario import Scenario, ScenarioError, resolve

TINY = {"consumers.count": 300, "businesses.count": 30, "run.months": 3}


def tiny_file(folder: Path, name: str = "tiny", **extra) -> Path:
    scenario = Scenario.load(resolve("baseline")).with_overrides({**TINY, "name": name, **extra})
    path = folder / f"{name}.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    return path


def govsim(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_clean_line(err: str, *expected: str) -> None:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("govsim:")]
    assert len(lines) == 1, err
    for text in expected:
        assert text in lines[0], lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- 1. paths are confined ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/elsewhere", "a/b", ".hidden", "..",
                                  "with space", "x" * 65, ""])
def test_a_scenario_name_that_is_a_path_is_refused(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = govsim(capsys, "run", "--set", f'name="{name}"', "--months", "2")
    assert code == 2
    one_clean_line(err, "name = ", "it names output folders")
    assert list(tmp_path.iterdir()) == []


def test_a_scenario_file_with_a_path_as_name_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "../../outside"\n[run]\nmonths = 2\n')
    code, _, err = govsim(capsys, "compare", str(bad), "--replicates", "2", "--out", "rep")
    assert code == 2 and "bad.toml: name = '../../outside' is not allowed" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_file_name_that_is_no_identifier_still_gives_a_valid_name(tmp_path):
    path = tmp_path / "my scenario (v2).toml"
    path.write_text("[run]\nmonths = 2\n")
    assert Scenario.load(path).name == "my_scenario__v2_"


def test_an_experiment_name_that_is_a_path_is_refused(tmp_path, capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text('name = "../../x"\ndesign = "grid"\n[parameters]\n'
                   '"budget.annual_yuan" = { levels = [1e5, 2e5] }\n')
    code, _, err = govsim(capsys, "sweep", exp, "--out", tmp_path / "s")
    assert code == 2 and "name = '../../x' is not allowed" in err
    assert not (tmp_path / "s").exists()


def test_compare_writes_scenario_files_only_inside_out(tmp_path, capsys):
    base, cure = tiny_file(tmp_path, "base"), tiny_file(tmp_path, "cure",
                                                         **{"law.enforcement_probability": 0.9})
    out = tmp_path / "deep" / "rep"
    code, _, err = govsim(capsys, "compare", cure, "--baseline", base, "--replicates", "2",
                          "--workers", "1", "--out", out)
    assert code == 0, err
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert all(p.is_relative_to(out) for p in written - {base, cure})
    assert list(out.rglob("cure.toml"))


def test_the_live_view_loads_only_the_scenarios_it_offers(tmp_path, monkeypatch):
    pytest.importorskip("solara")
    from govsim import app

    offered = tiny_file(tmp_path, "offered")
    other = tiny_file(tmp_path, "other")
    monkeypatch.setenv(app.SCENARIO_ENV, str(offered))
    assert app.load_scenario("offered").name == "offered"
    assert app.load_scenario("baseline").name == "baseline"
    for name in (str(other), "other", "/etc/passwd", "../pyproject.toml", str(resolve("baseline")),
                 12, None):
        with pytest.raises(ScenarioError, match="is not one of the scenarios offered"):
            app.load_scenario(name)


# --- 2. nothing is deleted that govsim did not write ---------------------------------------


SWEEP = """
design = "grid"
months = 2
[fixed]
"consumers.count" = 300
"businesses.count" = 30
[parameters]
"budget.annual_yuan" = { levels = [200000.0, 400000.0] }
"""


def foreign_folder(root: Path) -> dict[str, bytes]:
    (root / "runs").mkdir(parents=True)
    (root / "analysis").mkdir()
    (root / "runs" / "important.txt").write_text("mine")
    (root / "analysis" / "notes.md").write_text("my notes")
    return tree(root)


@pytest.mark.parametrize("force", [False, True])
def test_a_sweep_never_touches_a_folder_it_did_not_write(tmp_path, capsys, force):
    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP)
    before = foreign_folder(tmp_path / "D")
    code, _, err = govsim(capsys, "sweep", exp, "--out", tmp_path / "D", "--workers", "1",
                          *(["--force"] if force else []))
    assert code == 2
    one_clean_line(err, "not written by govsim", "analysis, runs")
    assert tree(tmp_path / "D") == before
    assert not (tmp_path / "D" / ".lock").exists()  # no stray lock in a refused folder


@pytest.mark.parametrize("command", ["run", "compare"])
def test_run_and_compare_never_replace_a_folder_they_did_not_write(tmp_path, capsys, command):
    base = tiny_file(tmp_path, "base")
    before = foreign_folder(tmp_path / "D")
    args = (["run", base] if command == "run" else
            ["compare", base, "--baseline", base, "--replicates", "2", "--workers", "1"])
    code, _, err = govsim(capsys, *args, "--out", tmp_path / "D")
    assert code == 2
    one_clean_line(err, "not written by govsim")
    assert tree(tmp_path / "D") == before


def test_a_sweep_resumes_and_reruns_its_own_folder_and_leaves_no_lock(tmp_path, capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP)
    out = tmp_path / "S"
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")[0] == 0
    assert folders.read_marker(out)["kind"] == "sweep"
    assert not (out / ".lock").exists()
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")[0] == 0  # resume
    exp.write_text(SWEEP.replace("400000.0", "500000.0"))
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")[0] == 2  # changed
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1", "--force")[0] == 0
    assert not (out / ".lock").exists()


def test_the_lock_goes_on_errors_and_a_held_lock_refuses(tmp_path):
    folder = tmp_path / "F"
    with pytest.raises(RuntimeError), folders.locked(folder):
        assert (folder / ".lock").exists()
        raise RuntimeError("boom")
    assert not (folder / ".lock").exists()
    with folders.locked(folder):
        with pytest.raises(folders.FolderError, match="another"), folders.locked(folder):
            pass
        assert (folder / ".lock").exists()
    assert not (folder / ".lock").exists()


def test_garbage_sweep_manifest_gives_one_line(tmp_path, capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP)
    out = tmp_path / "S"
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")[0] == 0
    for garbage in ("{not json", "[1, 2]", '"text"', '{"format": 1}', "null",
                    '{"parameters": 5}'):
        (out / "manifest.json").write_text(garbage)
        code, _, err = govsim(capsys, "analyze", out)
        assert code == 2, garbage
        one_clean_line(err, "manifest.json")
        code, _, err = govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")
        assert code == 2, garbage
        one_clean_line(err, "manifest")
    # govsim's own folder: --force starts it again
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1", "--force")[0] == 0


# --- 3. outputs whole or absent -------------------------------------------------------------


@pytest.fixture
def old_report(tmp_path, capsys) -> tuple[Path, Path, dict[str, bytes]]:
    base = tiny_file(tmp_path, "base")
    out = tmp_path / "rep"
    code, _, err = govsim(capsys, "compare", base, "--baseline", base, "--replicates", "2",
                          "--workers", "1", "--out", out)
    assert code == 0, err
    return base, out, tree(out)


def test_disk_full_while_writing_a_report_leaves_the_old_one(old_report, tmp_path, capsys,
                                                             monkeypatch):
    base, out, before = old_report
    import govsim.compare.report as report

    real = report._write
    calls = []

    def full_after_two(path, content):
        calls.append(path)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real(path, content)

    monkeypatch.setattr(report, "_write", full_after_two)
    cure = tiny_file(tmp_path, "cure", **{"law.enforcement_probability": 0.9})
    code, _, err = govsim(capsys, "compare", cure, "--baseline", base, "--replicates", "2",
                          "--workers", "1", "--out", out, "--force")
    assert code == 2
    one_clean_line(err, "no space left on the disk", "left as it was")
    assert "finished runs are kept" in err  # the runs were done: only the report failed
    assert tree(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [".rep.unfinished"]


def test_disk_full_in_run_gives_one_line_and_no_folder(tmp_path, capsys, monkeypatch):
    import govsim.output as output

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output, "plot_outcomes", full)
    code, _, err = govsim(capsys, "run", tiny_file(tmp_path), "--out", tmp_path / "r")
    assert code == 2
    one_clean_line(err, "no space left")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_a_kill_inside_a_staged_write_leaves_the_old_folder_and_is_tidied(tmp_path):
    target = tmp_path / "rep"
    with folders.staged(target, "compare") as tmp:
        (tmp / "report.md").write_text("old")
    script = textwrap.dedent(f"""
        import os, signal
        from govsim import folders
        with folders.staged({str(target)!r}, "compare") as tmp:
            (tmp / "report.md").write_text("new, half")
            (tmp / "effects.png").write_text("new")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert (target / "report.md").read_text() == "old"
    assert not (target / "effects.png").exists()
    assert len(list(tmp_path.glob(".rep.staging-*"))) == 1  # what a SIGKILL leaves ...
    folders.claim(target, "compare")
    assert list(tmp_path.glob(".rep.*")) == []  # ... the next command removes


@pytest.mark.parametrize("command", ["compare", "optimise", "calibrate", "sweep"])
def test_a_folder_of_another_kind_is_refused_offering_force_only_where_there_is_one(
        tmp_path, capsys, command):
    target = tmp_path / "rep"
    with folders.staged(target, "run") as tmp:
        (tmp / "summary.json").write_text("{}")
    files = {"compare": [tiny_file(tmp_path)], "optimise": ["cheapest_95"],
             "calibrate": ["guangdong_district"], "sweep": ["budget_vs_backchecks"]}
    code, _, err = govsim(capsys, command, *files[command], "--out", target)
    assert code == 2
    one_clean_line(err, "holds a govsim run")
    assert ("--force" in err) == (command in ("sweep", "compare"))  # the ones with --force


def test_a_new_result_never_replaces_a_different_one_without_force(tmp_path, capsys):
    out = tmp_path / "rB"
    tiny = tiny_file(tmp_path)
    assert govsim(capsys, "run", tiny, "--seed", "1", "--out", out)[0] == 0
    assert govsim(capsys, "run", tiny, "--seed", "1", "--out", out)[0] == 0  # the same run
    before = tree(out)
    code, _, err = govsim(capsys, "run", tiny, "--seed", "2", "--out", out)
    assert code == 2
    one_clean_line(err, "holds an earlier govsim run of something else", "--force")
    assert tree(out) == before  # the earlier run is all there
    assert govsim(capsys, "run", tiny, "--seed", "2", "--out", out, "--force")[0] == 0
    assert "--seed 2" in (out / "command.txt").read_text()


def test_a_result_written_by_another_command_meanwhile_is_not_swapped_over(tmp_path):
    target = tmp_path / "rep"
    mine = folders.claim(target, "run", content="aaaa")
    with folders.staged(folders.claim(target, "run", content="bbbb")) as tmp:
        (tmp / "summary.json").write_text("theirs")  # the other command finishes first
    with pytest.raises(folders.FolderError, match="written while this one ran"), \
            folders.staged(mine) as tmp:
        (tmp / "summary.json").write_text("mine")
    assert (target / "summary.json").read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temporary folder left


@pytest.mark.parametrize("out", [".", "", "a" * 240])
def test_an_out_that_cannot_be_swapped_in_is_refused_before_any_run(tmp_path, capsys,
                                                                     monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    tiny = tiny_file(tmp_path)
    code, _, err = govsim(capsys, "run", tiny, "--out", out)
    assert code == 2
    one_clean_line(err, "current folder" if len(out) < 2 else "too long")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_an_out_that_is_a_symbolic_link_is_written_where_it_points(tmp_path, capsys):
    real, link = tmp_path / "real", tmp_path / "link"
    tiny = tiny_file(tmp_path)
    assert govsim(capsys, "run", tiny, "--out", real)[0] == 0
    link.symlink_to(real)
    assert govsim(capsys, "run", tiny, "--out", link)[0] == 0
    assert link.is_symlink() and (link / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real", "tiny.toml"]


def test_a_kill_between_the_two_renames_of_a_swap_restores_the_old_folder(tmp_path):
    target = tmp_path / "rep"
    with folders.staged(target, "compare") as tmp:
        (tmp / "report.md").write_text("old")
    aside = tmp_path / ".rep.old-999999999-abcd"
    os.rename(target, aside)  # as if killed right after the first rename
    folders.claim(target, "compare")
    assert (target / "report.md").read_text() == "old"


@pytest.mark.slow
def test_killing_compare_kills_its_workers_and_keeps_the_old_report(old_report, tmp_path):
    base, out, before = old_report
    slow = tiny_file(tmp_path, "slow", **{"consumers.count": 20_000, "run.months": 60,
                                          "businesses.count": 3000})
    proc = subprocess.Popen([sys.executable, "-m", "govsim.cli", "compare", slow,
                             "--baseline", base, "--replicates", "400", "--workers", "2",
                             "--out", out, "--force"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 90
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.3)
        workers = [c for c in parent.children(recursive=True)
                   if "resource_tracker" not in " ".join(c.cmdline())]
    assert workers, "compare started no worker processes"
    time.sleep(2)  # the workers are running models now
    proc.kill()
    proc.wait(timeout=30)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for p in alive:
        p.kill()
    assert alive == [], "worker processes outlived their killed parent"
    assert tree(out) == before
    folders.claim(out, "compare")  # the next compare starts clean, with the runs kept so far
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".rep")] \
        in ([], [".rep.unfinished"])


# --- 4. work sized before it starts ---------------------------------------------------------


def test_a_scenario_too_big_for_memory_is_refused_with_the_estimate(tmp_path, capsys,
                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = govsim(capsys, "run", "--set", "consumers.count=5000000",
                          "--set", "consumers.population=5000000",
                          "--set", "participation.degree=100")
    assert code == 2
    one_clean_line(err, "needs about", "GB of memory", "available", "consumers.count")
    assert list(tmp_path.iterdir()) == []


def test_the_estimate_follows_consumers_times_degree():
    small = Scenario()
    big = small.with_overrides({"participation.degree": 80})
    assert sizing.run_bytes(big) > 2.5 * sizing.run_bytes(small)
    # 5M consumers x degree 40 took 8 GB when measured (issue 11)
    huge = small.with_overrides({"consumers.count": 5_000_000, "consumers.population": 5_000_000,
                                 "participation.degree": 40})
    assert 6 * 2**30 < sizing.run_bytes(huge) < 11 * 2**30


def test_more_runs_than_the_threshold_need_yes(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = govsim(capsys, "compare", "--replicates", "1000000000")
    assert code == 2
    one_clean_line(err, "--replicates 1,000,000,000", "--yes")
    exp = tmp_path / "big.toml"
    exp.write_text('design = "sobol"\nsamples = 524288\n[parameters]\n'
                   '"budget.annual_yuan" = { range = [1e5, 1e6] }\n'
                   '"law.enforcement_probability" = { range = [0.1, 0.9] }\n')
    start = time.perf_counter()
    code, _, err = govsim(capsys, "sweep", exp, "--out", tmp_path / "s")
    assert code == 2
    one_clean_line(err, "2,097,152 runs", "--yes")
    assert time.perf_counter() - start < 10  # refused before the design is drawn
    assert not (tmp_path / "s").exists()


def test_too_many_workers_are_capped_with_a_warning(capsys):
    assert sizing.cap_workers(64) == sizing.WORKERS_PER_CORE * sizing.cores()
    assert "only adds memory" in capsys.readouterr().err
    assert sizing.cap_workers(1) == 1
    with pytest.raises(sizing.SizeError, match="at least 1"):
        sizing.cap_workers(0)


def test_memory_error_anywhere_is_one_clean_line(tmp_path, capsys, monkeypatch):
    import govsim.output as output

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(output, "run", no_memory)
    code, _, err = govsim(capsys, "run", tiny_file(tmp_path), "--out", tmp_path / "r")
    assert code == 2
    one_clean_line(err, "out of memory")


# --- 5. ordinary mistakes: one line, exit 2, before any work -------------------------------


def test_ordinary_mistakes_get_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = tiny_file(tmp_path)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 500 + "]" * 500 + "\n")
    cases = [
        (["run", scenario, "--seed", "-1"], "--seed -1"),
        (["run", scenario, "--out", a_file], "is a file"),
        (["run", scenario, "--out", a_file / "sub"], "is a file"),
        (["run", scenario, "--out", "/proc/self/x"], "system folder"),
        (["compare", scenario, "--replicates", "2", "--out", "/sys/x"], "system folder"),
        (["viz", "--port", "99999"], "--port 99999"),
        (["viz", "--port", "0"], "--port 0"),
        (["run", deep], "nested too deeply"),
        (["analyze", tmp_path], "not a sweep folder"),
    ]
    for args, expected in cases:
        code, _, err = govsim(capsys, *args)
        assert code == 2, (args, err)
        one_clean_line(err, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "deep.toml", "tiny.toml"]


def test_every_kind_of_input_file_nested_too_deeply_is_refused_by_its_loader(tmp_path):
    from govsim.calibrate.targets import TargetsError, read
    from govsim.optimise.problem import ProblemError, load_problem
    from govsim.sweep.experiment import ExperimentError, load_experiment

    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 500 + "]" * 500 + "\n")
    for load, error, kind in ((Scenario.load, ScenarioError, "a scenario"),
                              (load_experiment, ExperimentError, "an experiment"),
                              (load_problem, ProblemError, "a problem"),
                              (read, TargetsError, "a targets file")):
        with pytest.raises(error, match=f"not {kind} .its tables or arrays are nested too"):
            load(deep)


def test_a_read_only_output_folder_is_refused_before_the_run(tmp_path, capsys, monkeypatch):
    # root writes anywhere, so the test fakes the file system's refusal
    monkeypatch.setattr(folders, "_can_write", lambda folder: False)
    ran = []
    monkeypatch.setattr("govsim.output.run", lambda *a, **k: ran.append(1))
    code, _, err = govsim(capsys, "run", tiny_file(tmp_path), "--out", tmp_path / "ro" / "r")
    assert code == 2 and ran == []
    one_clean_line(err, "is not writable")


def test_analyze_on_a_read_only_sweep_folder_is_one_line(tmp_path, capsys, monkeypatch):
    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP)
    out = tmp_path / "S"
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")[0] == 0
    monkeypatch.setattr(folders, "_can_write", lambda folder: False)
    code, _, err = govsim(capsys, "analyze", out)
    assert code == 2
    one_clean_line(err, "is not writable")
    code, _, err = govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")
    assert code == 2
    one_clean_line(err, "is not writable")


def test_a_zero_markup_is_warned_before_the_run_and_the_summary_says_no_testing(
        tmp_path, capsys):
    scenario = tiny_file(tmp_path, **{"market.markup": 0.0, "run.months": 4})
    code, out, err = govsim(capsys, "run", scenario, "--out", tmp_path / "r")
    assert code == 0
    assert "warning: market.markup = 0" in err and "every tender fails" in err
    assert "No batch was tested in this run" in out
    assert "No batch was tested" in json.loads((tmp_path / "r" / "summary.json").read_text())[
        "note"]


def test_a_budget_kept_whole_for_back_checks_is_warned_and_tests_nothing(tmp_path, capsys):
    scenario = tiny_file(tmp_path, **{"budget.backcheck_share": 1.0, "run.months": 4})
    code, out, err = govsim(capsys, "run", scenario, "--out", tmp_path / "r")
    assert code == 0
    assert "warning: budget.backcheck_share = 1" in err
    assert "No batch was tested in this run" in out  # the warning told the truth


def test_compared_scenarios_of_unlike_size_are_warned_about(tmp_path):
    base = Scenario.load(resolve("baseline"))
    short = base.with_overrides({"name": "short", "run.months": 24,
                                 "consumers.count": 2000})
    warnings = sanity.unlike_sizes([base, short, base.with_overrides({"name": "same"})])
    assert len(warnings) == 2
    assert "run.months (baseline 60, short 24, same 60)" in warnings[0]
    assert "--months N" in warnings[0] and "consumers.count" in warnings[1]
    assert sanity.unlike_sizes([base, base.with_overrides({"name": "law",
                                                           "law.business_fine_yuan": 1e5})]) == []


def test_a_run_with_testing_has_no_such_note(tmp_path, capsys):
    code, out, err = govsim(capsys, "run", tiny_file(tmp_path, **{"run.months": 4}),
                            "--out", tmp_path / "r")
    assert code == 0 and "warning" not in err and "No batch was tested" not in out


def test_degenerate_markets_are_named_before_a_run():
    s = Scenario()
    assert sanity.warnings_for(s) == []
    assert "markup" in sanity.warnings_for(s.with_overrides({"market.markup": 0.0}))[0]
    assert "ceiling" in sanity.warnings_for(
        s.with_overrides({"market.cost_per_test_yuan": 2000.0}))[0]
    assert "min_sensitivity" in sanity.warnings_for(
        s.with_overrides({"performance.min_sensitivity": 0.99}))[0]
    assert "budget" in sanity.warnings_for(s.with_overrides({"budget.annual_yuan": 0.0}))[0]
    assert "back-checks" in sanity.warnings_for(
        s.with_overrides({"budget.backcheck_share": 1.0}))[0]
    with pytest.raises(ScenarioError, match="cost_per_test_yuan = 0.0 is not allowed"):
        s.with_overrides({"market.cost_per_test_yuan": 0.0})


# --- 6. live view memory -------------------------------------------------------------------


def test_a_reset_model_is_freed(tmp_path):
    pytest.importorskip("solara")
    import gc
    import weakref

    from govsim.app import LiveModel

    first = LiveModel("baseline", seed=1)
    first.step()
    ref = weakref.ref(first)
    del first
    gc.collect()
    assert ref() is None, "something still holds a model nobody uses (Mesa's Agent._ids?)"


def test_disk_full_in_a_sweep_is_one_line_and_leaves_no_lock(tmp_path, capsys, monkeypatch):
    from govsim.sweep.storage import SweepStore

    def full(self, task, frame):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.runs_dir / "part"))

    monkeypatch.setattr(SweepStore, "write_chunk", full)
    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP)
    code, _, err = govsim(capsys, "sweep", exp, "--out", tmp_path / "S", "--workers", "1")
    assert code == 2
    one_clean_line(err, "no space left on the disk")
    assert not (tmp_path / "S" / ".lock").exists()


def test_analyze_keeps_a_file_it_did_not_write_in_its_folder(tmp_path, capsys):
    exp = tmp_path / "exp.toml"
    exp.write_text(SWEEP)
    out = tmp_path / "S"
    assert govsim(capsys, "sweep", exp, "--out", out, "--workers", "1")[0] == 0
    assert govsim(capsys, "analyze", out)[0] == 0
    (out / "analysis" / "notes").mkdir()
    (out / "analysis" / "notes" / "mine.txt").write_text("mine")
    code, _, err = govsim(capsys, "analyze", out)
    assert code == 2
    one_clean_line(err, "notes", "did not write")
    assert (out / "analysis" / "notes" / "mine.txt").read_text() == "mine"
    assert (out / "analysis" / "analysis.md").exists()
