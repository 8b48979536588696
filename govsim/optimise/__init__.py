"""``govsim optimise``: the cheapest mix of policies that reaches a target, or the front of
cost against safety, searched with optuna over any scenario fields (see ``problems/``)."""

from govsim.optimise.problem import Problem, ProblemError, load_problem, prepare
from govsim.optimise.runner import Result, optimise

__all__ = ["Problem", "ProblemError", "Result", "load_problem", "optimise", "prepare"]
