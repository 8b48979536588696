"""Design points, replicates and seeds: the run table of an experiment.

Points come from a full factorial grid, a Latin hypercube (:mod:`scipy.stats.qmc`), or a
SALib Sobol (Saltelli) or Morris sample. Sampled designs are drawn in the unit cube and each
coordinate is mapped to its parameter: uniformly (or log-uniformly) over a range, to a whole
number for an integer field, or to one of equally likely levels.

Runs are points x replicates, numbered ``run_id = point_id * replicates + replicate``. Each
run's seed is drawn from ``numpy.random.SeedSequence(master, spawn_key=(run_id,))``, which is
the ``run_id``-th child of ``SeedSequence(master).spawn(...)``: a run's seed depends only on
the master seed and its number, never on the executor, the worker or the order of runs, so
any run can be reproduced alone::

    govsim.run(base.with_overrides(params), seed=seed)
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from govsim.sweep.experiment import ExperimentError, Parameter, Prepared

#: Mixed into the master seed for the design's own randomness, so that the sample and the
#: runs' seeds are independent streams.
DESIGN_STREAM = 0x5EED_DE51

#: Prefix of the unit-cube coordinate columns kept in design.csv (for Morris analysis).
UNIT_PREFIX = "u:"


@dataclass(frozen=True)
class Design:
    """The points and runs of an experiment.

    Attributes:
        kind: "grid", "lhs", "sobol" or "morris".
        names: varied parameters, in file order.
        points: one row per design point (index = point_id), a column per parameter.
        unit: the sample in the unit cube, shape (points, parameters); ``None`` for a grid.
        runs: one row per run: run_id, point_id, replicate, seed and the parameters.
    """

    kind: str
    names: tuple[str, ...]
    points: pd.DataFrame
    unit: np.ndarray | None
    runs: pd.DataFrame

    def table(self) -> pd.DataFrame:
        """The run table with unit-cube coordinates, as written to design.csv."""
        if self.unit is None:
            return self.runs
        unit = pd.DataFrame(self.unit, columns=[UNIT_PREFIX + n for n in self.names])
        return self.runs.join(unit, on="point_id")

    def point_params(self) -> list[dict[str, Any]]:
        """Each point's parameters as plain Python values."""
        return [dict(zip(self.names, row, strict=True))
                for row in self.points.itertuples(index=False)]


def build_design(prepared: Prepared) -> Design:
    """The design of a prepared experiment.

    Raises:
        ExperimentError: a grid's steps give values the field cannot take.
    """
    exp = prepared.experiment
    names = prepared.names
    specs = exp.parameters
    if exp.design == "grid":
        levels = [grid_values(prepared, n) for n in names]
        points = pd.DataFrame(list(itertools.product(*levels)), columns=list(names))
        unit = None
    else:
        unit = _unit_sample(prepared)
        columns = {n: from_unit(unit[:, i], specs[n], prepared.kinds[n])
                   for i, n in enumerate(names)}
        points = pd.DataFrame(columns)
    points.index.name = "point_id"
    return Design(exp.design, names, points, unit,
                  _runs(points, exp.replicates, exp.seed, exp.common_random_numbers))


