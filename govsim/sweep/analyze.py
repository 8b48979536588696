"""Analysis of a finished sweep: which levers matter, and where outcomes change fastest.

:func:`analyze` writes into ``<sweep>/analysis/``:

- ``point_means.csv``: each design point's parameters and its outcomes averaged over the
  replicates that finished (with ``n_ok``).
- ``means_by_level.csv`` (any design): the mean, sd, count and 95% interval of each outcome
  by level of each parameter (ranges of sampled designs in 5 equal bins), and
  ``main_effects_<outcome>.png``.
- grid: ``heatmaps__<p>__<q>.png`` of the mean outcome over each pair of parameters
  (averaged over any others; one colour scale per outcome, shared by every pair and never
  narrower than the noise), ``steps.csv`` (every step between adjacent levels with its 95%
  interval) and, in the report, the steepest step that is larger than the noise.
- sobol: ``sobol_indices.csv`` with first-order (S1) and total (ST) indices and their 95%
  confidence half-widths (SALib, bootstrap) and a ``flag`` where an index cannot be read at
  face value, ``sobol_second_order.csv`` when sampled, and ``sobol_<outcome>.png``.
- morris: ``morris.csv`` with mu, mu*, its 95% half-width and sigma, and
  ``morris_<outcome>.png``.
- ``noise.csv`` (replicated designs): the share of each outcome's variance that is
  run-to-run noise, for single runs and for replicate means.
- ``analysis.md``: a short report of the above, and ``analysis.html``: the same as one
  page with its figures embedded.

Sensitivity indices are computed on the replicate means of each design point: averaging
removes part of the seed noise from the output, so that indices describe the levers rather
than the dice. A point whose replicates all failed or are missing is left out with its whole
Sobol block or Morris trajectory (SALib needs them whole).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from govsim.output import atomic_path, write_text
from govsim.run import SUMMARY_MONTHS
from govsim.sweep import html as analysis_html
from govsim.sweep import noise, trajectories
from govsim.sweep.design import UNIT_PREFIX, unit_problem
from govsim.sweep.experiment import ExperimentError
from govsim.sweep.labels import outcome_axis, parameter_label
from govsim.sweep.storage import ANALYSIS, iter_results, read_design, read_manifest

BINS = 5  # bins of a sampled range in the means-by-level table
NUM_RESAMPLES = 1000  # bootstrap resamples of the SALib confidence intervals
ANALYSIS_SEED = 20240601  # fixed: the same data give the same intervals
MAX_HEATMAP_PAIRS = 6
_MD_ROWS = 12


@dataclass
class Analysis:
    """What :func:`analyze` wrote.

    Attributes:
        directory: the analysis folder.
        files: the files written.
        markdown: the text of analysis.md.
        counts: runs in the design, ok, failed and missing.
    """

    directory: Path
    files: list[Path] = field(default_factory=list)
    markdown: str = ""
    counts: dict[str, int] = field(default_factory=dict)


def analyze(directory: str | Path) -> Analysis:
    """Analyse the sweep in ``directory`` and write the results beside its data.

    The analysis is written into a temporary folder and swapped in whole at the end
    (:func:`govsim.folders.staged`), so a failure or a full disk leaves the previous one.

    Raises:
        ExperimentError: the folder is not a sweep folder, or no run has finished.
        FolderError: the folder cannot be written.
    """
    from govsim import folders

    root = Path(directory)
    read_manifest(root)  # "not a sweep folder" before any other complaint
    target = root / ANALYSIS
    # analyze replaces the whole folder: refuse if it holds anything analyze does not write
    folders.claim(target, "analysis", flag="analyze", legacy=lambda path: True)
    if target.is_dir():
        foreign = sorted(p.name for p in target.iterdir() if p.name != folders.MARKER
                         and (p.is_dir() or p.suffix not in _ANALYSIS_SUFFIXES))
        if foreign:
            raise folders.FolderError(
                f"analyze {root}: {target} holds {', '.join(foreign[:5])}, which govsim did "
                "not write and would replace; move it elsewhere first")
    with folders.staged(target, "analysis") as tmp:
        try:
            result = _analyze(root, tmp)
        except (KeyError, IndexError, TypeError) as exc:
            # the manifest passed its checks, yet its parts do not fit one another or the data
            raise ExperimentError(f"{root}: the sweep folder does not hold together "
                                  f"({type(exc).__name__}: {exc}); were manifest.json or "
                                  "design.csv edited? Run the sweep again with --force") \
                from None
    result.directory = target
    result.files = [target / path.relative_to(tmp) for path in result.files]
    return result


#: What an analysis folder holds: figures, tables and reports.
_ANALYSIS_SUFFIXES = (".png", ".csv", ".md", ".html", ".json", ".svg")


def _analyze(directory: str | Path, out: Path) -> Analysis:
    """Analyse the sweep in ``directory``, writing into the (empty) folder ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    root = Path(directory)
    manifest = read_manifest(root)
    design = read_design(root)
    names = list(manifest["parameters"])
    runs, outcomes = _per_run(root, manifest, design)
    ok = runs[runs["status"] == "ok"]
    counts = {"runs": len(design), "ok": len(ok),
              "failed": int((runs["status"] == "failed").sum()),
              "missing": int(runs["status"].isna().sum())}
    if ok.empty:
        raise ExperimentError(f"{root}: no finished run to analyse "
                              f"({counts['failed']} failed, {counts['missing']} not run yet)")
    result = Analysis(out, counts=counts)
    points = _point_means(design, ok, names, outcomes)
    result.files.append(_write_csv(points, out / "point_means.csv"))
    levels = means_by_level(ok, manifest, names, outcomes)
    result.files.append(_write_csv(levels, out / "means_by_level.csv"))
    for outcome in outcomes:
        result.files.append(_plot_main_effects(levels, names, outcome, out))
    sections = [_md_header(manifest, counts, outcomes)]
    noise = noise_shares(ok, outcomes)
    if not noise.empty:
        result.files.append(_write_csv(noise, out / "noise.csv", index=False))
        sections.append(_md_noise(noise))
    sections.append(trajectories.section(root, manifest, outcomes, out, result.files))
    kind = manifest["design"]
    if kind == "sobol":
        sections.append(_sobol(points, manifest, names, outcomes, out, result.files))
    elif kind == "morris":
        sections.append(_morris(points, manifest, names, outcomes, out, result.files))
    elif kind == "grid":
        sections.append(_grid(ok, levels, names, outcomes, out, result.files))
    sections.append(_md_levels(levels, outcomes))
    sections.append("## Files\n\n" + "\n".join(f"- `{p.name}`" for p in result.files))
    result.markdown = "\n\n".join(s for s in sections if s) + "\n"
    result.files.append(write_text(out / "analysis.md", result.markdown))
    result.files.append(write_text(out / "analysis.html", analysis_html.render(
        result.markdown, out, title=f"Sweep analysis: {manifest['name']}")))
    return result


