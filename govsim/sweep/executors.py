"""Where work runs: in this process, in local worker processes, or on a Dask cluster.

Sweeps, optimisation and calibration share these executors. Every executor has the same
contract: :meth:`Executor.map` takes an iterator of tasks (by default
:class:`~govsim.sweep.worker.ChunkTask`, run by :func:`~govsim.sweep.worker.run_chunk`) and
yields ``(task, result)`` as tasks finish, in any order. Only a bounded number of tasks are
in flight, and the iterator is read only when there is room, so a caller may stop feeding
it (a calibration generation that has its particles) and stop reading (closing the
iterator cancels what has not started). Results do not depend on the executor: a task's
result is a pure function of the task.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import pandas as pd

from govsim.sizing import cores
from govsim.sweep.experiment import SweepError
from govsim.sweep.worker import ChunkTask, failed_chunk, init_worker, ready, run_chunk

#: How many times the local pool is rebuilt after a worker process dies, before giving up.
MAX_POOL_RESTARTS = 3

#: Dask re-runs a task that raised this many times (a task that *kills* its worker is
#: rescheduled by the scheduler itself, up to ``distributed.scheduler.allowed-failures``).
DASK_RETRIES = 2

Finished = tuple[ChunkTask, pd.DataFrame]

#: A task that kills its Dask worker repeatedly: what to yield for it (``None``: raise).
OnKilled = Callable[[object, str], object] | None


class Executor:
    """Base class: a context manager that runs chunks.

    Attributes:
        slots: how many chunks run at once (sizes chunks and the in-flight window).
    """

    slots: int = 1

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info) -> None:
        return None

    def describe(self) -> str:
        """One line for the start of a sweep."""
        raise NotImplementedError

    def map(self, tasks: Iterator[ChunkTask], function: Callable = run_chunk,
            on_killed: OnKilled = failed_chunk) -> Iterator[Finished]:
        """Run ``function(task)`` for each task; yield each task with its result as it
        finishes. A task needs a ``key`` (its name in errors and on Dask), and ``function``
        must be importable by the workers."""
        raise NotImplementedError


class SerialExecutor(Executor):
    """Runs chunks one after another in this process (``--workers 1``): no start-up cost."""

    def describe(self) -> str:
        return "this process"

    def map(self, tasks: Iterator[ChunkTask], function: Callable = run_chunk,
            on_killed: OnKilled = failed_chunk) -> Iterator[Finished]:
        for task in tasks:
            yield task, function(task)


class ProcessExecutor(Executor):
    """Local worker processes (``--workers N``).

    Workers are spawned (Mesa sets the start method to "spawn", and spawn is safe whatever
    threads this process runs) and import govsim once; each then runs many chunks. If a
    worker dies (out of memory, killed), the pool is rebuilt and its unfinished chunks are
    sent again.

    Args:
        workers: number of processes.
    """

    def __init__(self, workers: int):
        self.slots = workers
        self._pool: ProcessPoolExecutor | None = None
        self._restarts = 0

    def describe(self) -> str:
        return f"{self.slots} local worker processes"

    def __enter__(self) -> ProcessExecutor:
        self._start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._stop()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pool = ProcessPoolExecutor(self.slots, mp_context=context,
                                         initializer=init_worker, initargs=(os.getpid(),))
        # The pool starts workers lazily, one per submitted task: start them all now, so
        # they import govsim side by side while the first chunks are being prepared.
        for _ in range(self.slots):
            self._pool.submit(ready)

    def _stop(self) -> None:
        """Stop the workers now. After the last chunk they are idle; after an interruption
        or an error, their chunks would not be written anyway. Terminating them (as
        ``multiprocessing.Pool`` does on exit) spares waiting for their interpreters to tear
        down (0.3-2 s measured); ProcessPoolExecutor has no public way to do it."""
        pool, self._pool = self._pool, None
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)

    def map(self, tasks: Iterator[ChunkTask], function: Callable = run_chunk,
            on_killed: OnKilled = failed_chunk) -> Iterator[Finished]:
        tasks = iter(tasks)
        pending: dict[Future, ChunkTask] = {}
        again: deque[ChunkTask] = deque()  # tasks of dead workers, to send first
        window = 2 * self.slots  # one running and one queued per worker
        try:
            while True:
                while len(pending) < window:
                    task = again.popleft() if again else next(tasks, None)
                    if task is None:
                        break
                    try:
                        pending[self._pool.submit(function, task)] = task
                    except BrokenProcessPool:  # a worker died since the last wait
                        again.appendleft(task)
                        self._recover(pending, again)
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    task = pending.pop(future)
                    error = future.exception()
                    if error is None:
                        yield task, future.result()
                    elif isinstance(error, BrokenProcessPool):
                        again.append(task)
                        broken = True
                    else:  # run_chunk records model errors itself: a bug or a bad task
                        raise SweepError(f"task {task.key} could not run: "
                                         f"{type(error).__name__}: {error}") from error
                if broken:
                    self._recover(pending, again)
        finally:  # the caller stopped early: drop what has not started
            for future in pending:
                future.cancel()

    def _recover(self, pending: dict[Future, ChunkTask], again: deque[ChunkTask]) -> None:
        """A worker died and the pool with it: start a new pool and send its unfinished
        chunks again (they are pure, so running them twice is harmless)."""
        again.extend(pending.values())
        pending.clear()
        self._restarts += 1
        if self._restarts > MAX_POOL_RESTARTS:
            raise SweepError(f"local worker processes died {self._restarts} times (out of "
                             "memory?); finished chunks are saved, so run the same command "
                             "again to resume, perhaps with fewer --workers")
        print(f"govsim: a worker process died; starting new workers and sending its "
              f"{len(again)} unfinished chunks again", file=sys.stderr)
        self._stop()
        self._start()


class DaskExecutor(Executor):
    """A Dask cluster: an existing one (``--scheduler ADDRESS``) or a loopback
    ``LocalCluster`` (``--dask-local N``).

    Tasks are pure, so when a worker is lost the scheduler simply runs its tasks again
    elsewhere. A chunk whose task killed workers too often (``KilledWorker``) is recorded
    as failed runs, like a model error, and the sweep goes on.

    Args:
        address: scheduler address, e.g. ``tcp://10.0.0.5:8786``.
        local_workers: start a ``LocalCluster`` with this many single-threaded workers.
        client: an existing ``distributed.Client`` to use (not closed at the end).
    """

    def __init__(self, address: str | None = None, local_workers: int | None = None,
                 client=None):
        if sum(x is not None for x in (address, local_workers, client)) != 1:
            raise ValueError("give exactly one of address, local_workers, client")
        self.address, self.local_workers = address, local_workers
        self._client, self._owned = client, client is None
        self._cluster = None
        self._tag = uuid.uuid4().hex[:8]  # task keys of this session only

    def describe(self) -> str:
        where = (f"a loopback Dask LocalCluster of {self.local_workers} workers"
                 if self.local_workers else f"the Dask cluster at {self._client.scheduler.address}")
        return f"{where} ({self.slots} worker threads)"

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.local_workers is not None:
            self._cluster = LocalCluster(n_workers=self.local_workers, threads_per_worker=1,
                                         processes=True, host="127.0.0.1",
                                         dashboard_address=None)
            self._client = Client(self._cluster)
        elif self._client is None:
            try:
                self._client = Client(self.address, timeout="15s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise SweepError(f"--scheduler {self.address}: cannot reach a Dask scheduler "
                                 f"there ({type(exc).__name__}: {exc}); start one with "
                                 "`dask scheduler` and workers with `dask worker ADDRESS`") \
                    from None
        self.slots = max(1, sum(self._client.nthreads().values()))
        return self

    def __exit__(self, *exc_info) -> None:
        if self._owned and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def map(self, tasks: Iterator[ChunkTask], function: Callable = run_chunk,
            on_killed: OnKilled = failed_chunk) -> Iterator[Finished]:
        from distributed import KilledWorker, as_completed

        tasks = iter(tasks)
        owner: dict[str, tuple[ChunkTask, object]] = {}
        running = as_completed()

        def submit(task: ChunkTask) -> None:
            key = f"govsim-{self._tag}-{task.key}"
            future = self._client.submit(function, task, key=key, retries=DASK_RETRIES)
            owner[future.key] = task, future
            running.add(future)

        try:
            for _ in range(2 * self.slots):
                if (task := next(tasks, None)) is None:
                    break
                submit(task)
            for future in running:
                task, _ = owner.pop(future.key)
                try:
                    result = future.result()
                except KilledWorker as exc:
                    if on_killed is None:
                        raise SweepError(f"task {task.key}: its Dask worker died repeatedly "
                                         f"({exc})") from None
                    result = on_killed(task, f"KilledWorker: the task's worker died "
                                             f"repeatedly ({exc})")
                except Exception as exc:
                    raise SweepError(f"task {task.key} could not run on the Dask cluster: "
                                     f"{type(exc).__name__}: {exc} (is the same govsim "
                                     "installed on every worker?)") from exc
                future.release()
                yield task, result
                if (task := next(tasks, None)) is not None:
                    submit(task)
        finally:  # the caller stopped early: cancel what is still queued or running
            if owner:
                self._client.cancel([future for _, future in owner.values()])


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  dask_local: int | None = None) -> Executor:
    """The executor the command line asks for (default: one local process per core).

    Raises:
        SweepError: a count below 1.
    """
    for flag, value in (("--workers", workers), ("--dask-local", dask_local)):
        if value is not None and value < 1:
            raise SweepError(f"{flag} {value}: must be at least 1")
    if scheduler is not None:
        return DaskExecutor(address=scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    workers = workers or cores()
    return SerialExecutor() if workers == 1 else ProcessExecutor(workers)
