"""The problem file: which levers to search, what to minimise or maximise, under which limits.

A problem is a TOML file (see ``problems/``)::

    description = "The cheapest mix of policies that reaches 95% compliance"
    scenario = "baseline"          # the status quo the levers start from
    replicates = 4                 # runs per candidate, the same seeds for every candidate
    trials = 160                   # candidates tried
    seed = 20240601

    [levers]
    "budget.annual_yuan" = { range = [100_000, 2_000_000], scale = "log" }
    "participation.disclosure" = {}                  # a true/false field: both values
    "system.sampling" = { choices = ["random", "risk_based"] }

    [[objectives]]
    output = "public_cost_yuan"
    per = "year"                   # the monthly mean over the window, times 12
    direction = "minimise"

    [[constraints]]
    output = "compliance_rate"
    at_least = 0.95

Like a scenario, a problem is refused with one line naming the file, the field, the value
and what is allowed (:class:`ProblemError`, exit status 2); the levers are checked against
the scenario schema and the outputs against the model's figures before anything runs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from govsim.optimise.measures import allowed_outputs, label_of
from govsim.scenario import Scenario, ScenarioError, field_names, resolve, resolve_file
from govsim.sweep.experiment import scenario_field_kind
from govsim.sweep.models import DEFAULT_MODEL, ModelInfo, load_model

#: The problems that ship with govsim (the repository's ``problems/`` folder).
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "problems"

Scalar = bool | int | float | str


class ProblemError(ScenarioError):
    """A problem file (or an optimisation folder) that cannot be used."""


class _Strict(BaseModel):
    # As for scenarios and experiments: TOML carries types, so "0.5" for a number is a
    # mistake to report, and an unknown key is a typo, never a silent default.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Lever(_Strict):
    """One lever to search: a range (numbers) or a list of choices."""

    range: list[float] | None = Field(
        None, min_length=2, max_length=2,
        description="[low, high] for a number field (whole numbers for an integer field)")
    scale: Literal["linear", "log"] = Field(
        "linear", description="'log' searches the range evenly in log (range above 0)")
    choices: list[Scalar] | None = Field(
        None, min_length=1, max_length=1000,
        description="the values to choose among (default for a true/false field: both)")

    @model_validator(mode="after")
    def _one_kind(self) -> Lever:
        if self.range is not None and self.choices is not None:
            raise ValueError("give range = [low, high] or choices = [...], not both")
        if self.range is not None:
            low, high = self.range
            if not low < high:
                raise ValueError(f"range = [{low:g}, {high:g}]: low must be below high")
            if self.scale == "log" and low <= 0:
                raise ValueError(f"range = [{low:g}, {high:g}] with scale = 'log': the range "
                                 "must be above 0")
        elif self.scale != "linear":
            raise ValueError("scale goes with range = [low, high], not with choices")
        if self.choices is not None and len({(type(c), c) for c in self.choices}) != len(
                self.choices):
            raise ValueError(f"choices = {self.choices!r} repeats a value")
        return self


class Measure(_Strict):
    """A model output aggregated over the window: its monthly mean, or that times 12."""

    output: str = Field(description="a figure of the model, e.g. compliance_rate")
    per: Literal["month", "year"] = Field(
        "month", description="'month': the monthly mean over the window; 'year': times 12")
    label: str | None = Field(None, max_length=120, description="name shown in the report")

    @property
    def key(self) -> str:
        """Column name of the measure: ``public_cost_yuan_per_year``."""
        return f"{self.output}_per_year" if self.per == "year" else self.output

    @property
    def title(self) -> str:
        """What to call it in the report."""
        if self.label:
            return self.label
        return label_of(self.output) + (" a year" if self.per == "year" else "")


class Objective(Measure):
    """A measure to minimise or maximise."""

    direction: Literal["minimise", "maximise"] = Field(
        description="'minimise' or 'maximise'")


class Constraint(Measure):
    """A limit a candidate must respect (on the mean of its replicates)."""

    at_least: float | None = Field(None, description="the measure must be at least this")
    at_most: float | None = Field(None, description="the measure must be at most this")

    @model_validator(mode="after")
    def _one_bound(self) -> Constraint:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give at_least = X or at_most = X (exactly one)")
        return self

    @property
    def bound(self) -> float:
        return self.at_least if self.at_least is not None else self.at_most

    def violation(self, value: float) -> float:
        """Optuna's convention: <= 0 when met, and how far off (relative) when not."""
        scale = abs(self.bound) or 1.0
        if self.at_least is not None:
            return (self.at_least - value) / scale
        return (value - self.at_most) / scale

    def text(self) -> str:
        """``compliance rate >= 0.95``."""
        sign = ">=" if self.at_least is not None else "<="
        bound = self.bound
        text = f"{bound:,.0f}" if abs(bound) >= 1000 and bound == int(bound) else f"{bound:g}"
        return f"{self.title} {sign} {text}"


