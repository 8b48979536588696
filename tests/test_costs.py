"""Every public cost of a cure is in the comparison, line by line, with a total and a
cost-effectiveness figure; the verdict ranks cures by effect and mentions cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsim
from govsim import compare as cmp
from govsim.compare import costs
from govsim.compare.report import tables
from govsim.compare.report.verdict import verdict
from govsim.metrics import COLUMNS

LINES = [line.key for line in costs.COST_LINES]


def _runs(names: list[str], months: int = 3, replicates: int = 4, extra: dict | None = None):
    """Made-up monthly rows: each scenario's columns set by ``extra[name]``."""
    rows = []
    for name in names:
        for r in range(replicates):
            for m in range(1, months + 1):
                row = dict.fromkeys(COLUMNS, 0.0)
                row.update({"scenario": name, "replicate": r, "seed": r, "step": m,
                            "budget_spent": 30_000.0, "backchecks": 2.0,
                            "illness_cases": 1000.0 + 10 * r})
                row.update((extra or {}).get(name, {}))
                rows.append(row)
    return pd.DataFrame(rows)


def _plan(names: list[str], replicates: int = 4) -> cmp.Plan:
    scenarios = tuple(govsim.Scenario(name=n) for n in names)
    return cmp.Plan(scenarios, tuple(f"{n}.toml" for n in names), replicates, 0)


def test_cost_lines_are_separate_and_add_up_to_the_total_with_todays_columns():
    runs = _runs(["baseline", "rewards"], extra={"rewards": {"rewards_paid_yuan": 20_000.0}})
    # a model without its own cost columns (an older govsim, or results read back)
    runs = runs.drop(columns=["testing_fees_yuan", "backcheck_cost_yuan",
                              "inspection_cost_yuan", "public_cost_yuan"])
    per_run = cmp.run_summaries(runs, _plan(["baseline", "rewards"]))
    price = govsim.Scenario().budget.cost_per_batch_yuan
    row = per_run[per_run.scenario == "rewards"].iloc[0]
    assert row["cost_backchecks"] == pytest.approx(2 * price)
    assert row["cost_testing_fees"] == pytest.approx(30_000 - 2 * price)
    assert row["cost_rewards"] == 20_000
    present = [k for k in LINES if k in per_run]
    assert per_run[present].sum(axis=1).to_numpy() == pytest.approx(per_run["public_cost"])
    assert row["public_cost"] == pytest.approx(50_000)  # rewards are not free


def test_the_models_own_cost_columns_are_used_when_present_and_still_add_up():
    own = {"testing_fees_yuan": 25_000.0, "backcheck_cost_yuan": 5_000.0,
           "rewards_paid_yuan": 1_000.0, "inspection_cost_yuan": 4_000.0,
           "public_cost_yuan": 36_500.0}  # 1,500 more than the lines: e.g. re-tendering
    runs = _runs(["baseline"], extra={"baseline": own})
    per_run = cmp.run_summaries(runs, _plan(["baseline"]))
    row = per_run.iloc[0]
    assert row["cost_testing_fees"] == 25_000 and row["cost_backchecks"] == 5_000
    assert row["cost_inspections"] == 4_000 and row["cost_other"] == pytest.approx(1_500)
    assert row[LINES].sum() == pytest.approx(row["public_cost"]) == pytest.approx(36_500)
    assert costs.not_counted(list(per_run.columns)) == []


def _per_run(cures: dict[str, tuple[float, float]], replicates: int = 10) -> pd.DataFrame:
    """Per-run public cost and illness: each cure adds (cost, illness) to the baseline."""
    rng = np.random.default_rng(3)
    base_cost = rng.uniform(29_000, 31_000, replicates)
    base_ill = rng.uniform(900, 1100, replicates)
    rows = [{"scenario": "baseline", "replicate": r, "public_cost": base_cost[r],
             "illness_cases": base_ill[r]} for r in range(replicates)]
    for name, (cost, ill) in cures.items():
        rows += [{"scenario": name, "replicate": r,
                  "public_cost": base_cost[r] + cost + rng.normal(0, 50),
                  "illness_cases": base_ill[r] + ill + rng.normal(0, 5)}
                 for r in range(replicates)]
    return pd.DataFrame(rows)


