"""govsim compare: seeding, statistics, parallel runs, validation and the report.

Runs are short (24 months, 2,000 consumers) and few; no test relies on what the model
outputs, only on how the comparison treats whatever it outputs.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim import cli
from govsim import compare as cmp
from govsim.metrics import COLUMNS

SMALL = {"run.months": 24, "consumers.count": 2000}
CURES = {
    "strict_law": {"law.enforcement_probability": 0.95, "law.business_fine_yuan": 150_000.0},
    "big_budget": {"budget.annual_yuan": 1_200_000.0},
}


def _write_scenario(folder: Path, name: str, overrides: dict) -> Path:
    base = govsim.Scenario.load(govsim.scenario.resolve("baseline"))
    scenario = base.with_overrides({**SMALL, **overrides, "name": name})
    path = folder / f"{name}.toml"
    path.write_text(scenario.to_toml(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """A short baseline and two cures as scenario files."""
    folder = tmp_path_factory.mktemp("scenarios")
    paths = {"baseline": _write_scenario(folder, "baseline", {})}
    paths.update({name: _write_scenario(folder, name, ov) for name, ov in CURES.items()})
    return paths


def _plan(files: dict[str, Path], replicates: int, seed: int = 11) -> cmp.Plan:
    return cmp.plan([str(files[n]) for n in CURES], baseline=str(files["baseline"]),
                    replicates=replicates, seed=seed)


@pytest.fixture(scope="module")
def report(files, tmp_path_factory) -> tuple[Path, str]:
    """A report written by the command line, and what the command printed."""
    out = tmp_path_factory.mktemp("compare") / "report"
    argv = ["compare", *(str(files[n]) for n in CURES), "--baseline", str(files["baseline"]),
            "--replicates", "3", "--workers", "1", "--seed", "5", "--out", str(out)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main(argv) == 0
    return out, printed.getvalue()


# --- seeds ---


def test_replicate_seed_is_the_spawned_child_of_the_master_seed():
    children = np.random.SeedSequence(42).spawn(6)
    expected = [int(ch.generate_state(1, dtype=np.uint32)[0]) for ch in children]
    assert [cmp.replicate_seed(42, r) for r in range(6)] == expected
    assert len(set(expected)) == 6
    assert cmp.replicate_seed(43, 0) != cmp.replicate_seed(42, 0)


def test_replicates_do_not_depend_on_how_many_there_are(files):
    few = cmp.run_all(_plan(files, replicates=2))
    more = cmp.run_all(_plan(files, replicates=4))
    pd.testing.assert_frame_equal(
        few, more[more.replicate < 2].reset_index(drop=True), check_exact=True)


# --- statistics on known numbers ---


def test_interval_of_a_known_sample():
    mean, low, high, n = cmp.mean_interval([1.0, 2.0, 3.0, np.nan])
    assert (mean, n) == (2.0, 3)
    # t(0.975, 2 df) = 4.3027; sd = 1; half-width = 4.3027 / sqrt(3)
    assert high - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
    assert mean - low == pytest.approx(high - mean)
    assert np.isnan(cmp.mean_interval([5.0])[1])


def test_difference_is_paired_by_replicate():
    rng = np.random.default_rng(0)
    base = pd.Series(rng.normal(100, 30, 10))  # replicates vary a lot ...
    cure = base + 1 + rng.normal(0, 0.1, 10)  # ... but each cure run is its baseline + 1
    diff, low, high, _ = cmp.paired_difference(cure, base)
    assert diff == pytest.approx(1, abs=0.1)
    assert 0 < low < high < 2  # paired: excludes zero although the means' intervals overlap
    _, base_low, base_high, _ = cmp.mean_interval(base)
    assert base_high - base_low > 10
    _, low0, high0, _ = cmp.paired_difference(base, base)
    assert low0 == high0 == 0


def _synthetic(per_cure: dict[str, dict[str, float]], replicates: int = 8) -> cmp.Comparison:
    """A comparison whose per-run outcomes are made up: the baseline varies by replicate and
    each cure is the baseline plus the given shifts plus a little noise."""
    scenarios = [govsim.Scenario(name="baseline")]
    scenarios += [govsim.Scenario(name=n) for n in per_cure]
    p = cmp.Plan(tuple(scenarios), tuple(f"{s.name}.toml" for s in scenarios), replicates, 0)
    rng = np.random.default_rng(1)
    keys = [o.key for o in cmp.OUTCOMES]
    base = {k: rng.uniform(0.2, 0.4, replicates) for k in keys}
    base["illness_cases"] = rng.uniform(900, 1100, replicates)
    rows = []
    for name, shift in [("baseline", {}), *per_cure.items()]:
        for r in range(replicates):
            noise = 0 if name == "baseline" else rng.normal(0, 1e-3)
            rows.append({"scenario": name, "replicate": r, "seed": r,
                         **{k: base[k][r] + shift.get(k, 0) + noise for k in keys}})
    per_run = pd.DataFrame(rows)
    return cmp.Comparison(p, pd.DataFrame(), per_run, cmp.statistics(per_run, p))


def test_a_shares_interval_stays_between_0_and_100_percent_and_a_counts_above_0():
    c = _synthetic({"cure": {}}, replicates=3)
    skewed = c.per_run.copy()
    skewed.loc[skewed.scenario == "cure", "detection_rate"] = [0.02, 0.98, 0.64]
    skewed.loc[skewed.scenario == "cure", "illness_cases"] = [1.0, 900.0, 10.0]
    stats = cmp.statistics(skewed, c.plan).set_index(["scenario", "outcome"])
    share, count = stats.loc[("cure", "detection_rate")], stats.loc[("cure", "illness_cases")]
    assert (share["low"], share["high"]) == (0.0, 1.0)  # the t-interval reaches -0.6 to 1.7
    assert count["low"] == 0.0 and count["high"] > count["mean"]
    assert share["diff_low"] < 0 < share["diff_high"]  # differences are not cut


def test_significant_effects_are_flagged_with_their_direction():
    c = _synthetic({"good": {"compliance_rate": 0.2, "illness_cases": -300},
                    "bad": {"compliance_rate": -0.1}, "same": {}})
    assert c.stat("good", "compliance_rate")["direction"] == "better"
    assert c.stat("good", "illness_cases")["direction"] == "better"
    assert c.stat("good", "illness_cases")["rel"] == pytest.approx(-0.3, abs=0.02)
    assert c.stat("bad", "compliance_rate")["direction"] == "worse"
    assert not c.stat("same", "compliance_rate")["significant"]
    assert c.stats.query("scenario == 'baseline'")["diff"].isna().all()


def test_verdict_names_the_cures_that_work_and_those_that_do_not():
    from govsim.compare.report.verdict import verdict

    c = _synthetic({"good": {"compliance_rate": 0.2, "illness_cases": -300},
                    "same": {}})
    text = verdict(c)
    works = re.search(r"significantly raises? compliance: ([^.]*)\.", text)
    assert works and "good" in works.group(1) and "same" not in works.group(1)
    assert re.search(r"same makes no difference", text)
    assert "+20.0 pp" in text  # the gain, in percentage points


def test_cost_per_violation_is_missing_not_infinite_without_detections():
    p = cmp.Plan((govsim.Scenario(name="baseline"),), ("baseline.toml",), 2, 0)
    runs = pd.DataFrame(0.0, index=range(4), columns=list(COLUMNS))
    runs["step"] = [1, 2, 1, 2]
    runs["budget_spent"] = runs["testing_fees_yuan"] = runs["public_cost_yuan"] = 1000.0
    runs.insert(0, "seed", [7, 7, 8, 8])
    runs.insert(0, "replicate", [0, 0, 1, 1])
    runs.insert(0, "scenario", "baseline")
    runs.loc[2:, "detected_violations"] = [1.0, 3.0]
    per_run = cmp.run_summaries(runs, p)
    assert np.isnan(per_run.loc[0, "cost_per_violation"])
    assert per_run.loc[1, "cost_per_violation"] == pytest.approx(2000 / 4)


# --- running ---


def test_intervals_shrink_when_replicates_grow(files):
    few = cmp.compare(_plan(files, replicates=4)).stats
    many = cmp.compare(_plan(files, replicates=16)).stats
    ratios = []
    for lo, hi in (("low", "high"), ("diff_low", "diff_high")):
        narrow, wide = many[hi] - many[lo], few[hi] - few[lo]
        ok = (wide > 0) & narrow.notna()
        ratios += list(narrow[ok] / wide[ok])
    assert len(ratios) >= 20
    # 4 -> 16 runs: about 0.4 expected (t quantile and 1/sqrt(n); without
    # the 1/sqrt(n) it would be about 0.67); the spread of a standard
    # deviation estimated from 4 runs lets a few single intervals buck the trend.
    assert np.median(ratios) < 0.55
    assert np.mean(np.array(ratios) < 1) > 0.8


def test_workers_do_not_change_numbers(files):
    p = _plan(files, replicates=4)
    alone = cmp.compare(p, workers=1)
    pooled = cmp.compare(p, workers=2)
    pd.testing.assert_frame_equal(alone.runs, pooled.runs, check_exact=True)
    pd.testing.assert_frame_equal(alone.stats, pooled.stats, check_exact=True)


def test_a_comparison_on_a_dask_cluster_gives_the_same_report(files, report, tmp_path,
                                                               capsys):
    out = tmp_path / "dask"
    argv = ["compare", *(str(files[n]) for n in CURES), "--baseline", str(files["baseline"]),
            "--replicates", "3", "--dask-local", "2", "--seed", "5", "--out", str(out)]
    assert cli.main(argv) == 0
    assert "on a loopback Dask cluster of 2 workers" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"),
                                  pd.read_parquet(report[0] / "runs.parquet"), check_exact=True)


# --- bad input ---


def _no_runs(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a run started")

    monkeypatch.setattr(cmp.core, "run", forbidden)


def test_bad_scenario_among_several_is_named_before_any_run(files, tmp_path, monkeypatch,
                                                              capsys):
    _no_runs(monkeypatch)
    bad = tmp_path / "broken_cure.toml"
    bad.write_text('name = "broken_cure"\n[law]\nenforcement_probability = 1.5\n')
    out = tmp_path / "out"
    argv = ["compare", str(files["strict_law"]), str(bad), "no_such_cure",
            "--baseline", str(files["baseline"]), "--replicates", "2", "--workers", "1",
            "--out", str(out)]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "broken_cure.toml" in err and "law.enforcement_probability" in err
    assert "no_such_cure" in err  # every bad one, not just the first
    assert "strict_law" not in err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("option", [["--replicates", "1"], ["--months", "0"],
                                    ["--seed", "-1"], ["--workers", "0"]])
def test_bad_numbers_stop_before_any_run(files, tmp_path, monkeypatch, capsys, option):
    _no_runs(monkeypatch)
    out = tmp_path / "out"
    argv = ["compare", str(files["strict_law"]), "--baseline", str(files["baseline"]),
            "--out", str(out), *option]
    assert cli.main(argv) == cli.EXIT_BAD_INPUT
    assert option[0] in capsys.readouterr().err
    assert not out.exists()


def test_two_scenarios_with_one_name_are_refused(files, tmp_path):
    same_name = govsim.Scenario.load(files["strict_law"]).with_overrides(
        {"budget.annual_yuan": 10.0})
    twin = tmp_path / "twin.toml"
    twin.write_text(same_name.to_toml())
    with pytest.raises(govsim.ScenarioError, match="strict_law"):
        cmp.plan([str(files["strict_law"]), str(twin)], baseline=str(files["baseline"]))


def test_failed_report_leaves_nothing_half_written(files, tmp_path, monkeypatch):
    from govsim.compare.report import figures

    def broken(c):
        raise RuntimeError("figure failed")

    monkeypatch.setattr(figures, "timeseries_png", broken)
    out = tmp_path / "out"
    argv = ["compare", str(files["strict_law"]), "--baseline", str(files["baseline"]),
            "--replicates", "2", "--workers", "1", "--out", str(out)]
    with pytest.raises(RuntimeError):
        cli.main(argv)
    assert not out.exists()


# --- interrupted comparisons ---


def _interrupt_after(monkeypatch, n: int) -> list:
    """Make the n+1-th run stop the comparison as Ctrl-C would; returns the runs made."""
    from govsim.run import run as real

    made = []

    def counting(*args, **kwargs):
        if len(made) == n:
            raise KeyboardInterrupt
        made.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(cmp.core, "run", counting)
    return made


def test_an_interrupted_comparison_keeps_its_runs_and_the_same_command_continues(
        files, report, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    argv = ["compare", *(str(files[n]) for n in CURES), "--baseline", str(files["baseline"]),
            "--replicates", "3", "--workers", "1", "--seed", "5", "--out", str(out)]
    _interrupt_after(monkeypatch, 4)
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert "4 finished runs are kept" in err and "run the same command again" in err
    assert not out.exists()
    made = _interrupt_after(monkeypatch, 99)
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(argv) == 0
    assert len(made) == 5  # 3 scenarios x 3 replicates, 4 of them kept
    assert "4 finished runs kept" in capsys.readouterr().err
    # the same numbers as the comparison that was never interrupted (the report fixture)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"),
                                  pd.read_parquet(report[0] / "runs.parquet"), check_exact=True)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the kept runs are gone


def test_kept_runs_serve_only_the_same_scenario_seed_and_model(files, tmp_path, monkeypatch):
    from govsim.compare import checkpoint

    p = _plan(files, replicates=2)
    first = cmp.run_all(p, keep=checkpoint.Checkpoint(tmp_path / "out"))
    made = _interrupt_after(monkeypatch, 99)
    again = cmp.run_all(p, keep=checkpoint.Checkpoint(tmp_path / "out"))
    assert made == []
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    cmp.run_all(_plan(files, replicates=2, seed=12), keep=checkpoint.Checkpoint(tmp_path / "out"))
    assert len(made) == 6  # other seeds: every run
    edited = cmp.plan([str(files["strict_law"])], baseline=str(files["baseline"]),
                      replicates=2, seed=11, months=12)
    cmp.run_all(edited, keep=checkpoint.Checkpoint(tmp_path / "out"))
    assert len(made) == 10  # shorter runs: every run again
    monkeypatch.setattr(checkpoint, "model_code_fingerprint", lambda: "another model")
    cmp.run_all(p, keep=checkpoint.Checkpoint(tmp_path / "out"))
    assert len(made) == 16  # the model's code changed: every run again


# --- the report ---


def test_report_has_every_file_and_every_scenario(report):
    out, printed = report
    for name in ("report.html", "report.md", "runs.parquet", "summary.csv",
                 "runs_summary.csv", "timeseries.png", "effects.png"):
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for name in ("baseline", *CURES):
        assert name in html and name.replace("_", "\\_") in md
        assert (out / "scenarios" / f"{name}.toml").is_file()
    assert str(out / "report.html") in printed
    assert all(name in printed for name in CURES)  # the terminal table


def test_report_lists_what_each_cure_changes(report):
    out, _ = report
    html = (out / "report.html").read_text().replace("<wbr>", "")
    for overrides in CURES.values():
        for dotted in overrides:
            assert dotted in html
    assert "consumers.count" not in html  # the same in every scenario, so not a change
    md = (out / "report.md").read_text()
    assert all(dotted in md for overrides in CURES.values() for dotted in overrides)


def test_html_needs_no_server_and_no_network(report):
    out, _ = report
    html = (out / "report.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"https?://|url\(|<script|<link", html)


def test_data_has_one_row_per_run_and_month_and_per_scenario_outcome(report):
    out, _ = report
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 3 * 3 * SMALL["run.months"]
    assert not runs.duplicated(["scenario", "replicate", "step"]).any()
    assert set(runs.scenario) == {"baseline", *CURES}
    summary = pd.read_csv(out / "summary.csv")
    # every outcome and every public cost line the model reports, per scenario
    lines = 3 + ("inspection_cost_yuan" in COLUMNS) + ("public_cost_yuan" in COLUMNS)
    per_scenario = len(cmp.OUTCOMES) + lines + 1  # and the total
    assert len(summary) == 3 * per_scenario
    assert {"mean", "low", "high", "diff", "diff_low", "diff_high", "significant"} <= set(
        summary.columns)


def test_each_run_can_be_rerun_alone(report):
    out, _ = report
    runs = pd.read_parquet(out / "runs.parquet")
    replicate = 2
    mine = runs[(runs.scenario == "strict_law") & (runs.replicate == replicate)]
    assert (mine.seed == cmp.replicate_seed(5, replicate)).all()
    scenario = govsim.Scenario.load(out / "scenarios" / "strict_law.toml")
    again = govsim.run(scenario, seed=int(mine.seed.iloc[0])).timeseries
    pd.testing.assert_frame_equal(
        mine[list(again.columns)].reset_index(drop=True), again, check_exact=True)


def _report_commands(out: Path) -> dict[str, list[str]]:
    """The report's shell lines that re-run it, by the comment above each."""
    lines = (out / "report.md").read_text(encoding="utf-8").splitlines()
    return {lines[i - 1]: shlex.split(line) for i, line in enumerate(lines)
            if line.startswith("govsim ")}


