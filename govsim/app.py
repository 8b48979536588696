"""The live browser view: Mesa's SolaraViz page of a running :class:`GovernanceModel`.

Start it with ``govsim viz [SCENARIO]`` (see :mod:`govsim.viz`), or ``solara run govsim.app``.
The page shows the network (regulator, agencies, a sample of businesses and consumers), six
time-series charts, the month's headline figures and an event feed, all redrawn as the model
steps; the sidebar has a scenario picker, Mesa's Step / Play / Pause / Reset controls and
sliders for the policy levers: a moved lever takes effect at the next month, without Reset
(:mod:`govsim.app_policy`, :mod:`govsim.live_policy`).

Every browser tab is its own Solara session, and :func:`Page` creates the model inside the
session, so tabs never share or disturb one another's model.
"""

from __future__ import annotations

import html
import math
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import solara
from mesa.visualization import SolaraViz
from mesa.visualization import solara_viz as _mesa_solara_viz
from mesa.visualization.utils import update_counter

from govsim import live
from govsim.app_policy import PolicyCard
from govsim.live_policy import LivePolicy
from govsim.mesa_patches import release_models
from govsim.model import GovernanceModel
from govsim.scenario import Scenario, ScenarioError, bundled_scenarios, resolve

release_models()  # a Reset or a closed page must not keep its old model alive

#: ``govsim viz`` passes the scenario to start with (a bundled name or a file) in this variable.
SCENARIO_ENV = "GOVSIM_VIZ_SCENARIO"


# --- the levers and the model the page runs ----------------------------------------------


@dataclass(frozen=True)
class Lever:
    """A policy lever on the sidebar: a slider (or checkbox) bound to one scenario field.

    Attributes:
        name: keyword argument of :class:`LiveModel`.
        field: the dotted scenario field it sets.
        label: slider label, with the unit of the slider's value.
        kind: Mesa's input type: "SliderFloat", "SliderInt" or "Checkbox".
        low, high, step: slider range (widened to fit a scenario's value when needed).
        scale: scenario value = slider value * scale (e.g. 1000 for "thousand yuan").
        short: how the running model's value reads in the run summary, a format string.
    """

    name: str
    field: str
    label: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    step: float = 1.0
    scale: float = 1.0
    short: str = "{}"

    def to_scenario(self, value):
        """The scenario value of a slider value.

        Raises:
            ScenarioError: not a value this lever's control can hold (``"no"`` for a
                checkbox, text or nan for a slider, 2.6 agencies).
        """
        if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
            value = value.item()
        if self.kind == "Checkbox":
            if not isinstance(value, bool):
                raise ScenarioError(f"{self.name} = {value!r} is not allowed: true or false")
            return value
        number = _finite_number(self.name, value)
        if self.kind == "SliderInt":
            if not number.is_integer():
                raise ScenarioError(f"{self.name} = {value!r} is not allowed: a whole number")
            return int(round(number * self.scale))
        return round(number * self.scale, 10)

    def to_slider(self, scenario_value):
        """The slider value of a scenario value."""
        if self.kind == "Checkbox":
            return bool(scenario_value)
        value = scenario_value / self.scale
        return int(round(value)) if self.kind == "SliderInt" else round(float(value), 6)

    def param(self, scenario_value) -> dict:
        """Mesa's ``model_params`` entry, starting at ``scenario_value``."""
        value = self.to_slider(scenario_value)
        if self.kind == "Checkbox":
            return {"type": "Checkbox", "value": value, "label": self.label}
        return {"type": self.kind, "value": value, "label": self.label,
                "min": min(self.low, value), "max": max(self.high, value), "step": self.step}