# --- data -------------------------------------------------------------------------------


def _per_run(root: Path, manifest: dict, design: pd.DataFrame) -> tuple[pd.DataFrame, list]:
    """One row per run of the design: parameters, status (NaN if not run) and outcomes.

    For a series sweep the outcome of a run is its mean over the last 12 months, like a
    summary sweep's; parts are read one at a time so memory stays flat.
    """
    series = manifest["outputs"] == "series"
    frames = []
    for part in iter_results(root):
        if series:
            part = _summarize_series(part)
        frames.append(part)
    if not frames:
        raise ExperimentError(f"{root}: no finished run to analyse (no part files in runs/)")
    data = pd.concat(frames, ignore_index=True)
    skip = {"run_id", "point_id", "replicate", "seed", "status", "error", "step",
            *manifest["parameters"]}
    available = [c for c in data.columns if c not in skip and
                 pd.api.types.is_numeric_dtype(data[c])]
    outcomes = [o for o in manifest.get("outcomes") or available if o in available]
    keep = data[["run_id", "status", *outcomes]]
    runs = design.merge(keep, on="run_id", how="left")
    return runs, outcomes


def _summarize_series(part: pd.DataFrame) -> pd.DataFrame:
    part = part.sort_values(["run_id", "step"])
    figures = [c for c in part.columns if pd.api.types.is_float_dtype(part[c])]
    tail = part.groupby("run_id", sort=False).tail(SUMMARY_MONTHS)
    means = tail.groupby("run_id")[figures].mean()
    status = part.groupby("run_id")["status"].first()
    return means.join(status).reset_index()


