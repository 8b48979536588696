"""How numbers read in every report: values, intervals and effects, with one rule each.

Effects against the baseline read in the unit a policymaker thinks in: percentage points for
shares (compliance 13% -> 45% is "+32 pp"), points for the 0-1 trust score, and per cent for
counts and money (illness "-41%"), falling back to the absolute change when the baseline is 0.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from govsim.compare.core import OUTCOME, Outcome

NA = "n/a"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def signed(fmt: str, x: float) -> str:
    """``x`` in ``fmt`` (a format without sign) with an explicit sign, and no sign on a
    figure that rounds to zero ("0.0", not "-0.0" or "+0.0")."""
    text = fmt.replace("{:", "{:+", 1).format(x)
    if not any(ch in "123456789" for ch in text):
        text = text.lstrip("+-")
    return text


def bound(fmt: str, x: float) -> str:
    """An interval's end, signed, with up to two more decimals when it would otherwise read
    as zero: an interval that excludes zero must not look as if it touched it."""
    text = signed(fmt, x)
    match = re.search(r"\.(\d+)", fmt)
    for extra in (1, 2):
        if x == 0 or match is None or any(ch in "123456789" for ch in text):
            break
        digits = int(match.group(1)) + extra
        text = signed(f"{fmt[:match.start()]}.{digits}{fmt[match.end():]}", x)
    return text


def value(o: Outcome | str, x: float) -> str:
    """A value in its outcome's format, e.g. ``45.1%``."""
    o = OUTCOME[o] if isinstance(o, str) else o
    return NA if _missing(x) else o.fmt.format(x)


def interval(o: Outcome | str, low: float, high: float) -> str:
    """An interval of values, e.g. ``44.0% to 46.2%``."""
    if _missing(low) or _missing(high):
        return NA
    return f"{value(o, low)} to {value(o, high)}"


def _effect_parts(o: Outcome, row: pd.Series) -> tuple[float, float, float, str]:
    """The effect's (value, low, high) in display units, and the unit's format."""
    if o.kind == "share":
        return row["diff"] * 100, row["diff_low"] * 100, row["diff_high"] * 100, "{:.1f}"
    if o.kind == "index":
        return row["diff"], row["diff_low"], row["diff_high"], "{:.3f}"
    if not _missing(row["rel"]):
        d, lo, hi = row["rel"] * 100, row["rel_low"] * 100, row["rel_high"] * 100
        return d, lo, hi, "{:.1f}" if abs(d) < 10 else "{:.0f}"
    return row["diff"], row["diff_low"], row["diff_high"], o.fmt


def effect_unit(o: Outcome | str, row: pd.Series | None = None) -> str:
    """The unit an effect is shown in: ``" pp"``, ``"%"``, or ``""`` (points, absolute)."""
    o = OUTCOME[o] if isinstance(o, str) else o
    if o.kind == "share":
        return " pp"
    if o.kind == "amount" and (row is None or not _missing(row["rel"])):
        return "%"
    return ""


def effect(row: pd.Series) -> str:
    """A statistics row's effect against the baseline, e.g. ``+32.1 pp``."""
    o = OUTCOME[row["outcome"]]
    d, _, _, fmt = _effect_parts(o, row)
    return NA if _missing(d) else signed(fmt, d) + effect_unit(o, row)


def effect_interval(row: pd.Series) -> str:
    """The effect's 95% interval, e.g. ``+29.0 to +35.2 pp``."""
    o = OUTCOME[row["outcome"]]
    _, lo, hi, fmt = _effect_parts(o, row)
    if _missing(lo) or _missing(hi):
        return NA
    return f"{bound(fmt, lo)} to {bound(fmt, hi)}{effect_unit(o, row)}"


#: How each significant direction is marked, with its meaning.
MARKS = {
    "better": ("better", "significantly better than the baseline"),
    "worse": ("worse", "significantly worse than the baseline"),
    "changed": ("changed", "significantly different (neither better nor worse in itself)"),
    "": ("", "not distinguishable from the baseline (95% interval includes zero)"),
}
