"""Benchmark: agent-steps per second of govsim next to a minimal Mesa model.

Prints, for each case, set-up time, stepping time, agent-steps per second (agents x months /
stepping seconds) and peak memory, then the ratios to the targets:

- stepping the default scenario at least 10x the agent-steps per second of a minimal Mesa
  model (1,000 agents, a trivial ``shuffle_do`` step) measured in the same run;
- 1,000,000 consumers for 60 months in under 60 s and under 4 GB peak memory, set-up included.

Each case runs in its own process so that peak memory is its own. Run:
    .venv/bin/python benchmarks/bench_model.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

REPEATS = 5  # best of: the fastest repeat is the least disturbed by other load


def minimal_mesa(agents: int = 1_000, steps: int = 200) -> dict:
    """The reference: Mesa's own scheduling of trivial agents."""
    import mesa

    class Trivial(mesa.Agent):
        def step(self):
            self.wealth = 1

    class Minimal(mesa.Model):
        def __init__(self, n, seed=None):
            super().__init__(seed=seed)
            Trivial.create_agents(self, n)

        def step(self):
            self.agents.shuffle_do("step")

    start = time.perf_counter()
    model = Minimal(agents, seed=1)
    setup = time.perf_counter() - start
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(steps):
            model.step()
        best = min(best, time.perf_counter() - start)
    return {"agents": agents, "months": steps, "setup_s": setup, "step_s": best}


def govsim_case(overrides: dict, months: int, repeats: int) -> dict:
    """Set-up and stepping of the govsim model, the best of ``repeats``."""
    start = time.perf_counter()
    import govsim
    from govsim.model import GovernanceModel
    import_s = time.perf_counter() - start

    scenario = govsim.Scenario().with_overrides(overrides)
    best_setup = best_step = float("inf")
    first_month_s = None
    for seed in range(repeats):
        start = time.perf_counter()
        model = GovernanceModel(scenario, seed=seed)
        setup = time.perf_counter() - start
        start = time.perf_counter()
        model.step()
        # a new process's first month also loads the compiled loops (govsim.jit) from
        # numba's cache, or compiles them after an install or a change
        first_month_s = first_month_s or time.perf_counter() - start
        for _ in range(months - 1):
            model.step()
        best_step = min(best_step, time.perf_counter() - start)
        best_setup = min(best_setup, setup)
    agents = (scenario.consumers.count + scenario.businesses.count
              + scenario.market.n_agencies + 1)
    return {"agents": agents, "months": months, "setup_s": best_setup, "step_s": best_step,
            "import_s": import_s, "first_month_s": first_month_s}


CASES = {
    "minimal_mesa": lambda: minimal_mesa(),
    "default": lambda: govsim_case({}, 60, REPEATS),
    # a whole city at 1:1: a million people, a business per ~67 residents
    "city_1M": lambda: govsim_case({"consumers.count": 1_000_000,
                                    "consumers.population": 1_000_000,
                                    "businesses.count": 15_000}, 60, 1),
}


def measure(case: str) -> dict:
    """Run one case in a fresh process and return its figures with its peak memory."""
    out = subprocess.run([sys.executable, __file__, "--case", case], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        figures = CASES[sys.argv[2]]()
        figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return 0
    results = {case: measure(case) for case in CASES}
    print(f"{'case':<14}{'agents':>10}{'months':>8}{'set-up s':>10}{'step s':>9}"
          f"{'agent-steps/s':>16}{'peak MB':>9}")
    for case, r in results.items():
        r["rate"] = r["agents"] * r["months"] / r["step_s"]
        print(f"{case:<14}{r['agents']:>10,}{r['months']:>8}{r['setup_s']:>10.3f}"
              f"{r['step_s']:>9.3f}{r['rate']:>16,.0f}{r['peak_mb']:>9.0f}")
    ratio = results["default"]["rate"] / results["minimal_mesa"]["rate"]
    city = results["city_1M"]
    city_total = city["setup_s"] + city["step_s"]
    checks = [
        (f"default stepping vs minimal Mesa: {ratio:.1f}x (target >= 10x)", ratio >= 10),
        (f"1,000,000 consumers, 60 months, set-up included: {city_total:.1f} s "
         "(target < 60 s)", city_total < 60),
        (f"1,000,000 consumers peak memory: {city['peak_mb'] / 1024:.2f} GB (target < 4 GB)",
         city["peak_mb"] < 4 * 1024),
    ]
    default = results["default"]
    print(f"\nonce per process (not in the figures above): import {default['import_s']:.2f} s, "
          f"first month {default['first_month_s']:.3f} s (loads or compiles the compiled loops)")
    print()
    for text, ok in checks:
        print(f"{'meets' if ok else 'MISSES'}  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