def run_seed(master: int, run_id: int) -> int:
    """The seed of run ``run_id``: 63 bits of ``SeedSequence(master, spawn_key=(run_id,))``
    (fits a signed 64-bit column)."""
    state = np.random.SeedSequence(master, spawn_key=(run_id,)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def grid_values(prepared: Prepared, name: str) -> list[Any]:
    """The levels of one grid parameter: as listed, or ``steps`` values across the range."""
    spec: Parameter = prepared.experiment.parameters[name]
    kind = prepared.kinds[name]
    if spec.levels is not None:
        return _uniform_type([_typed(v, kind) for v in spec.levels])
    low, high = spec.range
    raw = (np.geomspace if spec.scale == "log" else np.linspace)(low, high, spec.steps)
    if kind == "int":
        if not np.allclose(raw, np.round(raw), rtol=0, atol=1e-9):
            raise ExperimentError(
                f'{prepared.source}: parameters."{name}": range = [{low:g}, {high:g}] with '
                f"steps = {spec.steps} gives {', '.join(f'{v:g}' for v in raw)}, but {name} is "
                "a whole number; choose steps that land on whole numbers, or list levels")
        return [int(round(v)) for v in raw]
    return [_round12(v) for v in raw]


def from_unit(u: np.ndarray, spec: Parameter, kind: str) -> list[Any]:
    """Map unit-cube coordinates to values of one parameter.

    Levels are equally likely (``floor(u * k)``; on Morris's grid of p values, p / k values
    each, which is why an experiment's ``morris_levels`` must be a multiple of k); an integer
    range gives each whole number the same chance; a float range is uniform, or log-uniform
    with ``scale = "log"``.
    """
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    if spec.levels is not None:
        levels = _uniform_type([_typed(v, kind) for v in spec.levels])
        index = np.minimum((u * len(levels)).astype(int), len(levels) - 1)
        return [levels[i] for i in index]
    low, high = spec.range
    if kind == "int":
        lo, hi = int(low), int(high)
        if spec.scale == "log":
            values = np.floor(np.exp(math.log(lo) + u * (math.log(hi + 1) - math.log(lo))))
        else:
            values = lo + np.floor(u * (hi - lo + 1))
        return [int(v) for v in np.clip(values, lo, hi)]
    if spec.scale == "log":
        values = np.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    else:
        values = low + u * (high - low)
    return [_round12(v) for v in np.clip(values, low, high)]


def _unit_sample(prepared: Prepared) -> np.ndarray:
    """The sample in the unit cube, drawn from the design stream of the master seed."""
    exp = prepared.experiment
    d = len(prepared.names)
    stream = np.random.SeedSequence([exp.seed, DESIGN_STREAM])
    if exp.design == "lhs":
        from scipy.stats import qmc

        return qmc.LatinHypercube(d, rng=np.random.default_rng(stream)).random(exp.samples)
    problem = unit_problem(prepared.names)
    seed = int(stream.generate_state(1)[0])
    if exp.design == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, exp.samples, calc_second_order=exp.second_order,
                            scramble=True, seed=seed)
    from SALib.sample import morris

    return morris.sample(problem, exp.samples, num_levels=exp.morris_levels, seed=seed)


def unit_problem(names: tuple[str, ...]) -> dict[str, Any]:
    """SALib's problem over the unit cube (values are mapped to parameters afterwards)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _runs(points: pd.DataFrame, replicates: int, master: int,
          common: bool = False) -> pd.DataFrame:
    n = len(points)
    point_id = np.repeat(np.arange(n, dtype=np.int64), replicates)
    replicate = np.tile(np.arange(replicates, dtype=np.int64), n)
    run_id = np.arange(n * replicates, dtype=np.int64)
    # common random numbers: run (point p, replicate r) takes the seed of run r, at every p
    keys = replicate if common else run_id
    per_key = {int(k): run_seed(master, int(k)) for k in np.unique(keys)}
    seeds = np.fromiter((per_key[int(k)] for k in keys), dtype=np.int64, count=len(keys))
    runs = pd.DataFrame({"run_id": run_id, "point_id": point_id, "replicate": replicate,
                         "seed": seeds})
    values = points.reset_index(drop=True).iloc[point_id].reset_index(drop=True)
    return pd.concat([runs, values], axis=1)


def _round12(value: float) -> float:
    """12 significant digits: 0.15 rather than 0.15000000000000002, and a log range's end
    10000.0 rather than 10000.00000000001, in data and labels alike."""
    return float(f"{value:.12g}")


def _typed(value: Any, kind: str) -> Any:
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _uniform_type(values: list[Any]) -> list[Any]:
    """Levels of a free parameter mixing whole and decimal numbers become floats, so that
    the column has one type."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric and any(isinstance(v, float) for v in values):
        return [float(v) for v in values]
    return values
