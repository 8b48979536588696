"""GovernanceModel: a district buying food-safety testing from third-party agencies.

One step is one month. :meth:`GovernanceModel.step` calls the phases in the order of the
ODD (docs/ODD.md, "Process overview and scheduling"), one line each.
"""

from __future__ import annotations

from collections import deque

import mesa
import numpy as np
from mesa.agent import AgentSet

from govsim import metrics, network
from govsim.agents import Consumer, FoodBusiness, Regulator, TestingAgency
from govsim.phases.consumers import consume
from govsim.phases.disturbances import disturb
from govsim.phases.enforcement import enforce
from govsim.phases.learning import adapt
from govsim.phases.performance import manage_performance
from govsim.phases.policy import apply_timeline
from govsim.phases.procurement import procure
from govsim.phases.production import produce
from govsim.phases.sampling import sample_and_test
from govsim.scenario import Scenario
from govsim.state import Batches, init_agencies, init_businesses, init_consumers

MAX_EVENTS = 200  # the event feed keeps the latest ones


class GovernanceModel(mesa.Model):
    """The four-party food-safety governance model.

    Args:
        scenario: the parameters; defaults to ``Scenario()``.
        seed: seed of the model's one random generator (``self.rng``).

    Attributes:
        params: the scenario in force (named ``params``, not ``scenario``, because Mesa 3.5
            reserves ``Model.scenario`` for its own scenario object); the timeline's changes
            replace it at the start of their month.
        initial_params: the scenario the run started from, timeline included.
        timeline: the changes still to come and past, in month order
            (:class:`govsim.timeline.Step`); the live view adds to it.
        businesses, consumers, agencies: array state (:mod:`govsim.state`).
        tested_this_month: the batches sampled and tested this month.
        arrived_reports: the reports that reached the regulator this month (or None).
        regulator: the :class:`Regulator` agent.
        events: recent notable events, newest last, as ``(month, text)``.
        datacollector: a Mesa DataCollector with the columns of :mod:`govsim.metrics`.
    """

    def __init__(self, scenario: Scenario | None = None, seed: int | None = None):
        super().__init__(rng=seed)
        self.initial_params = sc = scenario or Scenario()
        self.timeline = sc.steps()
        # the timeline lives in self.timeline; params is the scenario in force this month
        self.params = sc = sc.model_copy(update={"timeline": []})
        self.people_per_consumer = sc.people_per_consumer
        self.events: deque[tuple[int, str]] = deque(maxlen=MAX_EVENTS)
        self.tally = metrics.new_tally()
        self.row: dict[str, float] | None = None
        self.businesses = init_businesses(sc, self.rng)
        self.agencies = init_agencies(sc, self.rng)
        adjacency = network.build(sc.participation.network, sc.consumers.count,
                                  sc.participation.degree, sc.participation.rewiring, self.rng)
        self.consumers = init_consumers(sc, adjacency)
        self.pending_reports: deque[Batches] = deque()
        self.arrived_reports: Batches | None = None
        self.tested_this_month: Batches | None = None
        self.last_false_found = np.zeros(self.agencies.count, dtype=np.int64)
        self.last_false_reports = np.zeros(self.agencies.count, dtype=np.int64)
        self.last_backchecks = np.zeros(self.agencies.count, dtype=np.int64)
        self.last_quota = np.zeros(self.agencies.count, dtype=np.int64)
        self.regulator = Regulator(self, sc.budget.annual_yuan)
        self.agency_agents = [TestingAgency(self, i) for i in range(self.agencies.count)]
        self.business_agents = [FoodBusiness(self, i) for i in range(self.businesses.count)]
        self._consumer_agents: dict[int, Consumer] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in metrics.COLUMNS})

    def step(self) -> None:
        """One month, phase by phase."""
        self.tally = metrics.new_tally()
        apply_timeline(self)      # 0. policy changes dated this month
        procure(self)             # 1. tender at contract expiry
        produce(self)             # 2. businesses produce; some food is unsafe
        sample_and_test(self)     # 3. agencies sample and test (or shirk, or collude)
        self.receive_reports()    #    reports from earlier months arrive
        consume(self)             # 4. purchases, illness, complaints, word of mouth
        enforce(self)             # 5. confirmed violations are punished, complaints inspected
        manage_performance(self)  # 6. back-checks, agency fines, scores, blacklist
        adapt(self)               # 7. businesses, agencies and consumers learn
        disturb(self)             # 8. disruptions
        self.row = metrics.compute(self, self.row)
        self.datacollector.collect(self)

    def receive_reports(self) -> None:
        """Hand over the reports whose delay has passed."""
        due = self.steps - self.params.system.report_delay_months
        self.arrived_reports = None
        if self.pending_reports and self.pending_reports[0].month <= due:
            self.arrived_reports = self.pending_reports.popleft()

    def log_event(self, text: str) -> None:
        """Add a line to the event feed."""
        self.events.append((self.steps, text))

    def consumer_agents(self, indices) -> AgentSet:
        """Mesa agents for the given consumers, registered on first use."""
        agents = []
        for i in np.asarray(indices, dtype=np.int64):
            agent = self._consumer_agents.get(int(i))
            if agent is None:
                agent = self._consumer_agents[int(i)] = Consumer(self, int(i))
            agents.append(agent)
        return AgentSet(agents, random=self.random)


def _reporter(name: str):
    return lambda model: model.row[name]
