"""A reproducible pyabc sampler: every evaluation seeded from one master seed, on this
process, local worker processes or a Dask cluster.

Why not pyabc's own samplers: every one of them (``MulticoreEvalParallelSampler``,
``DaskDistributedSampler``, ...) reseeds numpy from the operating system's entropy in each
job (``np.random.seed()`` in ``pyabc.sampler.eps_mixin``), so the same calibration twice gives
two different posteriors, and a posterior depends on the executor. The batches run on the
sweep's executors (:mod:`govsim.sweep.executors`: this process, local worker processes or a
Dask cluster), which read the batches only when they have room, so a generation stops
sending batches as soon as it has its particles.

So this sampler follows pyabc's own "evaluation-parallel" scheme (as in ``EPSMixin``:
evaluations are numbered, and a generation keeps the evaluations up to the n-th accepted one
*in number order*, which avoids favouring fast simulations), and adds one thing: evaluation
``i`` of generation ``t`` seeds numpy, ``random`` and the model from
``SeedSequence(master, spawn_key=(t + 1, i))`` before it proposes its parameters. An
evaluation is then a pure function of (master seed, t, i, the generation's state), so the
posterior does not depend on where, in what order, or in how many processes the
evaluations ran, nor on how they are batched.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pyabc.sampler import Sampler

from govsim.calibrate.simulate import seeded
from govsim.sweep.executors import Executor

#: Evaluations sent to a worker at once, at most (fewer for small populations). Batches
#: still running when a generation has its particles are wasted, so they stay small; a
#: simulation (~0.1 s) costs far more than sending one.
MAX_BATCH = 10


def evaluation_seeds(master: int, t: int, index: int) -> tuple[np.ndarray, int, int]:
    """(numpy global seed words, ``random`` seed, model seed) of evaluation ``index`` of
    generation ``t`` (``t = -1``: pyabc's calibration sample from the prior)."""
    words = np.random.SeedSequence(master, spawn_key=(t + 1, index)).generate_state(4)
    return words[:2], int(words[2]), int(words[3])


@dataclass(frozen=True)
class Batch:
    """Evaluations ``start .. start + count - 1`` of generation ``t``, with the generation's
    pickled ``simulate_one`` (``payload``)."""

    payload: bytes
    master: int
    t: int
    start: int
    count: int

    @property
    def key(self) -> str:
        """The batch's name in errors and on Dask (unique within a calibration)."""
        digest = hashlib.blake2b(self.payload, digest_size=4).hexdigest()
        return f"calibrate-{self.master}-{self.t}-{digest}-{self.start}"


_cache: dict[str, Callable] = {}


def evaluate_batch(batch: Batch) -> list:
    """Run a batch's evaluations (in a worker).

    Returns:
        ``[(index, particle), ...]`` in index order.
    """
    import cloudpickle

    key = hashlib.blake2b(batch.payload, digest_size=16).hexdigest()
    if key not in _cache:  # one generation's closure, unpickled once per worker
        _cache.clear()
        _cache[key] = cloudpickle.loads(batch.payload)
    simulate_one = _cache[key]
    out = []
    for index in range(batch.start, batch.start + batch.count):
        np_seed, py_seed, model_seed = evaluation_seeds(batch.master, batch.t, index)
        np.random.seed(np_seed)
        random.seed(py_seed)
        with seeded(model_seed):
            out.append((index, simulate_one()))
    return out


# --- the sampler ----------------------------------------------------------------------------


class SeededSampler(Sampler):
    """pyabc sampler whose generations depend only on the master seed (see module doc).

    Args:
        master: the calibration's master seed.
        executor: where batches run (an entered :mod:`govsim.sweep.executors` executor).
        on_generation: called after each generation as
            ``on_generation(t, accepted, evaluations, seconds)``.
    """

    def __init__(self, master: int, executor: Executor,
                 on_generation: Callable[[int, int, int, float], None] | None = None):
        super().__init__()
        self.master, self.executor, self.on_generation = master, executor, on_generation

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                all_accepted=False, ana_vars=None):
        import cloudpickle

        start_time = time.perf_counter()
        payload = cloudpickle.dumps(simulate_one)
        size = max(1, min(MAX_BATCH, n // (4 * self.executor.slots)))
        done: dict[int, list] = {}

        def batches():
            start = 0
            while start < max_eval and self._accepted(done) < n:
                yield Batch(payload, self.master, t, start, size)
                start += size

        finished = self.executor.map(batches(), evaluate_batch, on_killed=None)
        try:
            for batch, particles in finished:
                done[batch.start] = particles
                if self._enough(done, size, n, max_eval):
                    break
        finally:
            finished.close()  # batches still in flight are not needed
        sample = self._create_empty_sample()
        evaluations = 0
        for _, particle in self._in_order(done, size):
            sample.append(particle)
            evaluations += 1
            if sample.n_accepted == n:
                break
        if sample.n_accepted < n:
            sample.ok = False
        self.nr_evaluations_ = evaluations
        if self.on_generation is not None:
            self.on_generation(t, sample.n_accepted, evaluations,
                               time.perf_counter() - start_time)
        return sample

    @staticmethod
    def _accepted(done: dict[int, list]) -> int:
        return sum(particle.accepted for batch in done.values() for _, particle in batch)

    @staticmethod
    def _in_order(done: dict[int, list], size: int):
        """Finished evaluations from number 0 up to the first gap."""
        start = 0
        while start in done:
            yield from done[start]
            start += size

    def _enough(self, done: dict[int, list], size: int, n: int, max_eval) -> bool:
        accepted = 0
        for evaluations, (_, particle) in enumerate(self._in_order(done, size), start=1):
            accepted += particle.accepted
            if accepted >= n or evaluations >= max_eval:
                return True
        return False
