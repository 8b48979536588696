"""The report's title, its method notes and how to reproduce it: text shared by the HTML and
Markdown views."""

from __future__ import annotations

import shlex
from pathlib import Path

from govsim.compare import Comparison
from govsim.run import SUMMARY_MONTHS
from govsim.scenario import bundled_scenarios

SCENARIO_DIR = "scenarios"  # beside the report: the exact scenarios run


def title(c: Comparison) -> str:
    """The report's title."""
    cures = len(c.plan.names) - 1
    if not cures:
        return f"govsim: the {c.plan.baseline.name} scenario"
    return (f"What-if comparison: {cures} cure{'s' if cures > 1 else ''} against "
            f"{c.plan.baseline.name}")


def method_notes(c: Comparison) -> list[str]:
    """How the figures were made, one point each."""
    p = c.plan
    return [
        f"Each scenario was run {p.replicates} times (replicates). Replicate r uses the same "
        f"seed in every scenario, the r-th child of numpy's SeedSequence({p.master_seed}) "
        "(govsim.compare.replicate_seed), so scenarios differ only by their parameters "
        "(common random numbers) and every run can be re-run alone.",
        f"A run's figure is its mean over its last {SUMMARY_MONTHS} months. The table gives "
        "the mean over replicates with a 95% Student t confidence interval.",
        "A difference from the baseline is the mean of the per-replicate differences "
        "(scenario minus baseline, same seed), with a 95% paired t interval; it is flagged "
        "when that interval excludes zero. A percentage change is the difference divided by "
        "the baseline's mean, and so is its interval.",
        *([f"Intervals include parameter uncertainty: replicate r ran with the r-th draw from "
           f"the calibrated posterior in {p.posterior} (govsim.calibrate.posterior), the same "
           "draw in every scenario (so differences stay paired), on the fitted fields a "
           "scenario does not change itself. Without --posterior they cover seed noise only."]
          if p.draws else []),
        "No correction is made for testing many outcomes and scenarios: about one in twenty "
        "effects that do not exist will still be flagged, so read isolated small flags "
        "with care.",
        "Cost per detected violation: budget spent divided by violations detected over the "
        "same months (n/a when none were). Batches per 1,000 people per year: batches tested "
        "x 12 x 1,000 / district population.",
        "Data beside this report: runs.parquet (one row per run and month), "
        "runs_summary.csv (one row per run), summary.csv (one row per scenario and outcome), "
        f"and {SCENARIO_DIR}/*.toml (the exact scenarios run).",
    ]


def scenario_arg(source: str) -> str:
    """A scenario as one would type it: its name if it is the bundled file, else its path."""
    path = Path(source)
    bundled = bundled_scenarios().get(path.stem)
    if bundled is not None and bundled.resolve() == path.resolve():
        return path.stem
    return source


def reproduce_lines(c: Comparison, out: Path | str = "out/compare") -> list[str]:
    """Shell lines that redo the comparison, or one run of it alone."""
    p = c.plan
    months = {s.run.months for s in p.scenarios}
    cmd = ["govsim", "compare", *(scenario_arg(s) for s in p.sources[1:]),
           "--baseline", scenario_arg(p.sources[0]), "--replicates", str(p.replicates),
           "--seed", str(p.master_seed)]
    if p.posterior:
        cmd += ["--posterior", p.posterior]
    if len(months) == 1:
        cmd += ["--months", str(months.pop())]
    name = p.names[-1]
    seed = p.seeds[0]
    return [
        "# the whole comparison",
        shlex.join(cmd),
        f"# one run alone, e.g. replicate 0 of {name}:",
        shlex.join(["govsim", "run", f"{Path(out) / SCENARIO_DIR / name}.toml",
                    "--seed", str(seed)]),
        f"# seeds of replicates 0-{p.replicates - 1}: " + " ".join(map(str, p.seeds)),
    ]
