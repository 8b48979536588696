"""Policy timelines: dated changes to a scenario within one run.

A scenario's ``timeline`` is a list of changes, each applied at the start of its month::

    [[timeline]]
    name = "crackdown"             # optional: lets sweeps vary it (timeline.crackdown.month)
    month = 13
    set = { "law.enforcement_probability" = 0.9, "law.business_fine_yuan" = 100000 }
    length = 24                    # optional: undone at the start of month 37
    note = "two-year crackdown"

A change with a ``length`` is undone after that many months: each field it set goes back
to the value of the latest change still in force that sets it (the scenario's own value when
none does), so a field that a later change has set since keeps that later value, and a
change without a ``length`` stays. :func:`expand` turns the timeline into the plain list of
:class:`Step` that the model applies, ends included, in month order.

Some fields cannot change within a run, because they size or draw the population at the
start (:data:`FIXED`); a change to them is refused with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from govsim.dotted import flatten

if TYPE_CHECKING:
    from govsim.scenario import Scenario

#: Fields a timeline may not change, with the reason shown in the error message.
FIXED: dict[str, str] = {
    "name": "it names the scenario",
    "description": "it describes the scenario",
    "run.months": "it is the length of the run",
    "businesses.count": "the population of businesses is drawn once, at the start",
    "consumers.count": "the simulated consumers are created once, at the start",
    "consumers.population": "the district's population is fixed within a run",
    "consumers.initial_trust": "it is the consumers' trust at the start, and the level that "
                               "trust returns to and complaints are measured from",
    "market.n_agencies": "the agencies are created once, at the start",
    "market.outside_agencies": "the agencies are created once, at the start",
    "participation.network": "the social network is built once, at the start",
    "participation.degree": "the social network is built once, at the start",
    "participation.rewiring": "the social network is built once, at the start",
    "procurement.payer": "who pays for tests is the contract regime of the whole run",
}

#: Prefixes of fields drawn into each agent at the start (later changes would have no effect).
FIXED_PREFIXES: dict[str, str] = {
    "businesses.sector_mix": "the businesses' sectors are drawn once, at the start",
    "businesses.small_share": "the businesses' sizes are drawn once, at the start",
    "businesses.small_hazard_multiplier": "each business's hazard is drawn at the start",
    "businesses.hazard_compliant": "each business's hazard is drawn at the start",
    "businesses.hazard_cutting": "each business's hazard is drawn at the start",
    "businesses.monthly_revenue_yuan": "each business's sales are drawn at the start",
    "businesses.compliance_cost": "each business's compliance cost is drawn at the start",
    "businesses.initial_": "it is the state at the start",
    "market.qualified_share": "the agencies' qualifications are drawn at the start",
    "market.sensitivity_": "the agencies' qualifications are drawn at the start",
    "market.integrity": "the agencies' integrity is drawn at the start",
    "market.capacity_batches_per_year": "the agencies' capacity is set at the start",
    "market.cost_per_test_yuan": "the agencies' costs are drawn at the start",
    "market.markup": "the agencies' markups are drawn at the start",
    "market.outside_price_premium": "the outside agencies' costs are drawn at the start",
}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class Change(BaseModel):
    """One dated change: ``set`` applies at the start of ``month`` (and is undone after
    ``length`` months when given)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    month: int = Field(ge=1, le=1200, description="month at whose start the change applies")
    set: dict[str, Any] = Field(
        min_length=1, description='dotted fields and their new values, e.g. '
                                  '{ "law.enforcement_probability" = 0.9 }')
    note: str = Field("", max_length=200, description="why: shown in events and reports")
    name: str | None = Field(
        None, description="identifier (lower case, digits, _) so sweeps can vary it as "
                          "timeline.NAME.month, timeline.NAME.length, timeline.NAME.set.FIELD")
    length: int | None = Field(
        None, ge=1, le=1200, description="months the change lasts; then each field it set goes "
                                         "back to its earlier value, unless a later change "
                                         "has set it since (none: it stays)")

    @field_validator("set", mode="before")
    @classmethod
    def _flatten_set(cls, value: Any) -> Any:
        # { law = { enforcement_probability = 0.9 } } and { "law.enforcement_probability" = 0.9 }
        # mean the same; keep the dotted form.
        if not isinstance(value, dict):
            return value
        return flatten(value)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str | None) -> str | None:
        from govsim.scenario import shorten

        if value is not None and not _NAME.match(value):
            raise ValueError(f"name {shorten(value)} must be lower-case letters, digits and "
                             "_, starting with a letter (at most 40)")
        return value

    @property
    def label(self) -> str:
        """How reports call this change: its note, else its name, else its month."""
        return self.note or self.name or f"change at month {self.month}"


