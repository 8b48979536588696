"""The optimisation's report (report.md, report.html) and result files (front.csv,
trials.csv, front.png, front/*.toml), in the style of the compare report: the answer in plain
language first, then the evidence.

The report is built once as a list of blocks (heading, paragraph, table, figure, ...) and
rendered twice, so the Markdown and the HTML always say the same thing.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from govsim.intervals import paired_difference
from govsim.optimise import folder
from govsim.optimise.figure import axes_of, front_png
from govsim.optimise.front import non_dominated
from govsim.optimise.problem import Measure, Problem
from govsim.optimise.runner import STATUS_QUO, Result
from govsim.output import write_file
from govsim.timeline import parameter_values as timeline_values

Block = tuple


def write_results(result: Result) -> dict[str, Path]:
    """Write every result file into the optimisation's folder (each one atomically)."""
    out = result.out
    png = front_png(result)
    blocks = build(result)
    files = {
        "front.png": write_file(out / "front.png", png),
        "front.csv": write_file(out / "front.csv", front_csv(result)),
        "trials.csv": write_file(out / "trials.csv", trials_csv(result)),
    }
    scenarios = front_scenarios(result)
    if scenarios:
        files["front"] = folder.replace_folder(out / "front", scenarios)
    files["report.md"] = write_file(out / "report.md", markdown(blocks))
    files["report.html"] = write_file(out / "report.html",
                                      html(blocks, {"front.png": png}, _title(result)))
    return files


# --- numbers as text ---------------------------------------------------------------------


def number(x: float) -> str:
    """Readable: 812,345 / 0.953 / 1.2e-05."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 1 or x == 0:
        return f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) < 100 else f"{x:,.1f}"
    return f"{x:.3g}"


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return number(v)
    return str(v)


def with_interval(interval: tuple[float, float, float]) -> str:
    mean, low, high = interval
    if math.isnan(low):
        return number(mean)
    return f"{number(mean)} [{number(low)}, {number(high)}]"


# --- the answer ----------------------------------------------------------------------------


def _title(result: Result) -> str:
    p = result.problem
    return f"govsim optimise: {p.description or p.name}"


def status_quo(result: Result) -> dict[str, Any]:
    """The base scenario's value of each field and of each part of a named timeline change
    (levers may be either), by dotted name; empty for a free-parameter model."""
    base = result.prepared.base
    return {**base.flat(), **timeline_values(base)} if base is not None else {}


def changes(result: Result, params: dict[str, Any]) -> list[str]:
    """``budget.annual_yuan 812,000 (status quo 400,000)`` for each lever."""
    base = status_quo(result)
    out = []
    for name, v in params.items():
        was = base.get(name)
        out.append(f"{name} {value(v)}" + (f" (status quo {value(was)})"
                                           if was is not None else ""))
    return out


def answer(result: Result) -> str:
    """The plain-language answer to the problem's question."""
    p = result.problem
    n = len(result.rows)
    limits = " and ".join(c.text() for c in p.constraints)
    kept, dropped = result.kept, result.dropped
    fresh = f"{p.reevaluate} fresh runs"
    if not p.multi:
        o = p.objectives[0]
        if not kept:
            why = (f"of the {len(dropped)} that did in the search, none still did when re-run "
                   f"with {fresh}" if dropped else f"none of the {n} mixes tried did")
            closest = _closest(result)
            return (f"No mix found meets {limits or 'the problem'}: {why}. " + closest).strip()
        best = kept[0]
        figure = with_interval(best.interval[o.key])
        unit = (" yuan" + (" a year" if o.per == "year" else " a month")
                if o.output.endswith("yuan") else "")
        lead = (f"The cheapest mix found that reaches {limits} costs {figure}{unit}"
                if o.direction == "minimise" and "cost" in o.output and limits else
                f"The best mix found{' that meets ' + limits if limits else ''} has "
                f"{o.title} {figure}")
        settings = "; ".join(changes(result, best.params))
        others = [f"{m.title} {with_interval(best.interval[m.key])}" for m in p.measures
                  if m.key != o.key]
        text = (f"{lead} (mean of {fresh}, 95% interval): {settings}."
                + (f" With it: {'; '.join(others)}." if others else ""))
        text += "".join(f" {note}" for note in at_bounds(result.prepared, best.params))
        text += "".join(f" {note}" for note in close_to_limits(p, best))
        if STATUS_QUO in result.references:
            sq = result.references[STATUS_QUO][1]
            text += (" The status quo: " + "; ".join(
                f"{m.title} {with_interval(sq.interval(m.key))}" for m in p.measures) + ".")
            difference = _against_status_quo(o, best.fresh, sq)
            text += f" {difference}" if difference else ""
        return text
    a, b = p.objectives[0], p.objectives[1]
    if not kept:
        return (f"No mix found meets {limits or 'the limits'}" if limits else
                "The search found no usable mix") + f" ({n} tried)."
    ends = sorted(kept, key=lambda c: c.figures[a.key])
    first, last = ends[0], ends[-1]
    text = (f"The front of {a.title} against {b.title} holds {len(kept)} mixes after "
            f"re-running each with {fresh}: from {a.title} {number(first.figures[a.key])} "
            f"with {b.title} {number(first.figures[b.key])}, to {a.title} "
            f"{number(last.figures[a.key])} with {b.title} {number(last.figures[b.key])}.")
    if dropped:
        text += (f" {len(dropped)} of the search's front looked better than they are and "
                 "were dropped.")
    if STATUS_QUO in result.references:
        status_quo = result.references[STATUS_QUO][1]
        sq = status_quo.means()
        sure = [surely_better(p, c.fresh, status_quo) for c in kept]
        on_mean = sum(_dominates(p, c.figures, sq) and not s for c, s in zip(kept, sure,
                                                                               strict=True))
        text += (f" The status quo ({a.title} {number(sq[a.key])}, {b.title} "
                 f"{number(sq[b.key])}) is " + (
                     f"beaten on both by {sum(sure)} of them" if any(sure) else
                     "not surely beaten on both by any of them")
                 + " (paired by replicate: both differences' 95% intervals exclude zero)")
        if on_mean:
            text += f"; {on_mean} more do better on both on the mean only, within noise"
        text += "."
    return text + "".join(f" {note}" for note in bundled_beating(result))


