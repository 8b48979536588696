"""govsim analyze shows noise as noise: intervals on steps, shared colour scales, flagged
Sobol indices, and an HTML page that stands alone."""

from __future__ import annotations

import importlib
import itertools

import matplotlib
import matplotlib.axes
import numpy as np
import pandas as pd
import pytest

from govsim.sweep import analyze, load_experiment, noise, run_sweep
from govsim.sweep.executors import SerialExecutor

matplotlib.use("Agg")
analyze_module = importlib.import_module("govsim.sweep.analyze")  # the package exports the
# function analyze under the module's name


def _grid(replicates: int = 30, seed: int = 0) -> pd.DataFrame:
    """Runs of a 3 x 2 x 2 grid: ``jump`` rises by 10 between a = 1 and a = 2 and is flat
    otherwise; ``dice`` is noise alone; both with unit seed noise."""
    rng = np.random.default_rng(seed)
    rows = []
    points = list(itertools.product([0, 1, 2], [0, 1], [0, 1]))
    for point_id, (a, b, c) in enumerate(points):
        for r in range(replicates):
            rows.append({"point_id": point_id, "replicate": r, "a": a, "b": b, "c": c,
                         "jump": 10.0 * (a >= 2) + rng.normal(), "dice": rng.normal()})
    return pd.DataFrame(rows)


def test_each_step_between_levels_has_an_interval_and_only_real_steps_are_tipping_points():
    steps = noise.step_intervals(_grid(), ["a", "b", "c"], ["jump", "dice"])
    jump = steps[(steps.outcome == "jump") & (steps.parameter == "a")].set_index("start")
    assert not jump.loc[0, "significant"]  # 0 -> 1: flat
    assert jump.loc[1, "significant"] and jump.loc[1, "low"] < 10 < jump.loc[1, "high"]
    assert (steps["half"] > 0).all()
    steepest = noise.steepest_steps(steps).set_index(["outcome", "parameter"])
    assert steepest.loc[("jump", "a"), "start"] == 1
    # noise alone: no step counts as a tipping point (about 1 in 20 could by chance;
    # this seed has none)
    assert not steepest.loc["dice", "significant"].any()