def test_cost_per_illness_averted_is_paired_by_replicate_with_an_interval():
    per_run = _per_run({"pays": (10_000.0, -200.0), "useless": (10_000.0, 0.0)})
    ce = costs.cost_effectiveness(per_run, "baseline", ["pays", "useless"]).set_index(
        "scenario")
    pays = ce.loc["pays"]
    assert pays["yuan_per_case"] == pytest.approx(50, rel=0.05)
    assert pays["low"] < pays["yuan_per_case"] < pays["high"]
    assert pays["high"] - pays["low"] < 10  # paired: the baseline's spread cancels out
    assert np.isnan(ce.loc["useless", "yuan_per_case"])
    assert ce.loc["useless", "note"] == "illness not significantly reduced"


def _synthetic(shifts: dict[str, dict[str, float]], replicates: int = 8) -> cmp.Comparison:
    names = ["baseline", *shifts]
    keys = [o.key for o in (*cmp.OUTCOMES, *cmp.core.COST_OUTCOMES)
            if o.key not in ("cost_inspections", "cost_other")]
    rng = np.random.default_rng(1)
    base = {k: rng.uniform(0.2, 0.4, replicates) for k in keys}
    base["illness_cases"] = rng.uniform(900, 1100, replicates)
    for k in ("cost_testing_fees", "public_cost"):
        base[k] = rng.uniform(29_000, 31_000, replicates)
    base["cost_rewards"] = np.zeros(replicates)
    rows = []
    for name in names:
        shift = shifts.get(name, {})
        for r in range(replicates):
            noise = 0 if name == "baseline" else rng.normal(0, 1e-3)
            rows.append({"scenario": name, "replicate": r, "seed": r,
                         **{k: base[k][r] + _nth(shift.get(k, 0), r) + noise for k in keys}})
    per_run = pd.DataFrame(rows)
    p = _plan(names, replicates)
    return cmp.Comparison(p, pd.DataFrame(), per_run, cmp.statistics(per_run, p))


def _nth(shift, r: int) -> float:
    """A shift given for all replicates, or one per replicate."""
    return shift[r] if np.ndim(shift) else shift


def test_a_cure_is_said_to_save_money_only_when_its_cost_is_significantly_lower():
    # four replicates, one of which costs more: the ratio's bootstrap interval lies below
    # zero, but the paired test on cost finds no difference (a reviewer's real case)
    cost = [-1587.0, 46.0, -4046.0, -204.0]
    c = _synthetic({"noisy": {"illness_cases": -300, "public_cost": cost},
                    "clear": {"illness_cases": -300, "public_cost": -2_000}}, replicates=4)
    ce = c.cost_effectiveness.set_index("scenario")
    assert ce.loc["noisy", "high"] < 0  # what used to be read as "saves money"
    assert not c.stat("noisy", "public_cost")["significant"]
    noisy, clear = tables.cost_table(c).rows[-1][1][1:]
    assert "saves money" not in noisy.interval and "no clear change in cost" in noisy.interval
    assert "saves money as well" in clear.interval


def test_report_tables_show_every_cost_line_the_total_and_cost_per_case():
    c = _synthetic({"reward": {"compliance_rate": 0.1, "illness_cases": -300,
                               "cost_rewards": 20_000, "public_cost": 20_000}})
    labels = [label for label, _ in tables.cost_table(c).rows]
    assert labels == ["Testing fees paid to agencies (yuan/month)",
                      "Back-checks of agency reports (yuan/month)",
                      "Rewards paid for complaints (yuan/month)",
                      "Total public cost (yuan/month)", tables.PER_CASE]
    per_case = tables.cost_table(c).rows[-1][1][1]
    assert float(per_case.text.replace(",", "")) == pytest.approx(20_000 / 300, rel=0.02)


def test_verdict_ranks_cures_by_effect_mentions_cost_and_never_crowns_a_tie():
    c = _synthetic({"a_small": {"compliance_rate": 0.05},
                    "b_large": {"compliance_rate": 0.20, "illness_cases": -300,
                                "cost_rewards": 20_000, "public_cost": 20_000},
                    "c_large_too": {"compliance_rate": 0.20}})
    text = verdict(c)
    ranked = text[text.index("significantly raise"):]
    assert ranked.index("b_large") < ranked.index("a_small")  # by effect, not by name
    assert ranked.index("c_large_too") < ranked.index("a_small")
    assert "strongest" not in text
    assert "cannot be told apart" in text
    assert "rewards paid for complaints +20,000 yuan" in text
    assert "yuan per illness case averted" in text
