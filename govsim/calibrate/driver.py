"""The ABC-SMC run: pyabc set up, started or resumed, with a line per generation.

pyabc does the inference: an adaptive (per-generation rescaled) Euclidean distance between
simulated and observed figures, a median epsilon schedule, a multivariate normal kernel,
and its SQLite history (``abc.db`` in the output folder) as the store. A generation is
written to the history when it finishes, so a calibration interrupted by anything (Ctrl-C,
SIGKILL, a power cut) resumes with ``--resume`` from the last finished generation.

The folder also holds ``calibration.json``, written before the first simulation: which
targets file (by hash), seed and population size the history belongs to, so a folder is
never continued or overwritten by a different calibration.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from govsim.calibrate.sampler import SeededSampler
from govsim.calibrate.simulate import Simulator
from govsim.calibrate.targets import Targets, TargetsError
from govsim.sweep.executors import Executor

DB_NAME = "abc.db"
MANIFEST = "calibration.json"
TOOL = "govsim calibrate"


@dataclass(frozen=True)
class Settings:
    """What makes a calibration: a folder holds one and only one.

    Attributes:
        targets: the targets file's name.
        targets_sha: hash of its text.
        scenario_sha: hash of the base scenario (after ``fixed``), or "" (free model).
        seed: the master seed.
        population: particles per generation.
    """

    targets: str
    targets_sha: str
    scenario_sha: str
    seed: int
    population: int


def settings_for(targets: Targets, population: int, seed: int | None) -> Settings:
    import hashlib

    scenario = targets.base.to_toml() if targets.base is not None else ""
    return Settings(targets.name, targets.digest,
                    hashlib.sha256(scenario.encode()).hexdigest()[:16],
                    targets.spec.seed if seed is None else seed, population)


def simulator_for(targets: Targets) -> Simulator:
    return Simulator(targets.spec.model, targets.base, targets.spec.fixed, targets.priors,
                     targets.active)


def prepare_folder(out: Path, settings: Settings, resume: bool) -> bool:
    """Check ``out`` may hold this calibration; returns True when it continues one.

    Raises:
        TargetsError: ``out`` is a file, holds something else, holds a calibration with
            other settings, or holds this one and ``--resume`` was not given.
    """
    from govsim import folders
    from govsim.output import write_text

    if out.exists() and not out.is_dir():
        raise TargetsError(f"--out {out}: is a file, not a folder")
    manifest = out / MANIFEST
    if manifest.is_file():
        try:
            stored = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TargetsError(f"--out {out}: {MANIFEST} is unreadable ({exc}); choose "
                               "another --out") from None
        if stored.get("tool") != TOOL or stored.get("settings") != asdict(settings):
            raise TargetsError(f"--out {out}: holds a calibration with other settings "
                               f"({_differences(stored.get('settings') or {}, settings)}); "
                               "choose another --out, or remove that folder yourself")
        if not resume:
            raise TargetsError(f"--out {out}: already holds this calibration; add --resume "
                               "to continue it (or rewrite its outputs), or choose another "
                               "--out")
        return (out / DB_NAME).is_file()
    if out.is_dir() and any(p.name not in (folders.LOCK, folders.MARKER) for p in out.iterdir()):
        raise TargetsError(f"--out {out}: the folder is not empty and is not a govsim "
                           "calibration; choose another --out")
    folders.write_marker(out, "calibrate")
    write_text(manifest, json.dumps({"tool": TOOL, "settings": asdict(settings)}, indent=2))
    return False


def _differences(stored: dict, settings: Settings) -> str:
    now = asdict(settings)
    keys = [k for k in now if stored.get(k) != now[k]] or ["format"]
    return ", ".join(f"{k} {stored.get(k)!r} there, {now.get(k)!r} now" for k in keys)


def build(targets: Targets, population: int, sampler: SeededSampler):
    """The pyabc ABCSMC object (not yet attached to a history)."""
    import pyabc

    from govsim.calibrate.priors import pyabc_prior

    return pyabc.ABCSMC(
        models=simulator_for(targets),
        parameter_priors=pyabc_prior(targets.priors),
        distance_function=pyabc.AdaptivePNormDistance(p=2),
        population_size=population,
        sampler=sampler,
        eps=pyabc.MedianEpsilon(),
    )


def check_sizes(population: int, generations: int) -> None:
    """Refuse a population or a number of generations ABC-SMC cannot work with.

    Raises:
        TargetsError: fewer than 2 particles or 1 generation.
    """
    if population < 2:
        raise TargetsError(f"--population {population}: at least 2 particles are needed")
    if generations < 1:
        raise TargetsError(f"--generations {generations}: at least 1 is needed")


def run(targets: Targets, out: Path, executor: Executor, population: int, generations: int,
        seed: int | None = None, resume: bool = False, log=None):
    """Run (or continue) the calibration into ``out``; returns pyabc's History.

    Args:
        targets: the checked targets.
        out: the folder (created; see :func:`prepare_folder`).
        executor: where simulations run (an entered
            :func:`govsim.sweep.executors.make_executor`).
        population: particles per generation.
        generations: generations in all (a resumed run only does the missing ones).
        seed: master seed (default: the targets file's).
        resume: continue the calibration already in ``out``.
        log: where progress lines go.
    """
    check_sizes(population, generations)
    log = log or sys.stderr
    settings = settings_for(targets, population, seed)
    continuing = prepare_folder(out, settings, resume)
    logging.getLogger("ABC").setLevel(logging.WARNING)  # our own line per generation instead
    progress = Progress(generations, log)
    sampler = SeededSampler(settings.seed, executor, progress)
    abc = build(targets, population, sampler)
    progress.abc = abc
    db = f"sqlite:///{(out / DB_NAME).resolve()}"
    if continuing:
        history = abc.load(db, 1)
    else:
        history = abc.new(db, {name: t.observed for name, t in targets.active.items()})
    done = history.max_t + 1
    progress.first = done
    if done >= generations:
        print(f"govsim calibrate: all {generations} generations are in {out / DB_NAME}; "
              "rewriting the outputs", file=log)
        return history
    if done:
        print(f"govsim calibrate: resuming after generation {done} of {generations}",
              file=log)
    abc.run(max_nr_populations=generations - done)
    return abc.history


class Progress:
    """Prints one line per generation: acceptance rate, epsilon, time and ETA."""

    def __init__(self, generations: int, log):
        self.generations, self.log = generations, log
        self.abc = None
        self.first = 0
        self.started = time.perf_counter()
        self.times: list[float] = []

    def __call__(self, t: int, accepted: int, evaluations: int, seconds: float) -> None:
        if t < 0:
            print(f"  prior sample (scales the distance): {evaluations} simulations, "
                  f"{seconds:.0f} s", file=self.log, flush=True)
            return
        self.times.append(seconds)
        left = self.generations - 1 - t
        eps = self.abc.eps(t) if self.abc is not None else float("nan")
        # later generations accept less and take longer: the last one is the best guide
        eta = f", ETA about {_duration(left * seconds)}" if left > 0 else ""
        print(f"  generation {t + 1}/{self.generations}: epsilon {eps:.3g}, accepted "
              f"{accepted}/{evaluations} ({accepted / evaluations:.1%}), "
              f"{seconds:.0f} s{eta}", file=self.log, flush=True)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
