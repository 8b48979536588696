"""``govsim optimise``: the cheapest mix of policies that reaches a target, or the front of
cost against safety, searched with optuna over any scenario fields (see ``problems/``).

Names are imported on first use, so that ``govsim --help`` does not pay for optuna.
"""

from __future__ import annotations

import importlib

_WHERE = {"optimise": "runner", "Result": "runner", "Problem": "problem",
          "ProblemError": "problem", "load_problem": "problem", "prepare": "problem"}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"govsim.optimise.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'govsim.optimise' has no attribute {name!r}")