class Problem(_Strict):
    """A validated problem file (schema only; :func:`prepare` checks it against the model)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="short name, used for the output folder (default: file name)")
    description: str = Field("", description="the question, in a sentence")
    scenario: str = Field("baseline", description="base scenario (the status quo): a bundled "
                                                  "name or a TOML file")
    model: str = Field(DEFAULT_MODEL, description="the function a run calls, 'module:function'")
    months: int | None = Field(None, ge=1, le=1200,
                               description="months per run (default: the scenario's)")
    window: int = Field(12, ge=1, le=1200,
                        description="months at the end of each run that the measures average")
    replicates: int = Field(4, ge=1, le=1000,
                            description="runs per candidate (the same seeds for every candidate)")
    trials: int = Field(100, ge=1, le=100_000, description="candidates to try")
    batch: int = Field(8, ge=1, le=1000,
                       description="candidates proposed at once, then run side by side")
    population: int = Field(24, ge=2, le=10_000,
                            description="NSGA-II population (several objectives only)")
    seed: int = Field(0, ge=0, le=2**63 - 1,
                      description="master seed: the sampler and every run's seed derive from it")
    reevaluate: int = Field(32, ge=2, le=10_000,
                            description="fresh runs per front candidate in the noise check")
    front_max: int = Field(12, ge=1, le=1000,
                           description="at most this many front candidates are re-evaluated")
    references: bool = Field(True, description="also place the status quo and the bundled "
                                               "scenarios on the figure")
    fixed: dict[str, Scalar] = Field(default_factory=dict,
                                     description="scenario fields set the same in every run")
    levers: dict[str, Lever] = Field(min_length=1, description="the fields to search")
    objectives: list[Objective] = Field(min_length=1, max_length=4,
                                        description="what to minimise or maximise")
    constraints: list[Constraint] = Field(default_factory=list, max_length=20,
                                          description="limits a candidate must respect")

    _path: Path | None = PrivateAttr(None)
    _text: str = PrivateAttr("")

    @model_validator(mode="after")
    def _rules(self) -> Problem:
        both = sorted(set(self.fixed) & set(self.levers))
        if both:
            raise ValueError(f"{', '.join(both)}: both fixed and a lever; keep one")
        keys = [m.key for m in self.objectives]
        if len(set(keys)) != len(keys):
            raise ValueError(f"objectives: {keys} names a measure twice")
        if self.months is not None and self.window > self.months:
            raise ValueError(f"window = {self.window}: longer than months = {self.months}")
        return self

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def text(self) -> str:
        """The file's text, verbatim."""
        return self._text

    @property
    def source(self) -> str:
        return str(self._path) if self._path else f"problem {self.name}"

    @property
    def measures(self) -> list[Measure]:
        """Every measure the problem uses (objectives, then constraints), each once."""
        seen: dict[str, Measure] = {}
        for m in [*self.objectives, *self.constraints]:
            seen.setdefault(m.key, m)
        return list(seen.values())

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    def settings_hash(self) -> str:
        """A hash of what decides the study's numbers (not its name, description, trial
        count or re-evaluation settings, which can change on resume)."""
        settings = self.model_dump(exclude={"name", "description", "trials", "reevaluate",
                                            "front_max", "references"})
        text = json.dumps(settings, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- loading ----------------------------------------------------------------------------


def bundled_problems() -> dict[str, Path]:
    """Bundled problem files by name (file stem)."""
    return {p.stem: p for p in sorted(BUNDLED_DIR.glob("*.toml"))}


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file (a path or a bundled name).

    Raises:
        ProblemError: the file is missing, unreadable, not TOML, or holds an invalid field.
    """
    path = resolve_file(path, bundled_problems(), "problem", ProblemError)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemError(f"{path}: cannot read the file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"{path}: not valid TOML ({exc})") from None
    data.setdefault("name", path.stem)
    return problem_from_dict(data, source=str(path), path=path, text=text)


def problem_from_dict(data: dict, source: str = "problem", path: Path | None = None,
                      text: str | None = None) -> Problem:
    """Validate a nested dict as read from TOML; errors name ``source``."""
    data = dict(data)
    for key in ("fixed", "levers"):
        if isinstance(data.get(key), dict):
            data[key] = _flatten(data[key], leaf=key == "fixed")
    try:
        problem = Problem.model_validate(data)
    except ValidationError as exc:
        raise ProblemError(_explain(exc, source)) from None
    problem._path = path
    if text is None:
        import tomli_w

        text = tomli_w.dumps(problem.model_dump(exclude_none=True))
    problem._text = text
    return problem


def _flatten(table: dict, leaf: bool, prefix: str = "") -> dict:
    """``[levers.budget] annual_yuan = {...}`` -> ``{"budget.annual_yuan": {...}}``."""
    out: dict = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        is_leaf = (not isinstance(value, dict) if leaf else
                   not isinstance(value, dict) or not value or
                   not all(isinstance(v, dict) for v in value.values()))
        if is_leaf:
            out[dotted] = value
        else:
            out.update(_flatten(value, leaf, f"{dotted}."))
    return out


def _where(loc: tuple) -> str:
    """``("levers", "budget.annual_yuan", "range", 0)`` -> ``levers."budget.annual_yuan".
    range[0]``."""
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif i > 0 and loc[i - 1] in ("levers", "fixed"):
            text += f'."{part}"'
        else:
            text += f".{part}" if text else str(part)
    return text


def _model_at(loc: tuple) -> type[BaseModel]:
    """The schema that holds the last key of ``loc`` (for unknown-key messages)."""
    if loc[:1] == ("levers",) and len(loc) == 3:
        return Lever
    if loc[:1] == ("objectives",) and len(loc) == 3:
        return Objective
    if loc[:1] == ("constraints",) and len(loc) == 3:
        return Constraint
    return Problem


def _field_at(loc: tuple):
    model = _model_at(loc)
    return model.model_fields.get(str(loc[-1])) if loc else None


def _explain(exc: ValidationError, source: str) -> str:
    """pydantic's errors as one line each: file, field, value, what is allowed."""
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if len(loc) >= 2 and loc[-1] in ("bool", "int", "float", "str") and (
                isinstance(loc[-2], int) or loc[0] == "fixed"):
            loc = loc[:-1]  # one error per member of a union: report the value once
            err = {**err, "msg": "must be a number, true/false or a string"}
        where = _where(loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            names = list(_model_at(loc).model_fields)
            close = difflib.get_close_matches(str(loc[-1]), names, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            line = f"{source}: {where} is not a known field; {hint}allowed here: " \
                   f"{', '.join(names)}"
        elif err["type"] == "missing":
            field = _field_at(loc)
            desc = f" ({field.description})" if field and field.description else ""
            line = f"{source}: {where} is required{desc}"
        elif err["type"] == "value_error" or "input" not in err:
            line = f"{source}: {where + ': ' if where else ''}{msg}"
        else:
            line = f"{source}: {where} = {err['input']!r} is not allowed: {msg}"
            field = _field_at(loc)
            if field is not None:
                line += f"; allowed: {_allowed(field)}"
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _allowed(field) -> str:
    """A field's bounds and description, e.g. ``>= 1 and <= 1000 (runs per candidate)``."""
    bounds = []
    for meta in field.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                bounds.append(f"{sym} {getattr(meta, attr)}")
    text = " and ".join(bounds)
    if field.description:
        text += f" ({field.description})" if text else field.description
    return text


# --- checking against the model ---------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    """A problem checked against its model, ready to optimise.

    Attributes:
        problem: the problem.
        model: its model function.
        base: the base scenario with ``fixed`` and ``months`` applied (``None`` for a model
            with free parameters).
        kinds: per lever: "float", "int", "bool" or "choice".
        outputs: the model's figures (the measures' outputs are among them, or derived).
    """

    problem: Problem
    model: ModelInfo
    base: Scenario | None
    kinds: dict[str, str]
    outputs: tuple[str, ...]

    @property
    def source(self) -> str:
        return self.problem.source


def prepare(problem: Problem) -> Prepared:
    """Check a problem against its model: every lever a field (or free parameter) with valid
    ends or choices, every measure's output a figure of the model.

    Raises:
        ProblemError: naming the file, the field, the value and what is allowed.
    """
    src = problem.source
    try:
        model = load_model(problem.model)
    except LookupError as exc:
        raise ProblemError(f"{src}: model = {problem.model!r}: {exc}") from None
    if model.uses_scenario:
        base = _base_scenario(problem)
        kinds = {name: _check_field_lever(problem, base, name, lever)
                 for name, lever in problem.levers.items()}
    else:
        base = None
        kinds = _check_free_levers(problem, model)
    outputs = allowed_outputs(model)
    for where, measures in (("objectives", problem.objectives),
                            ("constraints", problem.constraints)):
        for i, m in enumerate(measures):
            if m.output not in outputs:
                close = difflib.get_close_matches(m.output, outputs, n=2)
                hint = f"did you mean {', '.join(close)}? " if close else ""
                raise ProblemError(f"{src}: {where}[{i}].output = {m.output!r} is not a figure "
                                   f"of the model; {hint}allowed: {', '.join(outputs)}")
    return Prepared(problem, model, base, kinds, outputs)


def _base_scenario(problem: Problem) -> Scenario:
    src = problem.source
    try:
        scenario = Scenario.load(_scenario_path(problem))
    except ScenarioError as exc:
        raise ProblemError(f"{src}: scenario = {problem.scenario!r}: {exc}") from None
    overrides: dict[str, Any] = {}
    for name, value in problem.fixed.items():
        _check_field_name(src, f'fixed."{name}"', name)
        overrides[name] = _as_field_type(name, value)
    if problem.months is not None:
        overrides["run.months"] = problem.months
    if overrides:
        try:
            scenario = scenario.with_overrides(overrides, source=f"{src}: [fixed]")
        except ScenarioError as exc:
            raise ProblemError(str(exc)) from None
    if problem.window > scenario.run.months:
        raise ProblemError(f"{src}: window = {problem.window}: longer than the runs "
                           f"({scenario.run.months} months); allowed: 1 to "
                           f"{scenario.run.months}")
    return scenario


def _scenario_path(problem: Problem) -> Path:
    """The base scenario: beside the problem file first, then as govsim resolves it."""
    if problem.path is not None:
        beside = problem.path.parent / problem.scenario
        if beside.is_file():
            return beside
    return resolve(problem.scenario)


def _field_set() -> frozenset[str]:
    return frozenset(n for n in field_names() if n not in ("name", "description"))


def _check_field_name(src: str, where: str, name: str) -> None:
    known = sorted(_field_set())
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise ProblemError(f"{src}: {where}: {name!r} is not a scenario field; {hint}"
                           "every field: `govsim scenarios --fields`")


def _check_field_lever(problem: Problem, base: Scenario, name: str, lever: Lever) -> str:
    src = problem.source
    where = f'levers."{name}"'
    _check_field_name(src, where, name)
    kind = scenario_field_kind(name)
    if lever.range is not None:
        if kind not in ("float", "int"):
            raise ProblemError(f"{src}: {where}.range: {name} is a {kind} field; give "
                               "choices = [...] instead (or nothing for true/false)")
        if kind == "int" and not all(float(v).is_integer() for v in lever.range):
            raise ProblemError(f"{src}: {where}.range = {lever.range}: {name} is a whole "
                               "number; give whole-number ends")
        values, what = [_as_field_type(name, v) for v in lever.range], "range"
    elif lever.choices is not None:
        values, what, kind = [_as_field_type(name, v) for v in lever.choices], "choices", \
            "bool" if kind == "bool" else "choice"
    elif kind == "bool":
        values, what = [False, True], "choices"
    else:
        raise ProblemError(f"{src}: {where}: give range = [low, high] or choices = [...] "
                           f"({name} is a {kind} field)")
    for value in values:
        try:
            base.with_overrides({name: value}, source=f"{src}: {where}.{what}")
        except ScenarioError as exc:
            text = str(exc) if repr(value) in str(exc) else f"{exc} (value {value!r})"
            raise ProblemError(text) from None
    return kind


def _check_free_levers(problem: Problem, model: ModelInfo) -> dict[str, str]:
    src = problem.source
    allowed = ", ".join(model.parameters) or "none"
    if problem.months is not None:
        raise ProblemError(f"{src}: months: model {model.spec} takes free parameters, not a "
                           "scenario; remove months")
    for where, names in (("levers", problem.levers), ("fixed", problem.fixed)):
        for name in names:
            if name not in model.parameters:
                raise ProblemError(f'{src}: {where}."{name}": not a parameter of model '
                                   f"{model.spec}; allowed: {allowed}")
    kinds = {}
    for name, lever in problem.levers.items():
        if lever.range is None and lever.choices is None:
            raise ProblemError(f'{src}: levers."{name}": give range = [low, high] or '
                               "choices = [...]")
        kinds[name] = "float" if lever.range is not None else "choice"
    return kinds


def _as_field_type(name: str, value: Any) -> Any:
    """``2e5`` for an int field is 200000, ``1`` for a float field is 1.0."""
    if name not in _field_set():
        return value
    kind = scenario_field_kind(name)
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value
