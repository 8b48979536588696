"""The four parties as Mesa agents.

The regulator and the agencies are few and hold their own decisions' state. Businesses and
consumers are handles onto the array state in :mod:`govsim.state`: reading or setting an
attribute reads or sets that agent's entry, so Mesa selection (``model.agents_by_type``),
data collection and the browser view work on them while the phases stay vectorised.
Consumers are registered on demand (:meth:`GovernanceModel.consumer_agents`), because
registering 10^6 Mesa agents alone costs ~20 s and ~0.6 GB.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING

import mesa

from govsim.phases.grading import GRADES
from govsim.state import SECTOR_NAMES

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


class _IdCounters(weakref.WeakKeyDictionary):
    """Per-model ``unique_id`` counters that let a finished model be freed.

    Mesa 3.3 numbers agents from ``mesa.Agent._ids``, a class-level ``defaultdict`` keyed by
    the model, which keeps every model ever built (and its arrays) alive: about 4 MB per
    default run in a long-lived process. Keyed weakly, the counter goes with its model.
    Mesa 3.5 numbers agents on the model itself and never reads this.
    """

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = self[model] = itertools.count(1)
            return counter


class GovsimAgent(mesa.Agent):
    """Base of govsim's agents: Mesa agents numbered without keeping the model alive."""

    _ids = _IdCounters()


class Regulator(GovsimAgent):
    """The market supervision bureau: budget, tenders, inspections, back-checks, fines.

    Attributes:
        annual_budget_yuan: the current yearly budget (shocks change it).
        disrupted_until: month until which a disruption lowers its capacity.
        capacity: fraction of normal capacity available this month (1 = full).
    """

    def __init__(self, model: GovernanceModel, annual_budget_yuan: float):
        super().__init__(model)
        self.annual_budget_yuan = annual_budget_yuan
        self.disrupted_until = 0
        self.capacity = 1.0

    @property
    def monthly_allowance_yuan(self) -> float:
        """What the regulator may spend this month on tests and back-checks."""
        return self.annual_budget_yuan / 12.0


class _Handle(GovsimAgent):
    """A Mesa agent whose state lives in arrays at ``index``."""

    def __init__(self, model: GovernanceModel, index: int):
        super().__init__(model)
        self.index = index


class TestingAgency(_Handle):
    """A third-party testing laboratory; state in ``model.agencies``."""

    __test__ = False  # not a pytest class, despite the name

    @property
    def sensitivity(self) -> float:
        return float(self.model.agencies.sensitivity[self.index])

    @property
    def quota(self) -> int:
        """Contracted batches per month (0 = no contract)."""
        return int(self.model.agencies.quota[self.index])

    @property
    def price_yuan(self) -> float:
        return float(self.model.agencies.price_yuan[self.index])

    @property
    def shirk(self) -> float:
        return float(self.model.agencies.shirk[self.index])

    @property
    def collude(self) -> float:
        return float(self.model.agencies.collude[self.index])

    @property
    def score(self) -> float:
        return float(self.model.agencies.score[self.index])

    @property
    def blacklisted(self) -> bool:
        return not self.model.agencies.open_to_bid(self.model.steps)[self.index]


class FoodBusiness(_Handle):
    """A producer, retailer or caterer; state in ``model.businesses``."""

    @property
    def sector(self) -> str:
        return SECTOR_NAMES[self.model.businesses.sector[self.index]]

    @property
    def small(self) -> bool:
        return bool(self.model.businesses.small[self.index])

    @property
    def complying(self) -> bool:
        return bool(self.model.businesses.complying[self.index])

    @complying.setter
    def complying(self, value: bool) -> None:
        self.model.businesses.complying[self.index] = value

    @property
    def unsafe(self) -> bool:
        return bool(self.model.businesses.unsafe[self.index])

    @property
    def punished(self) -> bool:
        return bool(self.model.businesses.punished[self.index])

    @property
    def sales_yuan(self) -> float:
        return float(self.model.businesses.sales_yuan(self.index))

    @property
    def grade(self) -> str:
        """Its public risk grade, "A" (lowest risk) to "D"."""
        return GRADES[self.model.businesses.grade[self.index]]


class Consumer(_Handle):
    """A simulated consumer (standing for several people); state in ``model.consumers``."""

    @property
    def trust(self) -> float:
        return float(self.model.consumers.trust[self.index])

    @trust.setter
    def trust(self, value: float) -> None:
        self.model.consumers.trust[self.index] = value

    @property
    def ill(self) -> bool:
        return bool(self.model.consumers.ill[self.index])

    @property
    def complained(self) -> bool:
        return bool(self.model.consumers.complained[self.index])

    @property
    def aware(self) -> bool:
        return bool(self.model.consumers.aware[self.index])
