"""A study file: a TOML file that names a base scenario, fixes some of its fields and varies
others, by dotted name.

Three commands read one: ``govsim sweep`` an experiment file (:mod:`govsim.sweep.experiment`),
``govsim optimise`` a problem file (:mod:`govsim.optimise.problem`) and ``govsim calibrate``
a targets file (:mod:`govsim.calibrate.targets`). Each names its base scenario (looked up
beside the file first), sets fields in ``[fixed]`` and varies others (an experiment's
``[parameters]``, a problem's ``[levers]``, a targets file's ``[priors]``); a dotted name may
also be written as TOML sub-tables.

What they share is here, once: the strict schema, with :class:`StudyFile` the base of an
experiment's and a problem's (a targets file keeps its own messages); pydantic's errors as
one line each; the base scenario; and the checks of every fixed or varied name and value
against the scenario schema. A name is a scenario field or a part of a named timeline change
(``timeline.NAME.length``, see :mod:`govsim.timeline`), for a sweep and an optimisation
alike. Each kind of file raises its own :class:`~govsim.scenario.ScenarioError` subclass
(its ``ERROR``), naming the file, the field, the value and what is allowed.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, PrivateAttr, ValidationError
from pydantic.fields import FieldInfo

from govsim.dotted import flatten
from govsim.scenario import (
    NAME_RULE,
    Scenario,
    ScenarioError,
    check_name,
    field_names,
    resolve,
)
from govsim.timeline import parameter_names as timeline_parameter_names

if TYPE_CHECKING:
    from govsim.sweep.models import ModelInfo

Scalar = bool | int | float | str
_SCALAR_TYPES = ("bool", "int", "float", "str")


#: A study file's ``name``: it names the output folder, so it follows the scenario names'
#: rule (:data:`govsim.scenario.NAME_PATTERN`).
StudyName = Annotated[str, AfterValidator(check_name)]
NAME_DESCRIPTION = "short name, used for the output folder (default: file name); " + NAME_RULE


class Strict(BaseModel):
    """The base of every study file's schema: strict, closed and frozen."""

    # strict: TOML carries types, so "0.5" for a number is a mistake to report, not coerce;
    # unknown keys are refused so that a typo never silently means "default"; nan and inf
    # (TOML has both) are no figure, limit or bound anyone means.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class StudyFile(Strict):
    """The schema of an experiment or a problem file, and the file it was read from.

    Each kind of file sets the class constants and declares its own fields, among them
    ``name``, ``scenario``, ``months``, ``fixed`` and its table of varied names.
    """

    KIND: ClassVar[str]  # "experiment": what to call one built in memory
    VARIED: ClassVar[str]  # the table of varied names: "parameters", "levers"
    ERROR: ClassVar[type[ScenarioError]]  # what its checks raise
    UNION_MESSAGE: ClassVar[str]  # what a fixed value (or a level) may be

    _path: Path | None = PrivateAttr(None)
    _text: str = PrivateAttr("")

    @property
    def path(self) -> Path | None:
        """The file the study was read from (``None`` if built in memory)."""
        return self._path

    @property
    def text(self) -> str:
        """The file's text, verbatim (a TOML dump if built in memory)."""
        return self._text

    @property
    def source(self) -> str:
        """What to call the study in messages."""
        return str(self._path) if self._path else f"{self.KIND} {self.name}"

    @classmethod
    def from_dict(cls, data: dict, source: str, path: Path | None = None,
                  text: str | None = None) -> Self:
        """Validate a nested dict as read from TOML; errors name ``source``.

        Dotted names may be written as TOML sub-tables (``[fixed.consumers] count = 1000``);
        they are flattened to ``"consumers.count"`` first.

        Raises:
            ERROR: one line per invalid field.
        """
        data = dict(data)
        if isinstance(data.get("fixed"), dict):
            data["fixed"] = flatten_values(data["fixed"])
        if isinstance(data.get(cls.VARIED), dict):
            data[cls.VARIED] = flatten_specs(data[cls.VARIED])
        try:
            study = cls.model_validate(data)
        except ValidationError as exc:
            raise cls.ERROR(_explain(exc, source, cls, cls.UNION_MESSAGE)) from None
        study._path = path
        if text is None:
            import tomli_w

            text = tomli_w.dumps(study.model_dump(exclude_none=True))
        study._text = text
        return study


