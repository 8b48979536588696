"""The targets file: a district's observed figures, what is known, and what is not.

A targets file is TOML (see ``targets/``)::

    description = "A Guangdong district"
    scenario = "baseline"        # the scenario the unknown parameters are fitted in
    months = 48                  # months per simulation (the windows are its last months)
    seed = 20240601              # master seed: every simulation's seed derives from it

    [fixed]                      # what is known about the district: the same in every run
    "consumers.population" = 200_000

    [targets.failure_rate]       # one observed figure
    column = "sample_failure_rate"   # the model output it is compared with
    window = 24                      # mean over the last 24 months
    observed = 0.026                 # the figure ...
    sd = 0.004                       # ... and its uncertainty (one standard deviation)
    source = "SAMR sampling bulletins 2019-2024: 2.31-2.96%"

    [priors."market.integrity"]  # one unknown parameter
    low = 0.5
    high = 1.0                   # (low/high default to the schema's bounds)

A target's figure is ``factor * aggregate(column) / aggregate(over)`` over the window
(``over`` is optional: a ratio of two outputs, e.g. catering's failure rate to the overall
one; ``factor`` annualises, e.g. 12 for a monthly count). Months in which a rate is
undefined (no report) are skipped (nan-aware mean).

Like a scenario, a file is refused with a one-line message naming the file, the field, the
value and what is allowed (:class:`TargetsError`, exit status 2), and every column, fixed
value and prior is checked against the model and the scenario schema before anything runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from govsim.scenario import (
    Scenario,
    ScenarioError,
    bundled_files,
    read_named_toml,
    resolve_file,
)
from govsim.studyfile import (
    NAME_DESCRIPTION,
    Strict,
    StudyName,
    flatten_specs,
    flatten_values,
    scenario_path,
)

#: The model a calibration runs unless the file names another ("module:function", with the
#: contract of :mod:`govsim.sweep.models`, returning the monthly series).
DEFAULT_MODEL = "govsim.calibrate.simulate:govsim_series"


class TargetsError(ScenarioError):
    """A targets file (or a calibration folder) that cannot be used."""


class Target(Strict):
    """One observed figure and the model output it is compared with."""

    column: str = Field(description="the model output (a column of govsim.metrics.COLUMNS)")
    over: str | None = Field(
        None, description="optional denominator: the target is column / over (a ratio)")
    window: int = Field(24, ge=1, le=1200, description="months: the last `window` months")
    aggregate: Literal["mean", "sum"] = Field(
        "mean", description="how the window's months are combined (nan-aware)")
    factor: float = Field(1.0, gt=0.0, le=1e9,
                          description="multiplier, e.g. 12 to annualise a monthly figure")
    observed: float = Field(description="the observed figure")
    sd: float = Field(gt=0.0, description="its uncertainty, one standard deviation")
    source: str = Field(min_length=1, description="where the figure comes from")


class Prior(Strict):
    """One unknown parameter: uniform between low and high (in log10 when ``log``)."""

    low: float | None = Field(None, description="lowest value (default: the schema's bound)")
    high: float | None = Field(None, description="highest value (default: the schema's bound)")
    log: bool = Field(False, description="uniform in log10 (low must be above 0)")
    why: str = Field("", description="why this range (shown in the report)")


class TargetsFile(Strict):
    """A validated targets file (schema only; :func:`load` checks it against the model)."""

    name: StudyName = Field(description=NAME_DESCRIPTION)
    description: str = Field("", description="the district and where its figures come from")
    scenario: str = Field("baseline", description="base scenario: a bundled name or a TOML "
                                                  "file (relative to the targets file first)")
    model: str = Field(DEFAULT_MODEL, description="the function a simulation calls")
    months: int | None = Field(None, ge=1, le=1200,
                               description="months per simulation (default: the scenario's)")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="master seed")
    fixed: dict[str, Any] = Field(default_factory=dict,
                                  description="known values, the same in every simulation")
    targets: dict[str, Target] = Field(min_length=1, description="the observed figures")
    priors: dict[str, Prior] = Field(min_length=1, description="the unknown parameters")

    @model_validator(mode="after")
    def _disjoint(self) -> TargetsFile:
        both = sorted(set(self.fixed) & set(self.priors))
        if both:
            raise ValueError(f"{both[0]} is both fixed and a prior; it is one or the other")
        return self


@dataclass(frozen=True)
class Targets:
    """A targets file checked against its model: everything a calibration needs.

    Attributes:
        spec: the validated file.
        path: where it was read from.
        text: its text (hashed to recognise a calibration folder made from it).
        base: the base scenario with ``fixed`` and ``months`` applied (``None`` for a
            free-parameter model).
        priors: the resolved priors, in file order (see :mod:`govsim.calibrate.priors`).
        active: the targets used, by name (targets on columns the model lacks are skipped).
        skipped: ``{target name: why}`` for the targets left out.
    """

    spec: TargetsFile
    path: Path
    text: str
    base: Scenario | None
    priors: tuple
    active: dict[str, Target]
    skipped: dict[str, str]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]


def bundled_targets() -> dict[str, Path]:
    """Bundled targets files by name."""
    return bundled_files("targets")


def read(path_or_name: str | Path) -> tuple[TargetsFile, Path, str]:
    """Read and validate a targets file's schema (not yet its columns and fields).

    Raises:
        TargetsError: missing, unreadable, not TOML, or a field not allowed.
    """
    path = resolve_file(path_or_name, bundled_targets(), "targets", TargetsError)
    text, data = read_named_toml(path, "targets", TargetsError, "a targets file")
    # dotted names written as sub-tables ([fixed.consumers]), as in the other study files
    if isinstance(data.get("fixed"), dict):
        data["fixed"] = flatten_values(data["fixed"])
    if isinstance(data.get("priors"), dict):
        data["priors"] = flatten_specs(data["priors"])
    try:
        return TargetsFile.model_validate(data), path, text
    except ValidationError as exc:
        raise TargetsError(_explain(exc, path)) from None


def load(path_or_name: str | Path, scenario: str | None = None) -> Targets:
    """Read a targets file and check it against the model and the scenario schema.

    Args:
        path_or_name: the file, or the name of a bundled one.
        scenario: a scenario file or bundled name replacing the file's ``scenario``.

    Raises:
        TargetsError: naming the file, field, value and what is allowed.
    """
    from govsim.calibrate import priors as prior_mod
    from govsim.calibrate.simulate import model_columns
    from govsim.sweep.models import load_model

    spec, path, text = read(path_or_name)
    try:
        info = load_model(spec.model)
    except LookupError as exc:
        raise TargetsError(f"{path}: model = {spec.model!r}: {exc}") from None
    base = _base(spec, path, scenario) if info.uses_scenario else None
    available, planned = model_columns(info)
    active, skipped = {}, {}
    for name, target in spec.targets.items():
        why = _check_columns(path, name, target, available, planned)
        if why:
            skipped[name] = why
        else:
            active[name] = target
    if not active:
        raise TargetsError(f"{path}: no target can be computed by this model "
                           f"({'; '.join(skipped.values())})")
    resolved = tuple(prior_mod.resolve(path, field, p, info) for field, p in spec.priors.items())
    return Targets(spec, path, text, base, resolved, active, skipped)


def _base(spec: TargetsFile, path: Path, scenario: str | None) -> Scenario:
    # a scenario given on the command line is not looked up beside the file
    base = Scenario.load(scenario_path(scenario or spec.scenario,
                                       path if scenario is None else None))
    overrides = dict(spec.fixed)
    if spec.months is not None:
        overrides["run.months"] = spec.months
    if overrides:
        base = base.with_overrides(overrides, source=f"{path} [fixed]")
    longest = max(t.window for t in spec.targets.values())
    if longest > base.run.months:
        raise TargetsError(f"{path}: a target's window ({longest} months) is longer than a "
                           f"simulation ({base.run.months} months); set months >= {longest}")
    return base


def _check_columns(path: Path, name: str, target: Target, available: tuple[str, ...],
                   planned: tuple[str, ...]) -> str | None:
    """None if the target can be computed; the reason to skip it if its column is one the
    model will have but does not yet; raises for a column no model knows (a typo)."""
    for key in ("column", "over"):
        column = getattr(target, key)
        if column is None or column in available:
            continue
        if column in planned:
            return f"{name}: the model has no {column!r} output yet"
        raise TargetsError(f"{path}: targets.{name}.{key} = {column!r} is not a model output; "
                           f"allowed: {', '.join(available)}")
    return None


def _explain(exc: ValidationError, path: Path) -> str:
    """One line per error: file, dotted field, value, what is allowed."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            lines.append(f"{path}: {loc} is not a known field; allowed: "
                         f"{_allowed_fields(err['loc'])}")
        elif err["type"] == "missing":
            lines.append(f"{path}: {loc} is missing ({_describe(err['loc'])})")
        elif not loc:
            lines.append(f"{path}: {msg}")
        elif err["type"] == "value_error":  # a check whose message says what is allowed
            lines.append(f"{path}: {loc} = {err.get('input')!r} is not allowed: {msg}")
        else:
            lines.append(f"{path}: {loc} = {err.get('input')!r} is not allowed: {msg} "
                         f"({_describe(err['loc'])})")
    return "\n".join(lines)


def _model_at(loc: tuple) -> tuple[type[BaseModel], str | None]:
    """The schema class holding the field at ``loc``, and the field's name."""
    model: type[BaseModel] = TargetsFile
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if part in ("targets", "priors") and model is TargetsFile and parts:
            model = Target if part == "targets" else Prior
            parts.pop(0)  # the target's or prior's own name
            continue
        return model, str(part)
    return model, None


def _allowed_fields(loc: tuple) -> str:
    model, _ = _model_at(loc)
    return ", ".join(model.model_fields)


def _describe(loc: tuple) -> str:
    model, field = _model_at(loc)
    info = model.model_fields.get(field) if field else None
    return info.description if info is not None and info.description else "see targets/"
