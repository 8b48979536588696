"""Analysis of a finished sweep: which levers matter, and where outcomes change fastest.

:func:`analyze` writes into ``<sweep>/analysis/``:

- ``point_means.csv``: each design point's parameters and its outcomes averaged over the
  replicates that finished (with ``n_ok``).
- ``means_by_level.csv`` (any design): the mean, sd, count and 95% interval of each outcome
  by level of each parameter (ranges of sampled designs in 5 equal bins), and
  ``main_effects_<outcome>.png``.
- grid: ``heatmap_<outcome>__<p>__<q>.png`` of the mean outcome over each pair of
  parameters (averaged over any others), and the steepest steps between adjacent levels.
- sobol: ``sobol_indices.csv`` with first-order (S1) and total (ST) indices and their 95%
  confidence half-widths (SALib, bootstrap), ``sobol_second_order.csv`` when sampled, and
  ``sobol_<outcome>.png``.
- morris: ``morris.csv`` with mu, mu*, its 95% half-width and sigma, and
  ``morris_<outcome>.png``.
- ``noise.csv`` (replicated designs): the share of each outcome's variance that is
  run-to-run noise, for single runs and for replicate means.
- ``analysis.md``: a short report of the above.

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
from govsim.sweep.design import UNIT_PREFIX, unit_problem
from govsim.sweep.experiment import ExperimentError
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


def _md_noise(noise: pd.DataFrame) -> str:
    lines = ["## Run-to-run noise",
             "Share of each outcome's variance due to the seed alone (between replicates of "
             "the same point): of single runs, and of the replicate means the indices and "
             "tables use. Above about 0.2 for the means, differences between points are "
             "partly dice: add replicates before reading small effects (and Sobol ST near "
             "or above 1 is a symptom).", "",
             "| outcome | of a run | of a point mean | |", "|---|---:|---:|---|"]
    lines += [f"| `{r.outcome}` | {r.run_share:.2f} | {r.mean_share:.2f} | "
              f"{'**noisy**' if r.mean_share > 0.2 else ''} |" for r in noise.itertuples()]
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
            "Parameters are sorted by ST; ST well above S1 means interactions."]
    if second:
        text.append("Second-order indices (S2, the share due to each pair's interaction): "
                    "`sobol_second_order.csv`.")
    text += notes
    for outcome, group in table.groupby("outcome", sort=False):
        group = group.sort_values("ST", ascending=False)
        lines = [f"### {outcome}", "", "| parameter | S1 | ±95% | ST | ±95% |",
                 "|---|---:|---:|---:|---:|"]
        lines += [f"| `{r.parameter}` | {r.S1:.3f} | {r.S1_conf:.3f} | {r.ST:.3f} | "
                  f"{r.ST_conf:.3f} |" for r in group.itertuples()]
        text.append("\n".join(lines))
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
        lines = [f"### {outcome}", "", "| parameter | mu* | ±95% | mu | sigma |",
                 "|---|---:|---:|---:|---:|"]
        lines += [f"| `{r.parameter}` | {r.mu_star:.4g} | {r.mu_star_conf:.3g} | {r.mu:.4g} | "
                  f"{r.sigma:.4g} |" for r in group.itertuples()]
        text.append("\n".join(lines))
    return "\n\n".join(text)


# --- grids ------------------------------------------------------------------------------


def _grid(ok: pd.DataFrame, levels: pd.DataFrame, names: list, outcomes: list, out: Path,
          files: list) -> str:
    varied = [n for n in names if ok[n].nunique() > 1]
    pairs = [(p, q) for i, p in enumerate(varied) for q in varied[i + 1:]][:MAX_HEATMAP_PAIRS]
    for p, q in pairs:
        files.append(_plot_heatmaps(ok, p, q, outcomes, out))
    steps = steepest_steps(levels)
    text = ["## Where outcomes change fastest",
            "For each outcome and parameter, the adjacent pair of levels with the largest "
            "change in the mean outcome (averaged over the other parameters and replicates): "
            "candidate tipping points, to look at in the heatmaps."]
    if not steps.empty:
        lines = ["| outcome | parameter | from | to | change |", "|---|---|---:|---:|---:|"]
        lines += [f"| `{r.outcome}` | `{r.parameter}` | {r.start} | {r.end} | "
                  f"{r.change:+.4g} |" for r in steps.itertuples()]
        text.append("\n".join(lines))
    if pairs:
        text.append("Heatmaps: " + ", ".join(f"`{p}` x `{q}`" for p, q in pairs) + ".")
    return "\n\n".join(text)


def steepest_steps(levels: pd.DataFrame) -> pd.DataFrame:
    """Per outcome and parameter, the adjacent levels with the largest change in the mean."""
    rows = []
    for (outcome, name), group in levels.groupby(["outcome", "parameter"], sort=False):
        group = group.sort_values("order")
        if len(group) < 2:
            continue
        change = group["mean"].diff().to_numpy()[1:]
        if np.all(np.isnan(change)):
            continue
        i = int(np.nanargmax(np.abs(change)))
        rows.append({"outcome": outcome, "parameter": name, "start": group["level"].iloc[i],
                     "end": group["level"].iloc[i + 1], "change": change[i]})
    return pd.DataFrame(rows)


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
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False,
                             sharey=True)
    for ax, name in zip(axes.flat, names, strict=False):
        group = data[data["parameter"] == name].sort_values("order")
        x = np.arange(len(group))
        ax.errorbar(x, group["mean"], yerr=group["ci95"].fillna(0), marker="o", capsize=3)
        ax.set_xticks(x, group["level"], rotation=30, ha="right", fontsize=7)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"{outcome}: mean by parameter level (95% interval)")
    fig.tight_layout()
    return _save(fig, out / f"main_effects_{_safe(outcome)}.png")


def _plot_heatmaps(ok: pd.DataFrame, p: str, q: str, outcomes: list, out: Path) -> Path:
    """One figure per pair of parameters, a heatmap panel per outcome."""
    import matplotlib.pyplot as plt

    cols = min(3, len(outcomes))
    rows = math.ceil(len(outcomes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.6 * cols, 4.4 * rows), squeeze=False)
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        table = ok.groupby([p, q])[outcome].mean().unstack(q).sort_index().sort_index(axis=1)
        values = table.to_numpy(float)
        image = ax.imshow(values, origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [_label(v) for v in table.columns], rotation=30,
                      ha="right", fontsize=7)
        ax.set_yticks(range(table.shape[0]), [_label(v) for v in table.index], fontsize=7)
        ax.set_xlabel(q, fontsize=8)
        ax.set_ylabel(p, fontsize=8)
        if values.size <= 100:
            middle = np.nanmean(values)
            for (i, j), value in np.ndenumerate(values):
                ax.text(j, i, _short(value), ha="center", va="center", fontsize=6,
                        color="white" if value < middle else "black")
        fig.colorbar(image, ax=ax)
        ax.set_title(outcome, fontsize=9)
    for ax in list(axes.flat)[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle(f"Mean outcome over {p} and {q} (replicates and other parameters averaged)")
    fig.tight_layout()
    return _save(fig, out / f"heatmaps__{_safe(p)}__{_safe(q)}.png")


def _plot_sobol(group: pd.DataFrame, outcome: str, out: Path) -> Path:
    import matplotlib.pyplot as plt

    group = group.sort_values("ST")
    y = np.arange(len(group))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(group) + 1.5))
    ax.barh(y - 0.2, group["S1"], height=0.4, xerr=group["S1_conf"], label="S1 (first order)",
            capsize=2)
    ax.barh(y + 0.2, group["ST"], height=0.4, xerr=group["ST_conf"], label="ST (total)",
            capsize=2)
    ax.set_yticks(y, group["parameter"], fontsize=8)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel("Sobol index (95% interval)")
    ax.set_title(outcome)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, out / f"sobol_{_safe(outcome)}.png")


def _plot_morris(group: pd.DataFrame, outcome: str, out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5))
    ax.errorbar(group["mu_star"], group["sigma"], xerr=group["mu_star_conf"], fmt="o",
                capsize=2)
    for r in group.itertuples():
        ax.annotate(r.parameter, (r.mu_star, r.sigma), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_xlabel("mu* (mean |elementary effect| over the whole range)")
    ax.set_ylabel("sigma (spread of effects)")
    ax.set_title(outcome)
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
    shown = outcomes[:4]
    wide = levels[levels["outcome"].isin(shown)].pivot_table(
        index=["parameter", "order", "level"], columns="outcome", values="mean", sort=False)
    lines = ["## Means by parameter level",
             "Mean outcome by level of each parameter, over all other parameters and "
             "replicates (all outcomes, with sd, n and 95% intervals: `means_by_level.csv`).",
             "", "| parameter | level | " + " | ".join(f"`{o}`" for o in shown) + " |",
             "|---|---|" + "---:|" * len(shown)]
    for count, ((name, _, level), row) in enumerate(wide.iterrows()):
        if count >= _MD_ROWS * 4:
            lines.append(f"| ... | | {'| ' * len(shown)}")
            break
        cells = " | ".join(f"{row.get(o, float('nan')):.4g}" for o in shown)
        lines.append(f"| `{name}` | {level} | {cells} |")
    return "\n".join(lines)


def _write_csv(frame: pd.DataFrame, path: Path, index: bool | None = None) -> Path:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index if index is not None else frame.index.name is not None,
                     float_format="%.6g")
    return path