def test_heatmaps_share_one_colour_scale_per_outcome_that_noise_cannot_fill(tmp_path,
                                                                            monkeypatch):
    ok = _grid()
    pairs = [("a", "b"), ("a", "c"), ("b", "c")]
    scales = noise.heatmap_scales(ok, pairs, ["jump", "dice"])
    assert scales["dice"].within_noise and not scales["jump"].within_noise
    assert scales["dice"].vmax - scales["dice"].vmin >= 2 * scales["dice"].noise * 0.999
    seen = []
    original = matplotlib.axes.Axes.imshow

    def recording(self, *args, **kwargs):
        seen.append((self.get_title(), kwargs["vmin"], kwargs["vmax"], kwargs["cmap"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", recording)
    for p, q in pairs:
        analyze_module._plot_heatmaps(ok, p, q, ["jump", "dice"], tmp_path, scales)
    jump = {(v0, v1) for k, (_, v0, v1, _) in enumerate(seen) if k % 2 == 0}
    dice = {(v0, v1, cmap) for k, (_, v0, v1, cmap) in enumerate(seen) if k % 2 == 1}
    assert len(jump) == 1 and len(dice) == 1  # the same scale in every figure
    assert next(iter(dice))[2] == "Greys"  # within noise: greyed out
    assert (tmp_path / "heatmaps__a__b.png").stat().st_size > 0


def test_sobol_indices_outside_0_1_or_with_wide_intervals_are_flagged():
    table = pd.DataFrame({"S1": [0.5, -0.6, 0.3, 0.02], "S1_conf": [0.05, 0.3, 0.05, 0.03],
                          "ST": [0.6, 1.28, 0.4, 0.03], "ST_conf": [0.05, 0.2, 0.25, 0.03]})
    flags = noise.sobol_flags(table)
    assert flags[0] == "" and flags[3] == ""
    assert "outside [0, 1]" in flags[1] and "1.28" in flags[1]
    assert "wide" in flags[2]


GRID = """
model = "govsim.sweep.toys:ishigami"
design = "grid"
replicates = 2
[parameters]
x1 = { range = [-3.0, 3.0], steps = 3 }
x2 = { range = [-3.0, 3.0], steps = 3 }
x3 = { levels = [0.0, 1.0] }
"""


def test_analysis_html_stands_alone_beside_analysis_md(tmp_path):
    exp = tmp_path / "grid.toml"
    exp.write_text(GRID, encoding="utf-8")
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    analyze(out)
    md = (out / "analysis" / "analysis.md").read_text()
    page = (out / "analysis" / "analysis.html").read_text()
    assert "<table>" in page and "95% interval" in page
    assert page.count('src="data:image/png;base64,') == md.count("](") > 0
    assert "http" not in page.replace('"http', "")  # no network
    steps = pd.read_csv(out / "analysis" / "steps.csv")
    assert {"change", "low", "high", "significant"} <= set(steps.columns)
    assert pytest.approx(0) == steps["half"].fillna(0).max()  # deterministic: no noise


def test_a_parameter_whose_levels_overlap_is_drawn_as_noise():
    overlapping = pd.DataFrame({"mean": [1.0, 1.2, 0.9], "ci95": [0.3, 0.3, 0.3]})
    apart = pd.DataFrame({"mean": [1.0, 2.0], "ci95": [0.3, 0.3]})
    assert analyze_module._within_noise(overlapping)
    assert not analyze_module._within_noise(apart)


def _bool_grid(replicates: int = 3) -> pd.DataFrame:
    """Runs of a 3 x 2 grid with a true/false parameter: ``y = a`` when ``b`` is false and
    ``3 a`` when true, plus a little seed noise."""
    rng = np.random.default_rng(1)
    rows = []
    points = list(itertools.product([1.0, 2.0, 4.0], [False, True]))
    for point_id, (a, b) in enumerate(points):
        for r in range(replicates):
            rows.append({"point_id": point_id, "replicate": r, "a": a, "b": b,
                         "y": a * (3 if b else 1) + 0.01 * rng.normal()})
    return pd.DataFrame(rows)


def test_a_step_averages_over_both_values_of_a_true_false_parameter():
    steps = noise.step_intervals(_bool_grid(), ["a", "b"], ["y"])
    a = steps[steps.parameter == "a"].set_index("start")
    # 1 -> 2: +1 when b is false, +3 when true: +2 on average, not the +3 of b = true alone
    assert a.loc[1.0, "change"] == pytest.approx(2.0, abs=0.05)
    assert a.loc[2.0, "change"] == pytest.approx(4.0, abs=0.05)
    assert (a["low"] < a["change"]).all() and a["significant"].all()


def test_steps_of_a_half_finished_grid_use_the_cells_both_levels_have():
    runs = _bool_grid()
    partial = runs[~((runs.a == 4.0) & runs.b)]  # the last cell has not run yet
    steps = noise.step_intervals(partial, ["a", "b"], ["y"])
    a = steps[steps.parameter == "a"].set_index("start")
    assert a.loc[1.0, "change"] == pytest.approx(2.0, abs=0.05)
    assert a.loc[2.0, "change"] == pytest.approx(2.0, abs=0.05)  # b = false alone


def test_a_step_has_no_interval_when_a_cell_has_a_single_run():
    single = noise.step_intervals(_bool_grid(replicates=1), ["a", "b"], ["y"])
    assert single["half"].isna().all() and not single["significant"].any()
    runs = _bool_grid()
    runs.loc[(runs.a == 1.0) & runs.b & (runs.replicate > 0), "y"] = np.nan  # one value
    steps = noise.step_intervals(runs, ["a", "b"], ["y"]).set_index(["parameter", "start"])
    assert np.isnan(steps.loc[("a", 1.0), "half"])
    assert not steps.loc[("a", 1.0), "significant"]
    assert steps.loc[("a", 2.0), "half"] > 0  # its cells all have three values
