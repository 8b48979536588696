"""Package data that lives outside the package: the bundled folders at the repository root.

``scenarios/`` and ``experiments/`` (and ``targets/`` and ``problems/`` once they exist) stay
at the top of the repository, where users and scripts load ``scenarios/baseline.toml``. A
wheel carries each of them as ``govsim/_bundled/<folder>/``, which
:func:`govsim.scenario.bundled_dir` finds when govsim runs from an installed wheel. Metadata
and dependencies are in pyproject.toml; only the package layout is here, because
pyproject.toml cannot map a folder outside the package into it.
"""

from pathlib import Path

from setuptools import find_packages, setup

BUNDLED = ("scenarios", "experiments", "targets", "problems")
HERE = Path(__file__).resolve().parent

present = [name for name in BUNDLED if (HERE / name).is_dir()]
packages = find_packages(include=["govsim", "govsim.*"])
packages += [f"govsim._bundled.{name}" for name in present]

setup(
    packages=packages,
    package_dir={f"govsim._bundled.{name}": name for name in present},
    package_data={f"govsim._bundled.{name}": ["*", "**/*"] for name in present},
    exclude_package_data={f"govsim._bundled.{name}": ["__pycache__/*", "*.pyc"]
                          for name in present},
)