def _against_status_quo(o: Measure, best, status_quo) -> str:
    """The answer's difference from the status quo on the objective, paired by replicate
    (the two were run with the same fresh seeds)."""
    mean, low, high, _ = paired_difference(best.per_run[o.key], status_quo.per_run[o.key])
    if math.isnan(low):
        return ""
    noise = " (within noise)" if low <= 0 <= high else ""
    return (f"Its {o.title} differs from the status quo's by {number(mean)} (95% interval "
            f"{number(low)} to {number(high)}, paired by replicate){noise}.")


def surely_better(p: Problem, x, y) -> bool:
    """Whether evaluation ``x`` does better than ``y`` on every objective beyond noise:
    each paired difference's 95% interval excludes zero on the better side. The two were
    run with the same fresh seeds, so their runs pair by replicate, and the pairing
    removes the noise both share."""
    for o in p.objectives:
        _, low, high, _ = paired_difference(x.per_run[o.key], y.per_run[o.key])
        if not (high < 0 if o.direction == "minimise" else low > 0):
            return False  # NaN bounds (one replicate) compare False: not sure either
    return True


def bundled_beating(result: Result) -> list[str]:
    """Notes on bundled scenarios that do better on every objective than some of the
    front's mixes, beyond noise (:func:`surely_better`): they reach it with settings beyond
    the levers searched, which the reader should know."""
    p = result.problem
    base = result.references.get(STATUS_QUO)
    notes = []
    for name, (scenario, evaluation) in result.references.items():
        if name == STATUS_QUO or not evaluation.ok:
            continue
        beaten = [k for k, c in enumerate(result.kept, start=1)
                  if surely_better(p, evaluation, c.fresh)]
        if not beaten:
            continue
        beyond = sorted(set(scenario.diff(base[0])) - set(p.levers)) if base else []
        how = f", which also changes {', '.join(beyond)}," if beyond else ""
        points = ", ".join(map(str, beaten))
        notes.append(f"The bundled scenario {name}{how} does better on both than point"
                     f"{'s' if len(beaten) > 1 else ''} {points} (paired by replicate, "
                     "beyond noise): the levers searched may not be the ones that matter "
                     "most.")
    return notes


