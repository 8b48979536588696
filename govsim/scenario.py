"""The scenario: every parameter of a run, in one typed schema.

A scenario is a TOML file whose tables are the sections below (``[budget]``, ``[law]``, ...).
Every field has a default, a unit (in its description) and an allowed range, so a file only
needs to state what it changes. Wrong input is refused with a :class:`ScenarioError` whose
message names the file, the dotted field, the value and what is allowed.

Example:
    >>> import govsim
    >>> s = govsim.Scenario().with_overrides({"law.enforcement_probability": 0.9})
    >>> s.law.enforcement_probability
    0.9
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from govsim import timeline as _timeline
from govsim.dotted import flatten
from govsim.timeline import Change

SECTORS = ("catering", "retail", "producer")

#: What a scenario or experiment name may be: it names output folders and files, so it is
#: an identifier (no "/", "..", spaces or a leading dot), never a path.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
NAME_RULE = ("1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit "
             "(it names output folders, so it cannot be a path)")


def check_name(value: str) -> str:
    """``value`` if it is a valid name (see :data:`NAME_PATTERN`).

    Raises:
        ValueError: with :data:`NAME_RULE`.
    """
    if not re.fullmatch(NAME_PATTERN, value):
        raise ValueError(f"a name is {NAME_RULE}")
    return value


def name_from_stem(stem: str) -> str:
    """A valid name made from a file name: other characters become ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", stem).lstrip("._-")[:64]
    return name or "scenario"


class ScenarioError(ValueError):
    """A scenario (file, field or override) that cannot be used, with a readable message."""


class _Section(BaseModel):
    # strict: TOML already carries types, so "1e5" or "yes" in a file is a mistake to report,
    # not to coerce. Unknown keys are refused so that a typo never silently means "default".
    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True)


def _prob(default: float, desc: str) -> Any:
    return Field(default, ge=0.0, le=1.0, description=desc)


class SectorValues(_Section):
    """One number per business sector."""

    catering: float = Field(ge=0.0, le=1.0)
    retail: float = Field(ge=0.0, le=1.0)
    producer: float = Field(ge=0.0, le=1.0)

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.catering, self.retail, self.producer)


class SectorMultipliers(_Section):
    """One multiplier per business sector."""

    catering: float = Field(ge=0.0, le=100.0)
    retail: float = Field(ge=0.0, le=100.0)
    producer: float = Field(ge=0.0, le=100.0)

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.catering, self.retail, self.producer)


class Budget(_Section):
    """Money for purchased testing and for the regulator's own back-checks."""

    annual_yuan: float = Field(
        400_000.0, ge=0.0, le=1e10,
        description="yuan/year: budget for purchased testing, back-checks included")
    backcheck_share: float = _prob(
        0.10, "fraction of the budget reserved for back-checks (re-tests of agency reports)")
    cost_per_batch_yuan: float = Field(
        750.0, gt=0.0, le=10_000.0,
        description="yuan/batch: tender ceiling price per batch, also the cost of a back-check")


class Law(_Section):
    """Penalties and how completely the law is enforced."""

    business_fine_yuan: float = Field(
        50_000.0, ge=0.0, le=1e8,
        description="yuan: minimum fine for selling food that failed a test (the fine is this "
                    "or fine_goods_multiple x the goods' value, whichever is larger)")
    fine_goods_multiple: float = Field(
        10.0, ge=0.0, le=100.0,
        description="times the goods' value: fine for failed food when that exceeds the minimum")
    inspection_fine_yuan: float = Field(
        10_000.0, ge=0.0, le=1e8,
        description="yuan: fine for a process violation found by an inspection")
    retest_fee_yuan: float = Field(
        1_000.0, ge=0.0, le=1e6,
        description="yuan: fee for a re-test, paid by the business when the failure stands and "
                    "by the first agency when it is overturned")
    agency_fine_multiple: float = Field(
        5.0, ge=0.0, le=100.0,
        description="times the fee: fine for a false report found by a back-check")
    agency_liability: bool = Field(
        False, description="agency also pays the business fine when it sold a false pass")
    enforcement_probability: float = _prob(
        0.5, "chance a confirmed violation is actually punished (law completeness)")
    consumer_damages_yuan: float = Field(
        1_000.0, ge=0.0, le=1e7,
        description="yuan: punitive damages a business pays per successful consumer claim")
    damages_claim_probability: float = _prob(
        0.02, "chance an ill consumer claims damages from the business")


