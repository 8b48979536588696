"""Sizing work before it starts: runs, time and peak memory, and what the machine can hold.

Every command that runs the model calls :func:`check_runs` before the first run. It
estimates the peak memory from the scenario (the consumers' social network dominates: it
grows with consumers x degree) and the number of processes, and refuses, with the estimate
and the limit, work that cannot fit in the memory available; it asks for ``--yes`` above
:data:`LARGE_RUNS` runs, so a typo in ``--replicates`` or ``samples`` costs a message, not
an afternoon.

The coefficients were measured on govsim 0.1 (Python 3.11, Linux x86-64) from peak resident
memory of single runs: 20,000 consumers x degree 8: +16 MB over the 155 MB of an idle
process; 100,000 x 8: +36 MB; 100,000 x 40: +172 MB; 400,000 x 20: +341 MB; 30,000
businesses: +13 MB over 3,000. They are estimates (about +-30%), not guarantees.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from govsim.scenario import Scenario, ScenarioError

#: Runs above which a command asks for ``--yes`` (documented in README "Limits").
LARGE_RUNS = 10_000
#: ``--workers`` above this many times the cores only adds memory, never speed.
WORKERS_PER_CORE = 2
#: Memory of an idle worker process after importing govsim (measured: 155 MB).
PROCESS_BYTES = 160 * 2**20
BYTES_PER_EDGE = 45  # per consumer x degree: the network's adjacency, built and held
BYTES_PER_CONSUMER = 60
BYTES_PER_BUSINESS = 600
RUN_FIXED_BYTES = 20 * 2**20
#: Bytes a finished run's monthly figures take in the parent (about 50 float columns).
BYTES_PER_RUN_MONTH = 600
#: Keep this share of the available memory free for everything else on the machine.
HEADROOM = 0.8
#: Seconds per consumer x degree (network) and per agent-month, measured like the memory.
SECONDS_PER_EDGE = 1.1e-7
SECONDS_PER_AGENT_MONTH = 1e-8


class SizeError(ScenarioError):
    """Work that cannot fit, or needs ``--yes`` (one line, exit status 2)."""


@dataclass(frozen=True)
class Estimate:
    """What a command is about to do.

    Attributes:
        runs: model runs.
        workers: processes running them at once.
        seconds: estimated wall time.
        run_bytes: peak memory of the largest single run, above an idle process.
        peak_bytes: estimated peak memory of the whole command.
        available_bytes: memory this machine has available now.
    """

    runs: int
    workers: int
    seconds: float
    run_bytes: int
    peak_bytes: int
    available_bytes: int

    def text(self) -> str:
        return (f"{self.runs:,} runs on {self.workers} process{'es' if self.workers > 1 else ''}"
                f", about {_duration(self.seconds)} and {gib(self.peak_bytes)} of memory at "
                f"peak ({gib(self.available_bytes)} available)")


def run_bytes(s: Scenario) -> int:
    """Estimated peak memory of one run of ``s`` above an idle process."""
    c = s.consumers.count
    return int(BYTES_PER_EDGE * c * s.participation.degree + BYTES_PER_CONSUMER * c
               + BYTES_PER_BUSINESS * s.businesses.count + RUN_FIXED_BYTES)


def run_seconds(s: Scenario) -> float:
    """Estimated seconds of one run of ``s`` on one core."""
    agents = s.consumers.count + 10 * s.businesses.count
    return (SECONDS_PER_EDGE * s.consumers.count * s.participation.degree
            + SECONDS_PER_AGENT_MONTH * agents * s.run.months + 0.02)


def estimate(scenarios: Iterable[Scenario], runs: int, workers: int,
             extra_bytes: int = 0, holds_results: bool = True) -> Estimate:
    """Size ``runs`` runs spread evenly over ``scenarios`` on ``workers`` processes.

    Args:
        scenarios: the scenarios run (the largest decides the per-run memory).
        runs: total runs.
        workers: processes (1: in this process).
        extra_bytes: memory the parent holds besides (e.g. a sweep's design table).
        holds_results: the parent keeps every run's monthly figures (compare) rather than
            writing them out as they come (sweep).
    """
    scenarios = list(scenarios) or [Scenario()]
    per_run = max(run_bytes(s) for s in scenarios)
    months = max(s.run.months for s in scenarios)
    seconds = sum(run_seconds(s) for s in scenarios) / len(scenarios) * runs
    parallel = max(1, min(workers, runs))
    held = extra_bytes + (runs * months * BYTES_PER_RUN_MONTH if holds_results else 0)
    peak = parallel * per_run + (parallel - 1 if parallel > 1 else 0) * PROCESS_BYTES + held
    return Estimate(runs, parallel, seconds / parallel, per_run, int(peak), available_memory())


def check_runs(scenarios: Iterable[Scenario], runs: int, workers: int, yes: bool,
               command: str, extra_bytes: int = 0, holds_results: bool = True) -> Estimate:
    """Refuse work that cannot fit in memory, or is large and not confirmed with ``--yes``.

    Raises:
        SizeError: naming the estimate and the limit.
    """
    est = estimate(scenarios, runs, workers, extra_bytes, holds_results)
    limit = int(est.available_bytes * HEADROOM)
    if est.peak_bytes > limit:
        advice = ("fewer --workers, " if est.workers > 1 else "") + \
            "fewer consumers (consumers.count) or a lower participation.degree"
        if est.runs > 1 and est.peak_bytes > 2 * est.workers * (est.run_bytes + PROCESS_BYTES):
            advice = "fewer runs (replicates or samples)"  # the results, not the runs, are big
        elif est.runs > 1:
            advice += ", or fewer runs"
        raise SizeError(f"{command}: this needs about {gib(est.peak_bytes)} of memory at peak "
                        f"({est.runs:,} runs on {est.workers} processes, {gib(est.run_bytes)} "
                        f"per run), more than the {gib(limit)} this machine can spare "
                        f"({HEADROOM:.0%} of {gib(est.available_bytes)} available); "
                        f"use {advice}")
    if runs > LARGE_RUNS and not yes:
        raise SizeError(f"{command}: {est.text()}; that is more than {LARGE_RUNS:,} runs, so "
                        "add --yes to confirm")
    return est


def cap_workers(workers: int, flag: str = "--workers") -> int:
    """``workers``, at most :data:`WORKERS_PER_CORE` x the cores, with a warning if capped.

    Raises:
        SizeError: ``workers`` below 1.
    """
    if workers < 1:
        raise SizeError(f"{flag} {workers}: at least 1 is needed")
    cap = WORKERS_PER_CORE * cores()
    if workers > cap:
        print(f"govsim: warning: {flag} {workers} on {cores()} cores only adds memory; "
              f"using {cap}", file=sys.stderr)
        return cap
    return workers


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def available_memory() -> int:
    """Bytes of memory available now: the system's, or the container's limit if lower."""
    import psutil

    available = psutil.virtual_memory().available
    limit = _cgroup_room()
    return min(available, limit) if limit is not None else available


def _cgroup_room() -> int | None:
    root = Path("/sys/fs/cgroup")
    try:
        limit = (root / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((root / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def gib(n: float) -> str:
    """``"1.5 GB"`` or ``"300 MB"``."""
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:,.0f} days"
