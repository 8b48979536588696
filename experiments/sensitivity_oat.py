"""One-at-a-time sensitivity: every policy lever and every assumed parameter at x0.5 and x2.

Question: which numbers move compliance and illness most, and do assumptions about behaviour
outweigh the policy levers a district controls?

Each variant runs the baseline with one parameter halved or doubled (clipped to its allowed
range; a switch is flipped instead), on the same seeds as the baseline (common random
numbers), so each effect is a paired difference with a 95% t interval over the seeds.
Writes, into ``--out`` (default ``docs/``): ``sensitivity.csv`` (every effect with its
interval), ``sensitivity.md`` (the table the ODD shows) and ``sensitivity.png`` (tornado
charts of compliance and illness).

Run it from the project root::

    .venv/bin/python experiments/sensitivity_oat.py            # 10 seeds, all cores
    .venv/bin/python experiments/sensitivity_oat.py --seeds 4 --out out/sensitivity
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm import tqdm

import govsim
from govsim.scenario import bundled_scenarios

#: Levers a district (or its legislature) controls.
LEVERS = (
    "budget.annual_yuan", "budget.backcheck_share", "law.business_fine_yuan",
    "law.fine_goods_multiple", "law.inspection_fine_yuan", "law.agency_fine_multiple",
    "law.agency_liability", "law.enforcement_probability", "law.consumer_damages_yuan",
    "performance.backcheck_rate", "performance.quality_weight", "performance.blacklist",
    "market.n_agencies", "participation.reward_yuan", "participation.disclosure",
    "system.sampling", "system.inspectors", "system.routine_inspection_share",
    "system.followup_samples",
)

#: Numbers about behaviour and markets that nobody in the district observes directly.
ASSUMPTIONS = (
    "businesses.compliance_cost_yuan", "businesses.compliance_cost_spread",
    "businesses.choice_noise_yuan", "businesses.conformity", "businesses.revision_rate",
    "businesses.belief_learning_rate", "businesses.bribe_propensity", "businesses.margin",
    "businesses.batch_share_of_sales", "consumers.illness_probability",
    "consumers.other_illness_per_year", "consumers.reputation_effect",
    "consumers.trust_recovery", "participation.attribution_probability",
    "participation.complaint_probability", "participation.word_of_mouth",
    "participation.reward_effect", "participation.bulletin_reach",
    "participation.disclosure_reach", "participation.disclosure_demand_loss",
    "law.damages_claim_probability", "market.integrity", "market.learning_rate",
    "market.bribe_yuan", "market.markup", "market.sensitivity_unqualified",
    "system.inspection_sensitivity", "system.inspections_per_inspector",
)

OUTCOMES = {"compliance_rate": ("compliance", 100.0, "pp"),
            "illness_per_100k": ("illness per 100,000 a year", 12.0, "")}
SWITCHES = {"system.sampling": "risk_based"}


def variants(base: govsim.Scenario) -> list[tuple[str, str, str, dict]]:
    """(parameter, kind, label, overrides) for every variant, the baseline first."""
    flat = base.flat()
    out = [("baseline", "", "baseline", {})]
    for kind, names in (("lever", LEVERS), ("assumption", ASSUMPTIONS)):
        for name in names:
            value = flat[name]
            if name in SWITCHES:
                out.append((name, kind, f"= {SWITCHES[name]}", {name: SWITCHES[name]}))
            elif isinstance(value, bool):
                out.append((name, kind, f"= {str(not value).lower()}", {name: not value}))
            else:
                for factor in (0.5, 2.0):
                    out.append((name, kind, f"x{factor:g}", {name: _scaled(name, value, factor)}))
    return out


def _scaled(name: str, value, factor: float):
    """value x factor, kept within the field's allowed range and type."""
    lo, hi = _bounds(name)
    scaled = min(max(value * factor, lo), hi)
    return int(round(scaled)) if isinstance(value, int) else float(scaled)


def _bounds(name: str) -> tuple[float, float]:
    section, field = name.split(".")
    info = govsim.Scenario.model_fields[section].annotation.model_fields[field]
    lo, hi = -np.inf, np.inf
    for meta in info.metadata:
        lo = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else lo
        hi = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else hi
    return lo, hi


def run_one(task: tuple[govsim.Scenario, int]) -> dict[str, float]:
    scenario, seed = task
    ts = govsim.run(scenario, seed=seed).timeseries.tail(24)
    return {k: float(ts[k].mean()) for k in OUTCOMES}


