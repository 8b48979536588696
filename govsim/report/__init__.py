"""The comparison report: ``report.html`` (self-contained), ``report.md`` with its PNGs, and
the data behind them.

One concept per module: :mod:`~govsim.report.format` (how numbers read),
:mod:`~govsim.report.tables` (the tables' cells), :mod:`~govsim.report.verdict` (the opening
paragraph), :mod:`~govsim.report.figures` (PNGs), :mod:`~govsim.report.method` (method notes
and how to reproduce), :mod:`~govsim.report.html`, :mod:`~govsim.report.markdown` and
:mod:`~govsim.report.text` (the views).
"""

from __future__ import annotations

from pathlib import Path

from govsim.compare import Comparison
from govsim.output import atomic_path

#: Files of a report, by key.
FILES = {"html": "report.html", "md": "report.md", "runs": "runs.parquet",
         "summary": "summary.csv", "runs_summary": "runs_summary.csv"}


def render(c: Comparison, out: Path) -> dict[str, str | bytes]:
    """Every file of the report, in memory: ``{relative path: text or bytes}``."""
    from govsim.report import figures, html, markdown, timeline
    from govsim.report.method import SCENARIO_DIR

    pngs = {"timeseries.png": figures.timeseries_png(c)}
    effects = figures.effects_png(c)
    if effects is not None:
        pngs["effects.png"] = effects
    changes = timeline.timeline_png(c)
    if changes is not None:
        pngs[timeline.FIGURE] = changes
    files: dict[str, str | bytes] = dict(pngs)
    for scenario in c.plan.scenarios:
        files[f"{SCENARIO_DIR}/{scenario.name}.toml"] = scenario.to_toml()
    files[FILES["runs"]] = c.runs.to_parquet(None, index=False)  # bytes
    files[FILES["summary"]] = c.stats.to_csv(index=False)
    files[FILES["runs_summary"]] = c.per_run.to_csv(index=False)
    files[FILES["md"]] = markdown.render(c, pngs, out)
    files[FILES["html"]] = html.render(c, pngs, out)
    return files


def write_report(c: Comparison, out: Path) -> dict[str, Path]:
    """Write the report into ``out``, every file atomically, and all of them only once all
    are rendered, so a failure leaves ``out`` as it was.

    Returns:
        The paths of the files in :data:`FILES`, by key.
    """
    out = Path(out)
    files = render(c, out)
    # the HTML last: once it is there, everything it refers to is
    html = files.pop(FILES["html"])
    for rel, content in files.items():
        _write(out / rel, content)
    _write(out / FILES["html"], html)
    return {key: out / name for key, name in FILES.items()}


def _write(path: Path, content: str | bytes) -> None:
    with atomic_path(path) as tmp:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        else:
            tmp.write_bytes(content)
