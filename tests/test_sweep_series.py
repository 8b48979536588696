"""Sweeps that keep monthly series, trajectory bands in the analysis, and common random
numbers (the same seeds at every design point), recorded and stated by ``govsim analyze``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim.sweep import analyze, load_experiment, read_results, run_sweep
from govsim.sweep.design import run_seed
from govsim.sweep.executors import SerialExecutor
from govsim.sweep.storage import part_files

EXPERIMENT = """
scenario = "baseline"
months = 6
seed = 5
design = "grid"
replicates = 3
outputs = "{outputs}"
common_random_numbers = {crn}
outcomes = ["compliance_rate", "illness_per_100k"]

[fixed]
"consumers.count" = 500
"businesses.count" = 60

[parameters]
"law.enforcement_probability" = {{ levels = [0.2, 0.9] }}
"""


def _sweep(tmp_path: Path, outputs: str = "series", crn: bool = True,
           chunk_size: int | None = None) -> Path:
    exp = tmp_path / "exp.toml"
    exp.write_text(EXPERIMENT.format(outputs=outputs, crn=str(crn).lower()), encoding="utf-8")
    out = tmp_path / "out"
    report = run_sweep(load_experiment(exp), out, executor=SerialExecutor(),
                       chunk_size=chunk_size)
    assert report.complete
    return out


def test_common_random_numbers_give_every_point_the_same_seeds(tmp_path):
    out = _sweep(tmp_path, outputs="summary", crn=True)
    data = read_results(out)
    by_point = data.pivot(index="replicate", columns="point_id", values="seed")
    assert (by_point[0] == by_point[1]).all()
    assert list(by_point[0]) == [run_seed(5, r) for r in range(3)]
    assert json.loads((out / "manifest.json").read_text())["common_random_numbers"] is True
    row = data.iloc[4]
    base = govsim.Scenario.load(out / "scenario.toml")
    params = {"law.enforcement_probability": float(row["law.enforcement_probability"])}
    alone = govsim.run(base.with_overrides(params), seed=int(row["seed"]))
    assert alone.summary["compliance_rate"] == row["compliance_rate"]
    text = analyze(out).markdown
    assert "seeds: **common random numbers**" in text
    assert "no trajectory bands" in text


def test_without_common_random_numbers_every_run_has_its_own_seed(tmp_path):
    out = _sweep(tmp_path, outputs="summary", crn=False)
    data = read_results(out)
    assert data["seed"].nunique() == len(data) == 6
    assert json.loads((out / "manifest.json").read_text())["common_random_numbers"] is False
    assert "a different seed for every run" in analyze(out).markdown


def test_series_sweep_stores_a_row_per_run_and_month_chunk_by_chunk(tmp_path):
    out = _sweep(tmp_path, chunk_size=2)
    assert [len(pd.read_parquet(p)) for p in part_files(out)] == [12, 12, 12]
    data = read_results(out)
    assert len(data) == 6 * 6 and sorted(data["step"].unique()) == [1, 2, 3, 4, 5, 6]
    assert {"illness_per_100k", "complaints_per_100k"} <= set(data.columns)


def test_analyze_draws_trajectory_bands_for_a_series_sweep(tmp_path):
    out = _sweep(tmp_path)
    result = analyze(out)
    names = {p.name for p in result.files}
    assert {"trajectories.csv", "trajectories_compliance_rate.png",
            "trajectories_illness_per_100k.png"} <= names
    bands = pd.read_csv(out / "analysis" / "trajectories.csv")
    data = read_results(out)
    overall = bands[bands["point_id"].isna() & (bands["outcome"] == "illness_per_100k")]
    assert list(overall["n"]) == [6] * 6
    month3 = data[data["step"] == 3]["illness_per_100k"]
    row = overall[overall["step"] == 3].iloc[0]
    assert row["mean"] == pytest.approx(month3.mean())
    assert row["q05"] <= row["q25"] <= row["q50"] <= row["q75"] <= row["q95"]
    assert row["q50"] == pytest.approx(np.quantile(month3, 0.5))
    point = bands[(bands["point_id"] == 1) & (bands["outcome"] == "compliance_rate")]
    expected = data[data["point_id"] == 1].groupby("step")["compliance_rate"].mean()
    assert np.allclose(point["mean"], expected.to_numpy())
    assert "trajectories" in result.markdown