class Performance(_Section):
    """Performance management of the testing agencies."""

    backcheck_rate: float = _prob(0.01, "fraction of each agency's reports that are re-tested")
    backcheck_sensitivity: float = _prob(
        0.9, "chance a back-check of a false report reveals it")
    quality_weight: float = _prob(
        0.1, "weight of quality (vs price) in tender scores; 0 = lowest price wins")
    blacklist: bool = Field(False, description="blacklist agencies caught with false reports")
    blacklist_threshold: int = Field(
        2, ge=1, le=1000, description="false reports found in a contract that blacklist an agency")
    blacklist_months: int = Field(
        36, ge=1, le=1200, description="months a blacklisted agency is excluded from tenders")
    contract_months: int = Field(12, ge=1, le=120, description="months: length of a contract")
    trace_outbreaks: bool = Field(
        True, description="a traced illness cluster at a business whose batch recently passed a "
                          "test triggers a back-check of that report")
    outbreak_lookback_months: int = Field(
        3, ge=1, le=60, description="months: how far back a traced cluster reaches for a passed "
                                   "report")
    min_sensitivity: float = _prob(
        0.0, "qualification floor: agencies less sensitive than this cannot bid")


class Market(_Section):
    """The third-party testing agencies."""

    n_agencies: int = Field(4, ge=1, le=100, description="number of agencies in the market")
    qualified_share: float = _prob(0.5, "fraction of agencies that are fully qualified")
    sensitivity_qualified: float = _prob(0.95, "chance an honest test of a qualified agency "
                                               "detects unsafe food")
    sensitivity_unqualified: float = _prob(0.75, "the same for an agency that is not qualified")
    specificity: float = _prob(
        0.998, "chance an honest test of safe food passes it (else a false failure)")
    capacity_batches_per_year: int = Field(
        400, ge=1, le=1_000_000, description="batches/year one agency can test")
    capacity_growth: float = Field(
        0.5, ge=0.0, le=10.0,
        description="fraction by which an agency can expand its capacity to take a larger contract")
    outside_agencies: int = Field(
        2, ge=0, le=20,
        description="agencies from outside the district, invited when fewer than three local "
                    "agencies can bid")
    outside_price_premium: float = Field(
        0.3, ge=0.0, le=5.0,
        description="fraction by which outside agencies' costs, and their price ceiling, "
                    "exceed the local ones")
    cost_per_test_yuan: float = Field(
        450.0, gt=0.0, le=10_000.0, description="yuan/batch: an agency's real cost of a test")
    markup: float = Field(
        0.6, ge=0.0, le=5.0,
        description="agencies' mean markup on cost facing one rival (falls as 1/sqrt(rivals))")
    integrity: float = _prob(0.85, "mean intrinsic honesty of agencies (1 = never cheats)")
    bribe_yuan: float = Field(
        3_000.0, ge=0.0, le=1e7, description="yuan: bribe a business offers for a false pass")
    learning_rate: float = _prob(0.15, "monthly speed at which agencies adapt their cheating")


