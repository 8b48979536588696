"""Array state of the populations, one place, typed and documented.

Businesses, consumers and agencies keep their state here as numpy arrays so that each phase
of a month is a handful of vectorised operations, at 10^3 or 10^6 agents alike. The Mesa
agent objects in :mod:`govsim.agents` are handles that read and write these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
from scipy import sparse

from govsim.phases.grading import static_points
from govsim.scenario import Scenario

CATERING, RETAIL, PRODUCER = 0, 1, 2
SECTOR_NAMES = ("catering", "retail", "producer")


@dataclass
class BusinessState:
    """Food businesses (index = business id)."""

    sector: np.ndarray          # intp: CATERING, RETAIL or PRODUCER (numpy's index type:
                                # gathers by sector need no conversion)
    small: np.ndarray           # bool: small outlet
    revenue_yuan: np.ndarray    # float: normal monthly sales
    demand: np.ndarray          # float: demand multiplier, 1 = normal; disclosure lowers it
    complying: np.ndarray       # bool: current strategy (True = invests in safety)
    cost_yuan: np.ndarray       # float: monthly cost of complying
    hazard_comply: np.ndarray   # float: monthly chance of an unsafe batch when complying
    hazard_cut: np.ndarray      # float: the same when cutting corners
    belief: np.ndarray          # float: perceived monthly chance an inspection catches it cutting
    unsafe: np.ndarray          # bool: this month's food is unsafe
    punished: np.ndarray        # bool: fined this month
    caught_by_inspection: np.ndarray  # bool: an inspection found it cutting corners this month
    notified: np.ndarray        # bool: told of a failed sample this month
    violations: np.ndarray      # int: confirmed violations so far
    complaints: np.ndarray      # float: complaints (people) naming it this month
    complaints_true: np.ndarray  # float: of which name it as the true source
    complaint_queue: np.ndarray  # float: complaints (people) not yet followed up
    kind_points: np.ndarray     # float: risk-grading points for its sector and size (fixed)
    record: np.ndarray          # float: risk-grading points from its record (decaying)
    grade: np.ndarray           # int8: risk grade, 0 = A (lowest risk) to 3 = D
    followups_due: np.ndarray   # int: follow-up samples still owed after a failed sample
    times_sampled: np.ndarray   # int: batches sampled from it so far
    last_pass_month: np.ndarray  # int: month its latest passed batch was sampled (-999: none)
    last_pass_agency: np.ndarray  # int: the agency that passed it
    last_pass_false: np.ndarray  # bool: that pass was a false report (shirked or bought)
    last_pass_colluded: np.ndarray  # bool: that pass was bought
    last_pass_unsafe: np.ndarray  # bool: that batch was truly unsafe
    last_pass_price: np.ndarray  # float: the fee of that test
    sector_counts: np.ndarray   # int: businesses per sector (fixed)

    @property
    def count(self) -> int:
        return len(self.sector)

    def sales_yuan(self, who: np.ndarray | None = None) -> np.ndarray:
        """This month's sales (of businesses ``who``, or all): normal sales times the demand
        left after lost reputation."""
        if who is None:
            return self.revenue_yuan * self.demand
        return self.revenue_yuan[who] * self.demand[who]


@dataclass
class SectorBeliefs:
    """What businesses in each sector have learned from their peers' fates (index = sector).

    Businesses of a trade see what happens to each other (they know who cuts corners; the
    regulator does not). Each value is an exponential average of what they saw, started at
    the trade's common estimate.
    """

    fail_given_unsafe: np.ndarray   # chance a sampled unsafe batch ends as a failed result
    fine_given_confirmed: np.ndarray  # chance a confirmed violation is fined
    damages_per_sales: np.ndarray   # extra damages paid a month by cutting, per yuan of sales
    reputation_per_sales: np.ndarray  # extra margin lost to attributed illness, per yuan of sales


class PeerNews:
    """What businesses of each sector saw happen to their peers this month, by kind of news:
    ``unsafe_sampled`` (a sampled batch was unsafe), ``unsafe_failed`` (and its failure
    stood), ``confirmed`` (a violation was confirmed), ``fined``, ``cutters_inspected_caught``
    (an inspection caught a corner-cutter).

    The phases note the businesses concerned as they go; they are counted by sector once,
    when businesses learn: a count per event cost three array operations each time.
    """

    def __init__(self, sector: np.ndarray):
        self._sector = sector
        self._noted: dict[str, list[np.ndarray]] = {}

    def note(self, kind: str, businesses: np.ndarray) -> None:
        """Add news of ``kind`` about these businesses (a business may appear again)."""
        self._noted.setdefault(kind, []).append(businesses)

    def by_sector(self, kind: str) -> np.ndarray:
        """How many pieces of news of ``kind`` each sector saw (index = sector)."""
        noted = self._noted.get(kind)
        if not noted:
            return np.zeros(3, dtype=np.int64)
        businesses = noted[0] if len(noted) == 1 else np.concatenate(noted)
        return np.bincount(self._sector[businesses], minlength=3)


@dataclass
class ConsumerState:
    """Simulated consumers (each stands for ``people_per_consumer`` people)."""

    trust: np.ndarray           # float32: trust in food safety and its regulator, [0, 1]
    aware: np.ndarray           # bool: knows how and where to complain
    ill: np.ndarray             # bool: fell ill this month
    complained: np.ndarray      # bool: complained to the authority this month
    complainants: np.ndarray    # int: the same, as indices
    neighbours: sparse.csr_array  # adjacency of the social network
    degree: np.ndarray          # float32: neighbours per consumer (>= 1 to avoid 0-division)
    # (word_of_mouth, trust kept per ill neighbour): worked out once, see consumers.py
    hearsay: tuple[float, np.ndarray] | None = None

    @property
    def count(self) -> int:
        return len(self.trust)


@dataclass
class AgencyState:
    """Third-party testing agencies (index = agency id)."""

    sensitivity: np.ndarray     # chance an honest test detects unsafe food
    capacity_month: np.ndarray  # int: batches per month it can test
    cost_yuan: np.ndarray       # real cost of one honest test
    markup: np.ndarray          # price markup on cost when bidding
    integrity: np.ndarray       # intrinsic honesty, 1 = never cheats
    shirk: np.ndarray           # propensity to report without testing
    collude: np.ndarray         # propensity to accept a bribe for a pass
    belief_backcheck: np.ndarray  # perceived chance a false report is found
    false_seen: np.ndarray      # discounted count of its false reports that were back-checkable
    found_seen: np.ndarray      # discounted count of those that back-checks found
    score: np.ndarray           # performance score in [0, 1]
    quota: np.ndarray           # int: contracted batches per month (0 = no contract)
    price_yuan: np.ndarray      # contracted (or, business-paid, list) price per batch
    strikes: np.ndarray         # int: false reports found during the current contract
    blacklisted_until: np.ndarray  # int: month until which it may not bid
    outside: np.ndarray         # bool: from outside the district (bids only when locals are few)
    tested: np.ndarray = field(default=None)  # int: batches it tested this month

    @property
    def count(self) -> int:
        return len(self.sensitivity)

    def open_to_bid(self, month: int) -> np.ndarray:
        """Agencies not blacklisted in ``month``."""
        return self.blacklisted_until <= month


@dataclass
class Batches:
    """Sample batches tested in one month, waiting for their reports to arrive."""

    month: int
    business: np.ndarray        # int: business sampled
    agency: np.ndarray          # int: agency that tested it
    unsafe: np.ndarray          # bool: the truth
    failed: np.ndarray          # bool: what the report says
    false_report: np.ndarray    # bool: reported without an honest test (shirked or bought)
    colluded: np.ndarray        # bool: a bribe bought the pass
    price_yuan: np.ndarray      # fee paid for it
    followup: np.ndarray        # bool: a follow-up sample after an earlier failure
    retested: np.ndarray = field(default=None)    # bool: the business asked for a re-test
    overturned: np.ndarray = field(default=None)  # bool: the re-test overturned the failure
    sampled: np.ndarray = field(default=None)     # int: each batch's month, when joined

    def __len__(self) -> int:
        return len(self.business)

    @staticmethod
    def joined(batches: list[Batches]) -> Batches:
        """Several months' batches arriving at once (after the report delay was shortened
        within a run) as one delivery: ``month`` is the latest, ``sampled`` each batch's."""
        if len(batches) == 1:
            return batches[0]
        arrays = {f.name: np.concatenate([getattr(b, f.name) for b in batches])
                  for f in fields(Batches) if f.name not in ("month", "sampled")}
        sampled = np.concatenate([np.full(len(b), b.month) for b in batches])
        return Batches(month=batches[-1].month, sampled=sampled, **arrays)


