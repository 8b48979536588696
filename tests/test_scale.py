"""Scale invariance: the same population simulated with 5,000 or 50,000 consumers."""

from __future__ import annotations

import numpy as np

import govsim


def per_capita(scenario: govsim.Scenario, seeds) -> dict[str, np.ndarray]:
    out = {"illness": [], "complaints": [], "trust": [], "compliance": []}
    for seed in seeds:
        ts = govsim.run(scenario, seed=seed).timeseries.tail(24)
        people = scenario.consumers.population
        out["illness"].append(ts.illness_cases.mean() / people * 100_000)
        out["complaints"].append(ts.complaints.mean() / people * 100_000)
        out["trust"].append(ts.public_trust.mean())
        out["compliance"].append(ts.compliance_rate.mean())
    return {k: np.array(v) for k, v in out.items()}


def test_per_capita_figures_do_not_depend_on_the_consumer_scale(baseline):
    coarse = per_capita(baseline.with_overrides({"consumers.count": 5_000}), range(8))
    fine = per_capita(baseline.with_overrides({"consumers.count": 50_000}), range(8))
    for key in coarse:
        a, b = coarse[key], fine[key]
        # difference of means within 3 standard errors (and within 10%: not a vacuous bound)
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) <= max(3 * se, 1e-9), key
        assert abs(a.mean() - b.mean()) <= 0.1 * abs(b.mean()), key
