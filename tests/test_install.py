"""A plain (non-editable) install works: the wheel carries the bundled scenarios, experiments,
problems and targets.

The wheel is built from a copy of the project and installed into a fresh virtualenv, which
sees the project venv's dependencies through a .pth file (installing them again would take
minutes), so only govsim itself comes from the wheel. The commands then run from a folder
outside the repository, where ``scenarios/`` is not at hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP = shutil.ignore_patterns(".venv*", ".git", "out", "build", "dist", "*.egg-info",
                              "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis")
SMALL = ["--months", "6", "--set", "consumers.count=2000", "--set", "businesses.count=300"]


def _sh(*cmd, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv with govsim installed from its wheel; returns its bin/ folder."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=SKIP)
    _sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", base / "dist", ".",
        cwd=source)
    wheel = next((base / "dist").glob("govsim-*.whl"))
    env_dir = base / "fresh"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    site = next(env_dir.glob("lib/python*/site-packages"))
    # the project venv's dependencies, after the fresh venv's own packages
    (site / "_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _sh(sys.executable, "-m", "pip", "--python", env_dir / "bin" / "python", "install",
        "--no-deps", "-q", wheel, cwd=base)
    return env_dir / "bin"


def test_wheel_install_imports_govsim_from_the_wheel(installed, tmp_path):
    done = _sh(installed / "python", "-c",
               "import govsim, govsim.scenario as s, govsim.sweep.experiment as e;"
               "import govsim.optimise.problem as p, govsim.calibrate.targets as t;"
               "print(govsim.__file__); print(sorted(s.bundled_scenarios()));"
               "print(sorted(e.bundled_experiments())); print(sorted(p.bundled_problems()));"
               "print(sorted(t.bundled_targets()))", cwd=tmp_path)
    where, scenarios, experiments, problems, targets = done.stdout.splitlines()
    assert where.startswith(str(installed.parent))
    assert "'baseline'" in scenarios and "'collaborative'" in scenarios
    assert "'budget_vs_backchecks'" in experiments
    assert "'cheapest_95'" in problems and "'guangdong_district'" in targets


def test_wheel_install_runs_baseline_from_outside_the_repository(installed, tmp_path):
    done = _sh(installed / "govsim", "run", "baseline", *SMALL, "--out", "out/run",
               cwd=tmp_path)
    assert "baseline" in done.stdout and "complying" in done.stdout
    assert list((tmp_path / "out" / "run").rglob("timeseries.csv"))


def test_wheel_install_compares_the_bundled_cures_from_outside(installed, tmp_path):
    _sh(installed / "govsim", "compare", "--replicates", "2", "--months", "6", "--workers",
        "1", "--out", "out/compare", cwd=tmp_path)
    out = tmp_path / "out" / "compare"
    assert list(out.rglob("report.html"))
    assert list(out.rglob("collaborative.toml")), "the bundled cures were not all compared"