def close_to_limits(problem, candidate) -> list[str]:
    """Notes on limits a candidate meets on its mean while its 95% interval reaches past
    them: the limit is met on average, not surely."""
    notes = []
    for c in problem.constraints:
        mean, low, high = candidate.interval[c.key]
        past = low < c.at_least if c.at_least is not None else high > c.at_most
        if past and not math.isnan(low):
            notes.append(f"It meets {c.text()} on the mean of the fresh runs, but its 95% "
                         f"interval ({number(low)} to {number(high)}) reaches past the limit: "
                         "more fresh runs (reevaluate) or a margin on the limit would make "
                         "it sure.")
    return notes


def at_bounds(prepared, params: dict[str, Any]) -> list[str]:
    """Notes on levers at an end of their search range that the field itself would allow
    passing: the best mix may lie beyond it."""
    notes = []
    for name, lever in prepared.problem.levers.items():
        if lever.range is None:
            continue
        low, high = lever.range
        x, lo, hi = params[name], low, high
        if lever.scale == "log":
            x, lo, hi = math.log(x), math.log(low), math.log(high)
        share = (x - lo) / (hi - lo)
        if share <= 0.02 or share >= 0.98:
            end, bound = ("low", low) if share <= 0.02 else ("high", high)
            if not _field_allows(prepared, name, bound * (0.9 if end == "low" else 1.1)
                                 if bound else (-1.0 if end == "low" else 1.0)):
                continue
            notes.append(f"{name} is at the {end} end of its search range ({number(bound)}): "
                         "a better mix may lie beyond it.")
    return notes


def _field_allows(prepared, name: str, x: float) -> bool:
    if prepared.base is None:
        return True
    if prepared.kinds.get(name) == "int":
        x = int(round(x))
    try:
        prepared.base.with_overrides({name: x})
    except Exception:  # refused by the scenario's rules: the range ends where the field does
        return False
    return True


def _dominates(p: Problem, x: dict[str, float], y: dict[str, float]) -> bool:
    sx = np.array([x[o.key] if o.direction == "minimise" else -x[o.key] for o in p.objectives])
    sy = np.array([y[o.key] if o.direction == "minimise" else -y[o.key] for o in p.objectives])
    return bool(np.all(sx <= sy) and np.any(sx < sy))


def _closest(result: Result) -> str:
    p = result.problem
    rows = [r for r in result.rows if r["state"] == "complete"]
    if not rows or not p.constraints:
        return ""
    def gap(r):
        return sum(max(0.0, c.violation(r[c.key])) for c in p.constraints)
    r = min(rows, key=gap)
    params = {name: r[name] for name in p.levers}
    figures = "; ".join(f"{c.title} {number(r[c.key])}" for c in p.constraints)
    return (f"The closest (trial {r['trial']}, search figures): {figures}, with "
            f"{'; '.join(changes(result, params))}.")


# --- the sections --------------------------------------------------------------------------


def build(result: Result) -> list[Block]:
    """The report as blocks."""
    blocks: list[Block] = [("h1", _title(result)), ("meta", _meta(result)),
                           ("verdict", answer(result))]
    blocks += [("h2", "Cost against safety"),
               ("img", "front.png", "Every mix tried (search figures), the front after "
                "re-evaluation with 95% intervals, points dropped by the noise check (arrow "
                "from their search figures), the status quo (star) and the bundled "
                "scenarios (diamonds), all on the same axes.")]
    blocks += _noise_section(result)
    blocks += _marginal_section(result)
    blocks += _importance_section(result)
    blocks += _settings_section(result)
    blocks += _references_section(result)
    notes = _method(result)
    blocks += [("h2", "Method and reproducibility"), ("ul", notes),
               ("pre", "\n".join(_reproduce(result)))]
    return blocks