def _finite_number(name: str, value) -> float:
    if isinstance(value, bool):
        raise ScenarioError(f"{name} = {value!r} is not allowed: a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ScenarioError(f"{name} = {value!r} is not allowed: a number") from None
    if not math.isfinite(number):
        raise ScenarioError(f"{name} = {value!r} is not allowed: a finite number")
    return number


LEVERS = (
    Lever("budget", "budget.annual_yuan", "Testing budget (thousand yuan/year)",
          "SliderFloat", 0, 2000, 10, 1000.0, "budget ¥{:,.0f}/yr"),
    Lever("backcheck", "performance.backcheck_rate", "Back-checks (% of reports re-tested)",
          "SliderFloat", 0, 30, 0.5, 0.01, "back-checks {:.1%}"),
    Lever("enforcement", "law.enforcement_probability",
          "Enforcement (% of violations punished)", "SliderFloat", 0, 100, 1, 0.01,
          "enforcement {:.0%}"),
    Lever("business_fine", "law.business_fine_yuan", "Business fine (thousand yuan)",
          "SliderFloat", 0, 500, 5, 1000.0, "business fine ¥{:,.0f}"),
    Lever("agency_fine", "law.agency_fine_multiple", "Agency fine (times the fee)",
          "SliderFloat", 0, 20, 0.5, 1.0, "agency fine {:g}× fee"),
    Lever("complaints", "participation.complaint_probability",
          "Complaint propensity (% of ill, before awareness)", "SliderFloat", 0, 100, 0.1,
          0.01, "complaint propensity {:.1%}"),
    Lever("reward", "participation.reward_yuan", "Reward (yuan per useful complaint)",
          "SliderFloat", 0, 5000, 50, 1.0, "reward ¥{:,.0f}"),
    Lever("disclosure", "participation.disclosure", "Publish violators (disclosure)",
          "Checkbox", short="disclosure {}"),
    Lever("agencies", "market.n_agencies", "Testing agencies (number)", "SliderInt",
          1, 20, 1, 1.0, "{} agencies"),
)
LEVERS_BY_NAME = {lever.name: lever for lever in LEVERS}


def scenario_choices() -> dict[str, Path]:
    """Scenarios the picker offers: the one ``govsim viz`` started with, then the bundled ones.

    Raises:
        ScenarioError: the scenario in ``GOVSIM_VIZ_SCENARIO`` does not exist.
    """
    choices: dict[str, Path] = {}
    start = os.environ.get(SCENARIO_ENV)
    if start:
        path = resolve(start)
        choices[path.stem] = path
    for name, path in bundled_scenarios().items():
        choices.setdefault(name, path)
    return choices


def levers_moved(m: LiveModel) -> dict:
    """The slider values of the levers moved away from the scenario file's values, to carry
    into a rebuilt model; the others are left out, so they stay exactly as the file has them
    (a slider's value is rounded)."""
    start, now = load_scenario(m.scenario_name).flat(), m.params.flat()
    return {lever.name: lever.to_slider(now[lever.field]) for lever in LEVERS
            if now[lever.field] != start[lever.field]}


def load_scenario(name: str) -> Scenario:
    """A scenario the picker offers, by its picker name.

    A page can send any text as the picker's value, so nothing else is looked up: the server
    never reads a file a page names.

    Raises:
        ScenarioError: ``name`` is not one of :func:`scenario_choices`.
    """
    choices = scenario_choices()
    if not isinstance(name, str) or name not in choices:
        raise ScenarioError(f"{str(name)[:80]!r} is not one of the scenarios offered here "
                            f"({', '.join(choices)})")
    return Scenario.load(choices[name])


def parse_seed(seed: int | str | None) -> int:
    """The seed typed in the sidebar: an integer, or any other text turned into one."""
    text = str(seed if seed is not None else 0).strip()
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:  # numpy takes no negative seed: text (or "-5") is hashed to one instead
        return zlib.crc32(text.encode("utf-8"))  # stable across processes, unlike hash()
    return value


class LiveModel(LivePolicy, GovernanceModel):
    """A :class:`GovernanceModel` built from the page's picker, sliders and seed.

    Mesa's Reset button calls ``LiveModel(scenario_name=..., seed=...)`` (as picked). The
    keyword is not ``scenario``: Mesa 3.5's Reset passes its own scenario object under that
    name, in place of the page's. The policy card, before the first month, rebuilds the
    model with each lever of :data:`LEVERS` as a keyword here (in the slider's units). A
    lever left ``None`` keeps the scenario's value. During a run, levers are timeline
    changes (:class:`LivePolicy`).

    Args:
        scenario_name: picker name of the scenario.
        seed: the model's seed; text that is not an integer is hashed to one.
        budget: testing budget, thousand yuan/year.
        backcheck: back-check rate, % of reports.
        enforcement: enforcement probability, %.
        business_fine: business fine, thousand yuan.
        agency_fine: agency fine, times the fee.
        complaints: complaint probability of an ill consumer, %.
        reward: reward per useful complaint, yuan.
        disclosure: publish violators.
        agencies: number of testing agencies.

    Attributes:
        scenario_name: the picker name it was built from.
        seed_value: the integer seed.
        view: the fixed sample of agents the network view draws.
    """

    def __init__(self, scenario_name: str = "baseline", seed: int | str = 0, *,
                 budget: float | None = None, backcheck: float | None = None,
                 enforcement: float | None = None, business_fine: float | None = None,
                 agency_fine: float | None = None, complaints: float | None = None,
                 reward: float | None = None, disclosure: bool | None = None,
                 agencies: int | None = None):
        given = {"budget": budget, "backcheck": backcheck, "enforcement": enforcement,
                 "business_fine": business_fine, "agency_fine": agency_fine,
                 "complaints": complaints, "reward": reward, "disclosure": disclosure,
                 "agencies": agencies}
        base = load_scenario(scenario_name)
        overrides = {LEVERS_BY_NAME[k].field: LEVERS_BY_NAME[k].to_scenario(v)
                     for k, v in given.items() if v is not None}
        if overrides:
            base = base.with_overrides(overrides, source="live view")
        self.scenario_name = scenario_name
        self.seed_value = parse_seed(seed)
        super().__init__(base, seed=self.seed_value)
        self.view = live.ViewSample.draw(self, self.seed_value)
        self.init_live_policy()
        self._session = _current_session()

    def step(self) -> None:
        """One month, unless the page that plays this model is gone.

        Mesa's play loop steps the model in a thread for as long as it is ``running``, and
        Solara keeps a disconnected session for reconnection (``SOLARA_KERNEL_CULL_TIMEOUT``),
        so a closed tab would keep a model playing for nobody. When no page of the session
        is connected the model stops instead (the page shows it paused if it comes back).
        """
        if self._session is not None and not _has_page(self._session):
            self.running = False
            print(f"govsim viz: page closed; its model ({self.scenario_name}) stopped at "
                  f"month {self.steps}", file=sys.stderr, flush=True)
            return
        super().step()


def _current_session():
    """The Solara session (virtual kernel) building this model, or None outside a server."""
    try:
        from solara.server import kernel_context

        return kernel_context.get_current_context()
    except Exception:  # no server, or no session in this thread: nothing to watch
        return None


def _has_page(session) -> bool:
    """Whether a browser page of ``session`` is still connected."""
    from solara.server.kernel_context import PageStatus

    if session.closed_event.is_set():
        return False
    return PageStatus.CONNECTED in list(session.page_status.values())


def model_params(scenario: Scenario, scenario_name: str, seed: int) -> dict:
    """Mesa's ``model_params``: the picked scenario (fixed) and the seed. The levers are
    not Mesa's: they live in the policy card (:mod:`govsim.app_policy`) and act mid-run."""
    params: dict = {"scenario_name": scenario_name}
    params["seed"] = {"type": "InputText", "value": str(seed), "label": "Random seed"}
    return params


def run_summary(model: LiveModel) -> str:
    """One line of what the running model was built with, in the levers' units."""
    flat = model.params.flat()
    parts = [f"{model.scenario_name}", f"seed {model.seed_value}"]
    for lever in LEVERS:
        value = flat[lever.field]
        if lever.kind == "Checkbox":
            value = "on" if value else "off"
        parts.append(lever.short.format(value))
    pending = model.pending_text()
    return " · ".join(parts) + (f" (next month: {pending})" if pending else "")


# --- the components ----------------------------------------------------------------------

CSS = """
.govsim-panel { font-size: 13px; line-height: 1.3; padding: 2px 6px; }
.govsim-panel h3 { font-size: 15px; font-weight: 600; margin: 0 0 6px 0; }
.govsim-tiles { display: grid; grid-template-columns: 1fr 1fr; gap: 5px; }
.govsim-tile { border: 1px solid rgba(128,128,128,.3); border-radius: 6px; padding: 3px 7px;
  min-width: 0; }
.govsim-tile .label { font-size: 11.5px; opacity: .75; overflow-wrap: anywhere; }
.govsim-tile .value { font-size: 17px; font-weight: 600; white-space: nowrap; }
.govsim-tile .unit { font-size: 11px; opacity: .7; overflow-wrap: anywhere; }
.govsim-tile .change { font-size: 11px; font-weight: 400; margin-left: 5px; opacity: .75; }
.govsim-run { font-size: 11.5px; opacity: .8; margin-top: 8px; }
.govsim-events { list-style: none; padding: 0 !important; margin: 0; font-size: 12.5px; }
.govsim-events li { padding: 3px 0; border-bottom: 1px solid rgba(128,128,128,.18); }
.govsim-kind { display: inline-block; min-width: 70px; font-size: 10px; font-weight: 600;
  text-transform: uppercase; border-radius: 4px; padding: 0 4px; margin-right: 6px;
  color: white; text-align: center; }
.govsim-kind.tender { background: #3b6fb6; } .govsim-kind.blacklist { background: #222; }
.govsim-kind.budget { background: #b35806; } .govsim-kind.disruption { background: #c51b7d; }
.govsim-kind.other { background: #777; } .govsim-kind.policy { background: #1b7837; }
.govsim-lever-note, .govsim-pending, .govsim-horizon { font-size: 12px; opacity: .8; }
.govsim-pending { color: #1b7837; opacity: 1; }
.govsim-chart-marks { font-size: 11.5px; color: #1b7837; margin: 0 0 0 8px; }
.govsim-levers .v-input__slider .v-input__slot > .v-label { margin-bottom: 24px !important; }
.govsim-levers .v-input { margin-top: 0; padding-top: 0; }
.govsim-month-tag { opacity: .65; margin-right: 6px; font-variant-numeric: tabular-nums; }
.govsim-row { display: flex; gap: 8px; }
.govsim-titles { font-size: 13px; font-weight: 600; margin: 0 0 2px 4px; }
.govsim-legend { font-size: 11.5px; line-height: 1.6; margin: 2px 0 0 4px; }
.govsim-key { display: inline-block; margin-right: 12px; white-space: nowrap; }
.govsim-sym { display: inline-block; vertical-align: middle; margin-right: 4px; }
.govsim-sym.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--c); }
.govsim-sym.square { width: 10px; height: 10px; background: var(--c); }
.govsim-sym.ring { width: 11px; height: 11px; border-radius: 50%; border: 2.5px solid var(--c); }
.govsim-sym.line { width: 16px; height: 0; border-top: 1.5px solid var(--c); }
.govsim-sym.thick { width: 16px; height: 0; border-top: 4px solid var(--c); }
.govsim-sym.dash { width: 16px; height: 0; border-top: 2px dashed var(--c); }
.govsim-sym.cross { font-size: 12px; font-weight: 700; line-height: 1; color: var(--c); }
.govsim-sym.cross::before { content: "X"; }
.govsim-sym.triangle { width: 0; height: 0; border-left: 5px solid transparent;
  border-right: 5px solid transparent; border-bottom: 9px solid var(--c); }
.govsim-trustbar { display: inline-block; width: 90px; height: 9px; vertical-align: middle;
  border: 1px solid rgba(0,0,0,.3); margin: 0 3px; }
/* Mesa's sliders put a long label beside a short track and show the value only while
   dragging: put the label (with its unit) on its own line, and always show the value. */
.v-input__slider .v-input__slot { flex-wrap: wrap; }
.v-input__slider .v-input__slot > .v-label { flex: 0 0 100%; max-width: 100%; height: auto;
  white-space: normal; font-size: 13.5px; margin: 0 0 28px 0 !important; }
.v-input__slider { margin-bottom: 4px; }
.v-slider__thumb-label-container { display: block !important; }
.v-slider__thumb-label { transform: translate(-50%, -25px) !important; width: auto !important;
  min-width: 24px; height: 18px !important; border-radius: 9px !important; padding: 0 6px;
  font-size: 11px; }
.v-slider__thumb-label > * { transform: none !important; }
/* Mesa's tab bar reads "Page 0"; with all components on one page it only takes room. */
.v-tabs { display: none; }
"""


def _symbol(kind: str, colour: str) -> str:
    """A legend symbol as a styled span (see the ``.govsim-sym`` rules in :data:`CSS`)."""
    return f'<span class="govsim-sym {kind}" style="--c: {colour}"></span>'


def _legend(items, counts: dict[str, int] | None = None) -> str:
    counts = counts or {}
    return "".join(
        f'<span class="govsim-key">{_symbol(kind, colour)}{html.escape(text)}'
        f'{f" ({counts[text]})" if text in counts else ""}</span>'
        for kind, colour, text in items)


def network_html(model: LiveModel) -> tuple[str, str]:
    """The network view's titles (above the drawing) and legends (below), as HTML."""
    left, right = live.network_titles(model, model.view)
    widths = [f"{w * 100:.0f}%" for w in live.PANEL_WIDTHS]
    titles = (f'<div style="width: {widths[0]}">{html.escape(left)}</div>'
              f'<div style="width: {widths[1]}">{html.escape(right)}</div>')
    gradient = ", ".join(live.trust_gradient())
    trust_bar = ('<span class="govsim-key">trust: 0 <span class="govsim-trustbar" '
                 f'style="background: linear-gradient(to right, {gradient})"></span> 1</span>')
    legends = (f'<div style="width: {widths[0]}">{_legend(live.GOVERNANCE_LEGEND)}</div>'
               f'<div style="width: {widths[1]}">'
               f'{_legend(live.CONSUMER_LEGEND, live.consumer_marks(model, model.view))}'
               f"{trust_bar}</div>")
    return titles, legends


@solara.component
def NetworkView(model: LiveModel):
    """The network drawing with its titles and legend, redrawn as the model steps."""
    update_counter.get()  # Mesa bumps this counter after each step: redraw then
    image = solara.use_memo(lambda: live.png(live.network_figure(model, model.view)),
                            [model, model.steps])
    titles, legends = network_html(model)
    with solara.Div(classes=["govsim-image", "govsim-network"]):
        solara.HTML(tag="div", unsafe_innerHTML=titles, classes=["govsim-row", "govsim-titles"])
        solara.Image(image, width="100%")
        solara.HTML(tag="div", unsafe_innerHTML=legends, classes=["govsim-row", "govsim-legend"])


@solara.component
def ChartsView(model: LiveModel):
    """The six time-series charts of the run so far."""
    update_counter.get()  # Mesa bumps this counter after each step: redraw then
    charts = solara.use_memo(live.Charts, [model])  # one figure per model, updated in place

    def draw() -> bytes:
        return live.png(charts.update(model.datacollector.get_model_vars_dataframe(),
                                      live.applied_changes(model)))

    image = solara.use_memo(draw, [model, model.steps])
    changes = live.applied_changes(model)
    with solara.Div(classes=["govsim-image", "govsim-charts"]):
        solara.Image(image, width="100%")
        if changes:
            marks = "; ".join(f"month {m}: {label}" for m, label in changes)
            solara.HTML(tag="div", classes=["govsim-chart-marks"],
                        unsafe_innerHTML=html.escape(f"Dashed green lines: policy changes "
                                                     f"({marks})"))


@solara.component
def HeadlinePanel(model: LiveModel):
    """This month's figures with units and their change since last month."""
    update_counter.get()  # Mesa bumps this counter after each step: redraw then
    frame = model.datacollector.model_vars
    previous = None
    if len(frame.get("step", [])) >= 2:
        previous = {k: v[-2] for k, v in frame.items()}
    tiles = "".join(
        f'<div class="govsim-tile" title="{html.escape(f"{h.label}: {h.value} {h.unit}")}">'
        f'<div class="label">{html.escape(h.label)}</div>'
        f'<div class="value">{html.escape(h.value)}'
        f'<span class="change">{html.escape(h.change)}</span></div>'
        f'<div class="unit">{html.escape(h.unit)}</div></div>'
        for h in live.headlines(model, previous))
    body = (f'<h3 class="govsim-month">{html.escape(live.month_label(model.steps).capitalize())}'
            f'</h3><div class="govsim-tiles">{tiles}</div>'
            f'<div class="govsim-run">Running: {html.escape(run_summary(model))}</div>')
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=["govsim-panel", "govsim-headline"])


