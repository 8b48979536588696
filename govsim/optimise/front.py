"""The front, and the guard against noise.

During the search each candidate is judged on a few replicates, so some look better than
they are only because their runs were lucky; picking the best of many noisy candidates
favours exactly those (the winner's curse). After the search, every candidate on the front
is therefore run again with many FRESH replicates (seeds never used in the search, the same
for every candidate), and the front is drawn again from those figures: a candidate that is
dominated, or misses a limit, after re-evaluation is dropped and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from govsim.optimise.evaluation import FRESH, Evaluation, Evaluator, replicate_seeds
from govsim.optimise.problem import Problem


def non_dominated(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows no other row dominates (all columns minimised)."""
    n = len(points)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        others = np.delete(points, i, axis=0)
        dominated = np.all(others <= points[i], axis=1) & np.any(others < points[i], axis=1)
        keep[i] = not dominated.any()
    return keep


def signed(problem: Problem, figures: dict[str, float]) -> np.ndarray:
    """Objective values turned so that lower is better for each."""
    return np.array([figures[o.key] if o.direction == "minimise" else -figures[o.key]
                     for o in problem.objectives], dtype=float)


def feasible(problem: Problem, figures: dict[str, float]) -> bool:
    """True when every limit is met by these figures."""
    return all(c.violation(figures[c.key]) <= 0 for c in problem.constraints)


def front_candidates(problem: Problem, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The search's front, from its figures: the feasible non-dominated trials (several
    objectives), or the best feasible trials (one objective); at most ``front_max``, spread
    along the front, and each set of lever values once."""
    ok = [r for r in rows if r["state"] == "complete" and r["feasible"]]
    unique: dict[tuple, dict[str, Any]] = {}
    for r in ok:
        unique.setdefault(tuple(r[name] for name in problem.levers), r)
    ok = list(unique.values())
    if not ok:
        return []
    values = np.array([signed(problem, r) for r in ok])
    if problem.multi:
        chosen = [r for r, k in zip(ok, non_dominated(values), strict=True) if k]
        chosen.sort(key=lambda r: signed(problem, r)[0])
        if len(chosen) > problem.front_max:
            picks = np.unique(np.linspace(0, len(chosen) - 1, problem.front_max).round()
                              .astype(int))
            chosen = [chosen[i] for i in picks]
        return chosen
    order = np.argsort(values[:, 0], kind="stable")
    return [ok[i] for i in order[:problem.front_max]]


@dataclass
class Checked:
    """A front candidate after re-evaluation.

    Attributes:
        trial: its trial number in the study.
        params: its lever values.
        search: its figures in the search (few replicates).
        fresh: its re-evaluation.
        kept: still on the front after re-evaluation.
        reason: why it was dropped ("" if kept).
    """

    trial: int
    params: dict[str, Any]
    search: dict[str, float]
    fresh: Evaluation
    kept: bool = True
    reason: str = ""
    interval: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    @property
    def figures(self) -> dict[str, float]:
        """Re-evaluated means by measure key."""
        return {k: v[0] for k, v in self.interval.items()}


def reevaluate(problem: Problem, evaluator: Evaluator,
               candidates: list[dict[str, Any]]) -> list[Checked]:
    """Run each candidate with ``problem.reevaluate`` fresh replicates and judge the front
    again (see :func:`judge`)."""
    if not candidates:
        return []
    seeds = replicate_seeds(problem.seed, problem.reevaluate, stream=FRESH)
    params = [{name: c[name] for name in problem.levers} for c in candidates]
    evaluations = evaluator.evaluate(params, seeds)
    checked = []
    for c, p, e in zip(candidates, params, evaluations, strict=True):
        item = Checked(int(c["trial"]), p, {m.key: c[m.key] for m in problem.measures}, e)
        if e.ok:
            item.interval = {m.key: e.interval(m.key) for m in problem.measures}
        checked.append(item)
    judge(problem, checked)
    return checked


def judge(problem: Problem, checked: list[Checked]) -> None:
    """Mark which candidates stay: those whose runs all ran, that meet every limit on their
    re-evaluated means, and (several objectives) that no other such candidate dominates; with
    one objective the candidates that stay are ranked and the first is the answer."""
    alive = []
    for c in checked:
        if not c.fresh.ok:
            c.kept, c.reason = False, f"a re-evaluation run failed: {c.fresh.error}"
        elif not feasible(problem, c.figures):
            missed = [f"{k.title} is {c.figures[k.key]:,.4g}" for k in problem.constraints
                      if k.violation(c.figures[k.key]) > 0]
            c.kept, c.reason = False, "misses a limit after re-evaluation: " + "; ".join(missed)
        elif any(math.isnan(v) for v in signed(problem, c.figures)):
            c.kept, c.reason = False, "an objective is NaN after re-evaluation"
        else:
            alive.append(c)
    if problem.multi and alive:
        values = np.array([signed(problem, c.figures) for c in alive])
        mask = non_dominated(values)
        for c, keep, row in zip(alive, mask, values, strict=True):
            if not keep:
                by = next(o for o, v in zip(alive, values, strict=True)
                          if np.all(v <= row) and np.any(v < row))
                c.kept, c.reason = False, (f"dominated by trial {by.trial} after "
                                           "re-evaluation")
    checked.sort(key=lambda c: (not c.kept, tuple(signed(problem, c.figures))
                                if c.fresh.ok else (math.inf,)))