def _meta(result: Result) -> str:
    p = result.problem
    s = result.search
    months = (f"{result.prepared.base.run.months} months per run, measures over the last "
              f"{p.window}" if result.prepared.base is not None else "toy model")
    return (f"{len(result.rows)} mixes tried ({s.ran} in this session, {s.elapsed:.0f} s) · "
            f"{p.replicates} runs each with common seeds · front re-run with {p.reevaluate} "
            f"fresh runs · {months} · seed {p.seed} · {result.executor}")


def _noise_section(result: Result) -> list[Block]:
    p = result.problem
    checked = result.checked
    if not checked:
        return [("h2", "Noise check"), ("p", "No candidate met the limits in the search, so "
                                             "there was nothing to re-evaluate.")]
    dropped = result.dropped
    summary = (f"{len(dropped)} of the {len(checked)} front candidates were DROPPED: their "
               f"search figures ({p.replicates} runs) were luckier than {p.reevaluate} fresh "
               "runs confirm." if dropped else
               f"All {len(checked)} front candidates held up when re-run with {p.reevaluate} "
               "fresh runs; none was dropped.")
    header = ["trial", "kept", *[f"{m.title}: search" for m in p.measures],
              *[f"{m.title}: re-run [95% interval]" for m in p.measures], "why dropped"]
    rows = []
    for c in checked:
        fresh = [with_interval(c.interval[m.key]) if c.fresh.ok else "failed"
                 for m in p.measures]
        rows.append([str(c.trial), "yes" if c.kept else "DROPPED",
                     *[number(c.search[m.key]) for m in p.measures], *fresh, c.reason])
    return [("h2", "Noise check"), ("p", summary), ("table", header, rows)]


def _marginal_section(result: Result) -> list[Block]:
    axes = axes_of(result.problem)
    if axes is None:
        return []
    mx, my = axes
    p = result.problem
    if p.multi:  # with the half-width of each point's 95% interval of the safety figure
        points = [(c.figures[mx.key], c.figures[my.key], _half(c.interval[my.key]))
                  for c in result.kept]
        source = f"the front after re-evaluation ({p.reevaluate} fresh runs)"
    else:
        half = _search_half_width(result, my.key)
        points = [(x, y, half) for x, y in _tradeoff(result, mx, my)]
        source = (f"the cheapest mix tried at each level of {my.title} (search figures, "
                  f"{p.replicates} runs each, whose noise is estimated from the spread of "
                  "the re-run candidates' runs)")
    points.sort()
    if len(points) < 2:
        return [("h2", "Marginal cost of safety"),
                ("p", "The front has fewer than two points: no marginal cost to show.")]
    per, unit = _unit(my)
    rows = [_step_row(a, b, per) for a, b in _steps_beyond_noise(points)]
    header = [mx.title, my.title, f"extra {mx.title}", f"{mx.title} per {unit} of {my.title}"]
    return [("h2", "Marginal cost of safety"),
            ("p", f"Along {source}, from the cheapest point up: what each further step of "
                  f"{my.title} costs in {mx.title}. A step runs on to the next point whose "
                  f"{my.title} differs from its start by more than their noise (95% "
                  "intervals), so each cost is over a real difference."),
            ("table", header, rows)]


Point = tuple[float, float, float]  # cost, safety, half-width of the safety's interval