def _point_means(design: pd.DataFrame, ok: pd.DataFrame, names: list,
                 outcomes: list) -> pd.DataFrame:
    points = design.drop_duplicates("point_id").set_index("point_id")
    keep = names + [c for c in points.columns if c.startswith(UNIT_PREFIX)]
    means = ok.groupby("point_id")[outcomes].mean()
    n_ok = ok.groupby("point_id").size().rename("n_ok")
    table = points[keep].join(means).join(n_ok)
    table["n_ok"] = table["n_ok"].fillna(0).astype(int)
    return table.sort_index()


def means_by_level(ok: pd.DataFrame, manifest: dict, names: list,
                   outcomes: list) -> pd.DataFrame:
    """Tidy table: parameter, level, order, outcome, n, mean, sd, ci95 (half-width)."""
    rows = []
    for name in names:
        labels, order = _levels_of(ok[name], manifest, name)
        grouped = ok.groupby([order, labels], sort=True)
        for (position, label), group in grouped:
            for outcome in outcomes:
                values = group[outcome].dropna()
                n = len(values)
                sd = float(values.std()) if n > 1 else float("nan")
                rows.append({"parameter": name, "level": label, "order": int(position),
                             "outcome": outcome, "n": n, "mean": float(values.mean()),
                             "sd": sd, "ci95": 1.96 * sd / math.sqrt(n) if n > 1 else
                             float("nan")})
    return pd.DataFrame(rows)


def _levels_of(column: pd.Series, manifest: dict, name: str) -> tuple[pd.Series, pd.Series]:
    """Labels and sort order of a parameter's levels: its values, or bins of its range."""
    spec = manifest.get("parameter_specs", {}).get(name, {})
    if manifest["design"] == "grid" or "levels" in spec or "range" not in spec:
        values = sorted(column.dropna().unique(), key=lambda v: (str(type(v)), v))
        position = {v: i for i, v in enumerate(values)}
        return column.map(_label).rename("level"), column.map(position).rename("order")
    low, high = spec["range"]
    log = spec.get("scale") == "log"
    edges = np.geomspace(low, high, BINS + 1) if log else np.linspace(low, high, BINS + 1)
    index = np.clip(np.searchsorted(edges, column.to_numpy(float), side="right") - 1,
                    0, BINS - 1)
    labels = [f"[{_label(edges[i])}, {_label(edges[i + 1])}{']' if i == BINS - 1 else ')'}"
              for i in range(BINS)]
    return (pd.Series([labels[i] for i in index], index=column.index, name="level"),
            pd.Series(index, index=column.index, name="order"))


