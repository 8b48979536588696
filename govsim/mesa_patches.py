"""Work-arounds for faults of particular Mesa releases.

Memory (Mesa 3.3): Mesa keeps every model alive for the life of the process.
``mesa.Agent._ids`` is a class-level ``defaultdict`` of unique-id counters keyed by model, so
each model ever built stays referenced (with its agents and arrays: 3.8 MB for the baseline
scenario, measured) after nothing else uses it. In the live view every Reset and every page
built one more; in a long-running process memory only grew. :func:`release_models` swaps
the dict for one holding its models weakly: a model's counter goes when the model does, and
ids stay unique within a model as before.

``mesa.batch_run`` (Mesa 3.4.1 and 3.4.2): see :data:`ROW_STAMP_OFFSET`.
"""

from __future__ import annotations

import itertools
import weakref

import mesa

#: Subtracted from ``model.time`` when a DataCollector row is stamped. Mesa 3.4.1 and 3.4.2
#: stamp each row with the time it was collected, but their ``batch_run`` still reads the
#: rows of steps 0 to ``model.steps - 1`` (mesa issue 2514, fixed in 3.5 by reading the
#: stamps): for a model that collects after each step, as govsim does, it dropped the last
#: month and read the first twice. Stamped one step earlier there, every month is read once,
#: its ``Step`` numbered from 0 as in Mesa 3.3 (the row's own ``step`` says the month).
ROW_STAMP_OFFSET = 1 if mesa.__version__.startswith("3.4.") else 0


class _WeakCounters(weakref.WeakKeyDictionary):
    """``defaultdict(lambda: itertools.count(1))`` with weakly held keys."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


def release_models() -> None:
    """Hold Mesa's per-model id counters weakly (idempotent)."""
    ids = mesa.Agent.__dict__.get("_ids")
    if isinstance(ids, _WeakCounters):
        return
    weak = _WeakCounters()
    for model, counter in dict(ids or {}).items():
        weak[model] = counter
    mesa.Agent._ids = weak
