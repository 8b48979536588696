"""``govsim sweep`` and ``govsim analyze``: arguments in, report out.

Bad input raises :class:`~govsim.scenario.ScenarioError` (an
:class:`~govsim.sweep.experiment.ExperimentError` or
:class:`~govsim.sweep.experiment.SweepError`), which ``govsim`` prints as one message with
exit status 2.
"""

from __future__ import annotations

from govsim.sweep.analyze import analyze
from govsim.sweep.executors import make_executor
from govsim.sweep.experiment import SweepError, load_experiment
from govsim.sweep.runner import default_out, run_sweep

#: Exit status of a sweep that finished but where some runs failed.
EXIT_RUNS_FAILED = 1


def sweep_main(args) -> int:
    """Run or resume the sweep of ``args.experiment``.

    Returns:
        0 when every run finished ok, 1 when the sweep went through but some runs failed.
    """
    if args.chunk_size is not None and args.chunk_size < 1:
        raise SweepError(f"--chunk-size {args.chunk_size}: must be at least 1")
    experiment = load_experiment(args.experiment)
    from govsim.sizing import cap_workers

    workers = cap_workers(args.workers) if args.workers is not None else None
    dask_local = cap_workers(args.dask_local, "--dask-local") \
        if args.dask_local is not None else None
    executor = make_executor(workers=workers, scheduler=args.scheduler, dask_local=dask_local)
    out = args.out or default_out(experiment)
    posterior = None
    if getattr(args, "posterior", None):
        from govsim.calibrate.posterior import load

        posterior = load(args.posterior)
    report = run_sweep(experiment, out, executor=executor, force=args.force,
                       chunk_size=args.chunk_size, echo=print, posterior=posterior,
                       yes=getattr(args, "yes", False))
    print(report.text())
    return EXIT_RUNS_FAILED if report.failed_total else 0


def analyze_main(args) -> int:
    """Analyse the sweep folder ``args.directory``; print where the results are."""
    result = analyze(args.directory)
    counts = result.counts
    print(f"analysed {counts['ok']} ok runs of {counts['runs']} ({counts['failed']} failed, "
          f"{counts['missing']} not run); wrote {len(result.files)} files to "
          f"{result.directory}/")
    print(f"  report: {result.directory / 'analysis.md'}")
    return 0
