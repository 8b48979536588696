"""What the live browser view shows, as plain data and matplotlib figures.

The Solara page (:mod:`govsim.app`) only arranges what this module computes, so everything
here can be tested without a browser and ``import govsim`` stays free of the browser stack.

Drawing a million consumers or thousands of businesses would be neither readable nor fast,
so the view draws a fixed :class:`ViewSample`: ~150 businesses and ~150 consumers in a few
social neighbourhoods. The sample comes from its own random generator (seeded from the
model's seed), so drawing it never perturbs the model's random stream.
"""

from __future__ import annotations

import io
import math
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from govsim.agents import SECTOR_NAMES
from govsim.network import to_networkx

if TYPE_CHECKING:
    import pandas as pd

    from govsim.model import GovernanceModel
    from govsim.state import Batches

#: Distinguishes the view's random stream from the model's (any constant would do).
VIEW_STREAM = 20_240_905
N_BUSINESSES = 150
N_CONSUMERS = 150
N_NEIGHBOURHOODS = 6   # consumer sample: this many snowball samples of the social network

# Colours: colour-blind-friendly where it matters (complying vs cutting corners).
COMPLYING = "#1b9e77"
CUTTING = "#d95f02"
CONTRACT = "#3b6fb6"
IDLE = "#b8bec8"
BLACKLISTED = "#222222"
BACKCHECK = "#e6ab02"
FALSE_REPORT = "#e7298a"
REGULATOR = "#243b6b"
TRUST_CMAP = "RdYlGn"

BUSINESS_RING = (2.15, 3.1)  # inner and outer radius of the businesses around the regulator
AGENCY_RADIUS = 1.15


@dataclass(frozen=True)
class ViewSample:
    """The agents the network view draws, and where; fixed for the life of a model.

    Attributes:
        businesses: business ids drawn.
        business_xy: their positions, shape (n, 2), around the regulator by sector.
        consumers: consumer ids drawn.
        consumer_xy: their positions, shape (m, 2), one cluster per neighbourhood.
        consumer_edges: social ties among them, as index pairs into ``consumers``.
        agency_xy: every agency's position on a ring around the regulator.
        neighbourhoods: how many snowball samples the consumers come from.
    """

    businesses: np.ndarray
    business_xy: np.ndarray
    consumers: np.ndarray
    consumer_xy: np.ndarray
    consumer_edges: np.ndarray
    agency_xy: np.ndarray
    neighbourhoods: int

    @classmethod
    def draw(cls, model: GovernanceModel, seed: int | None,
             n_businesses: int = N_BUSINESSES, n_consumers: int = N_CONSUMERS) -> ViewSample:
        """Draw the sample for ``model`` from a generator of its own.

        Args:
            model: the model to sample (read only).
            seed: the model's seed; ``None`` draws a fresh sample.
            n_businesses: businesses to draw (fewer if the model has fewer).
            n_consumers: consumers to draw (fewer if the model has fewer).
        """
        rng = np.random.default_rng(None if seed is None else [VIEW_STREAM, int(seed)])
        b = model.businesses
        businesses = np.sort(rng.choice(b.count, min(n_businesses, b.count), replace=False))
        business_xy = _business_positions(b.sector[businesses], rng)
        consumers, groups = _neighbourhoods(model.consumers.neighbours, n_consumers,
                                            N_NEIGHBOURHOODS, rng)
        graph = to_networkx(model.consumers.neighbours, consumers)
        where = {int(c): i for i, c in enumerate(consumers)}
        edges = np.array([(where[u], where[v]) for u, v in graph.edges()],
                         dtype=np.int64).reshape(-1, 2)
        consumer_xy = _cluster_positions(groups, edges, rng)
        n = model.agencies.count
        angle = np.pi / 2 - 2 * np.pi * np.arange(n) / n
        agency_xy = AGENCY_RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])
        return cls(businesses, business_xy, consumers, consumer_xy, edges, agency_xy,
                   len(groups))


