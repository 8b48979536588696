"""The experiment file: what to vary, how to sample it, how often, and what to keep.

An experiment is a TOML file (see ``experiments/``)::

    description = "Budget against back-check rate: where does cheating stop paying?"
    scenario = "baseline"            # bundled name, or a scenario file
    design = "grid"                  # grid | lhs | sobol | morris
    replicates = 5
    months = 60
    outputs = "summary"              # or "series": one row per run and month
    seed = 20240601                  # master seed: every run's seed derives from it

    [fixed]                          # the same in every run
    "consumers.count" = 10000

    [parameters]
    "budget.annual_yuan" = { levels = [2e5, 4e5, 8e5] }
    "performance.backcheck_rate" = { range = [0.0, 0.2], steps = 5 }

Like a scenario, it is refused with a message naming the file, the field, the value and
what is allowed (:class:`ExperimentError`, exit status 2), and every varied parameter and
every design point is checked against the scenario schema before anything runs.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from govsim.scenario import (
    NAME_RULE,
    Scenario,
    ScenarioError,
    bundled_dir,
    check_name,
    field_names,
    name_from_stem,
    resolve,
    resolve_file,
)
from govsim.sweep.models import DEFAULT_MODEL, ModelInfo, load_model
from govsim.timeline import parameter_names as timeline_parameter_names

#: The experiments that ship with govsim (the repository's ``experiments/`` folder).
BUNDLED_DIR = bundled_dir("experiments")

#: govsim figures analysed when an experiment does not list its ``outcomes``.
DEFAULT_OUTCOMES = ("compliance_rate", "unsafe_share", "illness_cases", "detection_rate",
                    "false_pass_rate", "public_trust", "budget_spent")

MAX_RUNS = 10_000_000  # beyond this a sweep is a typo, not a plan
_SCALAR_TYPES = ("bool", "int", "float", "str")


class ExperimentError(ScenarioError):
    """An experiment (file, field, design point or sweep folder) that cannot be used."""


class SweepError(ScenarioError):
    """A sweep that cannot start or go on: its folder is in use or holds something else, or
    its executor cannot be reached or keeps losing workers."""


class _Strict(BaseModel):
    # strict: TOML carries types, so "0.5" for a number is a mistake to report, not coerce;
    # unknown keys are refused so that a typo never silently means "default".
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Scalar = bool | int | float | str


class Parameter(_Strict):
    """One varied parameter: a list of levels, or a range."""

    levels: list[Scalar] | None = Field(
        None, min_length=1, max_length=100_000,
        description="the values to use (grid), or equally likely discrete values "
                    "(lhs, sobol, morris)")
    range: list[float] | None = Field(
        None, min_length=2, max_length=2,
        description="[low, high]: sampled uniformly (lhs, sobol, morris) or split into "
                    "`steps` values (grid)")
    steps: int | None = Field(
        None, ge=2, le=100_000,
        description="grid only: number of evenly spaced values across range, ends included")
    scale: Literal["linear", "log"] = Field(
        "linear", description="'log' spaces or samples range evenly in log (range above 0)")

    @model_validator(mode="after")
    def _one_kind(self) -> Parameter:
        if (self.levels is None) == (self.range is None):
            raise ValueError("give either levels = [...] or range = [low, high] (exactly one)")
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range = [{low:g}, {high:g}]: low must be below high")
            if self.scale == "log" and low <= 0:
                raise ValueError(f"range = [{low:g}, {high:g}] with scale = 'log': the range "
                                 "must be above 0")
        else:
            if self.steps is not None:
                raise ValueError("steps goes with range = [low, high], not with levels")
            if self.scale != "linear":
                raise ValueError("scale goes with range = [low, high], not with levels")
            types = {"number" if isinstance(v, int | float) and not isinstance(v, bool)
                     else type(v).__name__ for v in self.levels}
            if len(types) > 1:
                raise ValueError(f"levels = {self.levels!r} mix types; use one type")
            if len({(type(v), v) for v in self.levels}) != len(self.levels):
                raise ValueError(f"levels = {self.levels!r} repeats a value")
        return self


class Experiment(_Strict):
    """A validated experiment file (schema only; :func:`prepare` checks it against the model).

    The file's path and text are kept as :attr:`path` and :attr:`text`.
    """

    name: str = Field(description="short name, used for the output folder (default: file "
                                  "name); " + NAME_RULE)
    description: str = Field("", description="what the experiment asks")
    scenario: str = Field(
        "baseline", description="base scenario: a bundled name or a TOML file (a relative "
                                "path is looked up beside the experiment file first)")
    model: str = Field(DEFAULT_MODEL, description="the function a run calls, 'module:function'")
    design: Literal["grid", "lhs", "sobol", "morris"] = Field(
        description="how points are chosen: full factorial grid, Latin hypercube, Sobol "
                    "(Saltelli) sample for variance-based indices, or Morris trajectories")
    samples: int | None = Field(
        None, ge=1, le=1_000_000,
        description="lhs: number of points; sobol: base sample N, a power of 2 "
                    "(N*(D+2) points); morris: trajectories (N*(D+1) points); not for grid")
    replicates: int = Field(1, ge=1, le=10_000, description="runs per design point")
    months: int | None = Field(None, ge=1, le=1200,
                               description="months per run (default: the scenario's)")
    outputs: Literal["summary", "series"] = Field(
        "summary", description="'summary': one row per run (mean of the last 12 months); "
                               "'series': one row per run and month")
    columns: list[str] | None = Field(
        None, min_length=1, description="figures to keep (default: all)")
    outcomes: list[str] | None = Field(
        None, min_length=1, description="figures to analyse (default: the headline ones)")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="master seed; run seeds derive from it")
    common_random_numbers: bool = Field(
        False, description="the same seeds at every design point (replicate r always uses "
                           "the r-th seed), so differences between points are not seed noise")
    second_order: bool = Field(False, description="sobol only: also sample second-order indices")
    morris_levels: int = Field(4, ge=2, le=100,
                               description="morris only: grid levels of the trajectories")
    fixed: dict[str, Scalar] = Field(
        default_factory=dict, description="parameters set the same in every run")
    parameters: dict[str, Parameter] = Field(
        min_length=1, description="the parameters to vary, by dotted name")

    _path: Path | None = PrivateAttr(None)
    _text: str = PrivateAttr("")

    @property
    def path(self) -> Path | None:
        """The file the experiment was read from (``None`` if built in memory)."""
        return self._path

    @property
    def text(self) -> str:
        """The file's text, verbatim (a TOML dump if built in memory)."""
        return self._text

    @property
    def source(self) -> str:
        """What to call the experiment in messages."""
        return str(self._path) if self._path else f"experiment {self.name}"

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_name(value)

    @model_validator(mode="after")
    def _design_rules(self) -> Experiment:
        d, given = self.design, self.model_fields_set
        if d == "grid":
            if self.samples is not None:
                raise ValueError("samples: a grid's size comes from its levels; remove samples")
            for name, p in self.parameters.items():
                if p.range is not None and p.steps is None:
                    raise ValueError(f'parameters."{name}": a grid needs levels = [...] or '
                                     "range = [low, high] with steps = N")
        else:
            if self.samples is None:
                raise ValueError(f"samples: design = '{d}' needs samples = N")
            for name, p in self.parameters.items():
                if p.steps is not None:
                    raise ValueError(f'parameters."{name}".steps: only a grid uses steps; '
                                     f"design = '{d}' samples the range")
        if d == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples = {self.samples}: a Sobol sample needs a power of 2 "
                             f"(e.g. {1 << max(self.samples.bit_length() - 1, 0)} or "
                             f"{1 << self.samples.bit_length()}) to keep its balance")
        if "second_order" in given and d != "sobol":
            raise ValueError("second_order applies to design = 'sobol' only")
        if "morris_levels" in given and d != "morris":
            raise ValueError("morris_levels applies to design = 'morris' only")
        both = sorted(set(self.fixed) & set(self.parameters))
        if both:
            raise ValueError(f"{', '.join(both)}: both fixed and varied; keep one")
        if self.n_runs > MAX_RUNS:
            raise ValueError(f"the design has {self.n_runs:,} runs; at most {MAX_RUNS:,}")
        return self

    @property
    def n_points(self) -> int:
        """Design points (before replicates)."""
        d = len(self.parameters)
        if self.design == "grid":
            return math.prod(len(p.levels) if p.levels is not None else p.steps
                             for p in self.parameters.values())
        if self.design == "sobol":
            return self.samples * (2 * d + 2 if self.second_order else d + 2)
        if self.design == "morris":
            return self.samples * (d + 1)
        return self.samples

    @property
    def n_runs(self) -> int:
        """Runs: design points x replicates."""
        return self.n_points * self.replicates


