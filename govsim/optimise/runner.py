"""One optimisation from start to report: folder, search, noise check, references, report.

Example:
    >>> from govsim.optimise import optimise
    >>> result = optimise("cheapest_95", workers=2)                      # doctest: +SKIP
    >>> result.report_md                                                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govsim import folders
from govsim.optimise import folder
from govsim.optimise.driver import SearchReport, open_study, search, trial_table
from govsim.optimise.evaluation import FRESH, Evaluation, Evaluator, replicate_seeds
from govsim.optimise.front import Checked, front_candidates, reevaluate
from govsim.optimise.problem import Prepared, Problem, ProblemError, load_problem, prepare
from govsim.scenario import Scenario, ScenarioError, bundled_scenarios
from govsim.sweep.executors import Executor, make_executor

STATUS_QUO = "status quo"


@dataclass
class Result:
    """What an optimisation produced.

    Attributes:
        prepared: the checked problem.
        out: its folder.
        search: what the search did in this session.
        rows: every finished trial (levers, search figures, feasible).
        checked: the front candidates after re-evaluation (kept first).
        references: the status quo and bundled scenarios, re-evaluated like the front.
        importance: per measure key, optuna's lever importances.
        resumed: an earlier session's study was continued.
        executor: where the runs ran.
        files: the result files written.
    """

    prepared: Prepared
    out: Path
    search: SearchReport
    rows: list[dict[str, Any]]
    checked: list[Checked]
    references: dict[str, tuple[Scenario, Evaluation]]
    importance: dict[str, dict[str, float]]
    resumed: bool
    executor: str
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def problem(self) -> Problem:
        return self.prepared.problem

    @property
    def kept(self) -> list[Checked]:
        return [c for c in self.checked if c.kept]

    @property
    def dropped(self) -> list[Checked]:
        return [c for c in self.checked if not c.kept]


def optimise(problem: Problem | str | Path, out: str | Path | None = None,
             trials: int | None = None, executor: Executor | None = None,
             workers: int | None = None, resume: bool = False,
             echo: Callable[[str], None] = print, setup: Callable | None = None) -> Result:
    """Search, check the front against noise, and write the report.

    Args:
        problem: a problem, a problem file or a bundled problem's name.
        out: the folder (default ``out/optimise/<name>/``).
        trials: finished trials wanted (default: the problem's).
        executor: where runs go (default: ``workers`` local processes).
        workers: local processes when no executor is given (default: every core).
        resume: continue the study already in ``out``.
        echo: where progress lines go.
        setup: called with the study before the search (tests plant trials with it).

    Raises:
        ProblemError: a bad problem, a folder that is not this optimisation's, ...
    """
    if not isinstance(problem, Problem):
        problem = load_problem(problem)
    prepared = prepare(problem)
    trials = problem.trials if trials is None else trials
    if trials < 1:
        raise ProblemError(f"--trials {trials}: must be at least 1")
    out = Path(out) if out is not None else folder.default_out(problem.name)
    executor = executor or make_executor(workers=workers)
    folder.claim(out)
    with folders.locked(out, folder.KIND):  # held for the whole optimisation
        resumed = folder.begin(out, prepared, resume)
        with executor:
            echo(f"optimise {problem.name}: {trials} trials of {problem.replicates} runs each "
                 f"on {executor.describe()}; study in {out / 'study.db'}")
            evaluator = Evaluator(prepared, executor)
            if setup is not None:
                setup(open_study(problem, out))
            report = search(prepared, out, evaluator, trials, echo)
            study = open_study(problem, out)
            rows = trial_table(study, problem)
            candidates = front_candidates(problem, rows)
            echo(f"re-evaluating {len(candidates)} front candidates with "
                 f"{problem.reevaluate} fresh runs each")
            checked = reevaluate(problem, evaluator, candidates)
            references = reference_points(prepared, evaluator)
        importance = lever_importance(study, problem)
        result = Result(prepared, out, report, rows, checked, references, importance,
                        resumed, executor.describe())
        from govsim.optimise.report import write_results

        result.files = write_results(result)
    return result


def reference_points(prepared: Prepared, evaluator: Evaluator
                     ) -> dict[str, tuple[Scenario, Evaluation]]:
    """The status quo and every other bundled scenario, with the problem's fixed settings,
    run with the same fresh seeds as the front (for the figure and the comparison)."""
    problem = prepared.problem
    if prepared.base is None or not problem.references:
        return {}
    scenarios = {STATUS_QUO: prepared.base}
    overrides = dict(problem.fixed)
    overrides["run.months"] = prepared.base.run.months
    for name, path in bundled_scenarios().items():
        if name == prepared.base.name:
            continue
        try:
            scenarios[name] = Scenario.load(path).with_overrides(
                overrides, source=f"{path} with the problem's fixed settings")
        except ScenarioError:
            continue  # a bundled scenario the fixed settings do not fit: left off the figure
    seeds = replicate_seeds(problem.seed, problem.reevaluate, stream=FRESH)
    names = list(scenarios)
    evaluations = evaluator.evaluate([{} for _ in names], seeds,
                                     bases=[scenarios[n] for n in names])
    return {n: (scenarios[n], e) for n, e in zip(names, evaluations, strict=True) if e.ok}


def lever_importance(study, problem: Problem) -> dict[str, dict[str, float]]:
    """optuna's PED-ANOVA importance of each lever for reaching the best 10% of each measure
    (search figures). PED-ANOVA rather than optuna's default fANOVA, which needs
    scikit-learn, a large dependency for one table."""
    import warnings

    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(complete) < 10:
        return {}
    out: dict[str, dict[str, float]] = {}
    for m in problem.measures:
        sign = -1.0 if _higher_is_better(problem, m.key) else 1.0

        def target(t, key=m.key, sign=sign):
            return sign * t.user_attrs.get("figures", {}).get(key, float("nan"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "assumes low target values": it is so
                values = optuna.importance.get_param_importances(
                    study, target=target, evaluator=PedAnovaImportanceEvaluator())
        except (RuntimeError, ValueError):
            continue
        out[m.key] = dict(values)
    return out


def _higher_is_better(problem: Problem, key: str) -> bool:
    for o in problem.objectives:
        if o.key == key:
            return o.direction == "maximise"
    return any(c.key == key and c.at_least is not None for c in problem.constraints)
