"""Experiment files: the shipped ones are valid, and bad ones are refused clearly (exit 2)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from govsim.cli import main
from govsim.sweep.design import build_design
from govsim.sweep.experiment import (
    ExperimentError,
    bundled_experiments,
    check_points,
    load_experiment,
    prepare,
)

SHIPPED = ("budget_vs_backchecks", "participation_levers", "sensitivity_all_levers")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_experiments_are_valid_against_the_current_schema(name):
    assert name in bundled_experiments()
    experiment = load_experiment(name)
    prepared = prepare(experiment)
    design = build_design(prepared)
    check_points(prepared, design.point_params())
    assert len(design.runs) == experiment.n_runs
    assert set(prepared.outcomes) <= set(prepared.outputs)


README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_table_of_shipped_experiments_matches_their_files():
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([\d,]+) \|", README.read_text(),
                      re.MULTILINE)
    table = {name: (design, int(runs.replace(",", ""))) for name, design, runs in rows}
    assert set(table) == set(bundled_experiments())
    for name, (design, runs) in table.items():
        experiment = load_experiment(name)
        assert runs == experiment.n_runs, name
        assert f"{experiment.replicates} replicates" in design, name
        if experiment.design == "grid":  # "4 budgets x 5 back-check rates"
            sizes = [int(n) for n in re.findall(r"(\d+)\D+?(?= x |,)", design)]
            assert sizes == [len(p.levels) if p.levels else p.steps
                             for p in experiment.parameters.values()], name
        elif experiment.design == "lhs":
            assert f"of {experiment.samples} points" in design, name


def test_shipped_designs_are_as_the_issue_asks():
    designs = {name: load_experiment(name).design for name in SHIPPED}
    assert designs == {"budget_vs_backchecks": "grid", "participation_levers": "lhs",
                       "sensitivity_all_levers": "sobol"}


BASE = 'design = "grid"\n'
GOOD = '[parameters]\n"budget.annual_yuan" = { levels = [100000.0] }\n'

CASES = {
    # name: (file text, words the message must contain)
    "unknown parameter": (BASE + '[parameters]\n"budget.anual_yuan" = { levels = [1e5] }\n',
                          ['parameters."budget.anual_yuan"', "not a scenario field",
                           "budget.annual_yuan"]),
    "level out of range": (BASE + '[parameters]\n"budget.annual_yuan" = '
                                  '{ levels = [-5.0] }\n',
                           ['parameters."budget.annual_yuan".levels', "-5.0", ">= 0"]),
    "unknown design": ('design = "factorial"\n' + GOOD, ["design", "'factorial'", "'sobol'"]),
    "sobol without samples": ('design = "sobol"\n[parameters]\n"budget.annual_yuan" = '
                              '{ range = [1e5, 2e5] }\n', ["samples", "sobol"]),
    "sobol not a power of 2": ('design = "sobol"\nsamples = 100\n[parameters]\n'
                               '"budget.annual_yuan" = { range = [1e5, 2e5] }\n',
                               ["samples = 100", "power of 2", "128"]),
    "typo in a key": (BASE + "replicate = 3\n" + GOOD, ["replicate", "replicates"]),
    "wrong type": (BASE + 'replicates = "5"\n' + GOOD, ["replicates", "'5'", ">= 1"]),
    "range on a yes/no field": ('design = "lhs"\nsamples = 4\n[parameters]\n'
                                '"performance.blacklist" = { range = [0.0, 1.0] }\n',
                                ["performance.blacklist", "levels"]),
    "grid steps off whole numbers": (BASE + '[parameters]\n"market.n_agencies" = '
                                            '{ range = [1, 4], steps = 3 }\n',
                                     ["market.n_agencies", "2.5", "whole number"]),
    "bad choice": (BASE + '[parameters]\n"participation.network" = '
                          '{ levels = ["small_world", "lattice"] }\n',
                   ["participation.network", "'lattice'", "'random'"]),
    "inconsistent point": (BASE + '[parameters]\n"consumers.count" = '
                                  '{ levels = [1000, 300000] }\n',
                           ["consumers.count", "population", "300000"]),
    "no parameters": (BASE, ["parameters is required"]),
    "bad fixed value": (BASE + '[fixed]\n"law.enforcement_probability" = 1.5\n' + GOOD,
                        ["[fixed]", "law.enforcement_probability", "1.5"]),
    "unknown model": (BASE + 'model = "govsim.nothing:f"\n' + GOOD,
                      ["model", "govsim.nothing"]),
    "unknown outcome": (BASE + 'outcomes = ["complianse"]\n' + GOOD,
                        ["outcomes", "complianse", "compliance_rate"]),
    "repeated outcome": (BASE + 'outcomes = ["compliance_rate", "compliance_rate"]\n' + GOOD,
                         ["outcomes", "'compliance_rate' more than once"]),
    "repeated column": (BASE + 'columns = ["compliance_rate", "public_trust", "public_trust"]\n'
                        + GOOD, ["columns", "'public_trust' more than once"]),
    "run length twice": (BASE + 'months = 12\n[fixed]\n"run.months" = 24\n' + GOOD,
                         ['fixed."run.months"', "months = 12", "keep one"]),
    "varied run length and months": (BASE + 'months = 12\n[parameters]\n'
                                            '"run.months" = { levels = [12, 24] }\n',
                                     ['parameters."run.months"', "months = 12"]),
    "levels off the Morris grid": ('design = "morris"\nsamples = 2\n[parameters]\n'
                                   '"participation.network" = '
                                   '{ levels = ["small_world", "scale_free", "random"] }\n',
                                   ['"participation.network".levels', "3 levels",
                                    "morris_levels = 4", "multiple of 3 (e.g. 6)"]),
    "not TOML": ("design = grid\n", ["not valid TOML"]),
    "both levels and range": (BASE + '[parameters]\n"budget.annual_yuan" = '
                                     '{ levels = [1e5], range = [1.0, 2.0] }\n',
                              ["budget.annual_yuan", "exactly one"]),
    "option of another design": (BASE + "second_order = true\n" + GOOD,
                                 ["second_order", "sobol"]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_experiment_exits_2_naming_file_and_field(case, tmp_path, capsys):
    text, words = CASES[case]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    status = main(["sweep", str(path), "--workers", "1", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"govsim: {path}")
    for word in words:
        assert word in err, f"{word!r} not in {err!r}"
    assert "Traceback" not in err and err.count("\n") == 1  # one line
    assert not (tmp_path / "out" / "runs").exists()  # nothing ran


def test_a_missing_experiment_names_the_bundled_ones(capsys):
    assert main(["sweep", "no_such_experiment"]) == 2
    assert "budget_vs_backchecks" in capsys.readouterr().err


def test_bad_executor_options_exit_2(tmp_path, capsys):
    path = tmp_path / "ok.toml"
    path.write_text(BASE + GOOD, encoding="utf-8")
    assert main(["sweep", str(path), "--workers", "0"]) == 2
    assert "--workers 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: --workers and --scheduler are exclusive
        main(["sweep", str(path), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])


def test_analyze_refuses_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert "not a sweep folder" in capsys.readouterr().err


def test_dotted_names_may_be_written_as_toml_tables(tmp_path):
    path = tmp_path / "nested.toml"
    path.write_text('design = "grid"\n[parameters.budget.annual_yuan]\nlevels = [1e5, 2e5]\n'
                    "[fixed.consumers]\ncount = 1000\n", encoding="utf-8")
    experiment = load_experiment(path)
    assert list(experiment.parameters) == ["budget.annual_yuan"]
    assert experiment.fixed == {"consumers.count": 1000}


def test_experiment_error_is_a_scenario_error():
    from govsim.scenario import ScenarioError

    assert issubclass(ExperimentError, ScenarioError)


def test_morris_gives_each_level_the_same_share_of_its_grid():
    from govsim.sweep.experiment import experiment_from_dict

    levels = ["small_world", "scale_free", "random"]
    experiment = experiment_from_dict({
        "name": "m", "design": "morris", "samples": 20, "morris_levels": 6,
        "parameters": {"participation.network": {"levels": levels},
                       "law.enforcement_probability": {"range": [0.2, 0.8]}}})
    design = build_design(prepare(experiment))
    grid = np.rint(design.unit[:, 0] * 5).astype(int)  # Morris's grid values 0..5
    taken = dict(zip(grid, design.points["participation.network"], strict=True))
    assert taken == {0: levels[0], 1: levels[0], 2: levels[1], 3: levels[1],
                     4: levels[2], 5: levels[2]}