# --- loading ----------------------------------------------------------------------------


def bundled_experiments() -> dict[str, Path]:
    """Bundled experiment files by name (file stem)."""
    return {p.stem: p for p in sorted(BUNDLED_DIR.glob("*.toml"))}


def resolve_experiment(name_or_path: str | Path) -> Path:
    """An experiment file from a path, or from the name of a bundled experiment.

    Raises:
        ExperimentError: neither a file nor a bundled name.
    """
    return resolve_file(name_or_path, bundled_experiments(), "experiment", ExperimentError)


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file (a path or a bundled name).

    Raises:
        ExperimentError: the file is missing, unreadable, not TOML, or holds an invalid field.
    """
    path = resolve_experiment(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ExperimentError(f"{path}: cannot read the file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ExperimentError(f"{path}: not an experiment (its tables or arrays are nested too "
                              "deeply to read)") from None
    data.setdefault("name", name_from_stem(path.stem))
    return experiment_from_dict(data, source=str(path), path=path, text=text)


def experiment_from_dict(data: dict, source: str = "experiment", path: Path | None = None,
                         text: str | None = None) -> Experiment:
    """Validate a nested dict as read from TOML; errors name ``source``.

    Dotted names may be written as TOML sub-tables (``[fixed.consumers] count = 1000``);
    they are flattened to ``"consumers.count"`` first.
    """
    data = dict(data)
    if isinstance(data.get("fixed"), dict):
        data["fixed"] = _flatten(data["fixed"], stop=lambda v: not isinstance(v, dict))
    if isinstance(data.get("parameters"), dict):
        data["parameters"] = _flatten(
            data["parameters"],
            stop=lambda v: not isinstance(v, dict) or not v or
            any(not isinstance(x, dict) for x in v.values()))
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        raise ExperimentError(_explain(exc, source)) from None
    experiment._path = path
    if text is None:
        import tomli_w

        text = tomli_w.dumps(experiment.model_dump(exclude_none=True))
    experiment._text = text
    return experiment


# --- checking against the model ---------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """An experiment checked against its model, ready for a design.

    Attributes:
        experiment: the experiment.
        model: its model function.
        base: the base scenario with ``fixed`` and ``months`` applied (``None`` for a model
            with free parameters).
        fixed_params: ``fixed`` values passed with every run to a free-parameter model.
        kinds: per varied parameter, its value type: "float", "int", "bool", "str" or "any".
        outputs: the figures kept, if known before running.
        outcomes: the figures to analyse.
    """

    experiment: Experiment
    model: ModelInfo
    base: Scenario | None
    fixed_params: dict[str, Any]
    kinds: dict[str, str]
    outputs: tuple[str, ...] | None
    outcomes: tuple[str, ...] | None

    @property
    def names(self) -> tuple[str, ...]:
        """Varied parameter names, in file order."""
        return tuple(self.experiment.parameters)

    @property
    def source(self) -> str:
        return self.experiment.source


def prepare(experiment: Experiment) -> Prepared:
    """Check an experiment against its model and base scenario.

    Every varied name must be a field of the scenario (or a declared free parameter), every
    level and both ends of every range must be valid values of it, and ``columns`` and
    ``outcomes`` must be figures the model returns.

    Raises:
        ExperimentError: naming the file, the field, the value and what is allowed.
    """
    src = experiment.source
    try:
        model = load_model(experiment.model)
    except LookupError as exc:
        raise ExperimentError(f"{src}: model = {experiment.model!r}: {exc}") from None
    if model.uses_scenario:
        base = _base_scenario(experiment)
        kinds = {name: _check_scenario_parameter(experiment, base, name, spec)
                 for name, spec in experiment.parameters.items()}
        fixed_params: dict[str, Any] = {}
    else:
        base = None
        kinds = _check_free_parameters(experiment, model)
        fixed_params = dict(experiment.fixed)
    outputs = _check_columns(experiment, model)
    outcomes = _check_outcomes(experiment, model, outputs)
    return Prepared(experiment, model, base, fixed_params, kinds, outputs, outcomes)


def check_points(prepared: Prepared, points: list[dict[str, Any]]) -> None:
    """Build the scenario of every design point, so that a combination the schema refuses
    (e.g. more consumers than people) stops the sweep before it starts.

    Raises:
        ExperimentError: naming the point and its parameters.
    """
    if prepared.base is None:
        return
    for point_id, params in enumerate(points):
        try:
            prepared.base.with_overrides(params, source=f"{prepared.source}: design point "
                                                        f"{point_id}")
        except ScenarioError as exc:
            raise ExperimentError(f"{exc}\n  (the point's parameters: {params})") from None


def _base_scenario(experiment: Experiment) -> Scenario:
    src = experiment.source
    try:
        scenario = Scenario.load(_scenario_path(experiment))
    except ScenarioError as exc:
        raise ExperimentError(f"{src}: scenario = {experiment.scenario!r}: {exc}") from None
    overrides: dict[str, Any] = {}
    for name, value in experiment.fixed.items():
        _check_scenario_name(src, f'fixed."{name}"', name, scenario)
        overrides[name] = _as_field_type(name, value)
    if experiment.months is not None:
        overrides["run.months"] = experiment.months
    if not overrides:
        return scenario
    try:
        return scenario.with_overrides(overrides, source=f"{src}: [fixed]")
    except ScenarioError as exc:
        raise ExperimentError(str(exc)) from None


def _scenario_path(experiment: Experiment) -> Path:
    """The base scenario: beside the experiment file first, then as govsim resolves it."""
    if experiment.path is not None:
        beside = experiment.path.parent / experiment.scenario
        if beside.is_file():
            return beside
    return resolve(experiment.scenario)


def _check_scenario_name(src: str, where: str, name: str, base: Scenario) -> None:
    if name in timeline_parameter_names(base):  # a named timeline change (govsim.timeline)
        return
    known = sorted(_scenario_fields())
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ExperimentError(f"{src}: {where}: {name!r} is not a scenario field; {hint}"
                              "every field: `govsim scenarios --fields`")


def _check_scenario_parameter(experiment: Experiment, base: Scenario, name: str,
                              spec: Parameter) -> str:
    src = experiment.source
    where = f'parameters."{name}"'
    _check_scenario_name(src, where, name, base)
    kind = scenario_field_kind(name)
    if spec.levels is not None:
        values, what = [_as_field_type(name, v) for v in spec.levels], "levels"
    else:
        if kind not in ("float", "int"):
            raise ExperimentError(f"{src}: {where}.range: {name} is a {kind} field; "
                                  "give levels = [...] instead")
        if kind == "int" and not all(float(v).is_integer() for v in spec.range):
            raise ExperimentError(f"{src}: {where}.range = {spec.range}: {name} is a whole "
                                  "number; give whole-number ends")
        values, what = [_as_field_type(name, v) for v in spec.range], "range"
    for value in values:
        try:
            base.with_overrides({name: value}, source=f"{src}: {where}.{what}")
        except ScenarioError as exc:
            text = str(exc) if repr(value) in str(exc) else f"{exc} (value {value!r})"
            raise ExperimentError(text) from None
    return kind


def _check_free_parameters(experiment: Experiment, model: ModelInfo) -> dict[str, str]:
    src = experiment.source
    allowed = ", ".join(model.parameters) or "none"
    if experiment.months is not None:
        raise ExperimentError(f"{src}: months: model {model.spec} takes free parameters, not "
                              "a scenario; remove months")
    for where, names in (("parameters", experiment.parameters), ("fixed", experiment.fixed)):
        for name in names:
            if name not in model.parameters:
                raise ExperimentError(f'{src}: {where}."{name}": not a parameter of model '
                                      f"{model.spec}; allowed: {allowed}")
    kinds = {}
    for name, spec in experiment.parameters.items():
        kinds[name] = "float" if spec.range is not None else "any"
    return kinds


def _check_columns(experiment: Experiment, model: ModelInfo) -> tuple[str, ...] | None:
    if experiment.columns is None:
        return model.outputs
    if model.outputs is not None:
        unknown = [c for c in experiment.columns if c not in model.outputs]
        if unknown:
            raise ExperimentError(f"{experiment.source}: columns: {', '.join(unknown)} "
                                  f"not returned by the model; allowed: "
                                  f"{', '.join(model.outputs)}")
    return tuple(experiment.columns)


def _check_outcomes(experiment: Experiment, model: ModelInfo,
                    outputs: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if experiment.outcomes is None:
        if outputs is None:
            return None
        if model.uses_scenario:
            chosen = tuple(o for o in DEFAULT_OUTCOMES if o in outputs)
            return chosen or outputs
        return outputs
    if outputs is not None:
        unknown = [o for o in experiment.outcomes if o not in outputs]
        if unknown:
            raise ExperimentError(f"{experiment.source}: outcomes: {', '.join(unknown)} "
                                  f"not kept by this experiment; allowed: {', '.join(outputs)}")
    return tuple(experiment.outcomes)


def scenario_field_kind(name: str) -> str:
    """The value type of a dotted scenario field: "float", "int", "bool" or "str"."""
    if name.startswith("timeline."):  # timeline.NAME.month|length, or timeline.NAME.set.FIELD
        parts = name.split(".")
        return scenario_field_kind(".".join(parts[3:])) if parts[2:3] == ["set"] else "int"
    model: Any = Scenario
    annotation: Any = None
    for part in name.split("."):
        annotation = model.model_fields[part].annotation
        model = annotation
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    if annotation in (float, int, bool) or (args and args[0] in (float, int, bool)):
        base = annotation if annotation in (float, int, bool) else args[0]
        return base.__name__
    return "str"


def _as_field_type(name: str, value: Any) -> Any:
    """A whole number given for a float field is a float, and a whole float given for an int
    field an int, so that ``2e5`` and ``200000`` are one level and parquet columns keep one
    type."""
    if name not in _scenario_fields() and not name.startswith("timeline."):
        return value
    kind = scenario_field_kind(name)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@lru_cache(maxsize=1)
def _scenario_fields() -> frozenset[str]:
    return frozenset(n for n in field_names() if n not in ("name", "description"))


# --- messages ---------------------------------------------------------------------------


def _flatten(table: dict, stop, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if stop(value):
            out[dotted] = value
        else:
            out.update(_flatten(value, stop, f"{dotted}."))
    return out


def _where(loc: tuple) -> str:
    """``("parameters", "budget.annual_yuan", "levels", 0)`` -> ``parameters."budget.
    annual_yuan".levels[0]``."""
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif i > 0 and loc[i - 1] in ("parameters", "fixed"):
            text += f'."{part}"'
        else:
            text += f".{part}" if text else str(part)
    return text


