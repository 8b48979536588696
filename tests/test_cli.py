"""The `govsim` command as a user runs it: outputs, messages, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

GOVSIM = [str(Path(sys.executable).parent / "govsim")]
ROOT = Path(__file__).resolve().parent.parent


def govsim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(GOVSIM + list(args), capture_output=True, text=True, cwd=cwd or ROOT,
                          env={**os.environ, "COLUMNS": "120"}, timeout=300)


def test_run_prints_headlines_and_writes_the_files(tmp_path):
    out = tmp_path / "out"
    done = govsim("run", "baseline", "--months", "24", "--seed", "3",
                  "--set", "consumers.count=2000", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Official failure rate" in done.stdout and "Businesses complying" in done.stdout
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 24 and "sample_failure_rate" in ts
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and "compliance_rate" in summary["summary"]
    assert (out / "outcomes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(out.glob(".*tmp"))  # no temporary files left behind


def test_run_accepts_a_scenario_file_and_defaults_its_output_folder(tmp_path):
    scenario = tmp_path / "mine.toml"
    scenario.write_text('[run]\nmonths = 3\n[consumers]\ncount = 500\n')
    done = govsim("run", str(scenario), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [folder] = (tmp_path / "out" / "run").glob("mine-*")  # named for the scenario
    assert (folder / "timeseries.csv").exists()


def test_scenarios_lists_every_bundled_scenario():
    done = govsim("scenarios")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names[0] == "baseline"
    assert {"stronger_law", "more_budget", "performance_management", "agency_market",
            "public_participation", "collaborative"} <= set(names)


@pytest.mark.parametrize("args, expected", [
    (["run", "--set", "law.enforcement_probability=1.5"],
     "law.enforcement_probability = 1.5 is not allowed"),
    (["run", "--set", "law.enforcment_probability=0.9"],
     "law.enforcment_probability is not a known field"),
    (["run", "--set", "consumers.count=many"], "consumers.count = 'many'"),
    (["run", "--set", "nonsense"], "expected FIELD=VALUE"),
    (["run", "no_such_scenario"], "no such scenario file"),
])
def test_bad_input_exits_2_with_one_clear_message(args, expected, tmp_path):
    done = govsim(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()  # nothing written


def test_bad_scenario_file_names_file_field_value_and_range(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[performance]\nbackcheck_rate = -0.2\n")
    done = govsim("run", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert "bad.toml: performance.backcheck_rate = -0.2 is not allowed" in done.stderr
    assert ">= 0.0" in done.stderr and "Traceback" not in done.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[run\nmonths = 3\n")
    done = govsim("run", str(broken), cwd=tmp_path)
    assert done.returncode == 2 and "not valid TOML" in done.stderr


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "analyze", "calibrate", "viz",
                                     "scenarios"])
def test_every_command_has_help(command):
    done = govsim(command, "--help")
    assert done.returncode == 0
    assert "usage: govsim" in done.stdout


def test_a_bad_months_is_reported_as_months_and_a_set_typo_gets_a_suggestion(tmp_path):
    done = govsim("run", "--months", "0", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("govsim: --months: run.months = 0")
    done = govsim("run", "--set", "law.enforcment_probability=0.9", cwd=tmp_path)
    assert done.returncode == 2
    assert "did you mean law.enforcement_probability?" in done.stderr


def test_viz_without_the_browser_extra_says_what_to_install(monkeypatch, capsys):
    from govsim.cli import main

    monkeypatch.setitem(sys.modules, "solara", None)  # what a plain `pip install govsim` has
    assert main(["viz", "baseline"]) == 2
    err = capsys.readouterr().err
    assert "govsim viz needs the browser extra: pip install 'govsim[viz]'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [("scenarios", "--fields"), ("scenarios",)])
def test_a_reader_that_goes_away_ends_the_command_quietly(args):
    # `govsim scenarios --fields | head -1`: the pipe is closed before govsim writes
    read, write = os.pipe()
    os.close(read)
    done = subprocess.run(GOVSIM + list(args), stdout=write, stderr=subprocess.PIPE,
                          text=True, cwd=ROOT, timeout=300)
    os.close(write)
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert done.returncode == 141  # as a process ended by SIGPIPE, the way `yes | head` ends


@pytest.mark.parametrize("setting, expected", [
    ("businesses.sector_mix={catering=0.5}",
     "--set: businesses.sector_mix = {'catering': 0.5} is not allowed: it lacks retail, "
     "producer"),
    ("budget.shock_month=5", "--set: budget.shock_month: the budget shock is now a timeline "
                             "change"),
])
def test_a_known_name_gets_no_did_you_mean(setting, expected, capsys):
    from govsim.cli import main

    assert main(["run", "--set", setting]) == 2
    err = capsys.readouterr().err
    assert expected in err and "did you mean" not in err
    assert len(err.strip().splitlines()) == 1


def test_help_loads_no_model_and_govsim_run_stays_the_function():
    # `govsim --help` and bad arguments answer at once: the package loads the model (Mesa,
    # pandas, SciPy) only when a command needs it; and loading the module govsim.run on the
    # way never hides the function govsim.run
    code = ("import sys, govsim.cli\n"
            "heavy = [m for m in ('mesa', 'pandas', 'scipy') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "import govsim, govsim.run\n"
            "from govsim.run import summarize\n"
            "assert callable(govsim.run) and govsim.run.__module__ == 'govsim.run'\n"
            "assert govsim.Scenario.__name__ == 'Scenario'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_ctrl_c_while_the_command_line_loads_ends_in_one_line(monkeypatch, capsys):
    # Ctrl-C in the first moments, while govsim.cli and its libraries load or the parser is
    # built, ends like Ctrl-C during a run: one line and status 130, no traceback
    import importlib.abc

    from govsim import __main__ as entry

    class Interrupted(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "govsim.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "govsim.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupted(), *sys.meta_path])
    assert entry.main() == 130
    assert capsys.readouterr().err == "govsim: interrupted\n"