def _steps_beyond_noise(points: list[Point]) -> list[tuple[Point, Point]]:
    """Consecutive steps along ``points`` (sorted by cost), each from its start to the
    first point whose safety differs from the start's beyond both intervals; the points
    left over at the end, within noise of the last start, make a last step."""
    steps, start = [], points[0]
    for point in points[1:]:
        if abs(point[1] - start[1]) > math.hypot(start[2], point[2]):  # NaN: every point
            steps.append((start, point))
            start = point
    if start is not points[-1]:
        steps.append((start, points[-1]))
    return steps


def _step_row(a: Point, b: Point, per: float) -> list[str]:
    (x0, y0, h0), (x1, y1, h1) = a, b
    dy = (y1 - y0) * per
    if abs(y1 - y0) <= math.hypot(h0, h1):  # only the last step can be within noise
        cost = "n/a (the step is within noise)"
    else:
        cost = number((x1 - x0) / abs(dy)) if dy else "n/a"
    return [f"{number(x0)} → {number(x1)}", f"{number(y0)} → {number(y1)}",
            number(x1 - x0), cost]


def _search_half_width(result: Result, key: str) -> float:
    """Half the width of the 95% interval of a search figure (a mean of ``replicates``
    runs), from the run-to-run spread of the re-evaluated candidates, pooled (NaN if no
    candidate has two runs). A search point's own few runs would give a wild estimate."""
    variances = [c.fresh.per_run[key].var(ddof=1) for c in result.checked
                 if c.fresh.ok and c.fresh.per_run[key].count() >= 2]
    if not variances:
        return math.nan
    return 1.96 * math.sqrt(float(np.mean(variances)) / result.problem.replicates)


def _half(interval: tuple[float, float, float]) -> float:
    """Half the width of a 95% interval ``(mean, low, high)`` (0 when it has none)."""
    _, low, high = interval
    return 0.0 if math.isnan(low) else (high - low) / 2


def _unit(m: Measure) -> tuple[float, str]:
    if m.output.endswith("_rate") or m.output.endswith("_share"):
        return 100.0, "percentage point"
    return 1.0, "unit"


def _tradeoff(result: Result, mx: Measure, my: Measure) -> list[tuple[float, float]]:
    """The non-dominated (x lower, y better) points among every mix tried."""
    p = result.problem
    rows = [r for r in result.rows if r["state"] == "complete"
            and not math.isnan(r[mx.key]) and not math.isnan(r[my.key])]
    if not rows:
        return []
    x_sign = 1 if p.objectives[0].direction == "minimise" else -1
    c = next((c for c in p.constraints if c.key == my.key), None)
    y_sign = -1 if c is not None and c.at_least is not None else 1
    values = np.array([[x_sign * r[mx.key], y_sign * r[my.key]] for r in rows])
    mask = non_dominated(values)
    return sorted({(r[mx.key], r[my.key]) for r, k in zip(rows, mask, strict=True) if k})


def _importance_section(result: Result) -> list[Block]:
    if not result.importance:
        return [("h2", "Which levers matter"),
                ("p", "Too few finished trials to estimate the levers' importance.")]
    p = result.problem
    keys = [m for m in p.measures if m.key in result.importance]
    rows = [[name, *[f"{result.importance[m.key].get(name, 0.0):.2f}" for m in keys]]
            for name in p.levers]
    rows.sort(key=lambda r: -max(float(x) for x in r[1:]))
    return [("h2", "Which levers matter"),
            ("p", "optuna's PED-ANOVA importance of each lever for reaching the best 10% of "
                  "each measure among the mixes tried (larger: the lever matters more; 0: "
                  "the best mixes use any value). The search samples good regions more "
                  "densely, so read these as a guide."),
            ("table", ["lever", *[m.title for m in keys]], rows)]


