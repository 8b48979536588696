"""One simulation of a calibration: parameters in, the targets' figures out.

:class:`Simulator` is the model pyabc calls. It runs the model function named in the targets
file (govsim by default, with the contract of :mod:`govsim.sweep.models`, returning the
monthly series), reduces the series to each target's figure over its window, and adds the
target's observation noise: a simulated figure is what one *would observe* under these
parameters, so the posterior reflects the observed figures' uncertainty (noisy ABC,
Wilkinson 2013) rather than treating them as exact.

The seed of each simulation is set by the sampler (:func:`seeded`) from the calibration's
master seed and the simulation's number, never taken from the process, so a calibration is
reproducible on any executor.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from govsim.metrics import COLUMNS
from govsim.scenario import Scenario

_local = threading.local()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Within the block, the simulation in this thread runs with ``seed``."""
    _local.seed = seed
    try:
        yield
    finally:
        _local.seed = None


def current_seed() -> int:
    seed = getattr(_local, "seed", None)
    if seed is None:
        raise RuntimeError("a calibration simulation ran without a seed from the sampler")
    return seed


def model_columns(info) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(outputs the model has, outputs it will have) for the targets' check."""
    if info.spec == _DEFAULT_SPEC:
        return tuple(c for c in COLUMNS if c != "step"), ()
    return tuple(info.outputs or ()), ()


_DEFAULT_SPEC = "govsim.calibrate.simulate:govsim_series"


def govsim_series(params: dict[str, Any], seed: int, base: Scenario | None,
                  series: bool = True) -> pd.DataFrame:
    """govsim's monthly series for the base scenario with ``params``, run with ``seed``."""
    from govsim.run import run

    scenario = base.with_overrides(params, source="calibration draw") if params else base
    return run(scenario, seed=seed).timeseries


govsim_series.parameters = None
govsim_series.outputs = None


def figures(frame: pd.DataFrame, targets: dict) -> dict[str, float]:
    """Each target's figure from a monthly series (NaN when its window has no value)."""
    out = {}
    for name, t in targets.items():
        window = frame.tail(t.window)
        value = _aggregate(window[t.column], t.aggregate)
        if t.over is not None:
            denominator = _aggregate(window[t.over], t.aggregate)
            value = value / denominator if denominator else np.nan
        out[name] = float(value * t.factor)
    return out


def _aggregate(values: pd.Series, how: str) -> float:
    values = values.to_numpy(dtype=float)
    if np.isnan(values).all():
        return np.nan
    return float(np.nanmean(values) if how == "mean" else np.nansum(values))


class Simulator:
    """The model pyabc calls: a pyabc parameter in, noisy target figures out.

    Args:
        model: the model function, ``"module:function"``.
        base: the base scenario (``None`` for a free-parameter model).
        fixed: fixed values passed to a free-parameter model.
        priors: the resolved priors (to turn pyabc's values into natural units).
        targets: the targets used, by name.
    """

    def __init__(self, model: str, base: Scenario | None, fixed: dict[str, Any],
                 priors: tuple, targets: dict):
        self.model, self.base, self.fixed = model, base, dict(fixed)
        self.priors, self.targets = priors, dict(targets)

    def simulate(self, natural: dict[str, Any], seed: int) -> dict[str, float]:
        """The targets' figures without observation noise (for predictive checks)."""
        from govsim.sweep.models import load_model

        function = load_model(self.model).function
        params = natural if self.base is not None else {**self.fixed, **natural}
        return figures(function(params, seed, self.base, True), self.targets)

    def __call__(self, parameter) -> dict[str, float]:
        from govsim.calibrate.priors import to_natural

        seed = current_seed()
        clean = self.simulate(to_natural(self.priors, parameter), seed)
        noise = np.random.default_rng([seed, 1]).standard_normal(len(self.targets))
        out = {}
        for (name, t), z in zip(self.targets.items(), noise, strict=True):
            value = clean[name]
            # A figure the run cannot produce (no report in the window) is far from any
            # observation; a finite stand-in keeps pyabc's adaptive scales defined.
            if not np.isfinite(value):
                value = t.observed + 1e3 * t.sd
            out[name] = value + t.sd * z
        return out
