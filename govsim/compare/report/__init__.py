"""The comparison report: ``report.html`` (self-contained), ``report.md`` with its PNGs, and
the data behind them.

It reads a finished :class:`~govsim.compare.core.Comparison` and is never imported by it.
One concept per module: ``format`` (how numbers read), ``tables`` (the tables' cells,
including the public cost lines of :mod:`govsim.compare.costs`), ``verdict`` (the opening
paragraph), ``figures`` (PNGs), ``method`` (method notes, what was run and how to reproduce
it), and the views ``html``, ``markdown`` and ``text``.
"""

from __future__ import annotations

from pathlib import Path

from govsim.compare.core import Comparison
from govsim.output import atomic_path

#: Files of a report, by key.
FILES = {"html": "report.html", "md": "report.md", "runs": "runs.parquet",
         "summary": "summary.csv", "runs_summary": "runs_summary.csv",
         "cost_effectiveness": "cost_effectiveness.csv"}
COMMAND = "command.txt"  # the exact command line, when the report comes from one


def render(c: Comparison, out: Path, command: str | None = None) -> dict[str, str | bytes]:
    """Every file of the report, in memory: ``{relative path: text or bytes}``.

    Args:
        c: the comparison.
        out: the folder it will be written to (named in the lines that reproduce it).
        command: the command line that made it, recorded in ``command.txt`` and the report.
    """
    from govsim.compare.report import figures, html, markdown, timeline
    from govsim.compare.report.method import SCENARIO_DIR

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
    files[FILES["cost_effectiveness"]] = c.cost_effectiveness.to_csv(index=False)
    if command is not None:
        files[COMMAND] = command + "\n"
    files[FILES["md"]] = markdown.render(c, pngs, out, command)
    files[FILES["html"]] = html.render(c, pngs, out, command)
    return files


def write_report(c: Comparison, out: Path, command: str | None = None,
                 final: Path | None = None) -> dict[str, Path]:
    """Write the report into ``out``, every file atomically, and all of them only once all
    are rendered, so a failure leaves ``out`` as it was.

    Args:
        c: the comparison.
        out: the folder written to.
        command: the command line that made it.
        final: the folder the report ends up in, when ``out`` is a staging folder swapped
            in afterwards (the report's lines that re-run it name this one).

    Returns:
        The paths of the files in :data:`FILES`, by key.
    """
    out = Path(out)
    files = render(c, out if final is None else Path(final), command)
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