def _short(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _label(value) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if abs(value) >= 10_000 and value.is_integer():
            return f"{value:,.0f}"
        return f"{value:.4g}"
    return str(value)


def noise_shares(ok: pd.DataFrame, outcomes: list) -> pd.DataFrame:
    """How much of each outcome's variance is run-to-run (seed) noise.

    ``run_share``: mean variance between replicates of a point over the variance of all
    runs. ``mean_share``: the same for replicate means (noise variance / replicates), which
    is what the sensitivity indices see. Needs points with at least two replicates.
    """
    sizes = ok.groupby("point_id").size()
    replicated = ok[ok["point_id"].isin(sizes[sizes > 1].index)]
    if replicated.empty:
        return pd.DataFrame()
    per_point = replicated.groupby("point_id")
    replicates = float(sizes[sizes > 1].mean())
    rows = []
    for outcome in outcomes:
        within = float(per_point[outcome].var(ddof=1).mean())
        means = ok.groupby("point_id")[outcome].mean()
        total_runs = float(ok[outcome].var(ddof=1))
        total_means = float(means.var(ddof=1)) if len(means) > 1 else float("nan")
        rows.append({"outcome": outcome, "run_share": _ratio(within, total_runs),
                     "mean_share": _ratio(within / replicates, total_means)})
    return pd.DataFrame(rows)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(b) else float("nan")


#: Share of a point mean's variance due to the seed above which an outcome is called noisy.
NOISY = 0.2


def _md_noise(noise: pd.DataFrame) -> str:
    lines = ["## Run-to-run noise",
             "Share of each outcome's variance due to the seed alone (between replicates of "
             "the same point): of single runs, and of the replicate means the indices and "
             "tables use. Above about 0.2 for the means, differences between points are "
             "partly dice: add replicates before reading small effects (and Sobol ST near "
             "or above 1 is a symptom).", ""]
    shown = pd.DataFrame({
        "outcome": noise["outcome"].map(lambda o: f"`{o}`"),
        "of a run": noise["run_share"].map("{:.2f}".format),
        "of a point mean": noise["mean_share"].map("{:.2f}".format),
        "": noise["mean_share"].map(lambda v: "**noisy**" if v > NOISY else "")})
    lines.append(shown.to_markdown(index=False, disable_numparse=True,
                                   colalign=("left", "right", "right", "left")))
    return "\n".join(lines)


# --- sensitivity ------------------------------------------------------------------------


def _blocks(values: np.ndarray, size: int) -> tuple[np.ndarray, int, int]:
    """Whole blocks (Sobol rows, Morris trajectories) without a missing value."""
    blocks = values.reshape(-1, size, *values.shape[1:])
    flat = blocks.reshape(len(blocks), -1)
    keep = ~np.isnan(flat).any(axis=1)
    return blocks[keep], int(keep.sum()), len(blocks)


def _sobol(points: pd.DataFrame, manifest: dict, names: list, outcomes: list, out: Path,
           files: list) -> str:
    from SALib.analyze import sobol

    d, second = len(names), bool(manifest.get("second_order"))
    size = 2 * d + 2 if second else d + 2
    problem = unit_problem(tuple(names))
    rows, pairs, notes = [], [], []
    for outcome in outcomes:
        y, kept, total = _blocks(points[outcome].to_numpy(float), size)
        y = y.ravel()
        if kept < 2 or np.std(y) == 0:
            notes.append(f"- `{outcome}`: not analysed ({'constant' if kept >= 2 else 'too few'}"
                         f" values; {kept} of {total} Sobol blocks complete)")
            continue
        if kept < total:
            notes.append(f"- `{outcome}`: {total - kept} of {total} Sobol blocks left out "
                         "(a point without a finished run)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = sobol.analyze(problem, y, calc_second_order=second,
                               num_resamples=NUM_RESAMPLES, conf_level=0.95,
                               seed=ANALYSIS_SEED)
        for i, name in enumerate(names):
            rows.append({"outcome": outcome, "parameter": name, "S1": si["S1"][i],
                         "S1_conf": si["S1_conf"][i], "ST": si["ST"][i],
                         "ST_conf": si["ST_conf"][i]})
            if second:
                for j in range(i + 1, d):
                    pairs.append({"outcome": outcome, "parameter": name, "other": names[j],
                                  "S2": si["S2"][i, j], "S2_conf": si["S2_conf"][i, j]})
    table = pd.DataFrame(rows, columns=["outcome", "parameter", "S1", "S1_conf", "ST",
                                        "ST_conf"])
    table["flag"] = noise.sobol_flags(table) if not table.empty else []
    files.append(_write_csv(table, out / "sobol_indices.csv", index=False))
    if second:
        files.append(_write_csv(pd.DataFrame(pairs), out / "sobol_second_order.csv",
                                index=False))
    for outcome, group in table.groupby("outcome", sort=False):
        files.append(_plot_sobol(group, outcome, out))
    text = ["## Sobol indices",
            f"First-order (S1: the share of the outcome's variance due to the parameter "
            f"alone) and total (ST: including its interactions) indices, with 95% "
            f"bootstrap half-widths ({NUM_RESAMPLES} resamples), from "
            f"N = {manifest['samples']} base samples over the unit-scaled parameters. "
            "Parameters are sorted by ST; ST well above S1 means interactions. An index "
            f"outside [0, 1] or with a half-width above {noise.WIDE_INTERVAL} is flagged ⚠ "
            "here and on its chart: it is estimation error, not a property of the model; "
            f"to narrow it, {noise.SOBOL_ADVICE}."]
    n_flagged = int((table["flag"] != "").sum())
    if n_flagged:
        text.append(f"**{n_flagged} of {len(table)} indices are flagged**: read the ranking "
                    "of levers only where intervals do not overlap.")
    if second:
        text.append("Second-order indices (S2, the share due to each pair's interaction): "
                    "`sobol_second_order.csv`.")
    text += notes
    for outcome, group in table.groupby("outcome", sort=False):
        group = group.sort_values("ST", ascending=False)
        shown = pd.DataFrame({
            "parameter": group["parameter"].map(lambda n: f"`{n}`"),
            "S1": group["S1"].map("{:.3f}".format), "±95%": group["S1_conf"].map("{:.3f}".format),
            "ST": group["ST"].map("{:.3f}".format), "±95% ": group["ST_conf"].map("{:.3f}".format),
            "": group["flag"].map(lambda f: f"⚠ {f}" if f else "")})
        text += [f"### {outcome}", shown.to_markdown(index=False, disable_numparse=True,
                                                     colalign=("left", *["right"] * 4, "left")),
                 f"![Sobol indices of {outcome}](sobol_{_safe(outcome)}.png)"]
    return "\n\n".join(text)


def _morris(points: pd.DataFrame, manifest: dict, names: list, outcomes: list, out: Path,
            files: list) -> str:
    from SALib.analyze import morris

    d = len(names)
    problem = unit_problem(tuple(names))
    x_all = points[[UNIT_PREFIX + n for n in names]].to_numpy(float)
    rows, notes = [], []
    for outcome in outcomes:
        both = np.column_stack([x_all, points[outcome].to_numpy(float)])
        blocks, kept, total = _blocks(both, d + 1)
        if kept < 2:
            notes.append(f"- `{outcome}`: not analysed ({kept} of {total} trajectories complete)")
            continue
        if kept < total:
            notes.append(f"- `{outcome}`: {total - kept} of {total} trajectories left out "
                         "(a point without a finished run)")
        flat = blocks.reshape(-1, d + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            si = morris.analyze(problem, flat[:, :d], flat[:, d], num_resamples=NUM_RESAMPLES,
                                conf_level=0.95, num_levels=manifest["morris_levels"],
                                seed=ANALYSIS_SEED)
        for i, name in enumerate(names):
            rows.append({"outcome": outcome, "parameter": name, "mu": si["mu"][i],
                         "mu_star": si["mu_star"][i], "mu_star_conf": si["mu_star_conf"][i],
                         "sigma": si["sigma"][i]})
    table = pd.DataFrame(rows, columns=["outcome", "parameter", "mu", "mu_star",
                                        "mu_star_conf", "sigma"])
    files.append(_write_csv(table, out / "morris.csv", index=False))
    for outcome, group in table.groupby("outcome", sort=False):
        files.append(_plot_morris(group, outcome, out))
    text = ["## Morris elementary effects",
            "mu* is the mean absolute change in the outcome when a parameter moves across "
            "its whole range (elementary effects on the unit-scaled parameters, so levers are "
            "comparable); sigma, their spread, flags non-linearity or interactions; mu far "
            "below mu* means effects of both signs. Sorted by mu*."]
    text += notes
    for outcome, group in table.groupby("outcome", sort=False):
        group = group.sort_values("mu_star", ascending=False)
        shown = pd.DataFrame({
            "parameter": group["parameter"].map(lambda n: f"`{n}`"),
            "mu*": group["mu_star"].map("{:.4g}".format),
            "±95%": group["mu_star_conf"].map("{:.3g}".format),
            "mu": group["mu"].map("{:.4g}".format), "sigma": group["sigma"].map("{:.4g}".format)})
        text += [f"### {outcome}", shown.to_markdown(index=False, disable_numparse=True,
                                                     colalign=("left", *["right"] * 4)),
                 f"![Morris screening of {outcome}](morris_{_safe(outcome)}.png)"]
    return "\n\n".join(text)


# --- grids ------------------------------------------------------------------------------


def _grid(ok: pd.DataFrame, levels: pd.DataFrame, names: list, outcomes: list, out: Path,
          files: list) -> str:
    varied = [n for n in names if ok[n].nunique() > 1]
    pairs = [(p, q) for i, p in enumerate(varied) for q in varied[i + 1:]][:MAX_HEATMAP_PAIRS]
    scales = noise.heatmap_scales(ok, pairs, outcomes)
    for p, q in pairs:
        files.append(_plot_heatmaps(ok, p, q, outcomes, out, scales))
    steps = noise.step_intervals(ok, varied, outcomes)
    files.append(_write_csv(steps, out / "steps.csv", index=False))
    steepest = noise.steepest_steps(steps)
    text = ["## Where outcomes change fastest",
            "For each outcome and parameter, the adjacent pair of levels with the largest "
            "change in the mean outcome (averaged over the other parameters and replicates) "
            "that is larger than the seed noise: candidate tipping points, with the 95% "
            "interval of the change (from the replicates' spread at each point). Steps "
            "within noise are left out of the table and named below it; every step is in "
            "`steps.csv`."]
    real = steepest[steepest["significant"]]
    if not real.empty:
        table = pd.DataFrame({
            "outcome": real["outcome"].map(lambda o: f"`{o}`"),
            "parameter": real["parameter"].map(lambda n: f"`{n}`"),
            "from": real["start"].map(_label), "to": real["end"].map(_label),
            "change": real["change"].map(lambda v: f"{v:+.4g}"),
            "95% interval": [f"{lo:+.4g} to {hi:+.4g}" for lo, hi in
                             zip(real["low"], real["high"], strict=True)]})
        text.append(table.to_markdown(index=False, disable_numparse=True,
                                      colalign=("left", "left", *["right"] * 4)))
    flat = steepest[~steepest["significant"]]
    if not flat.empty:
        text.append("No step larger than the noise: " + "; ".join(
            f"`{r.outcome}` over `{r.parameter}`" for r in flat.itertuples()) + "."
            + (" (Some points have fewer than two runs with a value: steps have no interval, "
               "so none is shown as real.)"
               if flat["half"].isna().all() else ""))
    if pairs:
        text.append("Heatmaps: " + ", ".join(f"`{p}` x `{q}`" for p, q in pairs) + ". Each "
                    "outcome has one colour scale, shared by all its panels, that spans at "
                    "least the 95% noise band of a cell mean; an outcome whose cells are all "
                    "within noise is drawn in grey.")
        text += [f"![Heatmaps of {p} and {q}](heatmaps__{_safe(p)}__{_safe(q)}.png)"
                 for p, q in pairs]
    return "\n\n".join(text)


# --- plots ------------------------------------------------------------------------------


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _plot_main_effects(levels: pd.DataFrame, names: list, outcome: str, out: Path) -> Path:
    import matplotlib.pyplot as plt

    data = levels[levels["outcome"] == outcome]
    axis = outcome_axis(outcome)
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.2 * rows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.flat, names, strict=False):
        group = data[data["parameter"] == name].sort_values("order")
        x = np.arange(len(group))
        flat = _within_noise(group)
        ax.errorbar(x, group["mean"] * axis.scale, yerr=group["ci95"].fillna(0) * axis.scale,
                    marker="o", capsize=3, color="#9a9a9a" if flat else None)
        ax.set_xticks(x, group["level"], rotation=30, ha="right", fontsize=8)
        ax.set_xlabel(parameter_label(name), fontsize=9)
        if flat:
            ax.set_title("all levels within one another's intervals", fontsize=8,
                         color="#777777")
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel(axis.label, fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"{axis.label}: mean by parameter level, with its 95% interval "
                 "(over the runs at that level); grey: no level differs beyond noise",
                 fontsize=11)
    fig.tight_layout()
    return _save(fig, out / f"main_effects_{_safe(outcome)}.png")


def _within_noise(group: pd.DataFrame) -> bool:
    """Whether one value lies inside every level's 95% interval (no level is told apart)."""
    low, high = group["mean"] - group["ci95"], group["mean"] + group["ci95"]
    return bool(group["ci95"].notna().all() and low.max() <= high.min())


def _plot_heatmaps(ok: pd.DataFrame, p: str, q: str, outcomes: list, out: Path,
                   scales: dict[str, noise.Scale]) -> Path:
    """One figure per pair of parameters, a heatmap panel per outcome, each outcome on its
    shared colour scale (grey when all its cells are within noise)."""
    import matplotlib.pyplot as plt

    cols = min(3, len(outcomes))
    rows = math.ceil(len(outcomes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.8 * cols, 4.6 * rows), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        scale, axis = scales[outcome], outcome_axis(outcome)
        table = ok.groupby([p, q])[outcome].mean().unstack(q).sort_index().sort_index(axis=1)
        values = table.to_numpy(float) * axis.scale
        vmin, vmax = scale.vmin * axis.scale, scale.vmax * axis.scale
        image = ax.imshow(values, origin="lower", aspect="auto", vmin=vmin, vmax=vmax,
                          cmap="Greys" if scale.within_noise else "viridis",
                          alpha=0.35 if scale.within_noise else 1.0)
        ax.set_xticks(range(table.shape[1]), [_label(v) for v in table.columns], rotation=30,
                      ha="right", fontsize=8)
        ax.set_yticks(range(table.shape[0]), [_label(v) for v in table.index], fontsize=8)
        ax.set_xlabel(parameter_label(q), fontsize=9)
        ax.set_ylabel(parameter_label(p), fontsize=9)
        if values.size <= 100:
            middle = (vmin + vmax) / 2
            for (i, j), value in np.ndenumerate(values):
                dark = value < middle and not scale.within_noise
                ax.text(j, i, _short(value), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
        fig.colorbar(image, ax=ax)
        title = axis.label
        if np.isfinite(scale.noise):
            title += (f"\nall within noise (±{_short(scale.noise * axis.scale)})"
                      if scale.within_noise else
                      f"\nnoise of a cell: ±{_short(scale.noise * axis.scale)}")
        ax.set_title(title, fontsize=9, color="grey" if scale.within_noise else "black")
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle(f"Mean outcome over {parameter_label(p)} and {parameter_label(q)} "
                 "(replicates and other parameters averaged). One colour scale per outcome, "
                 "shared by every heatmap of this sweep.", fontsize=10)
    fig.tight_layout()
    return _save(fig, out / f"heatmaps__{_safe(p)}__{_safe(q)}.png")


def _plot_sobol(group: pd.DataFrame, outcome: str, out: Path) -> Path:
    """S1 and ST with their intervals; an index that cannot be trusted is marked on the bar
    and explained under the chart, with what to do about it."""
    import matplotlib.pyplot as plt

    group = group.sort_values("ST")
    y = np.arange(len(group))
    flagged = group[group["flag"] != ""]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(group) + 1.8 + 0.3 * len(flagged)))
    ax.barh(y - 0.2, group["S1"], height=0.4, xerr=group["S1_conf"], label="S1 (first order)",
            capsize=2)
    ax.barh(y + 0.2, group["ST"], height=0.4, xerr=group["ST_conf"], label="ST (total)",
            capsize=2)
    labels = [("⚠ " if flag else "") + parameter_label(name)
              for name, flag in zip(group["parameter"], group["flag"], strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    for tick, flag in zip(ax.get_yticklabels(), group["flag"], strict=True):
        if flag:
            tick.set_color("#b03a2e")
    ax.axvline(0, color="grey", lw=0.5)
    ax.axvline(1, color="grey", lw=0.5, ls="--")
    ax.set_xlabel("Sobol index: share of the outcome's variance (95% interval)")
    ax.set_title(outcome_axis(outcome).label)
    ax.legend(fontsize=8, loc="lower right")
    if not flagged.empty:
        note = "⚠ " + "\n⚠ ".join(f"{parameter_label(r.parameter)}: {r.flag}"
                                   for r in flagged.itertuples())
        note += f"\nTo do: {noise.SOBOL_ADVICE}."
        fig.text(0.01, 0.01, note, fontsize=7.5, color="#b03a2e", va="bottom", wrap=True)
        fig.tight_layout(rect=(0, 0.06 + 0.035 * (len(flagged) + 1), 1, 1))
    else:
        fig.tight_layout()
    return _save(fig, out / f"sobol_{_safe(outcome)}.png")


def _plot_morris(group: pd.DataFrame, outcome: str, out: Path) -> Path:
    import matplotlib.pyplot as plt

    axis = outcome_axis(outcome)
    fig, ax = plt.subplots(figsize=(7, 5.2))
    ax.errorbar(group["mu_star"] * axis.scale, group["sigma"] * axis.scale,
                xerr=group["mu_star_conf"] * axis.scale, fmt="o", capsize=2)
    for r in group.itertuples():
        ax.annotate(parameter_label(r.parameter), (r.mu_star * axis.scale,
                                                   r.sigma * axis.scale),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    unit = axis.label
    ax.set_xlabel(f"mu*: mean |change| over the whole range, with 95% interval\n({unit})")
    ax.set_ylabel(f"sigma: spread of the changes ({unit})")
    ax.set_title(unit)
    fig.tight_layout()
    return _save(fig, out / f"morris_{_safe(outcome)}.png")


# --- text -------------------------------------------------------------------------------


def _md_header(manifest: dict, counts: dict, outcomes: list) -> str:
    kind = manifest["design"]
    size = {"sobol": f"N = {manifest['samples']}" + (", second order" if
                                                      manifest.get("second_order") else ""),
            "morris": f"{manifest['samples']} trajectories, {manifest['morris_levels']} levels",
            "lhs": f"{manifest['samples']} points", "grid": "full factorial"}[kind]
    lines = [f"# Sweep analysis: {manifest['name']}", ""]
    if manifest.get("description"):
        lines += [manifest["description"].strip(), ""]
    lines += [
        f"- design: **{kind}** ({size}) over {len(manifest['parameters'])} parameters: "
        + ", ".join(f"`{n}`" for n in manifest["parameters"]),
        f"- {manifest['n_points']} points x {manifest['replicates']} replicates = "
        f"{manifest['n_runs']} runs: {counts['ok']} ok, {counts['failed']} failed, "
        f"{counts['missing']} not run",
        f"- model `{manifest['model']}`, master seed {manifest['seed']}, outputs "
        f"'{manifest['outputs']}'",
        "- outcomes: " + ", ".join(f"`{o}`" for o in outcomes)
        + (" (each run's mean of its last 12 months)" if manifest.get("uses_scenario")
           else ""),
    ]
    if counts["failed"] or counts["missing"]:
        lines.append("- **incomplete**: failed and missing runs are left out of every table; "
                     "see the `status` and `error` columns of the dataset")
    return "\n".join(lines)


def _md_levels(levels: pd.DataFrame, outcomes: list) -> str:
    """Mean ± 95% half-width of the first outcomes by level of each parameter (the rest is
    in ``means_by_level.csv``), and the main-effect plots."""
    shown = outcomes[:4]
    data = levels[levels["outcome"].isin(shown)].copy()
    data["cell"] = [f"{m:.4g} ± {h:.2g}" if np.isfinite(h) else f"{m:.4g}"
                    for m, h in zip(data["mean"], data["ci95"], strict=True)]
    wide = data.pivot_table(index=["parameter", "order", "level"], columns="outcome",
                            values="cell", aggfunc="first", sort=False)
    wide = wide.reindex(columns=shown).reset_index().head(_MD_ROWS * 4)
    table = pd.DataFrame({"parameter": wide["parameter"].map(lambda n: f"`{n}`"),
                          "level": wide["level"],
                          **{f"`{o}`": wide[o].fillna("") for o in shown}})
    text = ["## Means by parameter level",
            "Mean outcome by level of each parameter, over all other parameters and "
            "replicates, ± the half-width of its 95% interval (all outcomes, with sd and n: "
            "`means_by_level.csv`).",
            table.to_markdown(index=False, disable_numparse=True,
                              colalign=("left", "left", *["right"] * len(shown)))]
    if len(wide) < data.groupby(["parameter", "level"]).ngroups:
        text.append("(first rows only; the rest are in `means_by_level.csv`)")
    text += [f"![Main effects on {o}](main_effects_{_safe(o)}.png)" for o in outcomes]
    return "\n\n".join(text)


def _write_csv(frame: pd.DataFrame, path: Path, index: bool | None = None) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index if index is not None else frame.index.name is not None,
                     float_format="%.6g")
    return path