class Participation(_Section):
    """The public: complaints, rewards, disclosure and the social network."""

    complaint_probability: float = _prob(
        0.115, "chance an ill consumer who is not yet aware complains to the authority "
               "(calibrated: 17.8% of the ill complain at the baseline, as in the survey)")
    reward_yuan: float = Field(
        0.0, ge=0.0, le=1e6, description="yuan: reward for a complaint that leads to a fine")
    reward_effect: float = Field(
        0.5, ge=0.0, le=10.0,
        description="log-odds gain in complaining per log(1 + reward/1000 yuan)")
    disclosure: bool = Field(
        False, description="actively publish every confirmed violator (online, at the door), "
                           "not only the failed samples in the legal bulletin")
    bulletin_reach: float = _prob(
        0.1, "fraction of a business's customers who learn of its failed sample from the "
             "periodic public sampling bulletin (without active disclosure)")
    disclosure_reach: float = _prob(
        0.6, "the same with active disclosure")
    disclosure_demand_loss: float = _prob(
        0.5, "fraction of informed customers who stay away from a published violator "
             "(recovers over months)")
    attribution_probability: float = _prob(
        0.4, "chance a complaint names the business that actually caused the illness")
    network: Literal["small_world", "scale_free", "random"] = Field(
        "small_world", description="consumer social network type")
    degree: int = Field(8, ge=2, le=100, description="mean number of neighbours per consumer")
    rewiring: float = _prob(0.1, "small-world rewiring probability")
    word_of_mouth: float = _prob(0.3, "chance an ill consumer's neighbour hears of it")


class Businesses(_Section):
    """Food businesses: producers, retailers, catering."""

    count: int = Field(3_000, ge=10, le=1_000_000, description="number of food businesses")
    sector_mix: SectorValues = Field(
        default_factory=lambda: SectorValues(catering=0.45, retail=0.40, producer=0.15),
        description="fraction of businesses per sector (sums to 1)")
    small_share: float = _prob(0.7, "fraction of businesses that are small outlets")
    small_hazard_multiplier: float = Field(
        1.5, ge=1.0, le=10.0, description="small outlets' hazard relative to large ones")
    hazard_compliant: SectorValues = Field(
        default_factory=lambda: SectorValues(catering=0.02, retail=0.002, producer=0.0015),
        description="monthly chance a complying business's batch is unsafe, by sector")
    hazard_cutting: SectorValues = Field(
        default_factory=lambda: SectorValues(catering=0.35, retail=0.02, producer=0.012),
        description="monthly chance a corner-cutting business's batch is unsafe, by sector")
    monthly_revenue_yuan: float = Field(
        60_000.0, gt=0.0, le=1e9, description="yuan/month: sales of a typical business")
    margin: float = _prob(0.15, "profit margin on sales")
    compliance_cost_yuan: float = Field(
        140.0, ge=0.0, le=1e7, description="yuan/month: median cost of complying")
    compliance_cost_by_sector: SectorMultipliers = Field(
        default_factory=lambda: SectorMultipliers(catering=3.0, retail=0.4, producer=0.5),
        description="compliance cost relative to the median, by sector (kitchens cost most)")
    compliance_cost_spread: float = Field(
        1.0, ge=0.0, le=5.0, description="log-normal sigma of compliance costs across businesses")
    initial_compliance: float = _prob(0.72, "fraction complying at the start")
    batch_share_of_sales: float = _prob(
        0.1, "value of one batch (lot) as a fraction of monthly sales: the goods' value for "
             "fines and the cost of a recall")
    bribe_propensity: float = _prob(
        0.5, "chance a sampled corner-cutting business offers the agency a bribe")
    revision_rate: float = _prob(0.1, "fraction of businesses reconsidering each month")
    choice_noise_yuan: float = Field(
        150.0, gt=0.0, le=1e7, description="yuan: scale of noise in business decisions")
    conformity: float = Field(
        1.0, ge=0.0, le=20.0, description="log-odds pull towards what sector peers do")
    initial_belief: float = _prob(
        0.01, "perceived monthly chance of being caught by an inspection when cutting "
              "corners, at the start")
    belief_learning_rate: float = _prob(
        0.1, "monthly speed at which businesses update what they learn from peers' fates")