def test_the_reports_commands_rerun_what_was_run(report, files):
    out, _ = report
    commands = _report_commands(out)
    whole = commands["# the whole comparison"]
    assert whole[:2] == ["govsim", "compare"]
    assert {str(files[n]) for n in CURES} <= set(whole)
    assert whole[whole.index("--baseline") + 1] == str(files["baseline"])
    one = next(cmd for note, cmd in commands.items() if note.startswith("# one run alone"))
    path, seed = Path(one[2]), int(one[one.index("--seed") + 1])
    assert path.parent == out / "scenarios"  # the report's own folder, not a staging one
    runs = pd.read_parquet(out / "runs.parquet")
    mine = runs[(runs.scenario == path.stem) & (runs.seed == seed)]
    again = govsim.run(path, seed=seed).timeseries
    pd.testing.assert_frame_equal(
        mine[list(again.columns)].reset_index(drop=True), again, check_exact=True)


def test_the_whole_comparison_line_of_a_baseline_alone_runs_it_alone(files):
    from govsim.compare.report.method import reproduce_lines

    alone = cmp.plan([str(files["baseline"])], baseline=str(files["baseline"]), replicates=2)
    lines = reproduce_lines(SimpleNamespace(plan=alone))
    whole = shlex.split(lines[lines.index("# the whole comparison") + 1])
    again = cmp.plan(whole[2:whole.index("--baseline")], baseline=str(files["baseline"]),
                     replicates=2)
    assert list(again.names) == list(alone.names) == ["baseline"]


