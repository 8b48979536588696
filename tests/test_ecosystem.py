"""govsim used from the research ecosystem's tools without glue: numpy values, one seed
default, keyword parameters for ``mesa.batch_run``, a model that stops at its horizon."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pytest

import govsim
from govsim.model import GovernanceModel

SMALL = {"consumers.count": 500, "businesses.count": 50, "run.months": 4}


def small(**more) -> govsim.Scenario:
    return govsim.Scenario().with_overrides({**SMALL, **more})


# --- overrides from any numeric source ------------------------------------------------------


def test_overrides_accept_numpy_scalars_read_back_from_a_results_table():
    table = {"participation.disclosure": np.False_, "performance.blacklist": np.bool_(True),
             "businesses.count": np.int64(300), "budget.annual_yuan": np.float64(5e5),
             "system.followup_samples": np.int32(3), "participation.network": np.str_("random")}
    s = govsim.Scenario().with_overrides(table)
    assert s.participation.disclosure is False and s.performance.blacklist is True
    assert s.businesses.count == 300 and type(s.businesses.count) is int
    assert s.budget.annual_yuan == 5e5 and s.system.followup_samples == 3
    assert s.participation.network == "random"


def test_overrides_accept_whole_number_floats_for_integer_fields():
    s = govsim.Scenario().with_overrides({"businesses.count": 2000.0,
                                          "market.n_agencies": np.float64(6.0)})
    assert s.businesses.count == 2000 and type(s.businesses.count) is int
    assert s.market.n_agencies == 6


@pytest.mark.parametrize("field, value, says", [
    ("businesses.count", 2.5, "businesses.count = 2.5 is not allowed: Input should be a valid "
                              "integer; allowed: int >= 10"),
    ("businesses.count", np.float64(2.5), "businesses.count = 2.5 is not allowed"),
    ("businesses.count", True, "businesses.count = True is not allowed"),
    ("participation.disclosure", np.int64(1), "participation.disclosure = 1 is not allowed: "
                                              "Input should be a valid boolean"),
    ("participation.disclosure", "yes", "participation.disclosure = 'yes' is not allowed"),
])
def test_overrides_still_refuse_real_type_errors_with_the_same_message(field, value, says):
    with pytest.raises(govsim.ScenarioError) as caught:
        govsim.Scenario().with_overrides({field: value})
    assert str(caught.value).startswith(f"override: {says}")


# --- one seed default ----------------------------------------------------------------------


def test_run_without_a_seed_draws_a_fresh_one_and_records_it():
    scenario = small()
    first, second = govsim.run(scenario), govsim.run(scenario)
    assert isinstance(first.seed, int) and first.seed != second.seed
    again = govsim.run(scenario, seed=first.seed)
    assert again.timeseries.equals(first.timeseries)


def test_model_without_a_seed_records_the_seed_it_drew():
    model = GovernanceModel(small())
    assert isinstance(model.seed, int)
    assert GovernanceModel(small(), seed=np.int64(7)).seed == 7


def test_a_seed_that_is_not_a_whole_number_is_refused():
    with pytest.raises(govsim.ScenarioError, match=r"seed = 1.5 is not allowed"):
        GovernanceModel(small(), seed=1.5)


# --- a normal Mesa model -------------------------------------------------------------------


def test_model_takes_keyword_parameters_by_alias_or_dotted_name():
    by_alias = GovernanceModel(budget__annual_yuan=8e5, consumers__count=500, seed=1)
    dotted = GovernanceModel(**{"budget.annual_yuan": 8e5, "consumers.count": 500}, seed=1)
    assert by_alias.params == dotted.params
    assert by_alias.params.budget.annual_yuan == 8e5
    assert GovernanceModel("stronger_law", seed=1).params.law.agency_liability is True


def test_model_keyword_parameters_are_validated_like_overrides():
    with pytest.raises(govsim.ScenarioError, match="budget.annual_yen is not a known field"):
        GovernanceModel(budget__annual_yen=8e5)
    with pytest.raises(govsim.ScenarioError, match="budget.annual_yuan is given twice"):
        GovernanceModel(budget__annual_yuan=8e5, **{"budget.annual_yuan": 2e5})


def test_running_turns_false_at_the_horizon():
    model = GovernanceModel(small(), seed=1)
    model.run_model()
    assert model.steps == 4 and not model.running
    assert model.datacollector.get_model_vars_dataframe()["step"].tolist() == [1, 2, 3, 4]


def _seeded(grid: dict, seed: int) -> tuple[dict, dict]:
    """The grid and batch_run's seeding arguments for one seed, in this Mesa's way."""
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa 3.5: seeds go in rng
        return grid, {"rng": [seed]}
    return {**grid, "seed": [seed]}, {}                        # Mesa 3.3: seeds in the grid


def test_mesa_batch_run_takes_a_parameter_grid():
    grid, seeding = _seeded({"scenario": [small()], "budget__annual_yuan": [2e5, 8e5],
                             "participation.disclosure": [False, True]}, 3)
    rows = mesa.batch_run(GovernanceModel, grid, number_processes=1, display_progress=False,
                          data_collection_period=1, **seeding)
    runs = {(r["budget__annual_yuan"], r["participation.disclosure"]) for r in rows}
    assert runs == {(2e5, False), (2e5, True), (8e5, False), (8e5, True)}
    months = sorted({r["step"] for r in rows})
    assert months == [1, 2, 3, 4], "every run stops at run.months"
    last = [r for r in rows if r["step"] == 4 and r["budget__annual_yuan"] == 8e5
            and not r["participation.disclosure"]][0]
    alone = govsim.run(small(**{"budget.annual_yuan": 8e5}), seed=3).timeseries.iloc[-1]
    assert last["compliance_rate"] == pytest.approx(alone["compliance_rate"])


def test_mesa_batch_run_gives_the_last_month_by_default():
    grid, seeding = _seeded({"scenario": [small()]}, 3)
    rows = mesa.batch_run(GovernanceModel, grid, number_processes=1, display_progress=False,
                          **seeding)
    assert [r["step"] for r in rows] == [4]
    alone = govsim.run(small(), seed=3).timeseries.iloc[-1]
    assert rows[0]["compliance_rate"] == pytest.approx(alone["compliance_rate"])


# --- per-capita outputs ----------------------------------------------------------------------


def test_per_capita_figures_are_per_100000_people_of_the_district():
    result = govsim.run(small(**{"consumers.population": 400_000}), seed=2)
    ts = result.timeseries
    assert ts["illness_cases"].sum() > 0
    assert np.allclose(ts["illness_per_100k"], ts["illness_cases"] / 4)
    assert np.allclose(ts["complaints_per_100k"], ts["complaints"] / 4)
    assert result.summary["illness_per_100k"] == pytest.approx(ts["illness_per_100k"].mean())


def test_per_capita_figures_reach_the_comparison_and_sweeps(tmp_path):
    from govsim import compare as cmp
    from govsim.sweep.models import GOVSIM_OUTPUTS

    assert {"illness_per_100k", "complaints_per_100k"} <= set(GOVSIM_OUTPUTS)
    files = []
    for name, extra in (("base", {}), ("law", {"law.enforcement_probability": 0.95})):
        path = tmp_path / f"{name}.toml"
        path.write_text(small(name=name, **extra).to_toml(), encoding="utf-8")
        files.append(str(path))
    stats = cmp.compare(cmp.plan(files[1:], baseline=files[0], replicates=2)).stats
    rows = stats[stats["outcome"] == "illness_per_100k"]
    assert set(rows["scenario"]) == {"base", "law"}
    assert rows["label"].iloc[0] == "Illness cases / 100,000 people / month"


# --- the fields, described -----------------------------------------------------------------


def test_fields_describe_every_dotted_field_from_the_schema():
    specs = govsim.Scenario.fields()
    assert set(specs) == set(govsim.Scenario().flat())
    budget = specs["budget.annual_yuan"]
    assert (budget.type, budget.default, budget.unit, budget.minimum, budget.maximum) == \
        ("float", 400_000.0, "yuan/year", 0.0, 1e10)
    assert budget.meaning.startswith("budget for purchased testing") and budget.scale == "log"
    assert specs["budget.cost_per_batch_yuan"].exclusive_minimum
    assert specs["law.enforcement_probability"].unit == "fraction"
    assert specs["businesses.count"].type == "int"
    assert specs["participation.network"].choices == ("small_world", "scale_free", "random")
    assert specs["businesses.sector_mix.catering"].meaning.endswith("(sums to 1): catering")


def test_fields_ranges_are_the_ones_the_schema_enforces():
    specs = govsim.Scenario.fields()
    for name in ("businesses.count", "law.enforcement_probability", "market.markup"):
        spec = specs[name]
        govsim.Scenario().with_overrides({name: spec.maximum})
        with pytest.raises(govsim.ScenarioError):
            govsim.Scenario().with_overrides({name: spec.maximum * 2 + 1})


def test_scenarios_fields_prints_them_readably_and_as_json(capsys):
    import json

    from govsim import cli

    assert cli.main(["scenarios", "--fields"]) == 0
    text = capsys.readouterr().out
    assert ("budget.annual_yuan   float | default 400000 | 0 to 1e+10 | yuan/year\n"
            "    budget for purchased testing, back-checks included") in text
    assert "businesses.count   int | default 3000 | 10 to 1000000" in text
    assert cli.main(["scenarios", "--fields", "--json"]) == 0
    listed = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert listed["market.n_agencies"]["maximum"] == 100
    assert listed["participation.network"]["choices"] == ["small_world", "scale_free", "random"]


def test_scenarios_json_lists_the_bundled_scenarios(capsys):
    import json

    from govsim import cli

    assert cli.main(["scenarios", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert "baseline" in listed and "collaborative" in listed
    assert listed["baseline"]["description"].startswith("Status quo")