def check_range(ends: list[float], scale: str) -> None:
    """Refuse ``range = [low, high]`` unless low is below high (and above 0 on a log scale).

    Raises:
        ValueError: for pydantic to report at the varied name.
    """
    low, high = ends
    if not low < high:
        raise ValueError(f"range = [{low:g}, {high:g}]: low must be below high")
    if scale == "log" and low <= 0:
        raise ValueError(f"range = [{low:g}, {high:g}] with scale = 'log': the range must be "
                         "above 0")


# --- dotted names -----------------------------------------------------------------------


def flatten_values(table: dict) -> dict:
    """A ``[fixed]`` table with dotted names: ``[fixed.consumers] count = 1000`` ->
    ``{"consumers.count": 1000}``."""
    return flatten(table)


def flatten_specs(table: dict) -> dict:
    """A table of varied names, each holding a small table of settings (``[levers]``,
    ``[parameters]``, ``[priors]``), with dotted names: ``[levers.budget] annual_yuan =
    {...}`` -> ``{"budget.annual_yuan": {...}}``.

    A table is one name's settings when it is empty (all defaults) or holds a value that is
    not a table; a table of tables goes one name deeper.
    """
    return flatten(table, lambda v: not isinstance(v, dict) or not v or
                   any(not isinstance(x, dict) for x in v.values()))


# --- scenario fields --------------------------------------------------------------------


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


def as_field_type(name: str, value: Any) -> Any:
    """``value`` in the type of field ``name``: a whole number given for a float field is a
    float, and a whole float given for an int field an int, so that ``2e5`` and ``200000``
    are one value and results keep one type per column. Other names are left alone."""
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


# --- the base scenario ------------------------------------------------------------------


def scenario_path(name: str, study_path: Path | None) -> Path:
    """The base scenario: beside the study file first, then as govsim resolves ``name``.

    Raises:
        ScenarioError: neither beside the study file, a file, nor a bundled name.
    """
    if study_path is not None:
        beside = study_path.parent / name
        if beside.is_file():
            return beside
    return resolve(name)


def base_scenario(study: StudyFile, varied: dict[str, Any] | None = None) -> Scenario:
    """The study's base scenario with its ``fixed`` fields and ``months`` applied.

    Args:
        study: the study file.
        varied: one value of each varied name (e.g. the first design point), applied too
            when the base is refused without them: a timeline change that ends after
            ``months`` may fit once its length is varied. Each run sets its own values.

    Raises:
        study.ERROR: the scenario cannot be loaded, a fixed name is not a field, or a value
            is refused by the scenario's rules (naming ``[fixed]`` or ``months``).
    """
    src = study.source
    try:
        scenario = Scenario.load(scenario_path(study.scenario, study.path))
    except ScenarioError as exc:
        raise study.ERROR(f"{src}: scenario = {study.scenario!r}: {exc}") from None
    fixed: dict[str, Any] = {}
    for name, value in study.fixed.items():
        check_field_name(study, f'fixed."{name}"', name, scenario)
        fixed[name] = as_field_type(name, value)
    months = {"run.months": study.months} if study.months is not None else {}
    try:
        with_fixed = _overridden(scenario, fixed, f"{src}: [fixed]")
        return _overridden(with_fixed, months, f"{src}: months = {study.months}")
    except ScenarioError as exc:
        if varied:
            try:
                return scenario.with_overrides({**fixed, **months, **varied},
                                               source=f"{src}: [fixed]")
            except ScenarioError:
                pass  # the varied values do not help: the first refusal says why
        raise study.ERROR(str(exc)) from None


