"""Readable names and units for the figures of a sweep analysis.

Tables keep the exact dotted names (a reader types them into experiment files); figures show
what a name means, with its unit, and shares in per cent.
"""

from __future__ import annotations

from dataclasses import dataclass

from govsim.metrics import RATE_COLUMNS
from govsim.output import HEADLINES

_HEADLINE = {key: label for key, label, _ in HEADLINES}
_MORE = {
    "rewards_paid_yuan": "Rewards paid (yuan/month)",
    "backchecks": "Back-checks / month",
    "batches_tested": "Batches tested / month",
    "batches_reported": "Batches reported / month",
    "unsafe_purchase_share": "Unsafe purchases",
    "businesses_fined": "Businesses fined / month",
    "false_reports_found": "False reports found / month",
    "fees_recovered_yuan": "Fees recovered (yuan/month)",
    "public_cost_yuan": "Public cost (yuan/month)",
    "testing_fees_yuan": "Testing fees (yuan/month)",
    "backcheck_cost_yuan": "Back-check cost (yuan/month)",
    "inspection_cost_yuan": "Inspection cost (yuan/month)",
    "illness_per_100k": "Illness / 100,000 people / month",
    "complaints_per_100k": "Complaints / 100,000 people / month",
}


@dataclass(frozen=True)
class Axis:
    """How an outcome is drawn: its label (with unit) and the factor its values are
    multiplied by (100 for shares, drawn in per cent)."""

    label: str
    scale: float = 1.0


def outcome_axis(name: str) -> Axis:
    """The label and scale of an outcome, e.g. ``compliance_rate`` -> "Businesses complying
    (%)", x100."""
    label = _HEADLINE.get(name) or _MORE.get(name) or name.replace("_", " ")
    if name in RATE_COLUMNS or name.endswith(("_rate", "_share")):
        if name == "public_trust" or name == "agency_score_mean":
            return Axis(f"{label} (0-1 score)")
        return Axis(f"{label} (%)", 100.0)
    return Axis(label)


def parameter_label(dotted: str) -> str:
    """A dotted parameter as words, e.g. ``performance.backcheck_rate`` -> "back-check
    rate (performance)"; a free parameter keeps its name."""
    section, _, field = dotted.partition(".")
    if not field:
        return dotted
    words = field.replace("backcheck", "back-check").replace("_", " ")
    words = words.removesuffix(" yuan") + (" (yuan)" if words.endswith(" yuan") else "")
    return f"{words} [{section}]"
