"""Output folders are named for what was run, and every one records what was run."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import govsim
from govsim.cli import main
from govsim.naming import output_folder

SMALL = ["--months", "3", "--set", "consumers.count=500", "--set", "businesses.count=300"]


def _run(tmp_path: Path, monkeypatch, *args: str) -> Path:
    monkeypatch.chdir(tmp_path)
    before = set((tmp_path / "out" / "run").glob("*")) if (tmp_path / "out").exists() else set()
    assert main(["run", "baseline", *SMALL, *args]) == 0
    [folder] = set((tmp_path / "out" / "run").glob("*")) - before
    return folder


def test_two_what_ifs_never_share_a_folder_and_each_records_what_was_run(tmp_path,
                                                                          monkeypatch):
    plain = _run(tmp_path, monkeypatch)
    what_if = _run(tmp_path, monkeypatch, "--set", "budget.annual_yuan=800000")
    other_seed = _run(tmp_path, monkeypatch, "--seed", "1")
    assert len({plain, what_if, other_seed}) == 3
    assert all(f.name.startswith("baseline-") for f in (plain, what_if, other_seed))
    summary = json.loads((what_if / "summary.json").read_text())
    assert summary["overrides"]["budget.annual_yuan"] == 800000
    assert "--set budget.annual_yuan=800000" in summary["command"]
    assert (what_if / "command.txt").read_text().startswith("govsim run baseline --months 3")
    recorded = govsim.Scenario.load(what_if / "scenario.toml")
    assert recorded.budget.annual_yuan == 800000 and recorded.consumers.count == 500
    assert tomllib.loads((plain / "scenario.toml").read_text())["budget"]["annual_yuan"] \
        != 800000


def test_the_same_what_if_finds_the_same_folder_name():
    a = govsim.Scenario().with_overrides({"budget.annual_yuan": 800000.0})
    b = govsim.Scenario().with_overrides({"budget.annual_yuan": 800000.0})
    assert output_folder("run", [a], seed=3) == output_folder("run", [b], seed=3)
    assert output_folder("run", [a], seed=3) != output_folder("run", [a], seed=4)
    assert output_folder("compare", [a, b], seed=0, replicates=20) != \
        output_folder("compare", [a, b], seed=0, replicates=40)


def test_two_comparisons_write_two_folders_that_list_what_they_ran(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = ["compare", "stronger_law", "--replicates", "2", "--workers", "1",
              "--months", "3"]
    assert main([*common, "--seed", "1"]) == 0
    assert main([*common, "--seed", "2"]) == 0
    folders = sorted((tmp_path / "out" / "compare").iterdir())
    assert len(folders) == 2
    for folder in folders:
        assert {p.name for p in (folder / "scenarios").iterdir()} == {"baseline.toml",
                                                                      "stronger_law.toml"}
        command = (folder / "command.txt").read_text()
        md = (folder / "report.md").read_text()
        assert command.strip() in md and "stronger_law: 2 runs of 3 months" in md
    seeds = {(f / "command.txt").read_text().split("--seed ")[1].strip() for f in folders}
    assert seeds == {"1", "2"}