def _business_positions(sector: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Businesses in an annulus, one wedge per sector (catering, retail, producer)."""
    n = len(sector)
    counts = np.bincount(sector, minlength=3)
    gap = 0.12  # radians between wedges
    span = 2 * np.pi - 3 * gap
    start = np.pi / 2 + gap / 2 + np.concatenate([[0], np.cumsum(counts[:-1])]) / max(n, 1) \
        * span + gap * np.arange(3)
    width = counts / max(n, 1) * span
    angle = start[sector] + rng.random(n) * width[sector]
    r_in, r_out = BUSINESS_RING
    radius = np.sqrt(rng.uniform(r_in**2, r_out**2, n))  # uniform over the annulus' area
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def sector_label_angles(sample: ViewSample, sectors: np.ndarray) -> dict[str, float]:
    """Mean angle of each sector's wedge, for its label."""
    angle = np.arctan2(sample.business_xy[:, 1], sample.business_xy[:, 0])
    out = {}
    for s, name in enumerate(SECTOR_NAMES):
        a = angle[sectors == s]
        if len(a):
            out[name] = float(np.arctan2(np.sin(a).mean(), np.cos(a).mean()))
    return out


def _neighbourhoods(adj, n: int, k: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
    """``k`` snowball samples (breadth-first from random consumers) of about ``n/k`` each.

    A uniform sample of 150 out of 10^4-10^6 consumers would hold almost no social ties;
    neighbourhoods show how illness and distrust spread through the network.
    """
    total = adj.shape[0]
    n = min(n, total)
    taken = np.zeros(total, dtype=bool)
    groups: list[np.ndarray] = []
    for g in range(k):
        want = (n - int(taken.sum())) // (k - g)
        group: list[int] = []
        queue: deque[int] = deque()
        while len(group) < want:
            if not queue:  # start (or restart, if the component ran out) from a random node
                free = np.flatnonzero(~taken)
                if not len(free):
                    break
                start = int(rng.choice(free))
                taken[start] = True
                group.append(start)
                queue.append(start)
                continue
            node = queue.popleft()
            nbrs = adj.indices[adj.indptr[node]:adj.indptr[node + 1]]
            for v in rng.permutation(nbrs):
                if len(group) >= want:
                    break
                if not taken[v]:
                    taken[v] = True
                    group.append(int(v))
                    queue.append(int(v))
        if group:
            groups.append(np.array(group, dtype=np.int64))
    consumers = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    return consumers, groups


def _cluster_positions(groups: list[np.ndarray], edges: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """A spring layout per neighbourhood, neighbourhoods on a grid two wide."""
    import networkx as nx

    sizes = [len(g) for g in groups]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    xy = np.zeros((offsets[-1], 2))
    cols = 2
    for i, size in enumerate(sizes):
        lo, hi = offsets[i], offsets[i + 1]
        inside = edges[(edges[:, 0] >= lo) & (edges[:, 0] < hi)
                       & (edges[:, 1] >= lo) & (edges[:, 1] < hi)] - lo
        graph = nx.Graph()
        graph.add_nodes_from(range(size))
        graph.add_edges_from(map(tuple, inside))
        pos = nx.spring_layout(graph, seed=int(rng.integers(2**31)), iterations=60)
        local = np.array([pos[j] for j in range(size)])
        local -= local.mean(axis=0)
        local /= max(np.abs(local).max(), 1e-9)
        centre = np.array([i % cols * 2.5, -(i // cols) * 2.5])
        xy[lo:hi] = centre + local
    return xy


# --- what happened this month ------------------------------------------------------------


def latest_batches(model: GovernanceModel) -> Batches | None:
    """The batches tested in the month just simulated (their reports may still be on the way);
    None before the first month (the month before the run is not shown)."""
    return model.tested_this_month if model.steps else None


def sampled_tests(model: GovernanceModel, sample: ViewSample) -> list[tuple[int, int, str]]:
    """This month's tests of drawn businesses: ``(agency, position in sample, outcome)``.

    The outcome is ``"pass"``, ``"fail"`` or ``"false"`` (a pass reported without an honest
    test: shirked or bought). The view shows the truth, which the regulator does not see.
    """
    batches = latest_batches(model)
    if batches is None or len(batches) == 0:
        return []
    pos = np.searchsorted(sample.businesses, batches.business)
    pos = np.minimum(pos, len(sample.businesses) - 1)
    hit = sample.businesses[pos] == batches.business
    out = []
    for i in np.flatnonzero(hit):
        outcome = ("false" if batches.false_report[i] else
                   "fail" if batches.failed[i] else "pass")
        out.append((int(batches.agency[i]), int(pos[i]), outcome))
    return out


# --- the network figure ------------------------------------------------------------------

#: Relative widths of the network figure's two panels (governance, consumers).
PANEL_WIDTHS = (0.6, 0.4)
PASS_GREY = "#8c96a6"
ILL = "#b2182b"
TIE = "#c3c8d0"

#: The legend of the network view, as (symbol, colour, text); the page draws it in HTML so
#: the figure keeps its room for the drawing. Symbols: dot, cross, line, thick, dash, ring,
#: square, triangle.
GOVERNANCE_LEGEND = (
    ("square", REGULATOR, "regulator"),
    ("dot", COMPLYING, "business complying"),
    ("dot", CUTTING, "business cutting corners"),
    ("cross", "#000000", "caught this month"),
    ("thick", CONTRACT, "contract (width = quota)"),
    ("line", PASS_GREY, "sample tested: pass"),
    ("line", CUTTING, "sample tested: fail"),
    ("dash", FALSE_REPORT, "false report (shirked or bought)"),
    ("ring", BACKCHECK, "agency back-checked"),
    ("dot", BLACKLISTED, "agency blacklisted"),
)
CONSUMER_LEGEND = (
    ("ring", ILL, "ill this month"),
    ("triangle", "#000000", "complained"),
    ("line", TIE, "social tie"),
)


def network_figure(model: GovernanceModel, sample: ViewSample) -> Figure:
    """Regulator, agencies and sampled businesses (left); sampled consumers (right).

    Titles and legends are left to the page (see :func:`network_titles` and the
    ``*_LEGEND`` tuples), so the figure is all drawing.
    """
    # Fixed positions (figure fractions) instead of a layout engine: constrained layout
    # doubles the drawing time.
    fig = Figure(figsize=(7.6, 4.6), dpi=90)
    split = PANEL_WIDTHS[0]
    left = fig.add_axes((0.0, 0.0, split, 1.0))
    right = fig.add_axes((split + 0.01, 0.01, 1.0 - split - 0.02, 0.98))
    _draw_governance(left, model, sample)
    _draw_consumers(right, model, sample)
    return fig


def network_titles(model: GovernanceModel, sample: ViewSample) -> tuple[str, str]:
    """Titles of the two panels of :func:`network_figure`."""
    c = model.consumers
    return (f"Regulator, {model.agencies.count} testing agencies and "
            f"{len(sample.businesses)} of {model.businesses.count:,} businesses",
            f"{len(sample.consumers)} of {c.count:,} consumers, in {sample.neighbourhoods} "
            "neighbourhoods")


def consumer_marks(model: GovernanceModel, sample: ViewSample) -> dict[str, int]:
    """How many drawn consumers are ill, and how many complained, this month."""
    c = model.consumers
    return {"ill this month": int(c.ill[sample.consumers].sum()),
            "complained": int(c.complained[sample.consumers].sum())}


def trust_gradient(stops: int = 11) -> list[str]:
    """Colours of the trust colour map from 0 to 1, for the page's colour bar."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[TRUST_CMAP]
    return [to_hex(cmap(i / (stops - 1))) for i in range(stops)]


def _draw_governance(ax, model: GovernanceModel, sample: ViewSample) -> None:
    """The left panel: regulator at the centre, agencies around it, businesses outside."""
    ax.set_aspect("equal")
    ax.set_axis_off()
    lim = BUSINESS_RING[1] + 0.5
    ax.set_xlim(-lim - 0.25, lim + 0.25)
    ax.set_ylim(-lim, lim)
    _draw_contracts(ax, model, sample)
    _draw_tests(ax, model, sample)
    _draw_businesses(ax, model, sample)
    _draw_agencies(ax, model, sample)
    _draw_regulator(ax, model)


def _draw_contracts(ax, model: GovernanceModel, sample: ViewSample) -> None:
    """Regulator -> agency: a line as thick as the contracted quota, dotted without one."""
    quota = model.agencies.quota.astype(float)
    top = max(quota.max(), 1.0)
    for a, (x, y) in enumerate(sample.agency_xy):
        if quota[a] > 0:
            ax.plot([0, x], [0, y], color=CONTRACT, lw=1.0 + 5.0 * quota[a] / top,
                    alpha=0.8, zorder=1, solid_capstyle="round")
        else:
            ax.plot([0, x], [0, y], color=IDLE, lw=0.8, ls=(0, (2, 3)), zorder=1)


def _draw_tests(ax, model: GovernanceModel, sample: ViewSample) -> None:
    """Agency -> business for this month's tests of drawn businesses, by outcome."""
    style = {"pass": (PASS_GREY, "-", 0.8), "fail": (CUTTING, "-", 1.4),
             "false": (FALSE_REPORT, "--", 1.4)}
    for a, i, outcome in sampled_tests(model, sample):
        colour, ls, lw = style[outcome]
        (x0, y0), (x1, y1) = sample.agency_xy[a], sample.business_xy[i]
        ax.plot([x0, x1], [y0, y1], color=colour, ls=ls, lw=lw, alpha=0.9, zorder=2)


def _draw_businesses(ax, model: GovernanceModel, sample: ViewSample) -> None:
    """Colour = complying or not, size = sales, X = caught (punished) this month."""
    b = model.businesses
    ids = sample.businesses
    xy = sample.business_xy
    sales = b.sales_yuan(ids)
    size = 8 + 45 * np.clip(sales / max(np.median(b.revenue_yuan), 1.0), 0.1, 3.0)
    colour = np.where(b.complying[ids], COMPLYING, CUTTING)
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=colour, edgecolors="white", linewidths=0.4,
               zorder=3)
    caught = b.punished[ids]
    if caught.any():
        ax.scatter(xy[caught, 0], xy[caught, 1], s=size[caught] + 60, marker="X",
                   c="black", edgecolors="white", linewidths=0.8, zorder=4)
    for name, angle in sector_label_angles(sample, b.sector[ids]).items():
        r = BUSINESS_RING[1] + 0.3
        ax.text(r * math.cos(angle), r * math.sin(angle), name, ha="center", va="center",
                fontsize=8.5, color="#555555", style="italic", zorder=7,
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7})


def _draw_agencies(ax, model: GovernanceModel, sample: ViewSample) -> None:
    """Size = quota; a gold ring = back-checked this month; black with an x = blacklisted."""
    ag = model.agencies
    quota = ag.quota.astype(float)
    top = max(quota.max(), 1.0)
    blacklisted = ~ag.open_to_bid(model.steps)
    checked = np.asarray(model.last_backchecks) > 0
    colour = np.where(blacklisted, BLACKLISTED, np.where(quota > 0, CONTRACT, IDLE))
    xy = sample.agency_xy
    ax.scatter(xy[:, 0], xy[:, 1], s=90 + 200 * quota / top, c=colour,
               edgecolors=np.where(checked, BACKCHECK, "white"),
               linewidths=np.where(checked, 2.5, 1.0), zorder=5)
    if blacklisted.any():
        ax.scatter(xy[blacklisted, 0], xy[blacklisted, 1], s=70, marker="x", c="white",
                   linewidths=1.8, zorder=6)
    _label_agencies(ax, model, sample, checked, blacklisted)


def _draw_regulator(ax, model: GovernanceModel) -> None:
    """The regulator at the centre, rimmed in orange while a disruption cuts its capacity."""
    reg = model.regulator
    disrupted = reg.capacity < 1.0
    ax.scatter([0], [0], s=420, marker="s", c=REGULATOR, zorder=6,
               edgecolors=CUTTING if disrupted else "white", linewidths=3 if disrupted else 1)
    if disrupted:
        ax.text(0, -0.3, f"{reg.capacity:.0%} capacity", ha="center", va="top", fontsize=7.5,
                color=CUTTING, zorder=7,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _label_agencies(ax, model: GovernanceModel, sample: ViewSample, checked: np.ndarray,
                    blacklisted: np.ndarray) -> None:
    """Label each agency just outside its node, aligned away from the regulator."""
    ag = model.agencies
    many = ag.count > 8  # with many agencies, short labels keep the ring readable
    for a, (x, y) in enumerate(sample.agency_xy):
        lines = [f"A{a}"]
        if blacklisted[a]:
            lines.append("blacklisted")
        elif ag.quota[a] > 0 and not many:
            lines.append(f"{ag.quota[a]}/mo at ¥{ag.price_yuan[a]:.0f}")
        elif not many:
            lines.append("no contract")
        if checked[a] and not many:
            found = int(model.last_false_found[a])
            lines.append(f"{int(model.last_backchecks[a])} checked, {found} false")
        ux, uy = x / AGENCY_RADIUS, y / AGENCY_RADIUS
        gap = 0.2 if many else 0.24
        ha = "left" if ux > 0.35 else "right" if ux < -0.35 else "center"
        va = "bottom" if uy > 0.35 else "top" if uy < -0.35 else "center"
        ax.text(x + gap * ux, y + gap * uy, "\n".join(lines), ha=ha, va=va, fontsize=8.5,
                color="#1d2b44", zorder=7, linespacing=1.1,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _draw_consumers(ax, model: GovernanceModel, sample: ViewSample) -> None:
    c = model.consumers
    ids = sample.consumers
    xy = sample.consumer_xy
    ax.set_aspect("equal")
    ax.set_axis_off()
    if len(sample.consumer_edges):
        segments = xy[sample.consumer_edges]
        ax.add_collection(LineCollection(segments, colors=TIE, linewidths=0.6, zorder=1))
    ax.scatter(xy[:, 0], xy[:, 1], s=30, c=c.trust[ids], cmap=TRUST_CMAP,
               norm=Normalize(0.0, 1.0), edgecolors="#555555", linewidths=0.4, zorder=2)
    ill = c.ill[ids]
    complained = c.complained[ids]
    if ill.any():
        ax.scatter(xy[ill, 0], xy[ill, 1], s=110, facecolors="none", edgecolors=ILL,
                   linewidths=1.8, zorder=3)
    if complained.any():
        ax.scatter(xy[complained, 0] + 0.14, xy[complained, 1] + 0.14, s=32, marker="^",
                   c="black", zorder=4)
    if len(xy):
        pad = 0.25
        ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
        ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)


# --- the time-series figure --------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One small chart: title, y unit, tick format, fixed y range (or None), and its lines
    as ``(column, legend label, colour, line style)``."""

    title: str
    unit: str
    formatter: object
    ylim: tuple[float, float] | None
    series: tuple[tuple[str, str, str, str], ...]


def _panels() -> tuple[Panel, ...]:
    pct = PercentFormatter(1.0, decimals=0)
    return (
        Panel("Compliance vs what the reports show", "share", pct, (0.0, 1.0), (
            ("compliance_rate", "businesses complying", COMPLYING, "-"),
            ("sample_failure_rate", "official failure rate", CONTRACT, "-"),
            ("unsafe_share", "true unsafe share", CUTTING, "--"))),
        Panel("Illness and complaints", "people / month",
              FuncFormatter(lambda v, _: f"{v:,.0f}"), None, (
                  ("illness_cases", "people ill", ILL, "-"),
                  ("complaints", "complaints", "#555555", "-"))),
        Panel("False passes and collusion", "share of reports", pct, None, (
            ("false_pass_rate", "false passes", FALSE_REPORT, "-"),
            ("collusion_rate", "of which bought", "#7570b3", "-"))),
        Panel("Budget spent", "thousand yuan / month",
              FuncFormatter(lambda v, _: f"{v / 1000:,.0f}"), None, (
                  ("budget_spent", "spent", CONTRACT, "-"),
                  ("allowance", "allowance", "#999999", ":"))),
        Panel("Public trust", "mean trust (0 to 1)", None, (0.0, 1.0), (
            ("public_trust", "trust", "#4d9221", "-"),)),
        Panel("Testing agencies", "agencies", None, None, (
            ("contracted_agencies", "testing", CONTRACT, "-"),
            ("blacklisted_agencies", "blacklisted", BLACKLISTED, "--"))),
    )


class Charts:
    """The six time-series charts of a run, kept from month to month.

    Building the figure costs as much as drawing it, so a live view keeps one and
    :meth:`update` only replaces the lines' data and the axes' ranges.
    """

    MIN_MONTHS = 12  # the x axis starts a year wide and grows with the run

    def __init__(self):
        # Fixed margins instead of a layout engine: constrained layout doubles the time.
        self.figure = fig = Figure(figsize=(9.2, 5.8), dpi=90)
        self.axes = fig.subplots(2, 3, sharex=True, gridspec_kw={
            "left": 0.075, "right": 0.99, "top": 0.95, "bottom": 0.085, "wspace": 0.3,
            "hspace": 0.24}).ravel()
        self.panels = _panels()
        self.lines: list[list] = []
        for ax, panel in zip(self.axes, self.panels, strict=True):
            lines = [ax.plot([], [], color=colour, ls=ls, lw=1.8, label=label, markersize=4)[0]
                     for _, label, colour, ls in panel.series]
            self.lines.append(lines)
            ax.set_title(panel.title, fontsize=10, loc="left")
            ax.set_ylabel(panel.unit, fontsize=8.5)
            if panel.formatter is not None:
                ax.yaxis.set_major_formatter(panel.formatter)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
            if len(panel.series) > 1:
                ax.legend(fontsize=7.5, frameon=False, loc="upper left", handlelength=1.8,
                          ncol=len(panel.series) if len(panel.series) < 3 else 1)
        # Compliance sits high and the report rates low: its legend goes in the middle.
        self.axes[0].legend(fontsize=7.5, frameon=False, loc="center left", handlelength=1.8)
        self.axes[5].yaxis.set_major_locator(MaxNLocator(integer=True))
        self.axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in self.axes[3:]:
            ax.set_xlabel("month", fontsize=8.5)
        self.empty_note = fig.text(
            0.5, 0.5, "No months yet: press Step or ▶ to run the model", ha="center",
            va="center", fontsize=12, color="#555555",
            bbox={"boxstyle": "round", "fc": "white", "ec": "#cccccc"})

    def update(self, frame: pd.DataFrame,
               changes: list[tuple[int, str]] | tuple = ()) -> Figure:
        """Show ``frame`` (the datacollector's model variables) with a dashed marker at
        every policy change ``(month, label)``; returns the figure."""
        self._mark(changes)
        n = len(frame)
        month = np.asarray(frame["step"], dtype=float) if n else np.zeros(0)
        data = {column: np.asarray(frame[column], dtype=float) for column in frame.columns}
        if n:
            data["allowance"] = data["annual_budget_yuan"] / 12.0
        for ax, panel, lines in zip(self.axes, self.panels, self.lines, strict=True):
            top = 0.0
            for line, (column, *_) in zip(lines, panel.series, strict=True):
                values = data.get(column, np.zeros(0))
                line.set_data(month, values)
                line.set_marker("o" if n <= 2 else "")  # one month is a point, not a line
                top = max(top, float(values.max()) if len(values) else 0.0)
            # Head room above the lines keeps the legend clear of them.
            ax.set_ylim(*(panel.ylim or (0.0, top * 1.35 if top > 0 else 1.0)))
        self.axes[0].set_xlim(0.5, max(n, self.MIN_MONTHS) + 0.5)
        self.empty_note.set_visible(n == 0)
        return self.figure


    def _mark(self, changes) -> None:
        for artist in getattr(self, "markers", []):
            artist.remove()
        self.markers = []
        for month, label in changes:
            for k, ax in enumerate(self.axes):
                self.markers.append(ax.axvline(month - 0.5, color="#1b7837", ls="--", lw=1.1))
                if k < 3:  # labelled on the top row only, to keep the charts readable
                    self.markers.append(ax.annotate(
                        label[:24], xy=(month - 0.5, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -3), textcoords="offset points", rotation=90, va="top",
                        fontsize=7, color="#1b7837"))


def applied_changes(model: GovernanceModel) -> list[tuple[int, str]]:
    """The policy changes in force so far, as ``(month, label)`` (one per month)."""
    by_month: dict[int, list[str]] = {}
    for step in getattr(model, "timeline", []):
        if step.month <= model.steps:
            by_month.setdefault(step.month, []).append(step.label)
    return [(month, " + ".join(labels)) for month, labels in sorted(by_month.items())]


def charts_figure(frame: pd.DataFrame) -> Figure:
    """The run so far as six small charts (a new figure; see :class:`Charts`).

    Args:
        frame: the datacollector's model variables (columns of :mod:`govsim.metrics`).
    """
    return Charts().update(frame)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


# --- headline figures and the event feed -------------------------------------------------


@dataclass(frozen=True)
class Headline:
    """One figure of the headline panel."""

    label: str
    value: str
    unit: str
    change: str = ""  # vs last month, e.g. "+2.1 pts"; empty when there is none


def headlines(model: GovernanceModel, previous: dict | None = None) -> list[Headline]:
    """This month's headline figures, formatted with units.

    Args:
        model: the model; before its first month every value reads "–".
        previous: last month's row, to show changes; ``None`` shows none.
    """
    row = model.row
    spec = [
        ("Businesses complying", "compliance_rate", "pct", "of businesses"),
        ("Official failure rate", "sample_failure_rate", "pct", "of reports failed"),
        ("Unsafe food (truth)", "unsafe_share", "pct", "of businesses this month"),
        ("People ill", "illness_cases", "count", "people this month"),
        ("Complaints", "complaints", "count", "this month"),
        ("False passes", "false_pass_rate", "pct", "of reports, dishonest"),
        ("Collusion", "collusion_rate", "pct", "of reports bought"),
        ("Budget spent", "budget_spent", "yuan", "this month"),
        ("Public trust", "public_trust", "trust", "mean, 0 to 1"),
    ]
    out = []
    for label, key, kind, unit in spec:
        if row is None:
            out.append(Headline(label, "–", unit))
            continue
        change = "" if previous is None else _change(kind, row[key] - previous[key])
        out.append(Headline(label, _format(kind, row[key]), unit, change))
    if row is None:
        out.append(Headline("Agencies", "–", "contracted / blacklisted"))
    else:
        out.append(Headline("Agencies", f"{row['contracted_agencies']:.0f} / "
                            f"{row['blacklisted_agencies']:.0f}", "contracted / blacklisted"))
    annual = model.regulator.annual_budget_yuan
    out.append(Headline("Testing budget", f"¥{annual / 1000:,.0f}k", "per year"))
    return out


def _format(kind: str, value: float) -> str:
    if value != value:  # NaN: a rate over reports, in a month with no report
        return "no report"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "yuan":
        return f"¥{value:,.0f}"
    return f"{value:.3f}"


def _change(kind: str, delta: float) -> str:
    if delta != delta:  # a missing value this month or last
        return ""
    if kind == "pct":
        return f"{delta * 100:+.1f} pts" if abs(delta) >= 5e-4 else "±0"
    if kind == "trust":
        return f"{delta:+.3f}" if abs(delta) >= 5e-4 else "±0"
    return f"{delta:+,.0f}" if abs(delta) >= 0.5 else "±0"


def month_label(month: int) -> str:
    """``14`` -> ``"month 14 (year 2, month 2)"``; ``0`` -> ``"month 0 (not started)"``."""
    if month == 0:
        return "month 0 (not started)"
    return f"month {month} (year {(month - 1) // 12 + 1}, month {(month - 1) % 12 + 1})"


def event_kind(text: str) -> str:
    """A short category for an event line: policy, tender, blacklist, budget, disruption or
    other."""
    lowered = text.lower()
    if " -> " in text:  # a timeline change (govsim.phases.policy)
        return "policy"
    for kind, words in (("blacklist", ("blacklist",)), ("tender", ("tender",)),
                        ("budget", ("budget",)),
                        ("disruption", ("disruption", "capacity"))):
        if any(w in lowered for w in words):
            return kind
    return "other"


def recent_events(model: GovernanceModel, n: int = 8) -> list[tuple[int, str, str]]:
    """The latest ``n`` events, newest first, as ``(month, kind, text)``."""
    events = list(model.events)[-n:]
    return [(month, event_kind(text), text) for month, text in reversed(events)]
