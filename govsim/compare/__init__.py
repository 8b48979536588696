"""What-if comparison: replicates of each scenario against a baseline, with uncertainty,
and the report that shows it.

The comparison's data and statistics live in :mod:`govsim.compare.core`; the report
(:mod:`govsim.compare.report`) reads them and is never read by them; the ``govsim compare``
command (:mod:`govsim.compare.command`) joins the two. The public names are re-exported
here, so ``govsim.compare.replicate_seed``, ``govsim.compare.plan`` and
``govsim.compare.compare`` work as before.

Example:
    >>> from govsim import compare
    >>> p = compare.plan(["stronger_law"], replicates=5, months=24)  # doctest: +SKIP
    >>> result = compare.compare(p, workers=2)                       # doctest: +SKIP
    >>> result.stats.query("outcome == 'compliance_rate'")           # doctest: +SKIP
"""

from govsim.compare.core import (
    BASELINE_NAME,
    CONFIDENCE,
    MIN_REPLICATES,
    OUTCOME,
    OUTCOMES,
    RUN_KEYS,
    Comparison,
    Outcome,
    Plan,
    compare,
    default_cures,
    default_workers,
    mean_interval,
    monthly_interval,
    paired_difference,
    plan,
    replicate_seed,
    run_all,
    run_chunk,
    run_summaries,
    statistics,
)

__all__ = ["BASELINE_NAME", "CONFIDENCE", "MIN_REPLICATES", "OUTCOME", "OUTCOMES", "RUN_KEYS",
           "Comparison", "Outcome", "Plan", "compare", "default_cures", "default_workers",
           "main", "mean_interval", "monthly_interval", "paired_difference", "plan",
           "replicate_seed", "run_all", "run_chunk", "run_summaries", "statistics"]


def main(args) -> int:
    """``govsim compare`` (see :func:`govsim.compare.command.main`)."""
    from govsim.compare.command import main as command_main

    return command_main(args)
