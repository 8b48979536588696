"""govsim: an agent-based simulator of collaborative food-safety governance.

The public API (see the README)::

    import govsim
    scenario = govsim.Scenario.load("scenarios/baseline.toml")
    result = govsim.run(scenario.with_overrides({"law.enforcement_probability": 0.9}), seed=7)
    result.timeseries, result.summary

The names are loaded on first use, so ``import govsim`` (and so ``govsim --help``) does not
pay for Mesa, pandas and SciPy until a model is needed.
"""

import importlib
import sys
import types

__all__ = ["RunResult", "Scenario", "ScenarioError", "run"]
__version__ = "0.1.0"

_HOMES = {"RunResult": "govsim.run", "run": "govsim.run",
          "Scenario": "govsim.scenario", "ScenarioError": "govsim.scenario"}


def __getattr__(name: str):
    """Load a public name from its module the first time it is asked for (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'govsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


class _Package(types.ModuleType):
    """The package, keeping ``govsim.run`` the function.

    Importing the submodule ``govsim.run`` sets the package's attribute ``run`` to the
    module; the eager ``from govsim.run import run`` this package used to do rebound it at
    once, but a name loaded on first use would stay shadowed by the module. The module is
    still importable by its full name (``from govsim.run import summarize``).
    """

    def __setattr__(self, name: str, value) -> None:
        if name == "run" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