_NONE, _NO = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
#: No batches: what arrives in a month without reports (shared, so never written to).
NO_BATCHES = Batches(month=0, business=_NONE, agency=_NONE, unsafe=_NO, failed=_NO,
                     false_report=_NO, colluded=_NO, price_yuan=np.zeros(0), followup=_NO,
                     retested=_NO, overturned=_NO)


def _sector_values(values) -> np.ndarray:
    return np.array(values.as_tuple(), dtype=float)


def init_businesses(sc: Scenario, rng: np.random.Generator) -> BusinessState:
    """Draw the business population from the scenario."""
    b = sc.businesses
    n = b.count
    sector = rng.choice(3, size=n, p=_sector_values(b.sector_mix)).astype(np.intp)
    small = rng.random(n) < b.small_share
    # Small outlets sell less; the factors keep the mean near monthly_revenue_yuan.
    size_factor = np.where(small, 0.6, 1.0 + 0.4 * b.small_share / max(1 - b.small_share, 1e-9))
    revenue = b.monthly_revenue_yuan * size_factor * rng.lognormal(0.0, 0.3, n)
    hazard_mult = np.where(small, b.small_hazard_multiplier, 1.0)
    cost = (b.compliance_cost_yuan * _sector_values(b.compliance_cost_by_sector)[sector]
            * np.where(small, 0.8, 1.5) * rng.lognormal(0.0, b.compliance_cost_spread, n))
    return BusinessState(
        sector=sector,
        small=small,
        revenue_yuan=revenue,
        demand=np.ones(n),
        complying=rng.random(n) < b.initial_compliance,
        cost_yuan=cost,
        hazard_comply=np.minimum(_sector_values(b.hazard_compliant)[sector] * hazard_mult, 1.0),
        hazard_cut=np.minimum(_sector_values(b.hazard_cutting)[sector] * hazard_mult, 1.0),
        belief=np.full(n, b.initial_belief),
        unsafe=np.zeros(n, dtype=bool),
        punished=np.zeros(n, dtype=bool),
        caught_by_inspection=np.zeros(n, dtype=bool),
        notified=np.zeros(n, dtype=bool),
        violations=np.zeros(n, dtype=np.int32),
        complaints=np.zeros(n),
        complaints_true=np.zeros(n),
        complaint_queue=np.zeros(n),
        kind_points=static_points(sector, small),
        record=np.zeros(n),
        grade=np.zeros(n, dtype=np.int8),
        followups_due=np.zeros(n, dtype=np.int32),
        times_sampled=np.zeros(n, dtype=np.int32),
        last_pass_month=np.full(n, -999, dtype=np.int64),
        last_pass_agency=np.zeros(n, dtype=np.int64),
        last_pass_false=np.zeros(n, dtype=bool),
        last_pass_colluded=np.zeros(n, dtype=bool),
        last_pass_unsafe=np.zeros(n, dtype=bool),
        last_pass_price=np.zeros(n),
        sector_counts=np.bincount(sector, minlength=3),
    )