def test_the_comparison_never_imports_its_report():
    # the report depends on the comparison's data, never the reverse (no import cycle)
    import subprocess
    import sys

    code = ("import sys, govsim.compare, govsim.compare.core; "
            "print(sorted(m for m in sys.modules if m.startswith('govsim.compare.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert "govsim.compare.core" in loaded
    assert "govsim.compare.report" not in loaded and "govsim.compare.command" not in loaded
    assert cmp.replicate_seed(0, 1) == cmp.core.replicate_seed(0, 1)


@pytest.mark.parametrize("months, phrase", [(6, "Mean of all 6 months"),
                                            (12, "Mean of all 12 months"),
                                            (60, "Mean of the last 12 of 60 months")])
def test_the_averaged_window_never_exceeds_the_run(months, phrase):
    scenario = govsim.Scenario(name="baseline").with_overrides({"run.months": months})
    p = cmp.Plan((scenario,), ("baseline.toml",), 2, 0)
    assert cmp.core.window_phrase(p) == phrase


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_compare_shows_a_progress_bar_on_a_terminal_only(files, monkeypatch, terminal):
    stream = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    cmp.run_all(_plan(files, replicates=2), workers=1, progress=True)
    shown = stream.getvalue()
    if terminal:
        assert "govsim compare" in shown and "6/6" in shown
    else:
        assert shown == ""


def test_a_damaged_kept_run_is_run_again(files, tmp_path, monkeypatch):
    from govsim.compare import checkpoint

    p = _plan(files, replicates=2)
    first = cmp.run_all(p, keep=checkpoint.Checkpoint(tmp_path / "out"))
    kept = sorted((tmp_path / ".out.unfinished").glob("run-*"))
    assert len(kept) == 6
    kept[0].write_bytes(kept[0].read_bytes()[:100])  # cut short, as by a full disk
    made = _interrupt_after(monkeypatch, 99)
    again = cmp.run_all(p, keep=checkpoint.Checkpoint(tmp_path / "out"))
    assert len(made) == 1
    pd.testing.assert_frame_equal(first, again, check_exact=True)
