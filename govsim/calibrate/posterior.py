"""A finished calibration's posterior, used by other commands (``compare --posterior``,
``sweep --posterior``): one parameter draw per replicate.

Replicate ``r`` draws one particle of the posterior, by weight, with its own generator,
``SeedSequence(master, spawn_key=(POSTERIOR_STREAM, r))``: the draw depends only on the
master seed and ``r`` (not on the number of replicates or scenarios), and every scenario's
replicate ``r`` gets the same draw, so comparisons stay paired while their intervals now
include the uncertainty about the fitted parameters, not only the seed's noise.

A scenario keeps its own value for a field it deliberately changes (a cure that raises
``law.enforcement_probability`` keeps it); the draw sets only the fields the scenario leaves
as the baseline has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from govsim.calibrate.targets import TargetsError
from govsim.scenario import Scenario

#: Seed stream of posterior draws (replicate seeds use spawn keys (r,), so this never meets
#: them).
POSTERIOR_STREAM = 2_000_000


@dataclass(frozen=True)
class Posterior:
    """The particles of a calibration's last generation.

    Attributes:
        folder: the calibration folder it was read from.
        particles: one row per particle, natural units, with ``weight``.
        fields: the fitted scenario fields.
    """

    folder: Path
    particles: pd.DataFrame
    fields: tuple[str, ...]

    def draw(self, master: int, replicate: int) -> dict[str, Any]:
        """The parameter set of replicate ``replicate`` under master seed ``master``."""
        rng = np.random.default_rng(np.random.SeedSequence(master, spawn_key=(
            POSTERIOR_STREAM, replicate)))
        weights = self.particles["weight"].to_numpy(float)
        row = self.particles.iloc[int(rng.choice(len(weights), p=weights / weights.sum()))]
        return {f: _native(row[f]) for f in self.fields}

    def draws(self, master: int, replicates: int) -> tuple[dict[str, Any], ...]:
        return tuple(self.draw(master, r) for r in range(replicates))


def load(folder: str | Path) -> Posterior:
    """Read ``posterior.parquet`` from a calibration folder.

    Raises:
        TargetsError: not a folder, no posterior in it, or fields that are not scenario
            fields (a calibration of a toy model).
    """
    from govsim.calibrate.outputs import POSTERIOR
    from govsim.scenario import field_names

    folder = Path(folder)
    path = folder / POSTERIOR
    if not path.is_file():
        raise TargetsError(f"--posterior {folder}: no {POSTERIOR} there; give the output "
                           "folder of a finished `govsim calibrate`")
    try:
        particles = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise TargetsError(f"--posterior {folder}: cannot read {POSTERIOR} ({exc})") from None
    fields = tuple(c for c in particles.columns if c not in ("weight", "generation"))
    unknown = [f for f in fields if f not in field_names()]
    if unknown or "weight" not in particles or particles.empty:
        raise TargetsError(f"--posterior {folder}: {POSTERIOR} is not a posterior of scenario "
                           f"fields (unknown: {', '.join(unknown) or 'no weight column'})")
    return Posterior(folder, particles, fields)


def applied(scenario: Scenario, baseline: Scenario, draw: dict[str, Any]) -> dict[str, Any]:
    """The part of a draw that :func:`apply` sets on ``scenario``: the fields it leaves as
    the baseline has them."""
    mine, base = scenario.flat(), baseline.flat()
    return {k: v for k, v in draw.items() if mine.get(k) == base.get(k)}


def apply(scenario: Scenario, baseline: Scenario, draw: dict[str, Any]) -> Scenario:
    """``scenario`` with the draw set on every field it leaves as the baseline has it."""
    overrides = applied(scenario, baseline, draw)
    return scenario.with_overrides(overrides, source="posterior draw") if overrides \
        else scenario


def _native(value):
    return value.item() if hasattr(value, "item") else value


#: Prefix of the columns holding the posterior draw a run used: in a sweep's design table
#: and in a comparison's runs.
DRAW_PREFIX = "posterior:"


def add_to_design(design, posterior: Posterior, master: int, base: Scenario | None):
    """A sweep design whose run table also holds each run's posterior draw (replicate ``r``
    of every design point gets draw ``r``), as ``posterior:<field>`` columns.

    The draws are part of the design table, so they are written to ``design.csv`` and
    enter the sweep's fingerprint: a folder swept with one posterior is never resumed with
    another. A field the design varies keeps the design's values.

    Raises:
        TargetsError: the experiment's model does not take scenario fields.
    """
    from dataclasses import replace

    if base is None:
        raise TargetsError(f"--posterior {posterior.folder}: the experiment's model does not "
                           "take scenario fields, so a posterior of them cannot apply")
    fields = [f for f in posterior.fields if f not in design.names]
    replicates = sorted(set(design.runs["replicate"].tolist()))
    draws = {r: posterior.draw(master, int(r)) for r in replicates}
    runs = design.runs.copy()
    for field in fields:
        runs[DRAW_PREFIX + field] = [draws[r][field] for r in runs["replicate"]]
    return replace(design, runs=runs)


def sweep_params(row: dict) -> dict[str, Any]:
    """A run's posterior draw from its design-table row (empty without ``--posterior``)."""
    return {k.removeprefix(DRAW_PREFIX): _native(v) for k, v in row.items()
            if k.startswith(DRAW_PREFIX)}
