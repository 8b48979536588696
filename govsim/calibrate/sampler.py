"""A reproducible pyabc sampler: every evaluation seeded from one master seed, on this
process, local worker processes or a Dask cluster.

Why not pyabc's own samplers: every one of them (``MulticoreEvalParallelSampler``,
``DaskDistributedSampler``, ...) reseeds numpy from the operating system's entropy in each
job (``np.random.seed()`` in ``pyabc.sampler.eps_mixin``), so the same calibration twice gives
two different posteriors, and a posterior depends on the executor. Why not
:mod:`govsim.sweep.executors`: its executors run sweep chunks (``ChunkTask`` -> frame), not
pyabc's ``simulate_one`` closures, and a generation must stop as soon as enough particles
are accepted.

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
import multiprocessing
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

import numpy as np
from pyabc.sampler import Sampler

from govsim.calibrate.simulate import seeded
from govsim.sizing import cores

#: Evaluations sent to a worker at once, at most (fewer for small populations). Batches
#: still running when a generation has its particles are wasted, so they stay small; a
#: simulation (~0.1 s) costs far more than sending one.
MAX_BATCH = 10


def evaluation_seeds(master: int, t: int, index: int) -> tuple[np.ndarray, int, int]:
    """(numpy global seed words, ``random`` seed, model seed) of evaluation ``index`` of
    generation ``t`` (``t = -1``: pyabc's calibration sample from the prior)."""
    words = np.random.SeedSequence(master, spawn_key=(t + 1, index)).generate_state(4)
    return words[:2], int(words[2]), int(words[3])


_cache: dict[str, Callable] = {}


def evaluate_batch(payload: bytes, master: int, t: int, start: int, count: int) -> list:
    """Run evaluations ``start .. start + count - 1`` of generation ``t`` (in a worker).

    Returns:
        ``[(index, particle), ...]`` in index order.
    """
    import cloudpickle

    key = hashlib.blake2b(payload, digest_size=16).hexdigest()
    if key not in _cache:  # one generation's closure, unpickled once per worker
        _cache.clear()
        _cache[key] = cloudpickle.loads(payload)
    simulate_one = _cache[key]
    out = []
    for index in range(start, start + count):
        np_seed, py_seed, model_seed = evaluation_seeds(master, t, index)
        np.random.seed(np_seed)
        random.seed(py_seed)
        with seeded(model_seed):
            out.append((index, simulate_one()))
    return out


# --- where batches run ----------------------------------------------------------------------


class Backend:
    """Runs batches: in this process, local processes, or on Dask. ``slots`` run at once."""

    slots = 1

    @property
    def window(self) -> int:
        """Batches in flight: one running and one queued per slot."""
        return 2 * self.slots

    def describe(self) -> str:
        raise NotImplementedError

    def prepare(self, payload: bytes):
        """What to pass as the payload (Dask scatters it once per generation)."""
        return payload

    def submit(self, *args) -> Future:
        raise NotImplementedError

    def wait_first(self, futures) -> set:
        return wait(futures, return_when=FIRST_COMPLETED).done

    def close(self) -> None:
        return None


class SerialBackend(Backend):
    """This process (``--workers 1``)."""

    #: a batch runs as it is submitted: queue nothing ahead
    window = 1

    def describe(self) -> str:
        return "this process"

    def submit(self, *args) -> Future:
        future: Future = Future()
        future.set_result(evaluate_batch(*args))
        return future


class ProcessBackend(Backend):
    """Local worker processes (``--workers N``), spawned like the sweep's, dying with their
    parent (:func:`govsim.sweep.worker.init_worker`)."""

    def __init__(self, workers: int):
        from govsim.sweep.worker import init_worker

        self.slots = workers
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=init_worker, initargs=(os.getpid(),))

    def describe(self) -> str:
        return f"{self.slots} local worker processes"

    def submit(self, *args) -> Future:
        return self._pool.submit(evaluate_batch, *args)

    def close(self) -> None:
        # Terminate rather than wait: after the last generation the workers are idle, and
        # after an interruption their results would be thrown away anyway.
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)


class DaskBackend(Backend):
    """A Dask cluster: an existing one (``--scheduler``) or a loopback ``LocalCluster``
    (``--dask-local N``, single-threaded worker processes)."""

    def __init__(self, address: str | None = None, local_workers: int | None = None):
        from distributed import Client, LocalCluster

        from govsim.calibrate.targets import TargetsError

        self._cluster = None
        if local_workers is not None:
            self._cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1,
                                         processes=True, host="127.0.0.1",
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(address, timeout="15s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise TargetsError(f"--scheduler {address}: cannot reach a Dask scheduler "
                                   f"there ({type(exc).__name__}: {exc})") from None
        self.slots = max(1, sum(self._client.nthreads().values()))

    def describe(self) -> str:
        kind = "a loopback Dask LocalCluster" if self._cluster else "the Dask cluster at " \
            + str(self._client.scheduler.address)
        return f"{kind} ({self.slots} worker threads)"

    def prepare(self, payload: bytes):
        return self._client.scatter(payload, broadcast=True)

    def submit(self, *args):
        return self._client.submit(evaluate_batch, *args, pure=False)

    def wait_first(self, futures) -> set:
        from distributed import wait as dask_wait

        return set(dask_wait(list(futures), return_when="FIRST_COMPLETED").done)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_backend(workers: int | None = None, scheduler: str | None = None,
                 dask_local: int | None = None) -> Backend:
    """The backend the command line asks for (default: one local process per core)."""
    from govsim.calibrate.targets import TargetsError

    for flag, value in (("--workers", workers), ("--dask-local", dask_local)):
        if value is not None and value < 1:
            raise TargetsError(f"{flag} {value}: must be at least 1")
    if scheduler is not None:
        return DaskBackend(address=scheduler)
    if dask_local is not None:
        return DaskBackend(local_workers=dask_local)
    workers = workers or cores()
    return SerialBackend() if workers == 1 else ProcessBackend(workers)


# --- the sampler ----------------------------------------------------------------------------


class SeededSampler(Sampler):
    """pyabc sampler whose generations depend only on the master seed (see module doc).

    Args:
        master: the calibration's master seed.
        backend: where batches run.
        on_generation: called after each generation as
            ``on_generation(t, accepted, evaluations, seconds)``.
    """

    def __init__(self, master: int, backend: Backend,
                 on_generation: Callable[[int, int, int, float], None] | None = None):
        super().__init__()
        self.master, self.backend, self.on_generation = master, backend, on_generation

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                all_accepted=False, ana_vars=None):
        import cloudpickle

        start_time = time.perf_counter()
        payload = self.backend.prepare(cloudpickle.dumps(simulate_one))
        size = max(1, min(MAX_BATCH, n // (4 * self.backend.slots)))
        done: dict[int, list] = {}
        pending: dict = {}
        next_start = 0
        try:
            while not self._enough(done, size, n, max_eval):
                accepted = sum(p.accepted for batch in done.values() for _, p in batch)
                while len(pending) < self.backend.window and accepted < n \
                        and next_start < max_eval:
                    future = self.backend.submit(payload, self.master, t, next_start, size)
                    pending[future] = next_start
                    next_start += size
                for future in self.backend.wait_first(pending):
                    done[pending.pop(future)] = future.result()
        finally:
            for future in pending:
                future.cancel()
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
