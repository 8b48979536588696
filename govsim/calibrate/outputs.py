"""What a calibration leaves behind: the posterior, its figures, a predictive check, a
calibrated scenario and a report.

Files (in the output folder, each written atomically, the report last)::

    posterior.parquet   one row per particle of the last generation: parameters, weight
    posterior.png       marginals (diagonal) and pairwise densities (below it)
    predictive.csv/.png posterior-predictive check: each target against simulations from
                        posterior draws, with 90% intervals
    generations.csv     epsilon, acceptance and simulations per generation
    calibrated.toml     the scenario at the posterior median, commented with the fit
    calibration.md/.html  fit quality, and which parameters the data identify
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from govsim.calibrate.priors import ResolvedPrior
from govsim.calibrate.targets import Targets

POSTERIOR = "posterior.parquet"
#: Simulations from posterior draws for the predictive check.
PREDICTIVE_DRAWS = 100
#: Seed stream of the predictive check (generations use streams 0, 1, 2, ...).
PREDICTIVE_STREAM = 1_000_000
LEVEL = 0.90
#: Posterior 90% width over prior 90% width (sampling space) below which the data are said
#: to identify a parameter, and above which it stays at its prior.
IDENTIFIED, AT_PRIOR = 0.5, 0.8


@dataclass
class Result:
    """A finished calibration, as the outputs need it.

    Attributes:
        targets: the checked targets.
        posterior: natural-unit parameters of the last generation, with ``weight``.
        generations: one row per generation (t, epsilon, particles, simulations).
        predictive: one row per target (observed, sd, simulated quantiles, inside).
        identification: one row per parameter (prior and posterior intervals, width ratio).
        seed: the master seed.
        seconds: wall time of this command.
        seen: ``{target: (lowest, highest)}`` over every particle kept in any generation.
    """

    targets: Targets
    posterior: pd.DataFrame
    generations: pd.DataFrame
    predictive: pd.DataFrame
    identification: pd.DataFrame
    draws: pd.DataFrame
    seed: int
    seconds: float = 0.0
    seen: dict = field(default_factory=dict)


def collect(targets: Targets, history, simulator, seed: int, seconds: float) -> Result:
    """Everything the outputs show, from a finished pyabc history."""
    posterior = posterior_frame(history, targets.priors)
    draws = draw(posterior, PREDICTIVE_DRAWS, seed)
    seen: dict[str, list[float]] = {}
    for t in range(history.max_t + 1):
        _, stats = history.get_weighted_sum_stats(t=t)
        for name in targets.active:
            values = [s[name] for s in stats]
            lo, hi = seen.get(name, [np.inf, -np.inf])
            seen[name] = [min(lo, min(values)), max(hi, max(values))]
    return Result(targets, posterior, generations_frame(history),
                  predictive(targets, simulator, draws, seed),
                  identification(posterior, targets.priors), draws, seed, seconds,
                  {k: tuple(v) for k, v in seen.items()})


def weighted_quantile(values, weights, q) -> np.ndarray:
    """Quantiles ``q`` of ``values`` weighted by ``weights``."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    cum = (cum - 0.5 * weights[order]) / cum[-1]
    return np.interp(q, cum, values[order])


def posterior_frame(history, priors: tuple[ResolvedPrior, ...]) -> pd.DataFrame:
    """The last generation: one row per particle, natural units, and its weight."""
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    out = pd.DataFrame({p.field: [p.natural(v) for v in frame[p.field]] for p in priors})
    out["weight"] = np.asarray(weights, float)
    out["generation"] = history.max_t
    return out.reset_index(drop=True)


def generations_frame(history) -> pd.DataFrame:
    populations = history.get_all_populations()
    populations = populations[populations.t >= 0]
    frame = populations[["t", "epsilon", "samples"]].rename(columns={"samples": "simulations"})
    frame = frame.assign(particles=[len(history.get_distribution(m=0, t=int(t))[1])
                                    for t in frame.t])
    frame["acceptance"] = frame.particles / frame.simulations
    return frame.reset_index(drop=True)