def init_consumers(sc: Scenario, neighbours: sparse.csr_array) -> ConsumerState:
    """Consumers start alike: initial trust, unaware, healthy."""
    n = sc.consumers.count
    degree = np.maximum(np.diff(neighbours.indptr), 1).astype(np.float32)
    return ConsumerState(
        trust=np.full(n, sc.consumers.initial_trust, dtype=np.float32),
        aware=np.zeros(n, dtype=bool),
        ill=np.zeros(n, dtype=bool),
        complained=np.zeros(n, dtype=bool),
        complainants=np.zeros(0, dtype=np.int64),
        neighbours=neighbours,
        degree=degree,
    )


def renew_agency(ag: AgencyState, i: int, sc: Scenario, rng: np.random.Generator) -> None:
    """Put a fresh outside agency in slot ``i`` (the province has many qualified labs, so a
    blacklisted outside agency is replaced by another one)."""
    m = sc.market
    ag.integrity[i] = np.clip(m.integrity + rng.uniform(-0.25, 0.25), 0.0, 1.0)
    ag.cost_yuan[i] = m.cost_per_test_yuan * rng.uniform(0.85, 1.15) * 1.1 \
        * (1.0 + m.outside_price_premium)
    ag.markup[i] = m.markup * rng.uniform(0.5, 1.5)
    ag.shirk[i] = ag.collude[i] = (1 - ag.integrity[i]) * 0.5
    ag.belief_backcheck[i] = sc.performance.backcheck_rate * sc.performance.backcheck_sensitivity
    ag.false_seen[i] = ag.found_seen[i] = 0.0
    ag.score[i] = ag.sensitivity[i]
    ag.strikes[i] = ag.quota[i] = 0
    ag.blacklisted_until[i] = 0


