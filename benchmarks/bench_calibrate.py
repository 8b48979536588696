"""Benchmark of govsim calibrate: simulations per second during a calibration, against the
bare ``govsim.run`` rate measured in the same process and the same minutes.

The work: the bundled Guangdong targets (``targets/guangdong_district.toml``: 6 targets,
7 unknown parameters, 60-month simulations of the full-size district), a short ABC-SMC of
``--population`` particles and ``--generations`` generations, run

- by a bare loop of ``govsim.run`` on the base scenario in this process (the model's own
  time: the reference);
- by ``govsim calibrate`` with ``--workers 1`` (this process) and ``--workers 2`` (local
  processes), everything included: pyabc's proposal and bookkeeping, the SQLite history,
  process start-up, the per-sector adapter; not the outputs (figures, predictive check).

Simulations per second = simulations (the prior sample plus every generation's) / wall
time. Wall-clock figures on a shared machine are noisy: the load average is printed with
them. The last line estimates the default calibration (200 x 6) on 2 idle cores from the
simulations it needs (``--default-sims``, as measured by a default run) and the rates
measured here.

Usage::

    .venv/bin/python benchmarks/bench_calibrate.py [--population 40] [--generations 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import govsim
from govsim.calibrate import driver
from govsim.calibrate import targets as targets_mod
from govsim.sweep.executors import make_executor


def bare_rate(base: govsim.Scenario, runs: int) -> float:
    start = time.perf_counter()
    for seed in range(runs):
        govsim.run(base, seed=seed)
    return runs / (time.perf_counter() - start)


def calibration_rate(targets, workers: int, population: int, generations: int) -> tuple:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with make_executor(workers=workers) as executor, open(os.devnull, "w") as quiet:
            history = driver.run(targets, Path(tmp) / "cal", executor, population,
                                 generations, log=quiet)
        seconds = time.perf_counter() - start
        sims = int(history.total_nr_simulations) + population  # + the prior sample
    return sims, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=40)
    parser.add_argument("--generations", type=int, default=2)
    parser.add_argument("--bare-runs", type=int, default=30)
    parser.add_argument("--default-sims", type=int, default=0,
                        help="simulations of a default calibration, to estimate its time")
    args = parser.parse_args()

    targets = targets_mod.load("guangdong_district")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    reference = bare_rate(targets.base, args.bare_runs)
    print(f"{'mode':<28} {'sims':>6} {'seconds':>8} {'sims/s':>8} {'vs bare 1 core':>15}")
    print(f"{'bare govsim.run loop':<28} {args.bare_runs:>6} "
          f"{args.bare_runs / reference:>8.1f} {reference:>8.2f} {1.0:>15.2f}")
    rates = {}
    for workers in (1, 2):
        sims, seconds = calibration_rate(targets, workers, args.population, args.generations)
        rates[workers] = sims / seconds
        print(f"{f'calibrate --workers {workers}':<28} {sims:>6} {seconds:>8.1f} "
              f"{rates[workers]:>8.2f} {rates[workers] / reference:>15.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    if args.default_sims:
        print(f"default calibration ({args.default_sims} simulations) on 2 cores at the "
              f"rate measured here: {args.default_sims / rates[2] / 60:.1f} min; at twice the "
              f"bare rate (2 idle cores, no overhead): "
              f"{args.default_sims / (2 * reference) / 60:.1f} min")


if __name__ == "__main__":
    main()
