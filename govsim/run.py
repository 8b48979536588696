"""Running a scenario: ``run(scenario, seed) -> RunResult``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from govsim.metrics import COLUMNS
from govsim.model import GovernanceModel
from govsim.scenario import Scenario

SUMMARY_MONTHS = 12  # the summary averages the last year


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        scenario: the scenario that was run.
        seed: the seed it was run with (drawn afresh when none was given).
        timeseries: one row per month, columns of :mod:`govsim.metrics`.
        summary: each figure (``step`` excepted) averaged over the last 12 months.
        events: the event feed, as ``(month, text)``.
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    summary: dict[str, float] = field(default_factory=dict)
    events: list[tuple[int, str]] = field(default_factory=list)


def summarize(timeseries: pd.DataFrame, months: int = SUMMARY_MONTHS) -> dict[str, float]:
    """Mean of each figure over the last ``months`` rows."""
    tail = timeseries.tail(months)
    return {k: float(tail[k].mean()) for k in timeseries.columns if k != "step"}


def run(scenario: Scenario | str | Path | None = None, seed: int | None = None,
        progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run a scenario for ``scenario.run.months`` months.

    Args:
        scenario: the scenario, a bundled scenario's name or a scenario file, as for
            ``GovernanceModel`` (defaults to the built-in one).
        seed: seed of the model's random generator; the same scenario and seed give the
            same numbers in any process. None (the default, as for ``GovernanceModel``)
            draws a fresh seed from the operating system's entropy; it is recorded in
            ``result.seed``, so the run can be repeated.
        progress: called as ``progress(month, months)`` after each month.

    Raises:
        ScenarioError: a name that is neither a file nor a bundled scenario, or a file
            that is not a valid scenario.
    """
    model = GovernanceModel(scenario, seed=seed)
    scenario, seed = model.initial_params, model.seed
    months = scenario.run.months
    for month in range(1, months + 1):
        model.step()
        if progress:
            progress(month, months)
    frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    frame = frame[list(COLUMNS)]
    frame["step"] = frame["step"].astype(int)
    return RunResult(scenario, seed, frame, summarize(frame), list(model.events))