def init_agencies(sc: Scenario, rng: np.random.Generator) -> AgencyState:
    """Draw the agencies: a share is fully qualified; integrity and markup vary.

    The ``market.outside_agencies`` agencies from outside the district come last: qualified,
    of the market's integrity, and dearer (travel, sample transport).
    """
    m = sc.market
    local = m.n_agencies
    n = local + m.outside_agencies
    n_qualified = int(round(m.qualified_share * local))
    qualified = np.ones(n, dtype=bool)
    qualified[:local] = False
    qualified[rng.permutation(local)[:n_qualified]] = True
    outside = np.arange(n) >= local
    sensitivity = np.where(qualified, m.sensitivity_qualified, m.sensitivity_unqualified)
    integrity = np.clip(m.integrity + rng.uniform(-0.25, 0.25, n), 0.0, 1.0)
    prior = sc.performance.backcheck_rate * sc.performance.backcheck_sensitivity
    cost = m.cost_per_test_yuan * rng.uniform(0.85, 1.15, n) * np.where(qualified, 1.1, 0.9)
    cost[outside] *= 1.0 + m.outside_price_premium
    return AgencyState(
        sensitivity=sensitivity,
        capacity_month=np.full(n, max(m.capacity_batches_per_year // 12, 1), dtype=np.int64),
        cost_yuan=cost,
        markup=m.markup * rng.uniform(0.5, 1.5, n),
        integrity=integrity,
        shirk=(1 - integrity) * 0.5,
        collude=(1 - integrity) * 0.5,
        belief_backcheck=np.full(n, prior),
        false_seen=np.zeros(n),
        found_seen=np.zeros(n),
        score=sensitivity.copy(),
        quota=np.zeros(n, dtype=np.int64),
        price_yuan=np.zeros(n),
        strikes=np.zeros(n, dtype=np.int64),
        blacklisted_until=np.zeros(n, dtype=np.int64),
        outside=outside,
        tested=np.zeros(n, dtype=np.int64),
    )
