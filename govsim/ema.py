"""govsim as an EMA Workbench model, with types and bounds taken from the scenario schema.

Needs the optional extra: ``pip install 'govsim[ema]'`` (EMA Workbench 2.5 on Python 3.11,
3.x on Python 3.12+; both work).

Example:
    >>> from ema_workbench import perform_experiments
    >>> from govsim import ema
    >>> model = ema.model(uncertainties=["law.enforcement_probability",
    ...                                  ("budget.annual_yuan", 1e5, 2e6)],
    ...                   levers=["participation.disclosure"],
    ...                   outcomes=["compliance_rate", "illness_per_100k"],
    ...                   base="baseline", replications=4, seed=1)
    >>> experiments, outcomes = perform_experiments(model, scenarios=100)  # doctest: +SKIP

A parameter is a dotted scenario field (see ``govsim scenarios --fields``), alone (its whole
allowed range, or all its choices) or with bounds: ``(name, low, high)``, ``(name, [levels])``
or ``{"name": ..., "range": [low, high], "scale": "log"}``. The type (real, integer, boolean,
categorical) comes from the schema, so do bounds that are not given; money fields (in yuan)
are sampled log-uniformly unless ``scale = "linear"`` is given, every other field uniformly.

Each outcome is a figure of :mod:`govsim.metrics` averaged over the last 12 months of a run
(``compliance_rate``; the per-capita ``illness_per_100k``, ...) and, for each name in
``series``, the monthly time series as an array outcome ``<name>_monthly`` (one value per
month). With ``replications = N`` each experiment runs N times, replicate r with seed
``govsim.compare.replicate_seed(seed, r)`` (the same N seeds in every experiment, so
differences between experiments are not seed noise), and EMA receives the mean over
replicates (of each month, for a series).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np

from govsim.compare import replicate_seed
from govsim.fields import FieldSpec
from govsim.metrics import COLUMNS
from govsim.run import run
from govsim.scenario import Scenario, ScenarioError, resolve

#: Figures reported when ``outcomes`` is not given: shares and per-capita figures, which
#: compare across districts of any size.
DEFAULT_OUTCOMES = ("compliance_rate", "unsafe_share", "illness_per_100k",
                    "complaints_per_100k", "false_pass_rate", "budget_spent")
#: Monthly series reported when ``series`` is not given.
DEFAULT_SERIES = ("compliance_rate", "illness_per_100k")
SERIES_SUFFIX = "_monthly"

ParameterSpec = str | tuple | dict


def model(uncertainties: Sequence[ParameterSpec] = (), levers: Sequence[ParameterSpec] = (),
          outcomes: Sequence[str] = DEFAULT_OUTCOMES, base: Scenario | str | Path = "baseline",
          replications: int = 1, seed: int = 0, series: Sequence[str] = DEFAULT_SERIES,
          months: int | None = None, name: str = "govsim"):
    """An EMA Workbench model of govsim.

    Args:
        uncertainties: parameters outside the government's control (see the module doc).
        levers: parameters the government sets.
        outcomes: figures of :mod:`govsim.metrics`, each averaged over a run's last year.
        base: the scenario every experiment starts from: a Scenario, bundled name or file.
        replications: runs per experiment (seeds derived from ``seed``).
        seed: the master seed of the replicates' seeds.
        series: figures also reported month by month, as ``<name>_monthly``.
        months: months per run (default: the base scenario's).
        name: the EMA model's name (letters, digits and underscores).

    Returns:
        An ``ema_workbench.ReplicatorModel`` (``ema_workbench.Model`` when
        ``replications == 1``) ready for ``perform_experiments``.

    Raises:
        ScenarioError: an unknown field, figure, or bounds outside what the schema allows.
    """
    import ema_workbench as ema

    scenario = _base(base, months)
    specs = Scenario.fields()
    _check_outcomes([*outcomes, *series])
    if isinstance(replications, bool) or not isinstance(replications, Integral) \
            or replications < 1:
        raise ScenarioError(f"replications = {replications!r} is not allowed: a whole number, "
                            "at least 1")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ScenarioError(f"seed = {seed!r} is not allowed: a whole number >= 0")
    _check_names([*uncertainties, *levers])
    function = Evaluate(scenario.to_toml(), tuple(outcomes), tuple(series))
    cls = ema.Model if replications == 1 else ema.ReplicatorModel
    built = cls(name, function=function)
    built.uncertainties = [parameter(p, specs, scenario) for p in uncertainties]
    built.levers = [parameter(p, specs, scenario) for p in levers]
    seeds = [replicate_seed(seed, r) for r in range(replications)]
    if replications == 1:
        built.constants = [ema.Constant("seed", seeds[0])]
    else:
        built.replications = [{"seed": s} for s in seeds]
    mean = _mean_of_replicates if replications > 1 else None
    built.outcomes = (
        [ema.ScalarOutcome(o, function=mean) for o in outcomes]
        + [ema.ArrayOutcome(f"{s}{SERIES_SUFFIX}", function=_monthly_mean if mean else None)
           for s in series])
    return built


@dataclass(frozen=True)
class Evaluate:
    """The function EMA calls: one govsim run (picklable, for EMA's multiprocessing).

    Attributes:
        base_toml: the base scenario as TOML text.
        outcomes: figures returned as last-year means.
        series: figures returned as monthly arrays.
    """

    base_toml: str
    outcomes: tuple[str, ...]
    series: tuple[str, ...]

    def __call__(self, seed: int, **params: Any) -> dict[str, Any]:
        """Run the base scenario with ``params`` (dotted names) and ``seed``."""
        import tomllib

        base = Scenario.from_dict(tomllib.loads(self.base_toml), source="ema base")
        result = run(base.with_overrides(params, source="ema experiment"), seed=int(seed))
        out: dict[str, Any] = {o: result.summary[o] for o in self.outcomes}
        for s in self.series:
            out[f"{s}{SERIES_SUFFIX}"] = result.timeseries[s].to_numpy(dtype=float)
        return out


def parameter(spec: ParameterSpec, specs: dict[str, FieldSpec] | None = None,
              base: Scenario | None = None):
    """An EMA parameter for one scenario field, typed and bounded by the schema.

    Args:
        spec: ``name``, ``(name, low, high)``, ``(name, [levels])`` or a dict with
            ``name`` and optionally ``range``, ``levels`` and ``scale``.
        specs: :meth:`Scenario.fields` (looked up when not given).
        base: the scenario the experiments start from: ranges and levels are checked on it
            (a field's limits may depend on others, e.g. consumers.count on population).
    """
    import ema_workbench as ema
    from scipy import stats

    name, low, high, levels, scale = _unpack(spec)
    specs = specs or Scenario.fields()
    if name not in specs:
        raise ScenarioError(f"{name} is not a known field; see `govsim scenarios --fields`")
    if name == "run.months":
        raise ScenarioError("run.months cannot be an EMA parameter: every experiment's figures "
                            "cover the same months; give months= to the model instead")
    if scale not in (None, "log", "linear"):
        raise ScenarioError(f"{name}: scale = {scale!r} is not allowed: 'log' or 'linear'")
    field = specs[name]
    base = base or Scenario()
    if field.type == "bool" and levels is None:
        return ema.BooleanParameter(name)
    if field.type in ("choice", "str", "bool") or levels is not None:
        return ema.CategoricalParameter(name, _levels(field, levels, base))
    low = field.minimum if low is None else low
    high = field.maximum if high is None else high
    _check_bounds(field, low, high, base)
    if field.type == "int":
        return ema.IntegerParameter(name, int(low), int(high))
    scale = scale or field.scale
    if scale == "log":
        if low <= 0:
            raise ScenarioError(f"{name}: a log scale needs a range above 0, not [{low:g}, "
                                f"{high:g}]; give one, e.g. ({name!r}, {max(high, 1) / 100:g}, "
                                f"{max(high, 1):g})")
        return ema.RealParameter.from_dist(name, stats.loguniform(low, high))
    return ema.RealParameter(name, float(low), float(high))


def _unpack(spec: ParameterSpec) -> tuple[str, Any, Any, list | None, str | None]:
    if isinstance(spec, str):
        return spec, None, None, None, None
    if isinstance(spec, dict):
        low, high = spec.get("range", (None, None))
        return spec["name"], low, high, spec.get("levels"), spec.get("scale")
    if len(spec) == 2 and isinstance(spec[1], Iterable):
        return spec[0], None, None, list(spec[1]), None
    if len(spec) == 3:
        return spec[0], spec[1], spec[2], None, None
    raise ScenarioError(f"{spec!r}: expected a field name, (name, low, high), "
                        "(name, [levels]) or a dict")


def _levels(field: FieldSpec, levels: list | None, base: Scenario) -> list:
    if levels is None:
        if not field.choices:
            raise ScenarioError(f"{field.name}: give its levels, e.g. ({field.name!r}, [...])")
        return list(field.choices)
    if len(levels) < 2:
        raise ScenarioError(f"{field.name}: levels {list(levels)!r} is one value; an EMA "
                            "parameter needs two or more (set one value in the base scenario)")
    for value in levels:
        base.with_overrides({field.name: value}, source="ema levels")
    return list(levels)


def _check_bounds(field: FieldSpec, low: Any, high: Any, base: Scenario) -> None:
    if low is None or high is None:
        raise ScenarioError(f"{field.name} has no upper or lower bound: give a range")
    if not low < high:
        raise ScenarioError(f"{field.name}: range [{low}, {high}] is empty")
    for end in (low, high):
        base.with_overrides({field.name: end}, source="ema range")


def _check_names(specs: list[ParameterSpec]) -> None:
    """Each field once among the uncertainties and levers: twice, one would silently win."""
    names = [_unpack(spec)[0] for spec in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ScenarioError(f"{', '.join(twice)}: given more than once among the uncertainties "
                            "and levers; give each field once")


def _check_outcomes(names: Iterable[str]) -> None:
    known = [c for c in COLUMNS if c != "step"]
    for name in names:
        if name not in known:
            raise ScenarioError(f"outcome {name!r} is not a govsim figure; known: "
                                + ", ".join(known))


def _base(base: Scenario | str | Path, months: int | None) -> Scenario:
    scenario = base if isinstance(base, Scenario) else Scenario.load(resolve(base))
    if months is None:
        return scenario
    return scenario.with_overrides({"run.months": months}, source="months")


def _mean_of_replicates(values: list[float]) -> float:
    return float(np.mean(values))


def _monthly_mean(values: list[np.ndarray]) -> np.ndarray:
    return np.mean(np.stack(values), axis=0)
