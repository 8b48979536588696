"""Priors: the unknown parameters, their ranges, and the pyabc distribution over them.

Every prior is uniform between ``low`` and ``high``, or uniform in log10 (``log = true``)
for a quantity whose order of magnitude is unknown (a cost, a small probability). A range
left out defaults to the schema's bounds for that field, so ``[priors."market.integrity"]``
alone means "anywhere from 0 to 1". Any numeric scenario field may be a prior; integer
fields are rounded. pyabc samples in the transformed space (log10 when ``log``); every
output of govsim (posterior, reports, ``calibrated.toml``) is in natural units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from govsim.scenario import Scenario, ScenarioError, field_names


@dataclass(frozen=True)
class ResolvedPrior:
    """One unknown parameter with its range settled.

    Attributes:
        field: the dotted scenario field (or the free parameter's name).
        low: lowest value, natural units.
        high: highest value, natural units.
        log: uniform in log10.
        integer: the field takes whole numbers (values are rounded).
        why: the reason for the range, from the file.
    """

    field: str
    low: float
    high: float
    log: bool = False
    integer: bool = False
    why: str = ""

    @property
    def bounds(self) -> tuple[float, float]:
        """The range in the space pyabc samples (log10 when ``log``)."""
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return self.low, self.high

    def natural(self, value: float) -> float | int:
        """A sampled value in natural units (rounded for an integer field)."""
        value = 10.0 ** value if self.log else float(value)
        value = min(max(value, self.low), self.high)  # a perturbed particle may edge out
        return int(round(value)) if self.integer else value

    def quantile(self, q: np.ndarray) -> np.ndarray:
        """Prior quantiles, natural units (for the prior-vs-posterior width)."""
        a, b = self.bounds
        x = a + (b - a) * np.asarray(q, dtype=float)
        return 10.0 ** x if self.log else x


def resolve(path: Path, field: str, prior, info) -> ResolvedPrior:
    """Check one ``[priors."field"]`` entry against the model and settle its range.

    Args:
        path: the targets file (for messages).
        field: the dotted field.
        prior: the file's :class:`~govsim.calibrate.targets.Prior`.
        info: the model (:class:`govsim.sweep.models.ModelInfo`).

    Raises:
        TargetsError: an unknown or non-numeric field, a range outside the schema's bounds,
            low >= high, or log with low <= 0.
    """
    from govsim.calibrate.targets import TargetsError

    where = f'{path}: priors."{field}"'
    if info.uses_scenario:
        lo, hi, integer = _schema_bounds(where, field)
    else:
        if field not in info.parameters:
            raise TargetsError(f"{where} is not a parameter of model {info.spec}; allowed: "
                               f"{', '.join(info.parameters)}")
        lo, hi, integer = -math.inf, math.inf, False
    low = prior.low if prior.low is not None else lo
    high = prior.high if prior.high is not None else hi
    if not (math.isfinite(low) and math.isfinite(high)):
        raise TargetsError(f"{where}: give low and high (the field has no bound to default "
                           "to)")
    if not low < high:
        raise TargetsError(f"{where}: low = {low:g} must be below high = {high:g}")
    if low < lo or high > hi:
        raise TargetsError(f"{where}: range [{low:g}, {high:g}] is not allowed: the field "
                           f"takes {lo:g} to {hi:g}")
    if prior.log and low <= 0:
        raise TargetsError(f"{where}: low = {low:g} with log = true is not allowed: a log "
                           "prior needs low > 0")
    resolved = ResolvedPrior(field, float(low), float(high), prior.log, integer, prior.why)
    if info.uses_scenario:
        for end in (resolved.low, resolved.high):
            try:
                Scenario().with_overrides({field: resolved.natural(
                    math.log10(end) if resolved.log else end)}, source=where)
            except ScenarioError as exc:
                raise TargetsError(str(exc)) from None
    return resolved


def _schema_bounds(where: str, field: str) -> tuple[float, float, bool]:
    """The schema's (lowest, highest, integer?) for a numeric scenario field."""
    from govsim.calibrate.targets import TargetsError

    if field not in field_names():
        raise TargetsError(f"{where} is not a scenario field; see `govsim scenarios --fields`")
    info = _field_info(field)
    kinds = {a for a in _types(info.annotation)}
    if not kinds or not kinds <= {int, float} or bool in kinds:
        raise TargetsError(f"{where} is not allowed: only numeric fields can be fitted "
                           f"(this one is {info.annotation})")
    lo, hi = -math.inf, math.inf
    for meta in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(meta, attr, None) is not None:
                lo = float(getattr(meta, attr))
        for attr in ("le", "lt"):
            if getattr(meta, attr, None) is not None:
                hi = float(getattr(meta, attr))
    return lo, hi, kinds == {int}


def _field_info(field: str):
    model: Any = Scenario
    info = None
    for part in field.split("."):
        info = model.model_fields[part]
        model = info.annotation
    return info


def _types(annotation) -> set:
    from typing import get_args

    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    return {a for a in args if isinstance(a, type)}


def pyabc_prior(priors: tuple[ResolvedPrior, ...]):
    """The prior as a :class:`pyabc.Distribution` over the sampling space."""
    import pyabc

    return pyabc.Distribution(**{p.field: pyabc.RV("uniform", p.bounds[0],
                                                   p.bounds[1] - p.bounds[0])
                                 for p in priors})


def to_natural(priors: tuple[ResolvedPrior, ...], parameter: dict) -> dict[str, Any]:
    """A pyabc parameter (sampling space) as ``{field: value}`` in natural units."""
    return {p.field: p.natural(parameter[p.field]) for p in priors}
