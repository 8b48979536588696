"""Scenario discovery with EMA Workbench: govsim experiments, then PRIM.

Where does illness stay high? 100 experiments (Latin hypercube) over uncertainties the
government does not control, each run twice with seeds derived from one master seed, under
one policy: EMA varies levers only through ``policies=`` (each policy against every
scenario), and ``policies=1`` draws one combination of the two levers for all the runs. PRIM
then looks for the box of uncertainties where illness per 100,000 people is in the worst
quarter: the widest box on PRIM's peeling trajectory in which at least 70% of the
experiments are.

    pip install 'govsim[ema]'
    python experiments/ema_prim.py                     # 100 experiments, about 15-30 s
    python experiments/ema_prim.py --experiments 400 --months 60 --full-size

Everything the model needs (types, bounds, log scale of money) comes from the scenario
schema: see ``govsim scenarios --fields`` and :mod:`govsim.ema`.
"""

from __future__ import annotations

import argparse
import warnings
from inspect import signature

import numpy as np
import pandas as pd

from govsim import Scenario, ema

UNCERTAINTIES = [
    "law.enforcement_probability",
    "market.integrity",
    "participation.complaint_probability",
    ("businesses.initial_compliance", 0.6, 0.95),
    ("budget.annual_yuan", 1e5, 2e6),            # money: sampled log-uniformly
]
LEVERS = [
    "participation.disclosure",
    ("performance.backcheck_rate", 0.0, 0.2),
]
SMALL = {"consumers.count": 2_000, "businesses.count": 300}
DENSITY = 0.7  # the box to report: the widest one where 70% of the runs are in the worst quarter


def discover(experiments: int = 100, months: int = 36, replications: int = 2, seed: int = 1,
             full_size: bool = False) -> dict:
    """Run the experiments and PRIM; return what was found (also printed)."""
    from ema_workbench import perform_experiments
    from ema_workbench.analysis import prim

    base = _baseline()
    if not full_size:
        base = base.with_overrides(SMALL)
    model = ema.model(uncertainties=UNCERTAINTIES, levers=LEVERS,
                      outcomes=["illness_per_100k", "compliance_rate", "false_pass_rate"],
                      series=["illness_per_100k"], base=base, months=months,
                      replications=replications, seed=seed)
    # policies=1: one lever combination, drawn once, for every uncertainty sample
    # (`experiments` runs in all); policies=N would run each of N against every sample
    inputs, outcomes = perform_experiments(model, scenarios=experiments, policies=1,
                                           **_seeded_sampling(perform_experiments, seed))
    illness = outcomes["illness_per_100k"]
    cutoff = float(np.quantile(illness, 0.75))
    x = inputs.drop(columns=["scenario", "policy", "model"])
    worst = illness >= cutoff
    # EMA 2.5 takes the density to reach (it returns a dump box below it); EMA 3 does not
    # and leaves the choice of box on the peeling trajectory to the analyst
    extra = {"threshold": worst.mean()} if "threshold" in signature(prim.Prim).parameters else {}
    box = prim.Prim(x, worst, **extra).find_box()
    trajectory = box.peeling_trajectory
    dense = trajectory[trajectory["density"] >= DENSITY]
    chosen = int(dense["coverage"].idxmax() if len(dense) else trajectory["density"].idxmax())
    box.select(chosen)
    # inspect(style="data") reads the limits correctly under pandas 2 and 3; EMA 2.5's
    # boxes_to_dataframe() reports 0-0 limits under pandas 3 (see the README)
    [(stats, limits)] = box.inspect(chosen, style="data")
    print(f"{len(inputs)} experiments x {replications} replicates, {months} months")
    print(f"worst quarter: illness >= {cutoff:.1f} per 100,000 people a month")
    print(f"PRIM box: coverage {stats['coverage']:.2f}, density {stats['density']:.2f} "
          f"(all experiments: {np.mean(illness >= cutoff):.2f}), "
          f"{int(stats['res_dim'])} restricted dimension(s)")
    print(limits.to_string())
    return {"inputs": inputs, "outcomes": outcomes, "box": box, "limits": limits,
            "coverage": float(stats["coverage"]), "density": float(stats["density"]),
            "cutoff": cutoff}


def _seeded_sampling(perform, seed: int) -> dict:
    """The same Latin hypercube every time: EMA 3 takes the sampler's seed as an argument,
    EMA 2.5 samples from numpy's global generator."""
    if "uncertainty_sampling_kwargs" in signature(perform).parameters:
        return {"uncertainty_sampling_kwargs": {"rng": seed},
                "lever_sampling_kwargs": {"rng": seed}}
    np.random.seed(seed)
    return {}


def _baseline() -> Scenario:
    from govsim.scenario import resolve

    return Scenario.load(resolve("baseline"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--full-size", action="store_true",
                        help="the baseline's 20,000 consumers and 3,000 businesses")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=UserWarning, module="ema_workbench")
    pd.set_option("display.width", 120)
    discover(args.experiments, args.months, args.replications, args.seed, args.full_size)


if __name__ == "__main__":
    main()