def _overridden(scenario: Scenario, overrides: dict[str, Any], source: str) -> Scenario:
    """``scenario`` with ``overrides`` applied (itself when there are none)."""
    return scenario.with_overrides(overrides, source=source) if overrides else scenario


# --- checking names and values against the scenario -------------------------------------


def check_field_name(study: StudyFile, where: str, name: str, base: Scenario) -> None:
    """Refuse a name that is neither a scenario field nor a part of a named change in the
    base scenario's timeline (``timeline.NAME.month``, see :mod:`govsim.timeline`).

    Args:
        study: the study file.
        where: the name's place in it, e.g. ``fixed."budget.annual_yuan"``.
        name: the dotted name.
        base: the base scenario.

    Raises:
        study.ERROR: naming the place, with the closest fields.
    """
    if name in timeline_parameter_names(base):
        return
    known = sorted(_scenario_fields())
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise study.ERROR(f"{study.source}: {where}: {name!r} is not a scenario field; "
                          f"{hint}every field: `govsim scenarios --fields`")


def range_values(study: StudyFile, where: str, name: str, ends: list[float],
                 instead: str) -> list[Any]:
    """The two ends of a range given for field ``name``, in the field's type.

    Args:
        study: the study file.
        where: the varied name's place, e.g. ``levers."budget.annual_yuan"``.
        name: the dotted field.
        ends: ``[low, high]``.
        instead: what to give for a field that is not a number, e.g. "levels = [...]
            instead".

    Raises:
        study.ERROR: the field is not a number, or is a whole number and an end is not.
    """
    kind = scenario_field_kind(name)
    if kind not in ("float", "int"):
        raise study.ERROR(f"{study.source}: {where}.range: {name} is a {kind} field; give "
                          f"{instead}")
    if kind == "int" and not all(float(v).is_integer() for v in ends):
        raise study.ERROR(f"{study.source}: {where}.range = {ends}: {name} is a whole "
                          "number; give whole-number ends")
    return [as_field_type(name, v) for v in ends]


def check_values(study: StudyFile, base: Scenario, name: str, values: list[Any],
                 where: str) -> None:
    """Refuse a value of field ``name`` that the scenario's rules refuse in ``base``.

    Args:
        study: the study file.
        base: the base scenario.
        name: the dotted field.
        values: its values to try.
        where: their place in the study file, e.g. ``levers."budget.annual_yuan".range``.

    Raises:
        study.ERROR: the scenario's message, with the value.
    """
    for value in values:
        try:
            base.with_overrides({name: value}, source=f"{study.source}: {where}")
        except ScenarioError as exc:
            text = str(exc) if repr(value) in str(exc) else f"{exc} (value {value!r})"
            raise study.ERROR(text) from None


def check_free_names(study: StudyFile, model: ModelInfo) -> None:
    """For a model with free parameters: no ``months``, and every varied and fixed name one
    of its parameters.

    Raises:
        study.ERROR: naming the first name that is not, and the parameters.
    """
    src = study.source
    allowed = ", ".join(model.parameters) or "none"
    if study.months is not None:
        raise study.ERROR(f"{src}: months: model {model.spec} takes free parameters, not a "
                          "scenario; remove months")
    for where, names in ((study.VARIED, getattr(study, study.VARIED)),
                         ("fixed", study.fixed)):
        for name in names:
            if name not in model.parameters:
                raise study.ERROR(f'{src}: {where}."{name}": not a parameter of model '
                                  f"{model.spec}; allowed: {allowed}")


# --- messages ---------------------------------------------------------------------------


