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


def write_run(result: RunResult, out: Path) -> list[Path]:
    """Write timeseries.csv, summary.json and outcomes.png of one run into ``out``."""
    out = Path(out)
    files = []
    with atomic_path(out / "timeseries.csv") as tmp:
        result.timeseries.to_csv(tmp, index=False)
    files.append(out / "timeseries.csv")
    summary = {"scenario": result.scenario.name, "seed": result.seed,
               "months": result.scenario.run.months, "summary": result.summary,
               "events": [f"month {m}: {t}" for m, t in result.events]}
    note = no_testing_note(result.timeseries)
    if note:
        summary["note"] = note
    files.append(write_text(out / "summary.json", json.dumps(summary, indent=2)))
    files.append(plot_outcomes(result, out / "outcomes.png"))
    return files


def plot_outcomes(result: RunResult, path: Path) -> Path:
    """A 2x2 figure of the main outcomes over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ts = result.timeseries
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    ax = axes[0, 0]
    ax.plot(ts.step, ts.compliance_rate, label="businesses complying")
    ax.plot(ts.step, ts.unsafe_share, label="true unsafe share")
    ax.plot(ts.step, ts.sample_failure_rate, label="official failure rate")
    ax.set_title("Compliance and what the statistics see")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(ts.step, ts.illness_cases, label="illness cases")
    ax.plot(ts.step, ts.complaints, label="complaints")
    ax.set_title("People per month")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    ax.plot(ts.step, ts.false_pass_rate, label="false reports")
    ax.plot(ts.step, ts.collusion_rate, label="bought passes")
    ax.plot(ts.step, ts.public_trust, label="public trust")
    ax.set_title("Agencies' honesty and public trust")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    ax.plot(ts.step, ts.budget_spent / 1000, label="budget spent")
    ax.plot(ts.step, ts.fines_collected / 1000, label="fines collected")
    ax.set_title("Thousand yuan per month")
    ax.legend(fontsize=8)
    for a in axes[1]:
        a.set_xlabel("month")
    fig.suptitle(f"govsim: {result.scenario.name} (seed {result.seed})")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)


def summary_table(result: RunResult) -> str:
    """The headline figures (mean of the last 12 months) as an aligned text table."""
    s = result.summary
    months = min(12, result.scenario.run.months)
    lines = [f"{result.scenario.name}: mean of the last {months} months "
             f"(seed {result.seed}, {result.scenario.run.months} months)"]
    width = max(len(label) for _, label, _ in HEADLINES)
    for key, label, fmt in HEADLINES:
        lines.append(f"  {label:<{width}}  {fmt.format(s[key]):>12}")
    note = no_testing_note(result.timeseries)
    if note:
        lines.append(f"  Note: {note}")
    return "\n".join(lines)
