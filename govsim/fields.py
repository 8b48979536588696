"""Every scenario field described from the schema: type, default, unit, range and meaning.

This is what ``govsim scenarios --fields`` prints and what connectors (EMA Workbench, sweeps,
optimisers) read, so bounds and types are declared once, in :mod:`govsim.scenario`. The unit
is the prefix of a field's description (``"yuan/year: budget for ..."``); a float bounded by
0 and 1 without one is a ``fraction``. Money fields (unit in yuan) span orders of magnitude,
so their suggested sampling ``scale`` is ``log``; every other field's is ``linear``.

Example:
    >>> from govsim import Scenario
    >>> spec = Scenario.fields()["budget.annual_yuan"]
    >>> spec.type, spec.unit, spec.minimum, spec.scale
    ('float', 'yuan/year', 0.0, 'log')
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

# "yuan/year: budget ...", "months: length of a contract", "times the fee: fine for ..."
_UNIT = re.compile(r"^([A-Za-z][\w/ ]{0,20}?): (.+)$", re.DOTALL)


@dataclass(frozen=True)
class FieldSpec:
    """One dotted scenario field.

    Attributes:
        name: the dotted name, as in TOML tables and ``--set``.
        type: ``float``, ``int``, ``bool``, ``str`` or ``choice`` (one of ``choices``).
        default: the built-in default (None: unset).
        unit: e.g. ``yuan/year``, ``months``, ``fraction``; empty when the field has none.
        minimum, maximum: the allowed range (None: unbounded on that side).
        exclusive_minimum: True when the minimum itself is not allowed (``> 0``).
        choices: the allowed values of a ``choice`` field.
        optional: the field may be left unset (None).
        meaning: what the field represents.
        scale: ``log`` or ``linear``: how to sample it across its range.
    """

    name: str
    type: str
    default: Any
    unit: str
    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool
    choices: tuple[str, ...] | None
    optional: bool
    meaning: str
    scale: str

    def range_text(self) -> str:
        """The allowed values in words: ``0 to 1``, ``> 0 to 10000``, ``one of a, b``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.minimum is None and self.maximum is None:
            return ""
        low = "" if self.minimum is None else f"{'> ' if self.exclusive_minimum else ''}" \
                                              f"{_number(self.minimum)}"
        high = "" if self.maximum is None else _number(self.maximum)
        return f"{low} to {high}".strip()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        out = asdict(self)
        out["choices"] = list(self.choices) if self.choices else None
        return out


def scenario_fields(scenario_cls: type[BaseModel]) -> dict[str, FieldSpec]:
    """Every dotted field of ``scenario_cls`` (the :class:`~govsim.scenario.Scenario`)."""
    defaults = scenario_cls().flat()
    out: dict[str, FieldSpec] = {}
    _walk(scenario_cls, "", "", defaults, out)
    return dict(sorted(out.items()))


def _walk(model: type[BaseModel], prefix: str, context: str, defaults: dict,
          out: dict[str, FieldSpec]) -> None:
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        if dotted == "timeline":  # a list of dated changes, not a parameter (see govsim.timeline)
            continue
        annotation = field.annotation
        description = field.description or ""
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _walk(annotation, f"{dotted}.", description, defaults, out)
            continue
        if context:  # a field of a nested table, such as one sector of sector_mix
            description = f"{context}: {name}"
        out[dotted] = _spec(dotted, annotation, field.metadata, description,
                            defaults.get(dotted))


def _spec(name: str, annotation: Any, metadata: list, description: str,
          default: Any) -> FieldSpec:
    optional = False
    if get_origin(annotation) in (Union, UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) < len(get_args(annotation))
        annotation = args[0]
    choices = None
    if get_origin(annotation) is Literal:
        kind, choices = "choice", tuple(str(a) for a in get_args(annotation))
    else:
        kind = getattr(annotation, "__name__", str(annotation))
    low = high = None
    exclusive = False
    for meta in metadata:
        if getattr(meta, "ge", None) is not None:
            low = meta.ge
        if getattr(meta, "gt", None) is not None:
            low, exclusive = meta.gt, True
        if getattr(meta, "le", None) is not None:
            high = meta.le
        if getattr(meta, "lt", None) is not None:
            high = meta.lt
    unit, meaning = _unit(description, kind, low, high)
    scale = "log" if kind == "float" and "yuan" in unit else "linear"
    return FieldSpec(name, kind, default, unit, low, high, exclusive, choices, optional,
                     meaning, scale)


def _unit(description: str, kind: str, low: Any, high: Any) -> tuple[str, str]:
    match = _UNIT.match(description)
    if match and kind in ("float", "int"):
        return match.group(1), match.group(2)
    if kind == "float" and low == 0.0 and high == 1.0:
        return "fraction", description
    return "", description


def _number(x: float) -> str:
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e7:
        return f"{int(x)}"
    return f"{x:g}"


def fields_text(specs: dict[str, FieldSpec]) -> str:
    """The fields as a readable listing: one header line per field, its meaning below."""
    lines = []
    for spec in specs.values():
        default = "unset" if spec.default is None else _value(spec.default)
        parts = [spec.type + (" (optional)" if spec.optional else ""), f"default {default}"]
        if spec.range_text():
            parts.append(spec.range_text())
        if spec.unit:
            parts.append(spec.unit)
        lines.append(f"{spec.name}   {' | '.join(parts)}")
        lines.append(f"    {spec.meaning}")
    return "\n".join(lines)


def _value(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return _number(x)
    if isinstance(x, str):
        return f'"{x}"'
    return str(x)