@solara.component
def EventFeed(model: LiveModel):
    """The latest events, newest first."""
    update_counter.get()  # Mesa bumps this counter after each step: redraw then
    events = live.recent_events(model, n=10)
    if events:
        items = "".join(
            f'<li><span class="govsim-month-tag">M{month}</span>'
            f'<span class="govsim-kind {kind}">{kind}</span>{html.escape(text)}</li>'
            for month, kind, text in events)
        body = f'<h3>Events</h3><ul class="govsim-events">{items}</ul>'
    else:
        body = "<h3>Events</h3><div>No events yet: tenders, blacklistings, budget cuts and " \
               "disruptions will appear here.</div>"
    solara.HTML(tag="div", unsafe_innerHTML=body, classes=["govsim-panel", "govsim-feed"])


#: The main area, in the order of :data:`LAYOUT`.
COMPONENTS = [NetworkView, HeadlinePanel, ChartsView, EventFeed]

#: Grid cells (12 columns, rows of 30 px) for :data:`COMPONENTS`: the network and the
#: headline figures side by side, the charts and the event feed below.
LAYOUT = [
    {"i": 0, "x": 0, "y": 0, "w": 8, "h": 14, "moved": False},
    {"i": 1, "x": 8, "y": 0, "w": 4, "h": 14, "moved": False},
    {"i": 2, "x": 0, "y": 14, "w": 9, "h": 13, "moved": False},
    {"i": 3, "x": 9, "y": 14, "w": 3, "h": 13, "moved": False},
]