class Consumers(_Section):
    """Households, scaled: each simulated consumer stands for population/count people."""

    count: int = Field(20_000, ge=100, le=5_000_000, description="simulated consumers")
    population: int = Field(200_000, ge=100, le=100_000_000, description="people in the district")
    meals_out_per_month: float = Field(
        20.0, ge=0.0, le=200.0, description="purchases of prepared or retail food per month")
    illness_probability: float = _prob(
        0.004, "chance that eating one unsafe batch's food makes a person ill")
    other_illness_per_year: float = _prob(
        0.06, "chance a person falls ill a year from food not traceable to a business's "
              "unsafe batch (home cooking, sporadic cases)")
    initial_trust: float = _prob(0.6, "initial trust in food safety and its regulator")
    trust_recovery: float = _prob(0.05, "monthly pull of trust back to its initial level")
    reputation_effect: float = Field(
        1.0, ge=0.0, le=10.0,
        description="customers lost per customer made ill who knows the source (word of mouth)")


class System(_Section):
    """Stability of the regulator and how it samples and inspects."""

    stability: float = _prob(0.7, "1 = no disruptions; lower = more frequent staff or policy "
                                  "disruptions")
    disruption_severity: float = _prob(0.5, "fraction of regulator capacity lost in a disruption")
    disruption_months: int = Field(3, ge=1, le=120, description="months a disruption lasts")
    sampling: Literal["random", "risk_based", "complaint_driven"] = Field(
        "random", description="how sampled businesses are chosen")
    inspectors: int = Field(
        10, ge=0, le=100_000, description="food-safety inspectors on the regulator's staff")
    inspections_per_inspector: float = Field(
        8.0, ge=0.0, le=100.0,
        description="inspections/month one inspector can make (investigations of failed "
                    "samples, complaint follow-ups, routine inspections; a back-check takes "
                    "half of one)")
    routine_inspection_share: float = _prob(
        0.25, "share of inspection time kept for the routine inspection plan (random or by "
              "risk grade), whatever the complaints")
    inspection_cost_yuan: float = Field(
        400.0, ge=0.0, le=1e6, description="yuan: staff cost of one inspection")
    followup_samples: int = Field(
        2, ge=0, le=12,
        description="follow-up samples of a business after a failed sample, one a month")
    outbreak_complaints: int = Field(
        2, ge=1, le=10_000,
        description="complaints (people) naming the true source in a month that make a traced "
                    "illness cluster")
    inspection_sensitivity: float = _prob(
        0.3, "chance an on-site inspection finds a corner-cutting business's violation")
    report_delay_months: int = Field(
        1, ge=0, le=12, description="months between sampling and the report reaching the regulator")


class Procurement(_Section):
    """Who buys the tests."""

    payer: Literal["government", "business"] = Field(
        "government", description="'government' buys tests (the case); 'business': each business "
                                  "picks and pays its own tester")


class RunSettings(_Section):
    """Length of a run."""

    months: int = Field(60, ge=1, le=1200, description="months simulated")