def _settings_section(result: Result) -> list[Block]:
    p = result.problem
    kept = result.kept
    if not kept:
        return []
    base = status_quo(result)
    has_base = bool(base)
    header = ["", *(["status quo"] if has_base else []),
              *[f"point {k} (trial {c.trial})" for k, c in enumerate(kept, start=1)]]
    rows = []
    for name in p.levers:
        rows.append([name, *([value(base.get(name))] if has_base else []),
                     *[value(c.params[name]) for c in kept]])
    sq = result.references.get(STATUS_QUO)
    for m in p.measures:
        rows.append([m.title, *([with_interval(sq[1].interval(m.key))] if sq else
                                ["n/a"] if has_base else []),
                     *[with_interval(c.interval[m.key]) for c in kept]])
    front = result.out / "front"
    note = ("Lever settings, then the measures (mean of the fresh runs with its 95% "
            "interval). Each point is saved as a scenario in front/, beside the status quo "
            "with the same fixed settings and run length, ready for "
            f"`govsim compare {front / 'point_1.toml'} --baseline {front / STATUS_QUO_FILE}`."
            if has_base else "Lever settings, then the measures (fresh runs, 95% interval).")
    return [("h2", "The front against the status quo"), ("p", note),
            ("table", header, rows)]


def _references_section(result: Result) -> list[Block]:
    if not result.references:
        return []
    p = result.problem
    header = ["scenario", *[m.title for m in p.measures], "meets the limits"]
    rows = []
    for name, (_, e) in result.references.items():
        means = e.means()
        ok = all(c.violation(means[c.key]) <= 0 for c in p.constraints)
        rows.append([name, *[with_interval(e.interval(m.key)) for m in p.measures],
                     "yes" if ok else "no"])
    return [("h2", "The status quo and the bundled scenarios"),
            ("p", f"Run with the same {p.reevaluate} fresh seeds as the front and the "
                  "problem's fixed settings, so they sit on the same axes."),
            ("table", header, rows)]


def _method(result: Result) -> list[str]:
    p = result.problem
    sampler = (f"NSGA-II (population {p.population})" if p.multi else
               "TPE (multivariate, constant liar)")
    return [
        f"Search: optuna {sampler}, limits through its constraint support, {p.batch} mixes "
        "proposed at a time and run side by side; the sampler is seeded from the problem's "
        "seed and the batch's index, so the same problem gives the same study on any "
        "executor.",
        f"Each mix is run {p.replicates} times with the same seeds as every other mix "
        "(common random numbers), so mixes are compared on the same luck.",
        f"Noise check: the front is re-run with {p.reevaluate} fresh seeds (never used in "
        "the search) and drawn again; mixes that are dominated or miss a limit then are "
        "dropped.",
        f"Measures: each run's mean over its last {p.window} months (x 12 for yearly "
        "figures), averaged over the runs.",
    ]


def _reproduce(result: Result) -> list[str]:
    p = result.problem
    source = str(p.path) if p.path is not None else p.name
    return [f"govsim optimise {source} --trials {len(result.rows)} --out {result.out}",
            f"# the study: {result.out / 'study.db'} (optuna, SQLite); add --resume to "
            "continue it"]


# --- files ---------------------------------------------------------------------------------


def front_csv(result: Result) -> str:
    p = result.problem
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["trial", "kept", "reason", *p.levers,
                *[f"{m.key}_{part}" for m in p.measures
                  for part in ("search", "mean", "low", "high")]])
    for c in result.checked:
        figures = []
        for m in p.measures:
            interval = c.interval.get(m.key, (math.nan,) * 3)
            figures += [c.search[m.key], *interval]
        w.writerow([c.trial, c.kept, c.reason, *[c.params[n] for n in p.levers],
                    *[repr(float(x)) for x in figures]])
    return buf.getvalue()


