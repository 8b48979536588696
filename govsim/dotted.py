"""Dotted names: nested tables as read from TOML, flattened to ``{"section.field": value}``.

Scenarios, timeline changes and study files all accept a field either by its dotted name or
as TOML sub-tables (``[law] enforcement_probability = 0.9``); they keep the dotted form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def is_value(value: Any) -> bool:
    """A leaf of a table of values: anything that is not itself a table."""
    return not isinstance(value, dict)


def flatten(table: dict, is_leaf: Callable[[Any], bool] = is_value,
            prefix: str = "") -> dict:
    """``{"law": {"fine": 1}}`` -> ``{"law.fine": 1}``, down to the leaves ``is_leaf`` says."""
    out: dict = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if is_leaf(value):
            out[dotted] = value
        else:
            out.update(flatten(value, is_leaf, f"{dotted}."))
    return out
