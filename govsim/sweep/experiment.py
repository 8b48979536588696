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

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from govsim import studyfile
from govsim.scenario import (
    Scenario,
    ScenarioError,
    bundled_files,
    read_named_toml,
    resolve_file,
)
from govsim.studyfile import NAME_DESCRIPTION, Scalar, Strict, StudyFile, StudyName
from govsim.sweep.models import DEFAULT_MODEL, ModelInfo, load_model

#: govsim figures analysed when an experiment does not list its ``outcomes``.
DEFAULT_OUTCOMES = ("compliance_rate", "unsafe_share", "illness_cases", "detection_rate",
                    "false_pass_rate", "public_trust", "budget_spent")

MAX_RUNS = 10_000_000  # beyond this a sweep is a typo, not a plan
MAX_MORRIS_LEVELS = 100


class ExperimentError(ScenarioError):
    """An experiment (file, field, design point or sweep folder) that cannot be used."""


class SweepError(ScenarioError):
    """A sweep that cannot start or go on: its folder is in use or holds something else, or
    its executor cannot be reached or keeps losing workers."""


class Parameter(Strict):
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
            studyfile.check_range(self.range, self.scale)
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


class Experiment(StudyFile):
    """A validated experiment file (schema only; :func:`prepare` checks it against the model).

    The file's path and text are kept as :attr:`path` and :attr:`text`.
    """

    KIND = "experiment"
    VARIED = "parameters"
    ERROR = ExperimentError
    UNION_MESSAGE = "a level is a number, true/false or a string"

    name: StudyName = Field(description=NAME_DESCRIPTION)
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
    morris_levels: int = Field(4, ge=2, le=MAX_MORRIS_LEVELS,
                               description="morris only: grid levels of the trajectories")
    fixed: dict[str, Scalar] = Field(
        default_factory=dict, description="parameters set the same in every run")
    parameters: dict[str, Parameter] = Field(
        min_length=1, description="the parameters to vary, by dotted name")

    @field_validator("columns", "outcomes")
    @classmethod
    def _once_each(cls, names: list[str] | None) -> list[str] | None:
        # a figure named twice would be two columns of one name in the results
        repeated = sorted({n for n in names or () if names.count(n) > 1})
        if repeated:
            raise ValueError(f"{names!r} names {', '.join(map(repr, repeated))} more than "
                             "once; list each figure once")
        return names

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
        if d == "morris":
            self._levels_fit_the_morris_grid()
        both = sorted(set(self.fixed) & set(self.parameters))
        if both:
            raise ValueError(f"{', '.join(both)}: both fixed and varied; keep one")
        for table in ("fixed", "parameters"):
            if self.months is not None and "run.months" in getattr(self, table):
                raise ValueError(f'{table}."run.months": the run length is also set by '
                                 f"months = {self.months}; keep one")
        if self.n_runs > MAX_RUNS:
            raise ValueError(f"the design has {self.n_runs:,} runs; at most {MAX_RUNS:,}")
        return self

    def _levels_fit_the_morris_grid(self) -> None:
        """Refuse levels that Morris's grid of ``morris_levels`` values cannot give equal
        chances: each of k levels takes morris_levels / k grid values, so k must divide it."""
        counts = {name: len(p.levels) for name, p in self.parameters.items()
                  if p.levels is not None}
        for name, k in counts.items():
            if self.morris_levels % k:
                step = math.lcm(2, *counts.values())  # SALib wants an even number of levels
                fits = step * math.ceil(self.morris_levels / step)
                hint = (f"set morris_levels to a multiple of {k} (e.g. {fits})"
                        if fits <= MAX_MORRIS_LEVELS else "list fewer levels")
                raise ValueError(f'parameters."{name}".levels: {k} levels cannot have equal '
                                 f"chances on Morris's grid of morris_levels = "
                                 f"{self.morris_levels} values; {hint}")

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
    return bundled_files("experiments")


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
    text, data = read_named_toml(path, "experiment", ExperimentError, "an experiment")
    return experiment_from_dict(data, source=str(path), path=path, text=text)


def experiment_from_dict(data: dict, source: str = "experiment", path: Path | None = None,
                         text: str | None = None) -> Experiment:
    """Validate a nested dict as read from TOML; errors name ``source``.

    Dotted names may be written as TOML sub-tables (``[fixed.consumers] count = 1000``);
    they are flattened to ``"consumers.count"`` first.
    """
    return Experiment.from_dict(data, source, path, text)


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
        base = studyfile.base_scenario(experiment, _first_values(experiment))
        kinds = _check_scenario_parameters(experiment, base)
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
            raise ExperimentError(f"{exc} (the point's parameters: {params})") from None


def _first_values(experiment: Experiment) -> dict[str, Any]:
    """Each varied parameter's first level (or the low end of its range)."""
    return {name: studyfile.as_field_type(name, spec.levels[0] if spec.levels is not None
                                          else spec.range[0])
            for name, spec in experiment.parameters.items()}


def _check_scenario_parameters(experiment: Experiment, base: Scenario) -> dict[str, str]:
    """Check every varied name and its values against the base scenario; return the kinds.

    A value refused alone passes if some value of another varied parameter makes it valid
    (a later crackdown with a shorter one); :func:`check_points` then judges every design
    point whole.
    """
    candidates = {name: _candidates(experiment, base, name, spec)
                  for name, spec in experiment.parameters.items()}
    for name, (values, where) in candidates.items():
        for value in values:
            try:
                studyfile.check_values(experiment, base, name, [value], where)
            except ExperimentError:
                if not _fits_with_another(base, name, value, candidates):
                    raise
    return {name: studyfile.scenario_field_kind(name) for name in experiment.parameters}


def _candidates(experiment: Experiment, base: Scenario, name: str,
                spec: Parameter) -> tuple[list[Any], str]:
    """The values of one varied parameter to check (its levels, or its range's ends) and
    their place in the file."""
    where = f'parameters."{name}"'
    studyfile.check_field_name(experiment, where, name, base)
    if spec.levels is not None:
        return [studyfile.as_field_type(name, v) for v in spec.levels], f"{where}.levels"
    values = studyfile.range_values(experiment, where, name, spec.range,
                                    "levels = [...] instead")
    return values, f"{where}.range"


def _fits_with_another(base: Scenario, name: str, value: Any,
                       candidates: dict[str, tuple[list[Any], str]]) -> bool:
    """Whether ``name = value`` is valid together with some value of another parameter."""
    for other, (values, _) in candidates.items():
        for other_value in values if other != name else ():
            try:
                base.with_overrides({name: value, other: other_value})
            except ScenarioError:
                continue
            return True
    return False


def _check_free_parameters(experiment: Experiment, model: ModelInfo) -> dict[str, str]:
    studyfile.check_free_names(experiment, model)
    return {name: "float" if spec.range is not None else "any"
            for name, spec in experiment.parameters.items()}


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
