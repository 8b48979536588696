"""``govsim calibrate``: argument parsing, the run, and what is printed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from govsim.cli import add_executor_options

#: Defaults sized for the bundled Guangdong targets on 2 cores: about 4,000 simulations, 4.5
#: minutes as measured (see README, "Calibrate to your district"). More generations can be
#: added afterwards: `--resume --generations N` continues from the last one.
DEFAULT_POPULATION = 200
DEFAULT_GENERATIONS = 5


def add_parser(sub) -> None:
    """Register ``govsim calibrate`` on the subcommand parsers of :mod:`govsim.cli`."""
    p = sub.add_parser(
        "calibrate", help="fit unknown parameters to a district's observed figures (ABC-SMC)",
        description="Fit the unknown parameters of a targets file to its observed figures "
                    "with ABC-SMC (pyabc), and write the posterior, a predictive check, a "
                    "calibrated scenario and a report. Interrupted? Run the same command "
                    "with --resume: it continues from the last finished generation.")
    p.add_argument("targets", help="targets TOML file, or a bundled name (see targets/)")
    p.add_argument("--scenario", help="base scenario file or bundled name (default: the "
                                      "targets file's)")
    p.add_argument("--population", type=int, default=DEFAULT_POPULATION, metavar="N",
                   help=f"particles per generation (default {DEFAULT_POPULATION})")
    p.add_argument("--generations", type=int, default=DEFAULT_GENERATIONS, metavar="N",
                   help=f"ABC-SMC generations (default {DEFAULT_GENERATIONS})")
    p.add_argument("--seed", type=int, help="master seed (default: the targets file's)")
    add_executor_options(p)
    p.add_argument("--out", type=Path, help="output folder (default out/calibrate/<targets>/)")
    p.add_argument("--resume", action="store_true",
                   help="continue the calibration in --out (also to add generations: "
                        "--resume --generations N), or rewrite its outputs")
    p.set_defaults(handler=main)


def main(args) -> int:
    from govsim import folders
    from govsim.calibrate import driver, outputs
    from govsim.calibrate import targets as targets_mod
    from govsim.calibrate.targets import TargetsError
    from govsim.sweep.executors import make_executor

    start = time.perf_counter()
    try:
        import pyabc  # noqa: F401
    except ImportError:
        raise TargetsError("govsim calibrate needs pyabc: pip install 'govsim[calibrate]'") \
            from None
    targets = targets_mod.load(args.targets, scenario=args.scenario)
    if args.seed is not None and args.seed < 0:
        raise TargetsError(f"--seed {args.seed}: the master seed must be >= 0")
    out = args.out or Path("out") / "calibrate" / targets.name
    for name, why in targets.skipped.items():
        print(f"govsim calibrate: warning: target {name} skipped ({why})", file=sys.stderr)
    # every argument checked before the folder is made: a refused command writes nothing
    driver.check_sizes(args.population, args.generations)
    executor = make_executor(args.workers, args.scheduler, args.dask_local)
    # the rules of every govsim output folder, and one calibration writing to it at a time
    folders.claim(out, "calibrate", in_place=True,
                  legacy=lambda path: (path / driver.MANIFEST).is_file())
    with folders.locked(out, "govsim calibrate"):
        with executor:
            print(f"govsim calibrate: {len(targets.active)} targets, {len(targets.priors)} "
                  f"unknown parameters, {args.population} particles x {args.generations} "
                  f"generations on {executor.describe()}", file=sys.stderr)
            history = driver.run(targets, out, executor, args.population, args.generations,
                                 seed=args.seed, resume=args.resume)
        seed = targets.spec.seed if args.seed is None else args.seed
        result = outputs.collect(targets, history, driver.simulator_for(targets), seed,
                                 time.perf_counter() - start)
        files = outputs.write(result, out)
    print(summary(result))
    print(f"\nReport: {files['calibration.html']} (also calibration.md, calibrated.toml, "
          f"{outputs.POSTERIOR}, predictive.csv, posterior.png)")
    return 0


def summary(r) -> str:
    """The fit and the identified parameters, as printed at the end."""
    lines = ["target                      observed     simulated median  90% predictive"]
    for row in r.predictive.itertuples():
        flag = "" if row.inside else "  OUTSIDE"
        lines.append(f"{row.target:<27} {row.observed:<12.4g} {row.simulated_median:<17.4g} "
                     f"{row.predictive_low:.4g} to {row.predictive_high:.4g}{flag}")
    lines.append("")
    lines.append("parameter                              posterior median (90%)        verdict")
    for row in r.identification.itertuples():
        interval = f"{row.posterior_median:.4g} ({row.posterior_low:.3g}-{row.posterior_high:.3g})"
        lines.append(f"{row.parameter:<38} {interval:<29} {row.verdict}")
    return "\n".join(lines)
