"""The report's title, its method notes and how to reproduce it: text shared by the HTML and
Markdown views."""

from __future__ import annotations

import shlex
from pathlib import Path

from govsim.compare import costs
from govsim.compare.core import Comparison, window_phrase
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
        f"A run's figure: {window_phrase(p).lower()}. The table gives "
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
        "Public cost per detected violation: total public cost (testing fees, back-checks, "
        "rewards and any other cost the model reports) divided by violations detected over "
        "the same months (n/a when none were). Batches per 1,000 people per year: batches tested "
        "x 12 x 1,000 / district population.",
        "Data beside this report: runs.parquet (one row per run and month), "
        "runs_summary.csv (one row per run), summary.csv (one row per scenario and outcome), "
        "cost_effectiveness.csv (one row per cure), "
        f"{SCENARIO_DIR}/*.toml (the exact scenarios run) and command.txt (the command line).",
    ]


def costs_note(c: Comparison) -> str:
    """What the cost table counts and how cost-effectiveness is computed."""
    missing = costs.not_counted(list(c.per_run.columns))
    lines = ", ".join(line.label.lower() for line in costs.lines_for(list(c.per_run.columns)))
    text = (f"Yuan per month ({window_phrase(c.plan).lower()}), mean over replicates "
            f"(95% interval). Public cost counts {lines}; the total is their sum.")
    if missing:
        text += f" Not counted: {', '.join(missing)} (the model does not price it)."
    return text + (" Cost per illness case averted: the mean extra public cost over the "
                   "mean cases averted, paired by replicate, with a 95% bootstrap interval "
                   f"({costs.RESAMPLES} resamples of the replicates); n/a when the cure "
                   "does not reduce illness significantly. Whether it costs more or less at "
                   "all is the paired test on total public cost, as in the effects table.")


def scenario_arg(source: str) -> str:
    """A scenario as one would type it: its name if it is the bundled file, else its path."""
    path = Path(source)
    bundled = bundled_scenarios().get(path.stem)
    if bundled is not None and bundled.resolve() == path.resolve():
        return path.stem
    return source


def run_list(c: Comparison) -> list[str]:
    """Exactly what was run: each scenario, where it came from, and the runs."""
    p = c.plan
    lines = [f"{s.name}: {p.replicates} runs of {s.run.months} months, from {scenario_arg(src)} "
             f"(as run: {SCENARIO_DIR}/{s.name}.toml)"
             for s, src in zip(p.scenarios, p.sources, strict=True)]
    return lines + [f"master seed {p.master_seed}; replicate seeds: "
                    + " ".join(map(str, p.seeds))]


def reproduce_lines(c: Comparison, out: Path | str = "out/compare",
                    command: str | None = None) -> list[str]:
    """Shell lines that redo the comparison, or one run of it alone; first the command as
    it was run, when known."""
    p = c.plan
    months = {s.run.months for s in p.scenarios}
    # with no cures, name the baseline itself: no scenarios at all means every bundled cure
    cures = p.sources[1:] or p.sources[:1]
    cmd = ["govsim", "compare", *(scenario_arg(s) for s in cures),
           "--baseline", scenario_arg(p.sources[0]), "--replicates", str(p.replicates),
           "--seed", str(p.master_seed)]
    if p.posterior:
        cmd += ["--posterior", p.posterior]
    if len(months) == 1:
        cmd += ["--months", str(months.pop())]
    name = p.names[-1]
    seed = p.seeds[0]
    # with --posterior, replicate 0 ran with its own draw of the fitted parameters
    drawn = [f"--set={k}={_toml(v)}" for k, v in p.drawn(len(p.names) - 1, 0).items()]
    as_run = ["# as run (also in command.txt)", command] if command else []
    return [
        *as_run,
        "# what was run",
        *(f"#   {line}" for line in run_list(c)),
        "# the whole comparison",
        shlex.join(cmd),
        f"# one run alone, e.g. replicate 0 of {name}:",
        shlex.join(["govsim", "run", f"{Path(out) / SCENARIO_DIR / name}.toml",
                    "--seed", str(seed), *drawn]),
    ]


def _toml(value) -> str:
    """A value as ``--set`` reads it (a TOML value, written by tomli_w as the scenario files
    are): floats in full, so the run is exact."""
    import tomli_w

    return tomli_w.dumps({"v": value}).partition("=")[2].strip()
