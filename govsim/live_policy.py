"""Changing policy while the live view runs: levers become timeline changes.

:class:`LivePolicy` is mixed into the live view's model (``govsim.app.LiveModel``). A lever
moved during a run is held as *pending* and becomes a timeline change of the next month, so
it is applied by the model's own policy phase (:mod:`govsim.phases.policy`), logged as an
event and marked on the charts, exactly as a ``[[timeline]]`` change of a scenario file.
:meth:`LivePolicy.saved_scenario` is the scenario the run started from with those changes
added: ``govsim run`` of it, with the same seed, gives the same months as the live run.

Free of Solara, so that it can be tested without a browser.
"""

from __future__ import annotations

from typing import Any

from govsim.scenario import Scenario, ScenarioError
from govsim.timeline import Change, describe, fixed_reason

LIVE_NOTE = "live view"
GO_ON_MONTHS = 12  # "Go on" extends the run by a year


class LivePolicy:
    """Live changes of policy for a :class:`~govsim.model.GovernanceModel` subclass.

    Attributes:
        pending: ``{dotted field: value}`` to apply at the start of the next month.
        live_changes: the changes made so far in the live view, as timeline entries.
        horizon: the month at which Play stops (the scenario's ``run.months``, extended by
            :meth:`go_on`).
    """

    def init_live_policy(self) -> None:
        """Call at the end of the model's ``__init__``."""
        self.pending: dict[str, Any] = {}
        self.live_changes: list[Change] = []
        self.horizon = self.initial_params.run.months
        self.page_generation = 0  # the page showing it, counted by rebuilds to go on

    # --- levers ---------------------------------------------------------------------------

    def value_of(self, dotted: str) -> Any:
        """A field's value as the levers show it: pending if changed, else in force."""
        return self.pending.get(dotted, self.params.flat()[dotted])

    def can_change(self, dotted: str) -> str | None:
        """Why ``dotted`` cannot change now, or None when it can."""
        if self.steps == 0:
            return None  # nothing has run: the model is simply rebuilt
        return fixed_reason(dotted)

    def request(self, dotted: str, value: Any) -> None:
        """Ask for ``dotted`` to be ``value`` from the next month on.

        Raises:
            ScenarioError: the value is not allowed, or the field cannot change within a run.
        """
        reason = fixed_reason(dotted)
        if reason:  # before the first month the page builds a new model with it instead
            raise ScenarioError(f"{dotted} cannot change within a run ({reason}); "
                                "Reset, then change it before the first month")
        # validated, and kept as the plain value the scenario holds (no numpy scalars)
        value = self.params.with_overrides({dotted: value}, source="live view").flat()[dotted]
        if value == self.params.flat()[dotted]:
            self.pending.pop(dotted, None)
        else:
            self.pending[dotted] = value

    def pending_text(self) -> str:
        """The pending changes in words ('' when none)."""
        flat = self.params.flat()
        return "; ".join(describe(k, flat[k], v) for k, v in self.pending.items())

    # --- stepping ---------------------------------------------------------------------------

    def step(self) -> None:
        """One month: pending changes first become this month's timeline change; Play stops
        at the horizon."""
        if self.pending:
            self.live_changes.append(Change(month=self.steps, set=self.pending, note=LIVE_NOTE))
            try:
                # the model's steps from the combined timeline, so that a later change's end
                # restores what a run of the saved scenario would restore
                self.timeline = self.saved_scenario().steps()
            except ScenarioError:
                self.live_changes.pop()  # refused together: nothing of it is kept
                raise
            self.pending = {}
        super().step()
        # the live view's own horizon, which "Go on" moves past the scenario's run.months
        # (where GovernanceModel.step stops a batch run)
        self.running = self.steps < self.horizon

    def go_on(self, months: int = GO_ON_MONTHS) -> None:
        """Let the run go on past its horizon, by ``months``."""
        self.horizon = max(self.horizon, self.steps) + months
        self.running = True

    # --- saving -----------------------------------------------------------------------------

    def saved_scenario(self) -> Scenario:
        """The scenario the run started from, with the live changes in its timeline and its
        length at least the months run (so a run of it reproduces this one)."""
        start = self.initial_params
        data = start.model_dump(exclude_none=True)
        data["timeline"] = data.get("timeline", []) + [
            c.model_dump(exclude_none=True) for c in self.live_changes]
        data["run"]["months"] = max(start.run.months, self.steps,
                                    *(c.month for c in self.live_changes))
        if self.live_changes:
            data["name"] = f"{start.name}_live"
            data["description"] = (f"{start.description} Changed in the live view: "
                                   f"{len(self.live_changes)} timeline changes.").strip()
        return Scenario.from_dict(data, source="live view")

    def saved_toml(self, seed: int) -> str:
        """:meth:`saved_scenario` as TOML, with a header saying how to reproduce the run."""
        scenario = self.saved_scenario()
        header = (f"# Saved from the govsim live view at month {self.steps} (seed {seed}).\n"
                  f"# Reproduce the run: govsim run {scenario.name}.toml --seed {seed}\n")
        return header + scenario.to_toml()
