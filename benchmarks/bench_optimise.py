"""Benchmark of ``govsim optimise``: trials per minute on the default problem, against the
bare model time of the same runs.

The work: the first ``--trials`` trials of ``problems/cheapest_95.toml`` (its defaults:
4 replicates per trial, batches of 8), searched with ``--workers 2`` (local processes),
everything included: process start-up, sampler, SQLite study, chunking. The reference,
measured in the same session: the same candidates' runs (read back from the study, with
the same seeds) by a bare loop of ``govsim.run`` in this process, and by two bare loops
side by side (the machine's two-core ceiling). The noise check and the report are timed
separately, as in a full ``govsim optimise``.

Wall-clock figures on a shared machine are noisy: the load average is printed with them.

Usage::

    .venv/bin/python benchmarks/bench_optimise.py [--trials 32]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from govsim.optimise import load_problem, optimise, prepare
from govsim.optimise.driver import open_study
from govsim.optimise.evaluation import replicate_seeds
from govsim.run import run
from govsim.sweep.executors import ProcessExecutor

PROBLEM = Path(__file__).resolve().parents[1] / "problems" / "cheapest_95.toml"


def bare(tasks: list[tuple[dict, int]]) -> float:
    """Seconds to run ``tasks`` (lever values, seed) one after another in this process."""
    base = prepare(load_problem(PROBLEM)).base
    start = time.perf_counter()
    for params, seed in tasks:
        run(base.with_overrides(params), seed=seed)
    return time.perf_counter() - start


def _bare_worker(tasks):
    return bare(tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=32)
    args = parser.parse_args()
    problem = load_problem(PROBLEM)
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "study"
        start = time.perf_counter()
        result = optimise(problem, out=out, trials=args.trials, executor=ProcessExecutor(2),
                          echo=lambda line: None)
        total = time.perf_counter() - start
        search = result.search.elapsed
        study = open_study(problem, out)
        seeds = replicate_seeds(problem.seed, problem.replicates)
        tasks = [(t.params, s) for t in study.trials for s in seeds]
    rate = args.trials / search * 60
    print(f"optimise, --workers 2: {args.trials} trials x {problem.replicates} runs in "
          f"{search:.1f} s of search: {rate:.1f} trials/min "
          f"({len(tasks) / search:.2f} runs/s)")
    print(f"  whole command (start-up, search, noise check of {len(result.checked)} points x "
          f"{problem.reevaluate} runs, 7 reference scenarios x {problem.reevaluate} runs, "
          f"report): {total:.1f} s")
    one = bare(tasks)
    print(f"bare loop, 1 process: {len(tasks)} runs in {one:.1f} s: "
          f"{len(tasks) / one:.2f} runs/s = {args.trials / one * 60:.1f} trials/min")
    half = len(tasks) // 2
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        start = time.perf_counter()
        pool.map(_bare_worker, [tasks[:half], tasks[half:]])
        two = time.perf_counter() - start
    print(f"bare loops, 2 processes side by side (incl. their start-up): {two:.1f} s: "
          f"{args.trials / two * 60:.1f} trials/min")
    print(f"optimise against two bare loops: {two / search:.2f} of their speed")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