def trials_csv(result: Result) -> str:
    if not result.rows:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(result.rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(result.rows)
    return buf.getvalue()


#: The status quo as the points were judged against it (the problem's fixed settings and
#: run length), so that a comparison of a point changes only its levers.
STATUS_QUO_FILE = "status_quo.toml"


def front_scenarios(result: Result) -> dict[str, str]:
    """One scenario file per kept point (the base scenario with its lever values), and the
    status quo with the same fixed settings to compare them with."""
    base = result.prepared.base
    if base is None or not result.kept:
        return {}
    p = result.problem
    compare = f"#   govsim compare {{}} --baseline {STATUS_QUO_FILE}\n"
    files = {STATUS_QUO_FILE: (
        f"# Written by govsim optimise ({p.name}): the status quo ({p.scenario}) with the "
        "problem's fixed settings and run length,\n# the baseline to compare the front's "
        "points with:\n" + compare.format("point_1.toml")
        + base.with_overrides({"name": "status_quo", "description": f"{p.scenario} with the "
                               f"fixed settings of govsim optimise {p.name}"},
                              source="status quo").to_toml())}
    for k, c in enumerate(result.kept, start=1):
        settings = ", ".join(f"{n} = {value(v)}" for n, v in c.params.items())
        scenario = base.with_overrides(
            {**c.params, "name": f"{p.name}_point_{k}",
             "description": f"govsim optimise {p.name}: front point {k} (trial {c.trial}): "
                            f"{settings}"}, source=f"front point {k}")
        header = (f"# Written by govsim optimise ({p.name}, trial {c.trial}). Compare it:\n"
                  + compare.format(f"point_{k}.toml"))
        files[f"point_{k}.toml"] = header + scenario.to_toml()
    return files


# --- rendering -----------------------------------------------------------------------------


def markdown(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            lines += [f"# {block[1]}", ""]
        elif kind == "h2":
            lines += [f"## {block[1]}", ""]
        elif kind == "meta":
            lines += [f"_{block[1]}_", ""]
        elif kind == "verdict":
            lines += [f"> {block[1]}", ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "img":
            lines += [f"![{block[2]}]({block[1]})", "", f"_{block[2]}_", ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "pre":
            lines += ["```", block[1], "```", ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md(h) for h in header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_md(x) for x in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


CSS = """
body { margin: 0; color: #1d2430; font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "Noto Sans", sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid #dde2ea; }
p.meta { color: #5b6472; margin: 0 0 18px; }
.verdict { background: #f5f7fa; border-left: 5px solid #3b6fb6; padding: 14px 20px;
           font-size: 16px; line-height: 1.6; max-width: 75em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #dde2ea; padding: 6px 8px; vertical-align: top;
         text-align: right; }
thead th { background: #f5f7fa; font-weight: 600; }
th:first-child, td:first-child { text-align: left; }
td.dropped { background: #fbe4e1; color: #9b2c1f; font-weight: 600; }
figure img { max-width: 100%; height: auto; border: 1px solid #dde2ea; }
figcaption { color: #5b6472; font-size: 13.5px; }
"""


def html(blocks: list[Block], images: dict[str, bytes], title: str) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>"]
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            parts.append(f"<h1>{escape(block[1])}</h1>")
        elif kind == "h2":
            parts.append(f"<h2>{escape(block[1])}</h2>")
        elif kind == "meta":
            parts.append(f'<p class="meta">{escape(block[1])}</p>')
        elif kind == "verdict":
            parts.append(f'<p class="verdict">{escape(block[1])}</p>')
        elif kind == "p":
            parts.append(f"<p>{escape(block[1])}</p>")
        elif kind == "img":
            data = base64.b64encode(images[block[1]]).decode("ascii")
            parts.append(f'<figure><img src="data:image/png;base64,{data}" '
                         f'alt="{escape(block[2])}"><figcaption>{escape(block[2])}'
                         "</figcaption></figure>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{escape(i)}</li>" for i in block[1])
                         + "</ul>")
        elif kind == "pre":
            parts.append(f"<pre>{escape(block[1])}</pre>")
        elif kind == "table":
            head = "".join(f"<th>{escape(h)}</th>" for h in block[1])
            body = "".join(
                "<tr>" + "".join(
                    f'<td class="dropped">{escape(x)}</td>' if x == "DROPPED"
                    else f"<td>{escape(str(x))}</td>" for x in row) + "</tr>"
                for row in block[2])
            parts.append(f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
                         f"<tbody>{body}</tbody></table></div>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"
