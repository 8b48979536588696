"""Flat memory: a long-lived process (a sweep worker, a notebook) can run model after model.

Mesa 3.3 kept every model alive through its class-level agent-id counters (about 4 MB per
default run); govsim numbers its agents with weakly keyed counters instead
(:class:`govsim.agents.GovsimAgent`), and Mesa 3.5 keeps no such registry.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
import weakref

import govsim
from govsim.model import GovernanceModel

#: Allowed growth of resident memory from run 200 to run 2,000 (measured: 10 MB on
#: Python 3.11 / Mesa 3.3.1, 2-4 MB on Python 3.13 / Mesa 3.5.1; without the fix: 214 MB).
GROWTH_BOUND_MB = 40

SMALL = {"consumers.count": 500, "businesses.count": 50, "run.months": 3}


def test_a_finished_model_is_freed():
    model = GovernanceModel(govsim.Scenario().with_overrides(SMALL), seed=1)
    for _ in range(3):
        model.step()
    model.consumer_agents([0, 1, 2])  # consumers registered on demand are freed too
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None, "something still holds the model after its run"


def test_two_thousand_runs_in_one_process_stay_within_the_bound():
    script = textwrap.dedent(f"""
        import govsim
        from govsim.model import GovernanceModel

        def rss_mb():
            with open("/proc/self/status") as f:
                return next(int(x.split()[1]) for x in f if x.startswith("VmRSS")) / 1024

        scenario = govsim.Scenario().with_overrides({SMALL!r})
        for i in range(2000):
            model = GovernanceModel(scenario, seed=i)
            for _ in range(scenario.run.months):
                model.step()
            if i == 199:
                start = rss_mb()
        print(start, rss_mb())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=True)
    start, end = map(float, done.stdout.split())
    assert end - start < GROWTH_BOUND_MB, f"RSS grew {end - start:.0f} MB over 1,800 runs"


def test_short_sweep_chunks_do_not_pile_up_garbage():
    """A worker runs chunk after chunk (an optimisation sends thousands of one- to four-run
    chunks); each chunk's leftover reference cycles must be collected, not frozen by the
    next chunk's ``gc.freeze`` (that grew an optimisation to 3 GB)."""
    script = textwrap.dedent(f"""
        import gc
        import govsim
        from govsim.sweep.worker import ChunkTask, run_chunk

        base = govsim.Scenario().with_overrides({SMALL!r})
        def chunk(i):
            run_chunk(ChunkTask("govsim.sweep.models:govsim_model", base, {{}}, False, None,
                                [(i, i, {{}})]))
        for i in range(20):
            chunk(i)
        start = len(gc.get_objects())
        for i in range(20, 220):
            chunk(i)
        print(start, len(gc.get_objects()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, check=True)
    start, end = map(int, done.stdout.split())
    assert end - start < 5_000, f"{end - start} objects more after 200 chunks"
