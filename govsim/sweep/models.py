"""The function a run calls: govsim's model by default, or any importable function.

A *model function* is named in an experiment as ``"module:function"`` and called once per run::

    function(params, seed, base, series) -> Mapping[str, float] | pandas.DataFrame

where ``params`` holds the varied parameters of this run (``{"budget.annual_yuan": 8e5}``),
``seed`` its integer seed, ``base`` the experiment's base :class:`~govsim.scenario.Scenario`
(``None`` for a free-parameter model, below) and ``series`` whether the experiment keeps the
monthly series. It returns one figure per name (``series=False``) or one row per month with
a ``step`` column (``series=True``). An exception it raises is recorded as a failed run.

Workers import the function by its module path (processes are spawned, and Dask workers are
other machines), so it must live in an importable module, not in ``__main__``.

Two optional attributes describe a function to the runner:

``parameters``
    ``None`` (the default): parameters are scenario fields, validated against the schema.
    A tuple of names: the function takes free parameters (see :func:`free_parameters`).
``outputs``
    The names of the figures it returns, so that every chunk file has the same columns even
    when all its runs failed; without it, columns are taken from the results.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd

from govsim.metrics import COLUMNS
from govsim.run import run
from govsim.scenario import Scenario

#: The model an experiment runs unless it names another.
DEFAULT_MODEL = "govsim.sweep.models:govsim_model"

#: govsim's figures, as stored per run (``step`` is the month index, not a figure).
GOVSIM_OUTPUTS = tuple(c for c in COLUMNS if c != "step")

ModelFunction = Callable[[dict[str, Any], int, Scenario | None, bool],
                         Mapping[str, float] | pd.DataFrame]


@dataclass(frozen=True)
class ModelInfo:
    """A loaded model function and what it declares.

    Attributes:
        spec: ``"module:function"`` as written in the experiment.
        function: the callable.
        parameters: free parameter names, or ``None`` when parameters are scenario fields.
        outputs: the figures it returns, or ``None`` if it does not say.
    """

    spec: str
    function: ModelFunction
    parameters: tuple[str, ...] | None
    outputs: tuple[str, ...] | None

    @property
    def uses_scenario(self) -> bool:
        """True when parameters are scenario fields and a base scenario is passed."""
        return self.parameters is None


@lru_cache(maxsize=32)
def load_model(spec: str) -> ModelInfo:
    """Import ``"module:function"``.

    Raises:
        LookupError: the spec is malformed, the module cannot be imported, or the name is
            missing or not callable (the caller adds the file and field to the message).
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise LookupError(f"expected 'module:function', e.g. '{DEFAULT_MODEL}'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"cannot import module {module_name!r} ({exc})") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise LookupError(f"module {module_name!r} has no function {attr!r}")
    parameters = getattr(function, "parameters", None)
    outputs = getattr(function, "outputs", None)
    return ModelInfo(spec, function,
                     tuple(parameters) if parameters is not None else None,
                     tuple(outputs) if outputs is not None else None)


def free_parameters(*names: str, outputs: tuple[str, ...] | None = None):
    """Mark a model function as taking free parameters instead of scenario fields.

    Args:
        names: the parameter names it accepts.
        outputs: the figures it returns.

    Example:
        >>> @free_parameters("x", outputs=("y",))
        ... def double(params, seed, base, series):
        ...     return {"y": 2 * params["x"]}
        >>> double.parameters
        ('x',)
    """
    def mark(function):
        function.parameters = tuple(names)
        function.outputs = tuple(outputs) if outputs is not None else None
        return function
    return mark


def govsim_model(params: dict[str, Any], seed: int, base: Scenario | None,
                 series: bool) -> Mapping[str, float] | pd.DataFrame:
    """govsim itself: the base scenario with this run's parameters, run with ``seed``.

    Returns the summary (mean of the last 12 months) or the monthly series.
    """
    scenario = base.with_overrides(params, source="sweep run") if params else base
    result = run(scenario, seed=seed)
    return result.timeseries if series else result.summary


govsim_model.parameters = None
govsim_model.outputs = GOVSIM_OUTPUTS