def _initial_layout(num_components: int) -> list[dict]:
    """Our grid when SolaraViz shows our components, Mesa's default otherwise."""
    if num_components == len(LAYOUT):
        return [dict(cell) for cell in LAYOUT]
    return _mesa_default_layout(num_components)


# Mesa 3.3's SolaraViz gives every component a half-width tile of the same height and has no
# argument for the layout; this replaces its initial layout (the user may still drag and
# resize the tiles). Only this process's SolaraViz pages are affected: they are all ours.
_mesa_default_layout = _mesa_solara_viz.make_initial_grid_layout
_mesa_solara_viz.make_initial_grid_layout = _initial_layout


#: Milliseconds between months while playing: 2.5 months a second, slow enough to read the
#: events and see each month drawn (Mesa's 100 ms ran a two-year run in under three seconds,
#: faster than the charts are drawn); Mesa's "Play Interval" slider changes it.
PLAY_INTERVAL_MS = 400

#: The scenario this browser session picked and the seed to start it with, or None before
#: the first pick. Solara keeps a module-level reactive variable per session (per tab).
picked = solara.reactive(None)

#: A running model to keep when the page is rebuilt to let it go on past its horizon (Mesa's
#: controls stay disabled once a model has stopped, and only a new layout resets them), as
#: ``(picked, rebuilds, model)``; and how many such rebuilds this session has had.
carried = solara.reactive(None)
rebuilds = solara.reactive(0)


