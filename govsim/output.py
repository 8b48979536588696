"""Writing results: atomic files, the one-run figure, and the headline table."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from govsim.run import RunResult, run
from govsim.sanity import no_testing_note
from govsim.scenario import Scenario

#: Headline figures as (column, label, format) for tables.
HEADLINES = (
    ("compliance_rate", "Businesses complying", "{:.1%}"),
    ("unsafe_share", "True unsafe share", "{:.2%}"),
    ("sample_failure_rate", "Official failure rate", "{:.2%}"),
    ("detection_rate", "Unsafe batches detected", "{:.1%}"),
    ("false_pass_rate", "False reports (shirked or bought)", "{:.1%}"),
    ("collusion_rate", "Bought passes", "{:.1%}"),
    ("illness_cases", "Illness cases / month", "{:,.0f}"),
    ("complaints", "Complaints / month", "{:,.0f}"),
    ("inspections", "Inspections / month", "{:,.0f}"),
    ("detected_violations", "Violations confirmed / month", "{:,.1f}"),
    ("fines_collected", "Fines collected (yuan/month)", "{:,.0f}"),
    ("budget_spent", "Budget spent (yuan/month)", "{:,.0f}"),
    ("public_trust", "Public trust", "{:.2f}"),
    ("agency_score_mean", "Agency performance score", "{:.2f}"),
)


@contextmanager
def atomic_path(path: Path):
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success, so a
    reader never sees a half-written file and an interrupted write leaves the old one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are for sharing
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: Path, text: str) -> Path:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_file(path: Path, content: str | bytes) -> Path:
    """Write a file atomically: text as UTF-8, bytes (a PNG, a Parquet file) as they are."""
    if isinstance(content, str):
        return write_text(path, content)
    with atomic_path(path) as tmp:
        tmp.write_bytes(content)
    return Path(path)


def run_with_progress(scenario: Scenario, seed: int) -> RunResult:
    """Run with a progress bar on a terminal (shown only for runs over a second)."""
    from tqdm import tqdm

    bar = tqdm(total=scenario.run.months, unit="month", delay=1.0, leave=False,
               disable=not sys.stderr.isatty(), desc=scenario.name)
    try:
        progress: Callable[[int, int], None] = lambda month, months: bar.update(1)  # noqa: E731
        return run(scenario, seed=seed, progress=progress)
    finally:
        bar.close()


def write_run(result: RunResult, out: Path, argv: list[str] | None = None,
              overrides: dict | None = None) -> list[Path]:
    """Write one run into ``out``: timeseries.csv, summary.json, outcomes.png, and what was
    run: scenario.toml (the full scenario, overrides applied) and command.txt.

    Args:
        result: the run.
        out: the folder.
        argv: the command line's arguments, recorded in command.txt and summary.json.
        overrides: the parameters set on the command line (``--set``, ``--months``), shown
            in summary.json and the figure's title.
    """
    from govsim.naming import command_line, record

    out = Path(out)
    overrides = dict(overrides or {})
    files = []
    with atomic_path(out / "timeseries.csv") as tmp:
        result.timeseries.to_csv(tmp, index=False)
    files.append(out / "timeseries.csv")
    files.append(write_text(out / "scenario.toml", result.scenario.to_toml()))
    summary = {"scenario": result.scenario.name, "seed": result.seed,
               "months": result.scenario.run.months, "overrides": overrides,
               "command": command_line(argv) if argv is not None else None,
               "summary": result.summary,
               "events": [f"month {m}: {t}" for m, t in result.events]}
    if result.scenario.timeline:
        from govsim import windows

        summary["timeline"] = windows.summary(result.timeseries, result.scenario)
    note = no_testing_note(result.timeseries)
    if note:
        summary["note"] = note
    files.append(write_text(out / "summary.json", json.dumps(summary, indent=2)))
    files.append(plot_outcomes(result, out / "outcomes.png", overrides))
    if argv is not None:
        files.append(record(out, argv))
    return files


def run_title(result: RunResult, overrides: dict | None = None) -> str:
    """What was run, for a figure: scenario, what the command line changed, seed."""
    changed = ", ".join(f"{k} = {v}" for k, v in (overrides or {}).items())
    return (f"govsim: {result.scenario.name}" + (f" with {changed}" if changed else "")
            + f" (seed {result.seed})")


#: Panels of outcomes.png: (title, y-axis label, scale, [(column, legend label)]). Shares are
#: drawn in per cent, each group on its own labelled axis: compliance (around 80%) and the
#: official failure rate (around 3%) would be unreadable on one 0-1 axis.
RUN_PANELS = (
    ("Businesses complying", "% of food businesses", 100,
     [("compliance_rate", "complying")]),
    ("What is unsafe, and what the tests see", "% of batches", 100,
     [("unsafe_share", "truly unsafe"), ("sample_failure_rate", "official failure rate")]),
    ("People per month", "people per month", 1,
     [("illness_cases", "fell ill"), ("complaints", "complained")]),
    ("Agency reports", "% of test reports", 100,
     [("false_pass_rate", "false (shirked or bought)"), ("collusion_rate", "bought passes")]),
    ("Public trust", "trust score (0 = none, 1 = full)", 1,
     [("public_trust", "mean trust of consumers")]),
    ("Money per month", "thousand yuan per month", 1e-3,
     [("budget_spent", "testing budget spent"), ("rewards_paid_yuan", "rewards paid"),
      ("fines_collected", "fines collected")]),
)


def plot_outcomes(result: RunResult, path: Path, overrides: dict | None = None) -> Path:
    """The main outcomes over time, one labelled panel per kind of figure; the title says
    what was run (scenario, command-line changes, seed)."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = result.timeseries
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5), sharex=True)
    for ax, (title, ylabel, scale, lines) in zip(axes.flat, RUN_PANELS, strict=True):
        for column, label in lines:
            if column in ts:
                ax.plot(ts.step, ts[column] * scale, label=label)
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=8)
    from govsim.windows import draw_markers

    for a in axes.flat:
        draw_markers(a, result.scenario)
    for a in axes[1]:
        a.set_xlabel("month")
    fig.suptitle(textwrap.fill(run_title(result, overrides), 150), fontsize=11)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png", metadata={"Software": None})
    plt.close(fig)
    return Path(path)


def summary_table(result: RunResult) -> str:
    """The headline figures (mean of the last 12 months) as an aligned text table."""
    s = result.summary
    months = min(12, result.scenario.run.months)
    window = (f"mean of all {months} months" if months == result.scenario.run.months
              else f"mean of the last {months} months")
    lines = [f"{result.scenario.name}: {window} "
             f"(seed {result.seed}, {result.scenario.run.months} months)"]
    width = max(len(label) for _, label, _ in HEADLINES)
    for key, label, fmt in HEADLINES:
        lines.append(f"  {label:<{width}}  {fmt.format(s[key]):>12}")
    if result.scenario.timeline:
        from govsim.windows import phase_text

        lines += ["", phase_text(result.timeseries, result.scenario)]
    note = no_testing_note(result.timeseries)
    if note:
        lines.append(f"  Note: {note}")
    return "\n".join(lines)