class Scenario(BaseModel):
    """A complete, validated scenario. Build it with defaults, from TOML, or by overrides."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str = Field("default", description="short name, used for output folders")
    description: str = Field("", description="what this scenario represents")
    budget: Budget = Field(default_factory=Budget)
    law: Law = Field(default_factory=Law)
    performance: Performance = Field(default_factory=Performance)
    market: Market = Field(default_factory=Market)
    participation: Participation = Field(default_factory=Participation)
    businesses: Businesses = Field(default_factory=Businesses)
    consumers: Consumers = Field(default_factory=Consumers)
    system: System = Field(default_factory=System)
    procurement: Procurement = Field(default_factory=Procurement)
    run: RunSettings = Field(default_factory=RunSettings)
    timeline: list[Change] = Field(
        default_factory=list, max_length=1000,
        description="dated changes within the run ([[timeline]] tables, see govsim.timeline)")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_name(value)

    @model_validator(mode="after")
    def _check_consistency(self) -> Scenario:
        total = sum(self.businesses.sector_mix.as_tuple())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"businesses.sector_mix must sum to 1 (it sums to {total:g})")
        if self.consumers.count > self.consumers.population:
            raise ValueError("consumers.count must not exceed consumers.population")
        if self.timeline:
            _timeline.validate(self)
        return self

    # --- construction -----------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario TOML file.

        Args:
            path: the TOML file.

        Raises:
            ScenarioError: the file is missing, unreadable, or holds an invalid field.
        """
        path = Path(path)
        _, data = read_named_toml(path, "scenario", ScenarioError)
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: dict, source: str = "scenario") -> Scenario:
        """Validate a nested dict (as read from TOML); errors name ``source``."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ScenarioError(_explain(exc, source, data)) from None

    def with_overrides(self, overrides: dict[str, Any], source: str = "override") -> Scenario:
        """Return a new scenario with dotted fields replaced, validated like a file.

        Values may come from any numeric source: numpy scalars (``np.bool_``, ``np.int64``,
        ``np.float64``, read back from a results table) count as the Python values they
        hold, and a whole-number float (``2.0``) is taken for an integer field. Anything
        else that does not fit the field (``2.5`` or ``True`` for an integer, ``"yes"`` for
        a flag) is refused as in a file.

        Args:
            overrides: ``{"law.enforcement_probability": 0.9, ...}``.
            source: what to call the overrides in an error message.
        """
        data = self.model_dump(exclude_none=True)
        for dotted, value in overrides.items():
            if dotted.startswith("timeline."):
                _timeline.override(data, dotted, value, source)
            else:
                _set_dotted(data, dotted, plain_value(value, dotted.split(".")), source)
        return Scenario.from_dict(data, source=source)

    # --- the timeline -------------------------------------------------------------------

    def steps(self) -> list[_timeline.Step]:
        """The timeline as the changes the model applies, ends included, in month order."""
        return _timeline.expand(self)

    def at(self, month: int) -> Scenario:
        """The scenario in force during ``month``: every change up to it applied, and a
        timeline of what comes later (each later step, the end of a change under way
        included, as a dated change with its values), so a run of it goes on as this one."""
        values, later = {}, []
        for step in self.steps():
            if step.month <= month:
                values.update(step.values)
            else:
                later.append({"month": step.month, "set": dict(step.values),
                              "note": step.label})
        if not values:
            return self
        data = self.model_dump(exclude_none=True)
        for dotted, value in values.items():
            _set_dotted(data, dotted, value, "timeline")
        data["timeline"] = later
        return Scenario.from_dict(data, source="timeline")

    # --- inspection ---------------------------------------------------------------------

    @classmethod
    def fields(cls) -> dict[str, Any]:
        """Every dotted field with its type, default, unit, range and meaning.

        Returns:
            ``{dotted name: govsim.fields.FieldSpec}``, sorted by name.
        """
        from govsim.fields import scenario_fields

        return scenario_fields(cls)

    def flat(self) -> dict[str, Any]:
        """All parameters as ``{"section.field": value}`` (nested tables flattened too)."""
        return flatten(self.model_dump(exclude={"timeline"}))

    def diff(self, other: Scenario) -> dict[str, tuple[Any, Any]]:
        """Parameters whose values differ: ``{dotted: (other's value, this value)}``; a
        different timeline shows as ``"timeline"`` with each side in words."""
        mine, theirs = self.flat(), other.flat()
        skip = {"name", "description"}
        out = {k: (theirs.get(k), v) for k, v in mine.items()
               if k not in skip and theirs.get(k) != v}
        if self.timeline != other.timeline:
            out["timeline"] = (other.timeline_text(), self.timeline_text())
        return out

    def timeline_text(self) -> str:
        """The timeline in words, one change after another (``"none"`` when empty)."""
        parts = []
        for step in self.steps():
            values = ", ".join(f"{k}={v}" for k, v in step.values.items())
            parts.append(f"month {step.month}: {values} ({step.label})")
        return "; ".join(parts) or "none"

    def to_toml(self) -> str:
        """The scenario as TOML text (round-trips through :meth:`load`)."""
        import tomli_w

        return tomli_w.dumps(self.model_dump(exclude_none=True))

    @property
    def people_per_consumer(self) -> float:
        """How many real people one simulated consumer stands for."""
        return self.consumers.population / self.consumers.count


_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(kind: str) -> Path:
    """The folder of bundled files of one kind (``scenarios``, ``experiments``, ...).

    In a source checkout (or an editable install) this is the repository's top-level folder
    of that name; an installed wheel carries a copy of it as package data in
    ``govsim/_bundled/<kind>/`` (see setup.py), which is used when present.
    """
    installed = _PACKAGE / "_bundled" / kind
    return installed if installed.is_dir() else _PACKAGE.parent / kind


def bundled_files(kind: str) -> dict[str, Path]:
    """The bundled files of one kind (``scenarios``, ``experiments``, ...) by name (file
    stem), in name order."""
    return {p.stem: p for p in sorted(bundled_dir(kind).glob("*.toml"))}


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario files by name (file stem), baseline first."""
    files = bundled_files("scenarios")
    return dict(sorted(files.items(), key=lambda item: item[0] != "baseline"))


def resolve(name_or_path: str | Path) -> Path:
    """A scenario file from a path, or from the name of a bundled scenario.

    Raises:
        ScenarioError: neither a file nor a bundled name.
    """
    return resolve_file(name_or_path, bundled_scenarios(), "scenario", ScenarioError)


def resolve_file(name_or_path: str | Path, bundled: dict[str, Path], kind: str,
                 error: type[ScenarioError]) -> Path:
    """A file from a path, or from the name of a bundled file of this ``kind``."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if str(name_or_path) in bundled:
        return bundled[str(name_or_path)]
    names = ", ".join(bundled) or "none found"
    raise error(f"{name_or_path}: no such {kind} file, nor a bundled {kind} (bundled: {names})")


def read_toml(path: Path, kind: str, error: type[ScenarioError],
              what: str | None = None) -> tuple[str, dict]:
    """The text of a TOML file of this ``kind`` ("scenario", "experiment", ...) and what it
    holds. The file is UTF-8, with or without a byte-order mark.

    Args:
        path: the file.
        kind: what the file is, for messages.
        error: the error class to raise.
        what: the kind with its article, e.g. "an experiment" (default "a <kind>").

    Raises:
        error: the file is missing, unreadable, not TOML, or nested too deeply to read.
    """
    try:
        # utf-8-sig: a byte-order mark, which some Windows editors write, is dropped
        # (TOML forbids it, and tomllib's message for it is "Invalid statement")
        text = path.read_text(encoding="utf-8-sig")
        return text, tomllib.loads(text)
    except FileNotFoundError:
        raise error(f"{path}: no such {kind} file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read the file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise error(f"{path}: not {what or 'a ' + kind} (its tables or arrays are nested too "
                    "deeply to read)") from None


def read_named_toml(path: Path, kind: str, error: type[ScenarioError],
                    what: str | None = None) -> tuple[str, dict]:
    """:func:`read_toml`, with ``name`` made from the file name when the file gives none:
    a scenario's or study file's name names its outputs."""
    text, data = read_toml(path, kind, error, what)
    data.setdefault("name", name_from_stem(path.stem))
    return text, data


def field_names() -> list[str]:
    """Every dotted parameter name a scenario accepts."""
    return sorted(Scenario().flat())


def field_bounds(dotted: str) -> tuple[float | None, float | None]:
    """The (lower, upper) bounds of a dotted field, None where unbounded or unknown."""
    model: Any = Scenario
    field = None
    for part in dotted.split("."):
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return (None, None)
        field = fields[part]
        model = field.annotation
    low = high = None
    for meta in field.metadata if field else ():
        low = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else low
        high = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else high
    return (low, high)


# --- helpers -----------------------------------------------------------------------------


def _set_dotted(data: dict, dotted: str, value: Any, source: str) -> None:
    if dotted in _REPLACED:
        raise ScenarioError(f"{source}: {dotted}: {_REPLACED[dotted]}")
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            where = ".".join(parts[: i + 1])
            raise ScenarioError(f"{source}: {dotted} is not a known field ({where} is not a "
                                f"section); known fields: see `govsim scenarios --fields`")
        node = child
    if parts[-1] not in node and not _is_optional_field(parts):
        raise ScenarioError(f"{source}: {dotted} is not a known field; {_known_in(parts[:-1])}")
    node[parts[-1]] = value


def plain_value(value: Any, parts: list[str]) -> Any:
    """``value`` as the Python value it stands for: numpy scalars unwrapped, and a whole-number
    float made an int when the field is an integer. Anything else is left for validation."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = value.item()  # np.bool_, np.int64, np.float64, np.str_ (and 0-d arrays)
    if isinstance(value, float) and value.is_integer() and _is_int_field(parts):
        return int(value)
    return value


def _is_int_field(parts: list[str]) -> bool:
    model: Any = Scenario
    for part in parts:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False
        model = fields[part].annotation
    if get_origin(model) in (Union, UnionType):
        return int in get_args(model) and float not in get_args(model)
    return model is int


def _is_optional_field(parts: list[str]) -> bool:
    # Fields whose default is None are dropped by exclude_none; they are still settable.
    model: Any = Scenario
    for part in parts:
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False
        model = fields[part].annotation
    return True


def _model_of(section: list[str]) -> Any:
    """The schema of the table at ``section`` (a timeline entry for ``["timeline"]``)."""
    model: Any = Scenario
    for part in section:
        model = model.model_fields[part].annotation
        if get_origin(model) is list:  # the timeline: a list of changes
            model = get_args(model)[0]
    return model


def _known_in(section: list[str]) -> str:
    names = ", ".join(_model_of(section).model_fields)
    where = f"[{'.'.join(section)}]" if section else "the top level"
    return f"allowed in {where}: {names}"


def _constraint_text(loc: tuple, err: dict) -> str:
    """What the schema allows at ``loc``: the type, range and description of the field."""
    model: Any = Scenario
    field = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            field = None
            break
        field = fields[part]
        model = field.annotation
        if get_origin(model) is list:  # the timeline: a list of changes
            model = get_args(model)[0]
    msg = err["msg"].removeprefix("Value error, ")
    if field is None:
        return msg
    bounds = []
    for meta in field.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(meta, attr, None) is not None:
                bounds.append(f"{sym} {getattr(meta, attr)}")
    allowed = f"allowed: {_type_text(field.annotation)}"
    allowed += f" {' and '.join(bounds)}" if bounds else ""
    if field.description:
        allowed += f" ({field.description})"
    return f"{msg}; {allowed}"


def _type_text(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(annotation))
    if get_origin(annotation) in (Union, UnionType):
        return " or ".join(_type_text(a) for a in get_args(annotation) if a is not type(None))
    return getattr(annotation, "__name__", str(annotation))


_SHOCK = ('the budget shock is now a timeline change: [[timeline]] month = 25, '
          'set = { "budget.annual_yuan" = 200000.0 }, note = "budget cut"')
#: Fields that were replaced, with what to write instead.
_REPLACED = {"budget.shock_month": _SHOCK, "budget.shock_factor": _SHOCK}


def _explain(exc: ValidationError, source: str, data: dict) -> str:
    """Turn pydantic's errors into one line per field: file, dotted field, value, allowed."""
    lines = []
    errors = exc.errors()
    lacking = _missing_by_table(errors)
    for err in errors:
        loc = tuple(p for p in err["loc"] if isinstance(p, str))
        dotted = ".".join(loc)
        shown = _shown_loc(err["loc"])
        if err["type"] == "missing":
            # one line per table, naming what it lacks (the table is what was written)
            names = lacking.pop(err["loc"][:-1], None)
            if names:
                lines.append(f"{source}: {_lacking_text(err['loc'][:-1], err['input'], names)}")
        elif dotted in _REPLACED:
            lines.append(f"{source}: {dotted}: {_REPLACED[dotted]}")
        elif err["type"] == "extra_forbidden" and (field := _quoted_field(loc)):
            lines.append(f"{source}: {_quoted_hint(loc, field, err.get('input'))}")
        elif err["type"] == "extra_forbidden":
            lines.append(f"{source}: {shown} is not a known field; {_known_in(list(loc[:-1]))}")
        elif not loc:  # a whole-scenario consistency rule
            lines.append(f"{source}: {err['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{source}: {shown} = {shorten(err.get('input'))} is not allowed: "
                         f"{_constraint_text(loc, err)}")
    return "\n".join(lines)


def _shown_loc(loc: tuple) -> str:
    """``("timeline", 0, "month")`` -> ``"timeline[0].month"``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)[1:]


def _missing_by_table(errors: list[dict]) -> dict[tuple, list[str]]:
    """The required fields missing from each table, by the table's place."""
    out: dict[tuple, list[str]] = {}
    for err in errors:
        if err["type"] == "missing":
            out.setdefault(tuple(err["loc"][:-1]), []).append(str(err["loc"][-1]))
    return out


def _lacking_text(table: tuple, value: Any, names: list[str]) -> str:
    """A table without some required fields: which ones, and what the table holds."""
    section = [p for p in table if isinstance(p, str)]
    fields = _model_of(section).model_fields
    required = [n for n, f in fields.items() if f.is_required()]
    optional = [n for n, f in fields.items() if not f.is_required()]
    allowed = f"a table of {', '.join(required)}"
    allowed += f" (and optionally {', '.join(optional)})" if optional else ""
    about = _field_at(section)
    if about is not None and about.description:
        allowed += f": {about.description}"
    return (f"{_shown_loc(table)} = {shorten(value)} is not allowed: it lacks "
            f"{', '.join(names)}; allowed: {allowed}")


def _field_at(section: list[str]) -> Any:
    """The schema's field at ``section`` (None at the top level)."""
    if not section:
        return None
    return _model_of(section[:-1]).model_fields[section[-1]]


def _quoted_field(loc: tuple) -> str | None:
    """The known field a quoted dotted key (``"budget.annual_yuan" = ...``) names, or None.

    TOML reads a quoted key as one key with a dot in its name, not as a field of a table;
    users write it so because timeline ``set`` tables and experiments take that form."""
    if "." not in loc[-1]:
        return None
    dotted = ".".join(loc)
    return dotted if dotted in field_names() else None


def _quoted_hint(loc: tuple, field: str, value: Any) -> str:
    """Say that a quoted dotted key names a known ``field``, and the two ways to write it."""
    key = loc[-1]
    table, _, name = field.rpartition(".")
    where = f"[{'.'.join(loc[:-1])}]" if loc[:-1] else "the top level"
    shown = str(value).lower() if isinstance(value, bool) else shorten(value)
    return (f'"{key}" = {shown}: {field} is a known field, but quoted it is one key of '
            f"{where} whose name holds a dot; write it under its table ([{table}] {name} = "
            f"{shown}) or as an unquoted dotted key ({key} = {shown})")


#: The longest value an error message repeats in full.
SHOWN_WIDTH = 80


def shorten(value: Any, width: int = SHOWN_WIDTH) -> str:
    """``repr(value)`` for a message, at most about ``width`` characters: a long list or
    table by its size, anything else cut with an ellipsis (a whole 1001-entry timeline
    made a 60,000-character line)."""
    text = repr(value)
    if len(text) <= width:
        return text
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"a table of {len(value)} entries"
    return text[: width - 1] + "…"