@dataclass(frozen=True)
class Step:
    """A change the model applies at the start of ``month``.

    Attributes:
        month: when it applies.
        values: ``{dotted field: new value}``.
        label: the note shown in events and reports.
        index: the timeline entry this step comes from.
        ends: True when this step undoes a change with a ``length``.
    """

    month: int
    values: dict[str, Any]
    label: str
    index: int
    ends: bool = False


def fixed_reason(dotted: str) -> str | None:
    """Why ``dotted`` cannot change within a run, or None when it can."""
    if dotted in FIXED:
        return FIXED[dotted]
    for prefix, reason in FIXED_PREFIXES.items():
        if dotted.startswith(prefix):
            return reason
    return None


def expand(base: Scenario) -> list[Step]:
    """The timeline as the steps the model applies, in month order: in one month, the ends
    of earlier changes first, then the changes in file order.

    Each field takes the value of the latest change in force that sets it (the scenario's
    own value when none does). So the end of a change with a ``length`` gives back only the
    fields it still holds: a field that a later change has set since keeps that later
    value. An end that gives nothing back (every field taken over) is not a step.
    """
    events = []
    for i, change in enumerate(base.timeline):
        events.append(Step(change.month, dict(change.set), change.label, i))
        if change.length is not None:
            events.append(Step(change.month + change.length, {}, f"end of {change.label}",
                               i, ends=True))
    events.sort(key=_order)
    own = base.flat()
    holders: dict[str, list[tuple[int, Any]]] = {}  # field: (change, value), latest last
    steps = []
    for event in events:
        if not event.ends:
            for dotted, value in event.values.items():
                holders.setdefault(dotted, []).append((event.index, value))
            steps.append(event)
            continue
        values = _give_back(base.timeline[event.index], event.index, holders, own)
        if values:
            steps.append(replace(event, values=values))
    return steps


def _give_back(change: Change, index: int, holders: dict[str, list[tuple[int, Any]]],
               own: dict[str, Any]) -> dict[str, Any]:
    """End change ``index``: take it out of ``holders`` and return the fields it held, each
    with the value of the latest change still holding it (else the scenario's own)."""
    values = {}
    for dotted in change.set:
        stack = holders[dotted]
        held = stack[-1][0] == index
        stack[:] = [entry for entry in stack if entry[0] != index]
        if held:
            values[dotted] = stack[-1][1] if stack else own[dotted]
    return values


def _order(step: Step) -> tuple[int, int, int]:
    return (step.month, 0 if step.ends else 1, step.index)


def validate(base: Scenario) -> None:
    """Refuse a timeline that cannot be run, with one clear message.

    Checks, for each change: that it falls within the run, that it changes only fields that
    may change mid-run, and that the scenario after it is valid (types, ranges, sums).

    Raises:
        ValueError: the message names the entry (``timeline[i]``), its month and the field.
    """
    from govsim.scenario import ScenarioError

    months = base.run.months
    known = set(base.flat())
    names = [c.name for c in base.timeline if c.name]
    if len(set(names)) < len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"timeline: name {dupes[0]!r} is used by more than one change; "
                         "names must be unique")
    for i, change in enumerate(base.timeline):
        where = f"timeline[{i}] (month {change.month})"
        if change.month > months:
            raise ValueError(f"{where}: month {change.month} is after the run's last month "
                             f"({months}); allowed: 1 to run.months")
        if change.length is not None and change.month + change.length > months + 1:
            raise ValueError(f"{where}: length {change.length} ends at month "
                             f"{change.month + change.length}, after the run's last month "
                             f"({months}); allowed: 1 to {months + 1 - change.month}")
        for dotted in change.set:
            if dotted not in known:
                raise ValueError(f"{where}: {dotted} is not a known field; every field: "
                                 "`govsim scenarios --fields`")
            reason = fixed_reason(dotted)
            if reason:
                raise ValueError(f"{where}: {dotted} cannot change within a run ({reason}); "
                                 "set it for the whole run instead")
    plain = base.model_copy(update={"timeline": []})
    current = plain
    for step in expand(base):
        where = f"timeline[{step.index}] (month {step.month}{', its end' if step.ends else ''})"
        try:
            current = current.with_overrides(step.values, source=where)
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None


#: Names for fields whose own name says too little out of its section.
LABELS = {"budget.annual_yuan": "testing budget (yuan/year)",
          "budget.cost_per_batch_yuan": "tender ceiling (yuan/batch)",
          "participation.reward_yuan": "reward (yuan)"}


def describe(dotted: str, old: Any, new: Any) -> str:
    """One change in words: ``"enforcement probability 50% -> 90%"``."""
    label = LABELS.get(dotted) or dotted.rsplit(".", 1)[-1].replace("_", " ")
    return f"{label} {format_value(dotted, old)} -> {format_value(dotted, new)}"


