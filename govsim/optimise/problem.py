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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from govsim import studyfile
from govsim.optimise.measures import label_of, model_outputs
from govsim.scenario import (
    Scenario,
    ScenarioError,
    bundled_files,
    read_named_toml,
    resolve_file,
)
from govsim.studyfile import NAME_DESCRIPTION, Scalar, Strict, StudyFile, StudyName
from govsim.sweep.models import DEFAULT_MODEL, ModelInfo, load_model


class ProblemError(ScenarioError):
    """A problem file (or an optimisation folder) that cannot be used."""


class Lever(Strict):
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
            studyfile.check_range(self.range, self.scale)
        elif self.scale != "linear":
            raise ValueError("scale goes with range = [low, high], not with choices")
        if self.choices is not None and len({(type(c), c) for c in self.choices}) != len(
                self.choices):
            raise ValueError(f"choices = {self.choices!r} repeats a value")
        return self


class Measure(Strict):
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


class Problem(StudyFile):
    """A validated problem file (schema only; :func:`prepare` checks it against the model)."""

    KIND = "problem"
    VARIED = "levers"
    ERROR = ProblemError
    UNION_MESSAGE = "must be a number, true/false or a string"

    name: StudyName = Field(description=NAME_DESCRIPTION)
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
    return bundled_files("problems")


def load_problem(path: str | Path) -> Problem:
    """Read and validate a problem file (a path or a bundled name).

    Raises:
        ProblemError: the file is missing, unreadable, not TOML, or holds an invalid field.
    """
    path = resolve_file(path, bundled_problems(), "problem", ProblemError)
    text, data = read_named_toml(path, "problem", ProblemError)
    return problem_from_dict(data, source=str(path), path=path, text=text)


def problem_from_dict(data: dict, source: str = "problem", path: Path | None = None,
                      text: str | None = None) -> Problem:
    """Validate a nested dict as read from TOML; errors name ``source``."""
    return Problem.from_dict(data, source, path, text)


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
        outputs: the model's figures (the measures' outputs are among them).
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
    outputs = model_outputs(model)
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
    """The base scenario (see :func:`govsim.studyfile.base_scenario`), whose runs must be at
    least as long as the window."""
    src = problem.source
    scenario = studyfile.base_scenario(problem)
    if problem.window > scenario.run.months:
        raise ProblemError(f"{src}: window = {problem.window}: longer than the runs "
                           f"({scenario.run.months} months); allowed: 1 to "
                           f"{scenario.run.months}")
    return scenario


def _check_field_lever(problem: Problem, base: Scenario, name: str, lever: Lever) -> str:
    where = f'levers."{name}"'
    studyfile.check_field_name(problem, where, name, base)
    kind = studyfile.scenario_field_kind(name)
    if lever.range is not None:
        values = studyfile.range_values(problem, where, name, lever.range, "choices = [...] "
                                        "instead (or nothing for true/false)")
        what = "range"
    elif lever.choices is not None:
        values, what = [studyfile.as_field_type(name, v) for v in lever.choices], "choices"
        kind = "bool" if kind == "bool" else "choice"
    elif kind == "bool":
        values, what = [False, True], "choices"
    else:
        raise ProblemError(f"{problem.source}: {where}: give range = [low, high] or "
                           f"choices = [...] ({name} is a {kind} field)")
    studyfile.check_values(problem, base, name, values, f"{where}.{what}")
    return kind


def _check_free_levers(problem: Problem, model: ModelInfo) -> dict[str, str]:
    src = problem.source
    studyfile.check_free_names(problem, model)
    kinds = {}
    for name, lever in problem.levers.items():
        if lever.range is None and lever.choices is None:
            raise ProblemError(f'{src}: levers."{name}": give range = [low, high] or '
                               "choices = [...]")
        kinds[name] = "float" if lever.range is not None else "choice"
    return kinds