def _explain(exc: ValidationError, source: str, schema: type[BaseModel],
             union_message: str) -> str:
    """pydantic's errors as one line each: file, field, value, what is allowed.

    Args:
        exc: the error of validating a study file against ``schema``.
        source: the file, to start each line with.
        schema: the study file's schema.
        union_message: what a value of a scalar union (a level, a fixed value) may be.
    """
    tables = _tables(schema)
    lines: list[str] = []
    for err in exc.errors():
        line = _explain_one(err, source, schema, tables, union_message)
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def _explain_one(err: dict, source: str, schema: type[BaseModel], tables: tuple[str, ...],
                 union_message: str) -> str:
    loc = tuple(err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if _is_union_member(loc):
        # a union reports once per member type ("...levels[0].bool", ".int", ...)
        loc, msg = loc[:-1], union_message
    where = _where(loc, tables)
    if err["type"] == "extra_forbidden":
        names = list(_schema_at(schema, loc[:-1]).model_fields)
        close = difflib.get_close_matches(str(loc[-1]), names, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return (f"{source}: {where} is not a known field; {hint}allowed here: "
                f"{', '.join(names)}")
    if loc == ("name",) and err["type"] == "value_error" and isinstance(err.get("input"), str):
        # refused by check_name: the value, and no bounds to quote
        return f"{source}: name = {err['input']!r} is not allowed: {msg}"
    if err["type"] == "value_error" or "input" not in err:
        return f"{source}: {where + ': ' if where else ''}{msg}"
    field = _field_at(schema, loc)
    if err["type"] == "missing":
        desc = f" ({field.description})" if field and field.description else ""
        return f"{source}: {where} is required{desc}"
    line = f"{source}: {where} = {err['input']!r} is not allowed: {msg}"
    return line + (f"; allowed: {_allowed(field)}" if field is not None else "")


def _tables(schema: type[BaseModel]) -> tuple[str, ...]:
    """The schema's tables keyed by dotted names (``fixed``, ``levers``): quoted in messages."""
    return tuple(name for name, field in schema.model_fields.items()
                 if get_origin(field.annotation) is dict)


def _is_union_member(loc: tuple) -> bool:
    """``(..., "levels", 0, "bool")`` or ``("fixed", name, "int")``: one member's error."""
    if len(loc) < 2 or loc[-1] not in _SCALAR_TYPES:
        return False
    return isinstance(loc[-2], int) or (len(loc) == 3 and loc[0] == "fixed")


def _where(loc: tuple, tables: tuple[str, ...]) -> str:
    """``("levers", "budget.annual_yuan", "range", 0)`` -> ``levers."budget.annual_yuan".
    range[0]``."""
    text = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif i > 0 and loc[i - 1] in tables:
            text += f'."{part}"'
        else:
            text += f".{part}" if text else str(part)
    return text


def _walk(schema: type[BaseModel],
          loc: tuple) -> tuple[type[BaseModel] | None, FieldInfo | None]:
    """Follow ``loc`` through the schema: the schema reached (None past a plain value) and the
    last field passed (None when ``loc`` names no field)."""
    model: type[BaseModel] | None = schema
    field = None
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        fields = model.model_fields if model is not None else {}
        if part not in fields:
            return None, None
        field = fields[part]
        model = _entry_schema(field.annotation)
        if model is not None and parts:
            parts.pop(0)  # the entry's own name or index
    return model, field


def _entry_schema(annotation: Any) -> type[BaseModel] | None:
    """The schema of each entry of a table or list of them (``dict[str, Lever]``), or None."""
    if get_origin(annotation) not in (dict, list):
        return None
    entry = get_args(annotation)[-1]
    return entry if isinstance(entry, type) and issubclass(entry, BaseModel) else None


def _schema_at(schema: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The schema whose keys may follow ``loc`` (for an unknown key's message)."""
    return _walk(schema, loc)[0] or schema


def _field_at(schema: type[BaseModel], loc: tuple) -> FieldInfo | None:
    """The pydantic field at ``loc`` (a table's field for one of its entries), or None."""
    return _walk(schema, loc)[1]


def _allowed(field: FieldInfo) -> str:
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