def format_value(dotted: str, value: Any) -> str:
    """A value as a person reads it: shares as percent, money with thousands separators."""
    from govsim.scenario import field_bounds

    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value).lower() if isinstance(value, bool) else str(value)
    low, high = field_bounds(dotted)
    if low == 0.0 and high == 1.0 and isinstance(value, float):
        return f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.1%}"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:g}"


def parse_at(text: str) -> tuple[int, str, Any]:
    """``"25:law.enforcement_probability=0.9"`` -> ``(25, "law.enforcement_probability", 0.9)``.

    Raises:
        ScenarioError: not of the form MONTH:FIELD=VALUE.
    """
    from govsim.cli import parse_override
    from govsim.scenario import ScenarioError

    month, sep, rest = text.partition(":")
    field, equals, _ = rest.partition("=")
    number = _whole_number(month)
    # the whole form is checked here, so that parse_override (whose message is about
    # --set) never refuses it
    if not sep or number is None or not equals or not field.strip():
        raise ScenarioError(f"--at {text}: expected MONTH:FIELD=VALUE with MONTH a whole "
                            "number, e.g. --at 25:law.enforcement_probability=0.9")
    key, value = parse_override(rest)
    return number, key, value


def _whole_number(text: str) -> int | None:
    """``text`` as a whole number, or None. Only ASCII digits count: str.isdigit() also
    accepts '²' or '①', which int() refuses."""
    text = text.strip()
    if not re.fullmatch(r"[0-9]+", text):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (over 4300)
        return None


def add_changes(scenario: Scenario, ats: list[str], note: str = "--at") -> Scenario:
    """The scenario with ``--at MONTH:FIELD=VALUE`` changes added to its timeline (one entry
    per month), validated.

    Raises:
        ScenarioError: a malformed ``--at`` or a change the timeline refuses.
    """
    from govsim.scenario import Scenario

    by_month: dict[int, dict[str, Any]] = {}
    for text in ats:
        month, key, value = parse_at(text)
        by_month.setdefault(month, {})[key] = value
    if not by_month:
        return scenario
    data = scenario.model_dump(exclude_none=True)
    data["timeline"] = list(data.get("timeline", [])) + [
        {"month": m, "set": s, "note": note} for m, s in sorted(by_month.items())]
    data["timeline"].sort(key=lambda c: c["month"])
    return Scenario.from_dict(data, source="--at")


def override(data: dict, dotted: str, value: Any, source: str) -> None:
    """Apply a ``timeline.NAME.month|length|note|set.FIELD`` override to scenario data.

    Raises:
        ScenarioError: no change of that name, or not one of its parts.
    """
    from govsim.scenario import ScenarioError

    parts = dotted.split(".")
    entries = data.get("timeline", [])
    names = [e.get("name") for e in entries if e.get("name")]
    if len(parts) < 3:
        raise ScenarioError(f"{source}: {dotted}: expected timeline.NAME.month, "
                            "timeline.NAME.length, timeline.NAME.note or timeline.NAME.set.FIELD")
    entry = next((e for e in entries if e.get("name") == parts[1]), None)
    if entry is None:
        named = ", ".join(names) or "none"
        raise ScenarioError(f"{source}: {dotted}: the timeline has no change named "
                            f"{parts[1]!r} (named changes: {named})")
    # numpy scalars unwrapped, whole floats of integer fields made int
    from govsim.scenario import plain_value

    part = parts[2]
    if part in ("month", "length") and len(parts) == 3:
        entry[part] = plain_value(value, ["run", "months"])  # a whole number of months
    elif part == "note" and len(parts) == 3:
        entry[part] = plain_value(value, [])
    elif part == "set" and len(parts) > 3:
        entry["set"] = {**entry["set"], ".".join(parts[3:]): plain_value(value, parts[3:])}
    else:
        raise ScenarioError(f"{source}: {dotted}: a change's parts are month, length, note "
                            "and set.FIELD")
    if part == "month":
        entries.sort(key=lambda e: e["month"])


def parameter_names(scenario: Scenario) -> list[str]:
    """The timeline parameters a sweep or an optimisation may vary in this scenario (named
    changes only)."""
    return list(parameter_values(scenario))


def parameter_values(scenario: Scenario) -> dict[str, Any]:
    """Each timeline parameter of :func:`parameter_names` with its value in ``scenario`` (a
    length of None: the change stays)."""
    out: dict[str, Any] = {}
    for change in scenario.timeline:
        if change.name:
            out[f"timeline.{change.name}.month"] = change.month
            out[f"timeline.{change.name}.length"] = change.length
            out.update({f"timeline.{change.name}.set.{k}": v for k, v in change.set.items()})
    return out

