"""``govsim compare``: plan, run with a progress bar, write the report, print a table.

The one module that uses both the comparison (:mod:`govsim.compare.core`) and its report
(:mod:`govsim.compare.report`); neither of those imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from govsim.compare.checkpoint import Checkpoint
from govsim.compare.core import compare, default_workers, plan
from govsim.compare.report import write_report
from govsim.compare.report.text import text_table
from govsim.naming import command_line, content_id, output_folder
from govsim.scenario import ScenarioError
from govsim.sweep.executors import Executor


def main(args) -> int:
    """``govsim compare``: validate, run with a progress bar, write the report, print a table.

    Args:
        args: the parsed arguments of the ``compare`` subcommand (see :mod:`govsim.cli`).

    Raises:
        ScenarioError: a bad scenario or argument, before any run and any file.
    """
    from govsim import folders, sanity, sizing

    if args.replicates > sizing.LARGE_RUNS and not getattr(args, "yes", False):
        # refused before plan(): drawing a billion seeds would take the memory itself
        raise sizing.SizeError(f"--replicates {args.replicates:,}: more than "
                               f"{sizing.LARGE_RUNS:,} runs, so add --yes to confirm")
    p = plan(args.scenarios, baseline=args.baseline, replicates=args.replicates,
             months=args.months, seed=args.seed)
    posterior = getattr(args, "posterior", None)
    if posterior:
        from govsim.calibrate.posterior import load as load_posterior

        p = replace(p, draws=load_posterior(posterior).draws(p.master_seed, p.replicates),
                    posterior=str(posterior))
    settings = {"seed": p.master_seed, "replicates": p.replicates,
                **({"posterior": str(posterior)} if posterior else {})}
    content = content_id(p.scenarios, **settings)
    out = Path(args.out) if args.out else output_folder("compare", p.scenarios, content=content)
    _check_out(out)
    target = folders.claim(out, "compare", force=getattr(args, "force", False),
                           content=content)
    for scenario in p.scenarios:
        for warning in sanity.warnings_for(scenario):
            print(f"govsim: warning: {scenario.name}: {warning}", file=sys.stderr)
    for warning in sanity.unlike_sizes(p.scenarios):
        print(f"govsim: warning: {warning}", file=sys.stderr)
    executor, processes, where = _executor(args, p.n_runs)
    sizing.check_runs(p.scenarios, p.n_runs, processes, getattr(args, "yes", False),
                      "compare")
    print(f"govsim compare: {len(p.scenarios)} scenarios x {p.replicates} replicates = "
          f"{p.n_runs} runs on {where} (master seed {p.master_seed})", file=sys.stderr)
    argv = getattr(args, "argv", None)
    with _keeping_runs(Checkpoint(target.path)) as keep:
        result = compare(p, progress=True, keep=keep, executor=executor)
        with folders.staged(target) as tmp:  # the old report stays whole until the new one is
            written = write_report(result, tmp, final=target.path,
                                   command=command_line(argv) if argv is not None else None)
    files = {key: target.path / Path(path).relative_to(tmp) for key, path in written.items()}
    print(text_table(result))
    print(f"\n{p.n_runs} runs in {result.elapsed:.0f} s. Report: {files['html']}")
    print(f"(also {files['md']}, data in {files['runs']} and {files['summary']})")
    return 0


def _executor(args, n_runs: int) -> tuple[Executor, int, str]:
    """Where the runs go (``--workers``, ``--scheduler`` or ``--dask-local``, as for a
    sweep), how many run on this machine at once (for the memory check) and a few words on
    where, for the user."""
    from govsim import sizing
    from govsim.sweep.executors import make_executor

    if getattr(args, "scheduler", None) is not None:
        return (make_executor(scheduler=args.scheduler), 1,
                f"the Dask cluster at {args.scheduler}")
    if getattr(args, "dask_local", None) is not None:
        n = sizing.cap_workers(args.dask_local, "--dask-local")
        return make_executor(dask_local=n), n, f"a loopback Dask cluster of {n} workers"
    workers = args.workers if args.workers is not None else default_workers()
    workers = min(sizing.cap_workers(workers), n_runs)  # no more processes than runs
    return (make_executor(workers=workers), workers,
            f"{workers} process{'es' if workers > 1 else ''}")


@contextmanager
def _keeping_runs(keep: Checkpoint) -> Iterator[Checkpoint]:
    """Keep each run as it finishes until the report is written; if the command stops
    before that (Ctrl-C, an error, a full disk), say where the runs are kept."""
    before = keep.count()
    if before:
        print(f"govsim compare: {before} finished runs kept from an earlier, interrupted "
              "comparison into this folder; those of the same scenarios, seeds and model "
              "are not run again", file=sys.stderr)
    try:
        yield keep
    except BaseException:
        if keep.count():
            print(f"govsim compare: stopped; {keep.count()} finished runs are kept in "
                  f"{keep.folder}: run the same command again to continue from them",
                  file=sys.stderr)
        raise
    keep.remove()


def _check_out(out: Path) -> None:
    # Found before the runs rather than after minutes of them.
    for parent in (out, *out.parents):
        if parent.exists():
            if not parent.is_dir():
                raise ScenarioError(f"--out {out}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK):
                raise ScenarioError(f"--out {out}: {parent} is not writable")
            return
