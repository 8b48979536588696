"""Toy model functions with a known optimum or front, for testing the optimiser. Not models
of anything.

They go through exactly the same path as govsim's model (problem file, sampler, executors,
study, re-evaluation, report), selected with ``model = "govsim.optimise.toys:NAME"``, in the
way :mod:`govsim.sweep.toys` serves the sweeps:

- :func:`toy_front`: two objectives, ``cost = x`` and ``harm = (1 - x)^2 + y`` (plus noise),
  whose front is ``y = 0``: ``harm = (1 - cost)^2`` for cost in [0, 1].
- :func:`toy_bowl`: one objective, ``loss = (x - 0.3)^2 + (y - 0.7)^2`` under the limit
  ``reach = x + y >= 1.2``, whose optimum is x = 0.4, y = 0.8, loss = 0.02; with
  ``fail_above``, a run raises when x is above it.

Both take ``noise`` (standard deviation of a normal error on harm / loss, drawn from the
run's seed AND the candidate, so that a few replicates can flatter one candidate and not
another) and ``delay`` (seconds to sleep, to make a run last for the interruption test).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from govsim.scenario import Scenario
from govsim.sweep.models import free_parameters

#: toy_bowl's optimum under its limit.
BOWL_OPTIMUM = {"x": 0.4, "y": 0.8, "loss": 0.02}


def _error(params: dict[str, Any], seed: int) -> float:
    """A standard normal draw from the seed and the candidate's x and y."""
    key = [seed, int(round(params["x"] * 1e9)), int(round(params["y"] * 1e9))]
    return float(np.random.default_rng(key).standard_normal())


@free_parameters("x", "y", "noise", "delay", outputs=("cost", "harm"))
def toy_front(params: dict[str, Any], seed: int, base: Scenario | None,
              series: bool) -> dict[str, float]:
    """cost = x; harm = (1 - x)^2 + y + noise * e."""
    time.sleep(params.get("delay", 0.0))
    x, y = params["x"], params["y"]
    harm = (1 - x) ** 2 + y + params.get("noise", 0.0) * _error(params, seed)
    return {"cost": float(x), "harm": float(harm)}


@free_parameters("x", "y", "noise", "delay", "fail_above", outputs=("loss", "reach"))
def toy_bowl(params: dict[str, Any], seed: int, base: Scenario | None,
             series: bool) -> dict[str, float]:
    """loss = (x - 0.3)^2 + (y - 0.7)^2 + noise * e; reach = x + y. Raises when x is above
    ``fail_above`` (if given), as a model error would."""
    time.sleep(params.get("delay", 0.0))
    if params.get("fail_above") is not None and params["x"] > params["fail_above"]:
        raise ValueError(f"x = {params['x']:.3f} is above fail_above")
    x, y = params["x"], params["y"]
    loss = (x - 0.3) ** 2 + (y - 0.7) ** 2 + params.get("noise", 0.0) * _error(params, seed)
    return {"loss": float(loss), "reach": float(x + y)}
