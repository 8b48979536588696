"""Toy model functions for testing the sweep machinery. Not models of anything.

They go through exactly the same path as govsim's model (experiment file, design, seeds,
chunks, executors, storage, analysis), selected with ``model = "govsim.sweep.toys:NAME"``:

- :func:`ishigami`: the Ishigami function, whose Sobol indices are known in closed form,
  to check that a Sobol sweep and its analysis recover them.
- :func:`govsim_with_fault`: govsim's model, except that a run with the budget
  :data:`FAULT_BUDGET` raises, to check that a failing run is recorded and the sweep goes on.
- :func:`sleepy`: returns its input after sleeping, to make a sweep last (for the
  lost-worker test) without using the CPU.
- :func:`crash_once`: kills its own worker process the first time it runs ``x = 3``, to
  check that a local worker's death loses nothing.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from govsim.scenario import Scenario
from govsim.sweep.models import free_parameters, govsim_model

#: Ishigami's constants and the exact indices they give, x_i uniform on [-pi, pi].
ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1
_V1 = 0.5 * (1 + ISHIGAMI_B * math.pi**4 / 5) ** 2
_V2 = ISHIGAMI_A**2 / 8
_V13 = ISHIGAMI_B**2 * math.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_S1 = {"x1": _V1 / _V, "x2": _V2 / _V, "x3": 0.0}
ISHIGAMI_ST = {"x1": (_V1 + _V13) / _V, "x2": _V2 / _V, "x3": _V13 / _V}

#: The budget (yuan/year) at which :func:`govsim_with_fault` raises.
FAULT_BUDGET = 123_456.0


@free_parameters("x1", "x2", "x3", outputs=("y",))
def ishigami(params: dict[str, Any], seed: int, base: Scenario | None,
             series: bool) -> dict[str, float]:
    """y = sin x1 + a sin^2 x2 + b x3^4 sin x1 (deterministic; the seed is unused)."""
    x1, x2, x3 = params["x1"], params["x2"], params["x3"]
    return {"y": math.sin(x1) + ISHIGAMI_A * math.sin(x2) ** 2
            + ISHIGAMI_B * x3**4 * math.sin(x1)}


def govsim_with_fault(params: dict[str, Any], seed: int, base: Scenario | None, series: bool):
    """govsim's model, but a run whose budget is :data:`FAULT_BUDGET` raises."""
    if params.get("budget.annual_yuan") == FAULT_BUDGET:
        raise RuntimeError(f"injected failure for budget {FAULT_BUDGET:g} (seed {seed})")
    return govsim_model(params, seed, base, series)


govsim_with_fault.parameters = None
govsim_with_fault.outputs = govsim_model.outputs


@free_parameters("x", "delay", outputs=("y",))
def sleepy(params: dict[str, Any], seed: int, base: Scenario | None,
           series: bool) -> dict[str, float]:
    """y = x, after sleeping ``delay`` seconds."""
    time.sleep(params.get("delay", 0.0))
    return {"y": float(params["x"])}


@free_parameters("x", "marker", outputs=("y",))
def crash_once(params: dict[str, Any], seed: int, base: Scenario | None,
               series: bool) -> dict[str, float]:
    """y = x; but with x = 3, the first call (no file at ``marker`` yet) creates the file and
    kills the process it runs in, as an out-of-memory kill would."""
    marker = Path(params["marker"])
    if params["x"] == 3 and not marker.exists():
        marker.touch()
        os._exit(1)
    return {"y": float(params["x"])}
