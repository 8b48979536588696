"""Experiments: designed, replicated, resumable parameter sweeps over govsim.

An experiment file (TOML, see ``experiments/``) names a base scenario, the parameters to vary
and a design; :func:`run_sweep` runs every design point x replicate with its own seed and
writes a Parquet dataset chunk by chunk, so a sweep can be interrupted and resumed;
:func:`analyze` turns a finished sweep into sensitivity indices, heatmaps and tables.

Example:
    >>> from govsim import sweep
    >>> exp = sweep.load_experiment("experiments/budget_vs_backchecks.toml")
    >>> report = sweep.run_sweep(exp, "out/sweeps/budget_vs_backchecks")  # doctest: +SKIP
    >>> frame = sweep.read_results("out/sweeps/budget_vs_backchecks")     # doctest: +SKIP

Modules, one concept each: :mod:`~govsim.sweep.experiment` (the file and its validation),
:mod:`~govsim.sweep.models` (the function a run calls), :mod:`~govsim.sweep.design` (points,
replicates and seeds), :mod:`~govsim.sweep.worker` (running a chunk of runs),
:mod:`~govsim.sweep.executors` (where chunks run), :mod:`~govsim.sweep.storage` (the dataset
on disk), :mod:`~govsim.sweep.runner` (the loop), :mod:`~govsim.sweep.analyze` and
:mod:`~govsim.sweep.toys` (known functions for tests).
"""

from govsim.sweep.analyze import analyze
from govsim.sweep.experiment import Experiment, ExperimentError, load_experiment
from govsim.sweep.runner import SweepReport, run_sweep
from govsim.sweep.storage import read_results, reproduce

__all__ = ["Experiment", "ExperimentError", "SweepReport", "analyze", "load_experiment",
           "read_results", "reproduce", "run_sweep"]