@solara.component
def Layout(children=[]):  # noqa: B006 (Solara's layout signature)
    """Solara's usual AppLayout, built anew when a scenario is picked.

    Mesa's SolaraViz keeps its sidebar state (slider values, the parameters Reset uses, the
    play state) in Solara's sidebar, which lives in this layout; a new key remounts it, so
    the sidebar starts from the picked scenario's values, exactly like a fresh page.
    """
    key = "start" if picked.value is None else "-".join(map(str, picked.value))
    key += f"-{rebuilds.value}"
    return solara.AppLayout(children=children).key(f"layout-{key}")


@solara.component
def ScenarioPicker(choices: list[str], model: solara.Reactive):
    """The scenario picker: choosing one starts it at once, with its own lever values."""
    current = model.value.scenario_name
    refused, set_refused = solara.use_state("")

    def pick(name: str) -> None:
        if name not in choices:  # only a crafted page sends anything else
            set_refused(f"Refused: {str(name)[:80]!r} is not one of the scenarios offered.")
            return
        picked.value = (name, model.value.seed_value)  # Layout then starts the page afresh

    with solara.Card("Scenario"):
        solara.Select("Scenario", values=choices, value=current, on_value=pick)
        if refused:
            solara.Error(refused, classes=["govsim-refused"])
        description = load_scenario(current).description
        if description:
            solara.Text(description, style={"font-size": "12px", "opacity": "0.8"})