def draw(posterior: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` parameter sets drawn from the posterior by weight, reproducibly."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PREDICTIVE_STREAM,)))
    weights = posterior["weight"].to_numpy(float)
    rows = rng.choice(len(posterior), size=n, p=weights / weights.sum())
    return posterior.iloc[rows].drop(columns=["weight", "generation"]).reset_index(drop=True)


def predictive(targets: Targets, simulator, draws: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Simulate each draw (seeded from ``seed``) and compare the targets' figures."""
    runs = []
    for i, params in enumerate(draws.to_dict("records")):
        words = np.random.SeedSequence(seed, spawn_key=(PREDICTIVE_STREAM + 1, i))
        model_seed = int(words.generate_state(1)[0])
        runs.append(simulator.simulate(_python(params, targets.priors), model_seed))
    sims = pd.DataFrame(runs)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(PREDICTIVE_STREAM + 2,)))
    rows = []
    lo, hi = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    for name, t in targets.active.items():
        clean = sims[name].to_numpy(float)
        observable = clean + t.sd * rng.standard_normal(len(clean))  # as one would observe
        q_lo, q_hi = np.nanquantile(observable, [lo, hi])
        rows.append({"target": name, "column": t.column, "over": t.over or "",
                     "observed": t.observed, "sd": t.sd,
                     "simulated_median": float(np.nanmedian(clean)),
                     "simulated_low": float(np.nanquantile(clean, lo)),
                     "simulated_high": float(np.nanquantile(clean, hi)),
                     "predictive_low": float(q_lo), "predictive_high": float(q_hi),
                     "inside": bool(q_lo <= t.observed <= q_hi),
                     "undefined_runs": int(np.isnan(clean).sum()), "source": t.source})
    return pd.DataFrame(rows)


def _python(params: dict, priors) -> dict:
    kinds = {p.field: p.integer for p in priors}
    return {k: int(v) if kinds.get(k) else float(v) for k, v in params.items()}


def identification(posterior: pd.DataFrame, priors: tuple[ResolvedPrior, ...]) -> pd.DataFrame:
    """Per parameter: prior and posterior median and 90% intervals, and how much narrower
    the posterior is (widths compared in the space sampled: log10 for a log prior)."""
    lo, hi = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    weights = posterior["weight"].to_numpy(float)
    rows = []
    for p in priors:
        values = posterior[p.field].to_numpy(float)
        space = np.log10(values) if p.log else values
        post = weighted_quantile(space, weights, [lo, 0.5, hi])
        a, b = p.bounds
        ratio = (post[2] - post[0]) / ((b - a) * LEVEL)
        back = (lambda x: 10.0 ** x) if p.log else (lambda x: x)
        verdict = ("identified by the data" if ratio < IDENTIFIED else
                   "stays at its prior" if ratio >= AT_PRIOR else "partly identified")
        rows.append({"parameter": p.field, "prior_low": p.low, "prior_high": p.high,
                     "scale": "log" if p.log else "linear",
                     "posterior_median": float(back(post[1])),
                     "posterior_low": float(back(post[0])),
                     "posterior_high": float(back(post[2])),
                     "width_ratio": float(ratio), "verdict": verdict, "why": p.why})
    return pd.DataFrame(rows)


# --- figures --------------------------------------------------------------------------------


def posterior_png(r: Result) -> bytes:
    """Marginal histograms on the diagonal, weighted pairwise densities below it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    priors = r.targets.priors
    k = len(priors)
    fig, axes = plt.subplots(k, k, figsize=(2.3 * k + 1, 2.3 * k + 1), squeeze=False)
    w = r.posterior["weight"].to_numpy(float)
    for i, pi in enumerate(priors):
        for j, pj in enumerate(priors):
            ax = axes[i][j]
            if j > i:
                ax.set_axis_off()
                continue
            x = r.posterior[pj.field].to_numpy(float)
            if i == j:
                bins = _bins(pj)
                ax.hist(x, bins=bins, weights=w, density=True, color="#4C72B0")
                if not pj.log:  # the prior's density, for comparison
                    ax.axhline(1 / (pj.high - pj.low), color="0.6", ls=":", lw=1)
                ax.set_yticks([])
            else:
                y = r.posterior[pi.field].to_numpy(float)
                ax.hist2d(x, y, bins=[_bins(pj, 20), _bins(pi, 20)], weights=w, cmap="Blues")
                if pi.log:
                    ax.set_yscale("log")
                ax.set_ylim(pi.low, pi.high)
            if pj.log:
                ax.set_xscale("log")
            ax.set_xlim(pj.low, pj.high)
            ax.tick_params(labelsize=7)
            if i == k - 1:
                ax.set_xlabel(_short(pj.field), fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(_short(pi.field), fontsize=8)
    axes[0][0].set_title(f"{_short(priors[0].field)}", fontsize=8)
    fig.suptitle(f"Posterior of {r.targets.name} (axes span the prior)", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _bins(p: ResolvedPrior, n: int = 25) -> np.ndarray:
    return np.geomspace(p.low, p.high, n + 1) if p.log else np.linspace(p.low, p.high, n + 1)


def _short(field: str) -> str:
    return field.split(".", 1)[-1]


def predictive_png(r: Result) -> bytes:
    """Each target: observed (with +/- 1.645 sd) against the simulated 90% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = r.predictive
    fig, axes = plt.subplots(1, len(p), figsize=(2.4 * len(p) + 0.6, 3.2), squeeze=False)
    for ax, row in zip(axes[0], p.itertuples(), strict=True):
        ax.errorbar([0], [row.simulated_median],
                    yerr=[[row.simulated_median - row.simulated_low],
                          [row.simulated_high - row.simulated_median]],
                    fmt="o", color="#4C72B0", capsize=4, label="simulated (90%)")
        ax.errorbar([1], [row.observed], yerr=[[1.645 * row.sd], [1.645 * row.sd]],
                    fmt="s", color="#C44E52" if not row.inside else "#55A868", capsize=4,
                    label="observed (90%)")
        ax.set_xlim(-0.7, 1.7)
        ax.set_xticks([0, 1], ["model", "data"], fontsize=8)
        ax.set_title(row.target + ("" if row.inside else "\n(outside)"), fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle("Posterior-predictive check", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


# --- calibrated scenario and report ---------------------------------------------------------


def _shown(path: Path) -> str:
    """A path as one would type it here: relative to the current folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def calibrated_toml(r: Result) -> str:
    """The base scenario at the posterior median, with the fit in comments."""
    ident = r.identification
    medians = {row.parameter: row.posterior_median for row in ident.itertuples()}
    medians = _python(medians, r.targets.priors)
    lines = [f"# Calibrated by `govsim calibrate {_shown(r.targets.path)}` (master seed {r.seed}, "
             f"{_plural(len(r.generations), 'generation')} of {len(r.posterior)} particles).",
             "# Fitted parameters are set to their posterior median. Fit:"]
    for row in r.predictive.itertuples():
        lines.append(f"#   {row.target}: observed {row.observed:.4g} +/- {row.sd:.2g}, "
                     f"simulated {row.simulated_median:.4g} (90%: {row.simulated_low:.4g} to "
                     f"{row.simulated_high:.4g}){'' if row.inside else '  OUTSIDE'}")
    for name, why in r.targets.skipped.items():
        lines.append(f"#   {name}: not fitted ({why})")
    lines.append("# Parameters (posterior median, 90% interval; prior range):")
    for row in ident.itertuples():
        lines.append(f"#   {row.parameter} = {row.posterior_median:.4g} ({row.posterior_low:.4g} "
                     f"to {row.posterior_high:.4g}; prior {row.prior_low:g} to "
                     f"{row.prior_high:g}): {row.verdict}")
    header = "\n".join(lines) + "\n"
    base = r.targets.base
    if base is None:
        import tomli_w

        return header + tomli_w.dumps({"parameters": medians})
    scenario = base.with_overrides(medians, source="posterior median")
    scenario = scenario.model_copy(update={
        "name": f"calibrated_{r.targets.name}",
        "description": f"{base.name} calibrated to {r.targets.path.name} (posterior median)"})
    return header + scenario.to_toml()


def _table(frame: pd.DataFrame, formats: dict[str, str]) -> list[list[str]]:
    rows = []
    for record in frame.to_dict("records"):
        rows.append([formats.get(k, "{}").format(v) for k, v in record.items()])
    return rows


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _report_parts(r: Result) -> dict:
    pred = r.predictive
    outside = pred[~pred.inside]
    fit = (f"Every target lies inside its simulated 90% predictive interval "
           f"({len(pred)} targets)." if outside.empty else
           f"{len(outside)} of {len(pred)} targets lie outside their simulated 90% predictive "
           f"interval: {', '.join(outside.target)}. " + " ".join(_why_outside(r, row)
                                                               for row in outside.itertuples()))
    target_rows = [[row.target, row.column + (f" / {row.over}" if row.over else ""),
                    f"{row.observed:.4g} ± {row.sd:.2g}", f"{row.simulated_median:.4g}",
                    f"{row.predictive_low:.4g} to {row.predictive_high:.4g}",
                    "yes" if row.inside else "**no**", row.source]
                   for row in pred.itertuples()]
    param_rows = [[row.parameter, f"{row.prior_low:g} to {row.prior_high:g} ({row.scale})",
                   f"{row.posterior_median:.4g}",
                   f"{row.posterior_low:.4g} to {row.posterior_high:.4g}",
                   f"{row.width_ratio:.2f}", row.verdict]
                  for row in r.identification.itertuples()]
    gen_rows = [[str(int(g.t) + 1), f"{g.epsilon:.3g}", str(int(g.particles)),
                 str(int(g.simulations)), f"{g.acceptance:.1%}"]
                for g in r.generations.itertuples()]
    sims = int(r.generations.simulations.sum())
    notes = [
        f"ABC-SMC (pyabc): {_plural(len(r.generations), 'generation')} of "
        f"{len(r.posterior)} particles, "
        f"{sims:,} simulations in the generations, master seed {r.seed}; adaptive Euclidean "
        "distance (rescaled each generation), median epsilon schedule.",
        "Each simulated figure carries its target's observation noise (noisy ABC), so the "
        "posterior reflects the stated uncertainty of the observed figures.",
        f"Predictive check: {PREDICTIVE_DRAWS} simulations from posterior draws; the "
        "interval is the 90% range of the figure one would observe (model plus observation "
        "noise). A target is 'inside' when its observed value lies in that range.",
        f"Identification: posterior 90% width over prior 90% width, in the sampled space "
        f"(log10 for log priors); below {IDENTIFIED} the data identify the parameter, from "
        f"{AT_PRIOR} up it stays at its prior (an assumption, not a finding).",
    ]
    notes += [f"Target {n} was not fitted: {why}." for n, why in r.targets.skipped.items()]
    return {"fit": fit, "targets": target_rows, "params": param_rows, "gens": gen_rows,
            "notes": notes}


def _why_outside(r: Result, row) -> str:
    seen = r.seen.get(row.target)
    side = "above" if row.observed > row.predictive_high else "below"
    text = (f"{row.target}: observed {row.observed:.4g} is {side} the simulated "
            f"{row.predictive_low:.4g}-{row.predictive_high:.4g}")
    if seen is not None:
        text += (f"; across every simulation kept during the calibration it ranged "
                 f"{seen[0]:.4g}-{seen[1]:.4g}")
    if row.undefined_runs:
        text += f"; {row.undefined_runs} draws produced no value (no report in the window)"
    return text + " (the fitted parameters cannot reach it together with the other targets)."


TARGET_HEAD = ["target", "model output", "observed", "simulated median",
               "90% predictive", "inside", "source"]
PARAM_HEAD = ["parameter", "prior", "posterior median", "90% interval", "width ratio",
              "verdict"]
GEN_HEAD = ["generation", "epsilon", "particles", "simulations", "acceptance"]


def markdown(r: Result) -> str:
    parts = _report_parts(r)

    def table(head, rows):
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return out + ["| " + " | ".join(c.replace("|", "/") for c in row) + " |"
                      for row in rows]

    lines = [f"# Calibration of {r.targets.name}", "", r.targets.spec.description, "",
             "## Fit", "", parts["fit"], "", *table(TARGET_HEAD, parts["targets"]), "",
             "![predictive check](predictive.png)", "",
             "## What the data identify", "", *table(PARAM_HEAD, parts["params"]), "",
             "![posterior](posterior.png)", "", "## Generations", "",
             *table(GEN_HEAD, parts["gens"]), "", "## Method", "",
             *[f"- {n}" for n in parts["notes"]], "",
             f"Files: {POSTERIOR}, predictive.csv, generations.csv, calibrated.toml, abc.db "
             f"(pyabc history). This command took {r.seconds:.0f} s.", ""]
    return "\n".join(lines)


def html_report(r: Result, pngs: dict[str, bytes]) -> str:
    parts = _report_parts(r)
    e = html.escape

    def table(head, rows):
        body = "".join("<tr>" + "".join(f"<td>{e(c).replace('**', '')}</td>" for c in row)
                       + "</tr>" for row in rows)
        return (f"<table><thead><tr>{''.join(f'<th>{e(h)}</th>' for h in head)}</tr></thead>"
                f"<tbody>{body}</tbody></table>")

    def img(name):
        data = base64.b64encode(pngs[name]).decode()
        return f'<img alt="{e(name)}" src="data:image/png;base64,{data}">'

    notes = "".join(f"<li>{e(n)}</li>" for n in parts["notes"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Calibration of {e(r.targets.name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse;margin:1em 0;font-size:14px}}td,th{{border:1px solid #ccc;
padding:4px 8px;text-align:left}}th{{background:#f3f3f3}}img{{max-width:100%}}</style></head>
<body><h1>Calibration of {e(r.targets.name)}</h1><p>{e(r.targets.spec.description)}</p>
<h2>Fit</h2><p>{e(parts["fit"])}</p>{table(TARGET_HEAD, parts["targets"])}
{img("predictive.png")}
<h2>What the data identify</h2>{table(PARAM_HEAD, parts["params"])}{img("posterior.png")}
<h2>Generations</h2>{table(GEN_HEAD, parts["gens"])}
<h2>Method</h2><ul>{notes}</ul><p>This command took {r.seconds:.0f} s.</p></body></html>
"""


def write(r: Result, out: Path) -> dict[str, Path]:
    """Write every output into ``out`` atomically (the HTML report last)."""
    from govsim.output import write_file

    pngs = {"posterior.png": posterior_png(r), "predictive.png": predictive_png(r)}
    files: dict[str, str | bytes] = dict(pngs)
    files[POSTERIOR] = r.posterior.to_parquet(None, index=False)
    files["predictive.csv"] = r.predictive.to_csv(index=False)
    files["generations.csv"] = r.generations.to_csv(index=False)
    files["calibrated.toml"] = calibrated_toml(r)
    files["calibration.md"] = markdown(r)
    files["calibration.html"] = html_report(r, pngs)
    return {name: write_file(out / name, content) for name, content in files.items()}
