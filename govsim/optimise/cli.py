"""``govsim optimise``: arguments in, report out.

Bad input raises :class:`~govsim.scenario.ScenarioError` (a
:class:`~govsim.optimise.problem.ProblemError` or a
:class:`~govsim.sweep.experiment.SweepError`), which ``govsim`` prints as one message with
exit status 2.
"""

from __future__ import annotations

from pathlib import Path

from govsim.cli import add_executor_options


def add_parser(sub) -> None:
    """Register ``govsim optimise`` on the main parser's subcommands."""
    p = sub.add_parser("optimise", help="search the cheapest policy mix for a target, or the "
                                        "front of cost against safety",
                       description="Search the levers of a problem file with optuna (TPE for "
                                   "one objective, NSGA-II for several), check the front "
                                   "against noise with fresh runs, and write front.png, "
                                   "front.csv, scenario files and a report. The study is "
                                   "kept in OUT/study.db: --resume continues it.")
    p.add_argument("problem", help="problem TOML file, or a bundled name (see problems/)")
    p.add_argument("--trials", type=int, metavar="N",
                   help="finished trials wanted in the study (default: the problem's)")
    add_executor_options(p)
    p.add_argument("--out", type=Path, help="folder (default out/optimise/<problem>/)")
    p.add_argument("--resume", action="store_true",
                   help="continue the study already in --out (after an interruption, or "
                        "to more --trials)")
    p.set_defaults(handler=main)


def main(args) -> int:
    """Run or resume the optimisation of ``args.problem``; print the answer."""
    from govsim.optimise.problem import ProblemError
    from govsim.optimise.report import answer
    from govsim.optimise.runner import optimise
    from govsim.sweep.executors import make_executor

    if args.trials is not None and args.trials < 1:
        raise ProblemError(f"--trials {args.trials}: must be at least 1")
    executor = make_executor(workers=args.workers, scheduler=args.scheduler,
                             dask_local=args.dask_local)
    result = optimise(args.problem, out=args.out, trials=args.trials, executor=executor,
                      resume=args.resume, echo=lambda line: print(line, flush=True))
    print(answer(result))
    print(f"  report: {result.files['report.html']}")
    return 0
