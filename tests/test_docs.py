"""The ODD documents every parameter with its current default."""

from __future__ import annotations

import re
from pathlib import Path

import govsim

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


def odd_parameter_cells() -> dict[str, list[str]]:
    """The ODD's parameter table: each parameter's cells after its name (default, unit,
    range, meaning, source)."""
    rows = {}
    for line in ODD.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| `([a-z_.]+)` \|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_odd_lists_every_parameter_with_its_default():
    rows = {name: cells[0] for name, cells in odd_parameter_cells().items()}
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


def test_odd_gives_every_numeric_parameters_range_as_the_schema_allows_it():
    from govsim.fields import scenario_fields

    ranges = {name: cells[2] for name, cells in odd_parameter_cells().items()
              if len(cells) > 2}
    wrong = []
    for spec in scenario_fields(govsim.Scenario).values():
        if spec.minimum is None or spec.maximum is None or spec.choices:
            continue
        low = (">" if spec.exclusive_minimum else "") + f"{spec.minimum:g}"
        shown = ranges[spec.name].replace(",", "").replace("> ", ">")
        first, _, last = shown.partition(" to ")
        if first != low or float(last) != spec.maximum:
            wrong.append(f"{spec.name}: ODD {ranges[spec.name]!r}, schema {low} to "
                         f"{spec.maximum:g}")
    assert not wrong, wrong


ROOT = ODD.parent.parent


def test_docs_and_bundled_files_point_only_to_files_in_the_repository():
    texts = [ROOT / "README.md", ODD, *sorted((ROOT / "scenarios").glob("*.toml")),
             *sorted((ROOT / "experiments").glob("*.toml"))]
    for path in texts:
        text = path.read_text(encoding="utf-8")
        assert "MODEL.md" not in text and "../shared" not in text, path
        for target in re.findall(r"\]\(([^)#:]+)\)", text):  # relative Markdown links
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_package_docstrings_say_what_a_package_is_not_a_work_item():
    for init in (ROOT / "govsim").rglob("__init__.py"):
        doc = init.read_text(encoding="utf-8")
        assert not re.search(r"\(issue \d+\)|#\d+\b", doc), init