@solara.component
def Page():
    """The app: one model per browser session, shown by Mesa's SolaraViz."""
    choices = solara.use_memo(lambda: list(scenario_choices()), [])
    name, seed = picked.value or (choices[0], 0)
    kept = carried.value
    first = solara.use_memo(
        lambda: kept[2] if kept and kept[:2] == (picked.value, rebuilds.value)
        else LiveModel(scenario_name=name, seed=seed), [])
    model = solara.use_reactive(first)
    # Mesa reads model_params when its sidebar mounts, i.e. once per pick (see Layout).
    params = solara.use_memo(lambda: model_params(load_scenario(name), name, seed), [])

    def stop_when_gone():
        # Mesa's play loop runs in a thread for as long as the model is "running", even after
        # its page is gone: stop it when this page closes or a scenario pick replaces it.
        page = model.value.page_generation

        def stop():
            if model.value.page_generation == page:  # not kept to go on past the horizon
                model.value.running = False

        return stop

    solara.use_effect(stop_when_gone, [])

    def go_on() -> None:
        model.value.page_generation += 1
        carried.value = (picked.value, rebuilds.value + 1, model.value)
        rebuilds.value += 1  # Layout then rebuilds the page around the same model

    def rebuild(changed: dict) -> None:
        m = model.value
        model.value = LiveModel(scenario_name=m.scenario_name, seed=m.seed_value,
                                **{**levers_moved(m), **changed})

    solara.Style(CSS)
    with solara.Sidebar():
        ScenarioPicker(choices, model)
        PolicyCard(model, LEVERS, rebuild, go_on)
    SolaraViz(model, components=COMPONENTS, model_params=params, play_interval=PLAY_INTERVAL_MS,
              name="govsim · food-safety governance, live")
