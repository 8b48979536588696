"""The live view's policy card: levers that act at the next month, Save scenario, horizon.

Shown in the sidebar before Mesa's own controls (:mod:`govsim.app`). Before the first month
a moved lever rebuilds the model with the new value (nothing has run yet); during a run it
becomes a timeline change of the next month (:mod:`govsim.live_policy`), applied without
Reset, logged as an event and marked on the charts. Fields that cannot change within a run
(the number of agencies) are disabled once the run has started.
"""

from __future__ import annotations

from collections.abc import Callable

import solara
from mesa.visualization.utils import update_counter

from govsim.scenario import ScenarioError


@solara.component
def PolicyCard(model: solara.Reactive, levers, rebuild: Callable[[dict], None],
               on_go_on: Callable[[], None]):
    """The levers, what is pending, Save scenario, and the horizon.

    The sliders are redrawn only when a lever moves or the run starts (not every month: a
    redraw per month slows Play); :func:`PolicyStatus` follows the months.

    Args:
        model: the page's model (a ``LiveModel``).
        levers: the levers (``govsim.app.LEVERS``).
        rebuild: called with ``{lever name: slider value}`` to start the model afresh with
            those values (before the first month).
        on_go_on: called after the run was let go on past its horizon (the page is rebuilt
            around the model, as Mesa's controls stay disabled once a model has stopped).
    """
    version, set_version = solara.use_state(0)
    started = solara.use_reactive(False)  # set by PolicyStatus when the first month is run
    error = solara.use_reactive(None)
    m = model.value

    def change(lever, slider_value) -> None:
        try:
            if m.steps == 0:
                rebuild({lever.name: slider_value})
            else:
                m.request(lever.field, lever.to_scenario(slider_value))
            error.value = None
        except ScenarioError as exc:
            error.value = str(exc)
        set_version(version + 1)

    with solara.Card("Policy levers", classes=["govsim-levers"]):
        PolicyStatus(model, started, version, on_go_on)
        for lever in levers:
            _lever_input(m, lever, change, started.value)
        if error.value:
            solara.Error(error.value)
        solara.FileDownload(lambda: m.saved_toml(m.seed_value).encode("utf-8"),
                            filename=f"{m.initial_params.name}"
                                     f"{'_live' if m.live_changes else ''}.toml",
                            label="Save scenario", mime_type="application/toml")


@solara.component
def PolicyStatus(model: solara.Reactive, started: solara.Reactive, version: int,
                 on_go_on: Callable[[], None]):
    """When changes take effect, what is pending, and the horizon (redrawn every month)."""
    update_counter.get()  # Mesa bumps this counter after each step: redraw then
    m = model.value
    running = m.steps > 0
    solara.use_effect(lambda: started.set(running), [running, m])
    when = ("Changes start the run afresh (month 0)." if not running else
            f"Changes take effect at the start of month {m.steps + 1}, without Reset; "
            "Reset starts the scenario over.")
    solara.Text(when, classes=["govsim-lever-note"])
    pending = m.pending_text()
    if pending:
        solara.Text(f"Pending for month {m.steps + 1}: {pending}", classes=["govsim-pending"])
    _horizon(m, on_go_on)


def _lever_input(m, lever, change, started: bool) -> None:
    value = lever.to_slider(m.value_of(lever.field))
    disabled = started and m.can_change(lever.field) is not None
    label = lever.label + (" - fixed within a run" if disabled else "")
    if lever.kind == "Checkbox":
        solara.Checkbox(label=label, value=bool(value), disabled=disabled,
                        on_value=lambda v, lever=lever: change(lever, v))
        return
    entry = lever.param(m.value_of(lever.field))
    slider = solara.SliderInt if lever.kind == "SliderInt" else solara.SliderFloat
    slider(label, value=value, min=entry["min"], max=entry["max"], step=lever.step,
           disabled=disabled, on_value=lambda v, lever=lever: change(lever, v))


def _horizon(m, on_go_on) -> None:
    if m.steps >= m.horizon and not m.running:
        solara.Text(f"Stopped at month {m.steps}, the end of the scenario's run.",
                    classes=["govsim-horizon"])

        def go_on() -> None:
            m.go_on()
            on_go_on()

        solara.Button(f"Go on {12} more months", on_click=go_on, color="primary", text=True)
    else:
        solara.Text(f"Play stops at month {m.horizon}.", classes=["govsim-horizon"])
