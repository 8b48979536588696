"""govsim.ema: an EMA Workbench model whose parameters come from the scenario schema.

EMA Workbench is part of what ``make test`` installs (the ``ema`` extra), so these tests run
in CI on Python 3.11 (EMA 2.5) and 3.13 (EMA 3.x).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import govsim
from govsim import ema
from govsim.compare import replicate_seed

warnings.filterwarnings("ignore", message="ipyparallel not installed")
import ema_workbench  # noqa: E402
from ema_workbench import perform_experiments  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"consumers.count": 500, "businesses.count": 50, "run.months": 6}


def small() -> govsim.Scenario:
    return govsim.Scenario().with_overrides(SMALL)


def test_parameters_take_type_and_bounds_from_the_schema():
    prob = ema.parameter("law.enforcement_probability")
    assert isinstance(prob, ema_workbench.RealParameter)
    assert (prob.lower_bound, prob.upper_bound) == (0.0, 1.0)
    count = ema.parameter("market.n_agencies")
    assert isinstance(count, ema_workbench.IntegerParameter)
    assert (count.lower_bound, count.upper_bound) == (1, 100)
    assert isinstance(ema.parameter("participation.disclosure"),
                      ema_workbench.BooleanParameter)
    network = ema.parameter("participation.network")
    assert isinstance(network, ema_workbench.CategoricalParameter)
    assert {c.value for c in network.categories} == {"small_world", "scale_free", "random"}


def test_money_is_sampled_log_uniformly_within_the_given_range():
    budget = ema.parameter(("budget.annual_yuan", 1e5, 1e7))
    assert budget.dist.dist.name == "loguniform"
    draws = budget.dist.ppf(np.linspace(0.01, 0.99, 99))
    assert draws.min() >= 1e5 and draws.max() <= 1e7
    assert np.median(draws) == pytest.approx(1e6, rel=0.05)  # the geometric middle
    linear = ema.parameter({"name": "budget.annual_yuan", "range": [1e5, 1e7],
                            "scale": "linear"})
    assert (linear.lower_bound, linear.upper_bound) == (1e5, 1e7)


@pytest.mark.parametrize("spec, says", [
    ("law.enforcement_probabilty", "is not a known field"),
    (("law.enforcement_probability", 0.2, 1.5), "law.enforcement_probability = 1.5 is not "
                                                "allowed"),
    ("budget.annual_yuan", "a log scale needs a range above 0"),
    (("market.n_agencies", 5, 2), "is empty"),
    ({"name": "budget.annual_yuan", "range": [1e5, 2e6], "scale": "logg"},
     "scale = 'logg' is not allowed"),
    (("run.months", 3, 9), "run.months cannot be an EMA parameter"),
])
def test_bad_parameters_are_refused_with_a_clear_message(spec, says):
    with pytest.raises(govsim.ScenarioError, match=says):
        ema.parameter(spec)


def test_ranges_are_checked_on_the_base_scenario_not_the_default():
    small_town = small().with_overrides({"consumers.population": 1500, "consumers.count": 500})
    with pytest.raises(govsim.ScenarioError, match="consumers.population"):
        ema.model(uncertainties=[("consumers.count", 1000, 10000)], base=small_town)
    city = small().with_overrides({"consumers.population": 2_000_000})
    model = ema.model(uncertainties=[("consumers.count", 1000, 500_000)], base=city)
    assert model.uncertainties["consumers.count"].upper_bound == 500_000


@pytest.mark.parametrize("settings, says", [
    ({"uncertainties": ["market.integrity"], "levers": ["market.integrity"]},
     "market.integrity: given more than once"),
    ({"uncertainties": ["market.integrity"], "replications": 2.5}, "replications = 2.5"),
    ({"uncertainties": ["market.integrity"], "seed": -1}, "seed = -1"),
    ({"uncertainties": ["market.integrity"], "months": 0}, "run.months = 0 is not allowed"),
])
def test_bad_model_settings_are_refused_with_a_clear_message(settings, says):
    with pytest.raises(govsim.ScenarioError, match=says):
        ema.model(base=small(), **settings)


def test_a_boolean_field_with_given_levels_keeps_them():
    with pytest.raises(govsim.ScenarioError, match="is one value"):
        ema.parameter(("participation.disclosure", [True]))  # was: both True and False
    both = ema.parameter(("participation.disclosure", [False, True])).categories
    assert [c.value for c in both] == [False, True]


def test_unknown_outcome_is_refused():
    with pytest.raises(govsim.ScenarioError, match="'ilness_cases' is not a govsim figure"):
        ema.model(uncertainties=["law.enforcement_probability"], outcomes=["ilness_cases"])


def test_replicate_seeds_derive_from_one_master_seed():
    model = ema.model(uncertainties=["law.enforcement_probability"], base=small(),
                      replications=3, seed=42)
    assert [r["seed"] for r in model.replications] == [replicate_seed(42, r) for r in range(3)]


def test_experiments_give_last_year_means_and_monthly_series_of_replicate_means():
    model = ema.model(uncertainties=["law.enforcement_probability"],
                      levers=["participation.disclosure"],
                      outcomes=["compliance_rate", "illness_per_100k"],
                      series=["illness_per_100k"], base=small(), replications=2, seed=7)
    inputs, outcomes = perform_experiments(model, scenarios=3, policies=2)
    assert len(inputs) == 6
    assert outcomes["illness_per_100k_monthly"].shape == (6, 6)
    row = inputs.iloc[4]
    params = {"law.enforcement_probability": float(row["law.enforcement_probability"]),
              "participation.disclosure": bool(row["participation.disclosure"])}
    runs = [govsim.run(small().with_overrides(params), seed=replicate_seed(7, r))
            for r in range(2)]
    expected = np.mean([r.summary["illness_per_100k"] for r in runs])
    assert outcomes["illness_per_100k"][4] == pytest.approx(expected)
    monthly = np.mean([r.timeseries["illness_per_100k"] for r in runs], axis=0)
    assert outcomes["illness_per_100k_monthly"][4] == pytest.approx(monthly)


@pytest.mark.slow
def test_the_example_runs_100_experiments_and_finds_a_prim_box(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "experiments"))
    monkeypatch.setattr(sys, "argv", ["ema_prim.py"])
    import ema_prim

    found = ema_prim.discover(experiments=100, months=24)
    assert len(found["inputs"]) == 100
    assert found["density"] >= 0.7, "PRIM found no box where high illness concentrates"
    assert found["coverage"] > 0.3
    assert not found["limits"].empty
