"""govsim: an agent-based simulator of collaborative food-safety governance.

The public API (see the README)::

    import govsim
    scenario = govsim.Scenario.load("scenarios/baseline.toml")
    result = govsim.run(scenario.with_overrides({"law.enforcement_probability": 0.9}), seed=7)
    result.timeseries, result.summary
"""

from govsim.run import RunResult, run
from govsim.scenario import Scenario, ScenarioError

__all__ = ["RunResult", "Scenario", "ScenarioError", "run"]
__version__ = "0.1.0"