def _field_of(loc: tuple):
    """The pydantic field at ``loc`` (through the parameters dict), or None."""
    model: Any = Experiment
    field = None
    i = 0
    while i < len(loc):
        part = loc[i]
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            return None
        field = fields[part]
        model = field.annotation
        if part == "parameters" and i + 1 < len(loc):
            model, i = Parameter, i + 1  # skip the parameter's name
        i += 1
    return field


def _is_union_member(loc: tuple) -> bool:
    """``(..., "levels", 0, "bool")`` or ``("fixed", name, "int")``: one member's error."""
    if len(loc) < 2 or loc[-1] not in _SCALAR_TYPES:
        return False
    return isinstance(loc[-2], int) or (len(loc) == 3 and loc[0] == "fixed")


def _allowed(field) -> str:
    """A field's bounds and description, e.g. ``>= 1 and <= 10000 (runs per point)``."""
    bounds = []
    for meta in field.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                bounds.append(f"{sym} {getattr(meta, attr)}")
    text = " and ".join(bounds)
    if field.description:
        text += f" ({field.description})" if text else field.description
    return text


def _explain(exc: ValidationError, source: str) -> str:
    """pydantic's errors as one line each: file, field, value, what is allowed."""
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if _is_union_member(loc):
            # a union reports once per member type ("...levels[0].bool", ".int", ...)
            loc, msg = loc[:-1], "a level is a number, true/false or a string"
        where = _where(loc)
        if err["type"] == "extra_forbidden":
            allowed = Parameter if loc[:1] == ("parameters",) and len(loc) == 3 else Experiment
            names = list(allowed.model_fields)
            close = difflib.get_close_matches(str(loc[-1]), names, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            line = (f"{source}: {where} is not a known field; {hint}allowed here: "
                    f"{', '.join(names)}")
        elif loc == ("name",) and isinstance(err.get("input"), str):
            line = f"{source}: name = {err['input']!r} is not allowed: {msg}"
        elif err["type"] == "value_error" or "input" not in err:
            line = f"{source}: {where + ': ' if where else ''}{msg}"
        elif err["type"] == "missing":
            field = _field_of(loc)
            desc = f" ({field.description})" if field and field.description else ""
            line = f"{source}: {where} is required{desc}"
        else:
            line = f"{source}: {where} = {err['input']!r} is not allowed: {msg}"
            field = _field_of(loc)
            if field is not None:
                line += f"; allowed: {_allowed(field)}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)
