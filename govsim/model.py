"""GovernanceModel: a district buying food-safety testing from third-party agencies.

One step is one month. :meth:`GovernanceModel.step` calls the phases in the order of the
ODD (docs/ODD.md, "Process overview and scheduling"), one line each.
"""

from __future__ import annotations

import secrets
from collections import deque
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.agent import AgentSet

from govsim import metrics, network
from govsim.agents import Consumer, FoodBusiness, Regulator, TestingAgency
from govsim.mesa_patches import ROW_STAMP_OFFSET
from govsim.phases.consumers import consume
from govsim.phases.damages import claim_damages
from govsim.phases.disturbances import disturb
from govsim.phases.grading import grade_businesses
from govsim.phases.inspections import (
    follow_up_complaints,
    inspect_routinely,
    investigate_failures,
    open_month,
)
from govsim.phases.learning import adapt, initial_beliefs
from govsim.phases.performance import manage_performance
from govsim.phases.policy import apply_timeline
from govsim.phases.procurement import procure, tender
from govsim.phases.production import produce
from govsim.phases.reports import act_on_reports
from govsim.phases.sampling import sample_and_test
from govsim.scenario import Scenario, ScenarioError, resolve
from govsim.state import Batches, PeerNews, init_agencies, init_businesses, init_consumers

MAX_EVENTS = 200  # the event feed keeps the latest ones


class GovernanceModel(mesa.Model):
    """The four-party food-safety governance model.

    It is a normal Mesa model: parameters can be given as keywords, so
    ``mesa.batch_run(GovernanceModel, {"budget__annual_yuan": [2e5, 4e5]}, ...)`` works, and
    ``running`` turns False after the last month (``run.months``). ``step()`` number ``k``
    simulates month ``k`` (``model.steps`` is then ``k``), and the DataCollector's row
    ``k - 1`` holds month ``k``, its ``step`` column saying so.

    Args:
        scenario: the parameters: a :class:`Scenario`, a bundled name or a TOML file;
            defaults to ``Scenario()``.
        seed: seed of the model's one random generator (``self.rng``); None draws a fresh
            one from the operating system's entropy and records it in ``self.seed``.
        rng: the same as ``seed`` (the name ``mesa.batch_run`` passes in Mesa 3.5); give one
            of the two.
        **params: scenario fields to override, by dotted name (``**{"budget.annual_yuan":
            8e5}``) or by its keyword alias with ``__`` for the dot (``budget__annual_yuan=8e5``).
            They are validated like ``Scenario.with_overrides``.

    Attributes:
        params: the scenario in force (named ``params``, not ``scenario``, because Mesa 3.5
            reserves ``Model.scenario`` for its own scenario object); the timeline's changes
            replace it at the start of their month.
        initial_params: the scenario the run started from, timeline included.
        timeline: the changes still to come and past, in month order
            (:class:`govsim.timeline.Step`); the live view adds to it.
        seed: the seed in use, so any model can be built again with the same numbers.
        businesses, consumers, agencies: array state (:mod:`govsim.state`).
        tested_this_month: the batches sampled and tested this month.
        arrived_reports: the reports that reached the regulator this month (or None).
        regulator: the :class:`Regulator` agent.
        events: recent notable events, newest last, as ``(month, text)``.
        datacollector: a Mesa DataCollector with the columns of :mod:`govsim.metrics`.
    """

    def __init__(self, scenario: Scenario | str | Path | None = None, seed: int | None = None,
                 *, rng: int | None = None, **params: Any):
        self.seed = resolve_seed(seed if rng is None else _one_seed(seed, rng))
        super().__init__(rng=self.seed)
        self.initial_params = sc = _scenario_with(scenario, params)
        self.timeline = sc.steps()
        # the timeline lives in self.timeline; params is the scenario in force this month
        self.params = sc = sc.model_copy(update={"timeline": []})
        self.people_per_consumer = sc.people_per_consumer
        self.events: deque[tuple[int, str]] = deque(maxlen=MAX_EVENTS)
        self.tally = metrics.new_tally()
        self.row: dict[str, float] | None = None
        self.report_history: deque[tuple[int, int]] = deque(maxlen=metrics.DETECTION_WINDOW)
        self.businesses = init_businesses(sc, self.rng)
        self.seen = PeerNews(self.businesses.sector)  # renewed at the start of each month
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
        self.investigations: deque[tuple[int, str]] = deque()  # failed samples to investigate
        self.planned_batches = 0
        self.unspent_testing_yuan = 0.0
        self.aware_share = 0.0
        self.ill_who_know = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self.damages_paid_yuan = np.zeros(self.businesses.count)
        self.reputation_loss_yuan = np.zeros(self.businesses.count)
        self.regulator = Regulator(self, sc.budget.annual_yuan)
        self.agency_agents = [TestingAgency(self, i) for i in range(self.agencies.count)]
        self.business_agents = [FoodBusiness(self, i) for i in range(self.businesses.count)]
        self._consumer_agents: dict[int, Consumer] = {}
        self.beliefs = initial_beliefs(self)
        self.datacollector = MonthlyRows(
            model_reporters={name: _reporter(name) for name in metrics.COLUMNS})
        self._warm_start()

    def step(self) -> None:
        """One month, phase by phase."""
        self.tally = metrics.new_tally()
        self.seen = PeerNews(self.businesses.sector)
        apply_timeline(self)       # 0. policy changes dated this month
        procure(self)              # 1. tender at contract expiry
        grade_businesses(self)     #    risk grades and the sampling plan are published
        produce(self)              # 2. businesses produce; some food is unsafe
        sample_and_test(self)      # 3. agencies sample and test (or shirk, or collude)
        self.receive_reports()     #    reports from earlier months arrive
        consume(self)              # 4. purchases, illness, complaints, word of mouth
        claim_damages(self)        #    ill consumers who know the source claim damages
        open_month(self)           # 5. the inspectors' time for this month
        act_on_reports(self)       #    re-tests, recalls, bulletin, follow-ups of failures
        investigate_failures(self)  #    failed samples investigated and fined
        manage_performance(self)   # 6. back-checks (traced clusters first), agency fines
        follow_up_complaints(self)  # 7. complaints followed up, most pressing first
        inspect_routinely(self)    #    routine inspections: the plan's share and time left
        adapt(self)                # 8. businesses, agencies and consumers learn
        disturb(self)              # 9. disruptions
        self.row = metrics.compute(self)
        self.datacollector.collect(self)
        if self.steps >= self.params.run.months:
            self.running = False  # the horizon: mesa.batch_run and run_model() stop here

    def _warm_start(self) -> None:
        """The district was buying tests before the run: the contract in force at month 1
        was tendered, and the month before the run was sampled, so reports arrive from
        month 1 (a run does not open with months that have no report)."""
        tender(self)
        grade_businesses(self)
        produce(self)
        sample_and_test(self)
        if self.params.system.report_delay_months == 0:
            self.pending_reports.clear()  # month 0's reports reached the regulator in month 0
        self.businesses.times_sampled[:] = 0  # "never sampled" counts from the run's start

    def receive_reports(self) -> None:
        """Hand over the reports whose delay has passed (several months' at once when the
        delay was shortened within the run)."""
        due = self.steps - self.params.system.report_delay_months
        arrived = []
        while self.pending_reports and self.pending_reports[0].month <= due:
            arrived.append(self.pending_reports.popleft())
        self.arrived_reports = Batches.joined(arrived) if arrived else None

    def log_event(self, text: str) -> None:
        """Add a line to the event feed."""
        self.events.append((self.steps, text))

    def consumer_agents(self, indices) -> AgentSet:
        """Mesa agents for the given consumers, registered on first use."""
        indices = np.asarray(indices, dtype=np.int64)
        outside = indices[(indices < 0) | (indices >= self.consumers.count)]
        if len(outside):
            raise IndexError(f"consumer {int(outside[0])} does not exist: consumers are "
                             f"numbered 0 to {self.consumers.count - 1}")
        agents = []
        for i in indices:
            agent = self._consumer_agents.get(int(i))
            if agent is None:
                agent = self._consumer_agents[int(i)] = Consumer(self, int(i))
            agents.append(agent)
        return AgentSet(agents, random=self.random)


