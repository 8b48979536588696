"""The ODD documents every parameter with its current default."""

from __future__ import annotations

import re
from pathlib import Path

import govsim

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


def test_odd_lists_every_parameter_with_its_default():
    rows = {}
    for line in ODD.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([a-z_.]+)` \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    flat = govsim.Scenario().flat()
    missing = [name for name in flat if name not in ("name", "description") and name not in rows]
    assert not missing, f"parameters missing from docs/ODD.md: {missing}"
    for name, default in flat.items():
        if name in rows:
            shown = rows[name].replace(",", "")
            if default is None:
                assert shown == "none", name
            elif isinstance(default, bool):
                assert shown == str(default).lower(), name
            elif isinstance(default, str):
                assert shown.strip('"') == default, name
            else:
                assert float(shown) == float(default), name