def effects(rows: pd.DataFrame) -> pd.DataFrame:
    """Paired effect of each variant on each outcome, with a 95% t interval over seeds."""
    base = rows[rows.parameter == "baseline"].set_index("seed")
    out = []
    for (parameter, kind, label), g in rows[rows.parameter != "baseline"].groupby(
            ["parameter", "kind", "label"], sort=False):
        line = {"parameter": parameter, "kind": kind, "change": label}
        for outcome, (_, scale, _) in OUTCOMES.items():
            diff = (g.set_index("seed")[outcome] - base[outcome]) * scale
            half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
            line[outcome] = diff.mean()
            line[f"{outcome}_low"], line[f"{outcome}_high"] = diff.mean() - half, diff.mean() + half
        out.append(line)
    return pd.DataFrame(out)


def swing(table: pd.DataFrame, outcome: str) -> pd.Series:
    """Largest absolute effect of each parameter on ``outcome`` (over its variants)."""
    return table.assign(a=table[outcome].abs()).groupby("parameter")["a"].max()


def write_table(table: pd.DataFrame, base: pd.DataFrame, path: Path, seeds: int) -> None:
    order = swing(table, "compliance_rate").sort_values(ascending=False).index
    lines = [f"Baseline (seeds 0-{seeds - 1}, last 24 of 60 months): compliance "
             f"{base.compliance_rate.mean():.1%}, illness {12 * base.illness_per_100k.mean():,.0f}"
             " per 100,000 people a year. Each row: the paired change from the baseline, with "
             "its 95% interval; `~` marks a change whose interval includes zero (noise).", "",
             "| parameter | kind | change | compliance (pp) | illness per 100,000 a year |",
             "|---|---|---|---|---|"]
    for parameter in order:
        for _, r in table[table.parameter == parameter].iterrows():
            cells = [_cell(r, o) for o in OUTCOMES]
            lines.append(f"| `{parameter}` | {r.kind} | {r.change} | {cells[0]} | {cells[1]} |")
    _atomic_write(path, "\n".join(lines) + "\n")


def _cell(r: pd.Series, outcome: str) -> str:
    low, high, mean = r[f"{outcome}_low"], r[f"{outcome}_high"], r[outcome]
    digits = 1 if outcome == "compliance_rate" else 0
    noise = "~" if low <= 0 <= high else ""
    return f"{noise}{mean:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def tornado(table: pd.DataFrame, path: Path, top: int = 20) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 8))
    for ax, (outcome, (title, _, unit)) in zip(axes, OUTCOMES.items(), strict=True):
        order = swing(table, outcome).sort_values().tail(top).index
        for y, parameter in enumerate(order):
            rows = table[table.parameter == parameter]
            for _, r in rows.iterrows():
                colour = "tab:blue" if r.kind == "lever" else "tab:orange"
                ax.barh(y, r[outcome], color=colour, alpha=0.8 if "2" in r.change else 0.45)
                ax.plot([r[f"{outcome}_low"], r[f"{outcome}_high"]], [y, y], color="black",
                        lw=1)
        ax.set_yticks(range(len(order)), [f"{p}" for p in order], fontsize=8)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(f"change in {title}{' (' + unit + ')' if unit else ''}")
        ax.set_title(f"{title}: {top} largest effects")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("tab:blue", "tab:orange")]
    fig.legend(handles, ["policy lever", "assumption"], loc="lower center", ncol=2)
    fig.suptitle("One at a time, x0.5 (light) and x2 (dark) or switched; lines: 95% intervals")
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    if args.seeds < 2:
        parser.error("--seeds must be at least 2 (intervals need two)")
    base = govsim.Scenario.load(bundled_scenarios()["baseline"])
    plan = variants(base)
    tasks = [(base.with_overrides(overrides), seed) for _, _, _, overrides in plan
             for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(tqdm(pool.map(run_one, tasks, chunksize=4), total=len(tasks),
                            desc="sensitivity runs", disable=not sys.stderr.isatty()))
    rows = pd.DataFrame([{"parameter": p, "kind": k, "label": label, "seed": s, **res}
                         for (p, k, label, _), s, res in zip(
                             [v for v in plan for _ in range(args.seeds)],
                             [s for _ in plan for s in range(args.seeds)], results, strict=True)])
    table = effects(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    csv = args.out / "sensitivity.csv"
    tmp = csv.with_suffix(".csv.tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, csv)
    write_table(table, rows[rows.parameter == "baseline"], args.out / "sensitivity.md", args.seeds)
    tornado(table, args.out / "sensitivity.png")
    print(f"{len(tasks)} runs; wrote {csv}, sensitivity.md and sensitivity.png in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
