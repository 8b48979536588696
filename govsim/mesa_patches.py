"""Mesa 3.3 keeps every model alive for the life of the process; this lets them go.

``mesa.Agent._ids`` is a class-level ``defaultdict`` of unique-id counters keyed by model, so
each model ever built stays referenced (with its agents and arrays: 3.8 MB for the baseline
scenario, measured) after nothing else uses it. In the live view every Reset and every page
built one more; in a long-running process memory only grew. :func:`release_models` swaps
the dict for one holding its models weakly: a model's counter goes when the model does, and
ids stay unique within a model as before.
"""

from __future__ import annotations

import itertools
import weakref

import mesa


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
