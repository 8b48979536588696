"""Every stored run can be re-run exactly: seeds are exact 64-bit integers in the design
file, the Parquet dataset and :func:`govsim.sweep.reproduce`."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from govsim.sweep import load_experiment, read_results, reproduce, run_sweep
from govsim.sweep.executors import SerialExecutor
from govsim.sweep.storage import read_design

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"
SMALL = {"consumers.count": 500, "businesses.count": 300}


def _small_version(path: Path, tmp_path: Path) -> Path:
    """The shipped experiment with the same parameters and design, at a tiny size."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if "timeline" not in str(data.get("parameters", {})):  # a timeline keeps its months
        data["months"] = 6
    data["replicates"] = 2
    data.pop("common_random_numbers", None)  # a pairing of seeds, not needed here
    if data["design"] == "sobol":
        data["samples"] = 2
    elif data["design"] in ("lhs", "morris"):
        data["samples"] = 4
    else:  # grid: the first two levels of each parameter
        for spec in data["parameters"].values():
            if "levels" in spec:
                spec["levels"] = spec["levels"][:2]
            else:
                spec["steps"] = 2
    data["fixed"] = {**data.get("fixed", {}), **SMALL}
    data["name"] = path.stem
    small = tmp_path / path.name
    small.write_text(tomli_w.dumps(data), encoding="utf-8")
    return small


@pytest.mark.parametrize("experiment", sorted(p.stem for p in EXPERIMENTS.glob("*.toml")))
def test_reproduce_matches_the_stored_row_for_every_run_of_each_shipped_experiment(
        experiment, tmp_path):
    small = _small_version(EXPERIMENTS / f"{experiment}.toml", tmp_path)
    out = tmp_path / "out"
    assert run_sweep(load_experiment(small), out, executor=SerialExecutor()).complete
    stored = read_results(out).set_index("run_id")
    outcomes = [c for c in stored.columns if c not in ("point_id", "replicate", "seed",
                                                        "status", "error")
                and pd.api.types.is_float_dtype(stored[c])]
    for run_id, row in stored.iterrows():
        again = reproduce(out, run_id)
        for figure in outcomes:
            if figure in again:
                assert again[figure] == pytest.approx(row[figure], rel=1e-12, nan_ok=True), \
                    (run_id, figure)


ALL_FLOAT = """
name = "all_float"
scenario = "baseline"
design = "grid"
replicates = 3
months = 6
seed = 6013742632
outcomes = ["compliance_rate", "false_pass_rate"]

[fixed]
"consumers.count" = 500
"businesses.count" = 300

[parameters]
"budget.annual_yuan" = { levels = [200000.0, 800000.0] }
"performance.backcheck_rate" = { range = [0.0, 0.2], steps = 2 }
"""


def test_an_all_float_design_keeps_seeds_exact_in_design_parquet_and_reproduce(tmp_path):
    exp = tmp_path / "all_float.toml"
    exp.write_text(ALL_FLOAT, encoding="utf-8")
    out = tmp_path / "out"
    run_sweep(load_experiment(exp), out, executor=SerialExecutor())
    design = read_design(out)
    stored = read_results(out)
    assert design["seed"].dtype == "int64" and stored["seed"].dtype == "int64"
    assert list(design["seed"]) == list(stored["seed"])
    # seeds above 2**53 would lose their last digits as float64: the bug this guards against
    assert (design["seed"] > 2**53).any()
    for run_id in design["run_id"]:
        row = stored[stored["run_id"] == run_id].iloc[0]
        again = reproduce(out, int(run_id))
        assert again["compliance_rate"] == row["compliance_rate"]
        assert again["false_pass_rate"] == row["false_pass_rate"]