def resolve_seed(seed: Any) -> int:
    """The seed to use: ``seed`` as a Python int, or a fresh 32-bit one when it is None.

    Raises:
        ScenarioError: the seed is not a whole number (numpy integers are fine).
    """
    if seed is None:
        return secrets.randbits(32)  # from the OS's entropy; recorded, so it can be re-run
    if type(seed).__module__ == "numpy" and hasattr(seed, "item"):
        seed = seed.item()
    if isinstance(seed, float) and seed.is_integer():
        seed = int(seed)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ScenarioError(f"seed = {seed!r} is not allowed: a whole number >= 0, or None "
                            "for a fresh one")
    return seed


def _one_seed(seed: Any, rng: Any) -> Any:
    if seed is not None and seed != rng:
        raise ScenarioError(f"seed = {seed!r} and rng = {rng!r}: give one of the two")
    return rng


def _scenario_with(scenario: Scenario | str | Path | None, params: dict[str, Any]) -> Scenario:
    """The scenario to run: a Scenario, a bundled name or file, then keyword overrides."""
    if scenario is None:
        scenario = Scenario()
    elif not isinstance(scenario, Scenario):
        scenario = Scenario.load(resolve(scenario))
    if not params:
        return scenario
    dotted: dict[str, Any] = {}
    for name, value in params.items():
        field = name.replace("__", ".")
        if field in dotted:
            raise ScenarioError(f"GovernanceModel: {field} is given twice (as {field} and as "
                                f"{field.replace('.', '__')}); give it once")
        dotted[field] = value
    return scenario.with_overrides(dotted, source="GovernanceModel")


class MonthlyRows(mesa.DataCollector):
    """Mesa's DataCollector, filled from the month's row of figures (``model.row``).

    Mesa's ``collect`` calls one reporter per column and deep-copies what it returns: 64
    columns took a twentieth of a month's time. The row holds plain floats already, so its
    values are appended as they are. The reporters stay, so Mesa's tools (``batch_run``,
    ``get_model_vars_dataframe``) see the usual DataCollector; agent reporters, if added,
    are collected by Mesa.
    """

    def collect(self, model: GovernanceModel) -> None:
        row = model.row
        for name, values in self.model_vars.items():
            values.append(row[name])
        if hasattr(self, "_collection_steps"):  # Mesa 3.4.1+ notes when each row was collected
            self._collection_steps.append(model.time - ROW_STAMP_OFFSET)
        if self.agent_reporters or self.agenttype_reporters:
            reporters, self.model_reporters = self.model_reporters, {}
            try:
                super().collect(model)
            finally:
                self.model_reporters = reporters


def _reporter(name: str):
    return lambda model: model.row[name]
