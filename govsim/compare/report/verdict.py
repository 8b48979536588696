"""The report's opening paragraph: a plain-language verdict generated from the numbers.

It answers the policymaker's question in order: where we stand (the baseline), which cures
significantly raise compliance and cut illness and by how much, which make things worse or no
clear difference, and what the strongest cure costs.
"""

from __future__ import annotations

from collections.abc import Callable

from govsim.compare.core import Comparison
from govsim.compare.report import format as fmt

Emphasis = Callable[[str], str]


def _plain(text: str) -> str:
    return text


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def verdict(c: Comparison, name: Emphasis = _plain) -> str:
    """One paragraph of plain language.

    Args:
        c: the comparison.
        name: how to set a scenario's name (e.g. bold in HTML or Markdown); it must escape
            the name if the output format needs it.
    """
    cures = c.plan.names[1:]
    parts = [_baseline_sentence(c)]
    if not cures:
        parts.append("No other scenario was given, so there is nothing to compare it with.")
        return " ".join(parts)
    parts += [_compliance_sentence(c, cures, name), _illness_sentence(c, cures, name),
              _worse_sentence(c, cures, name), _no_effect_sentence(c, cures, name),
              _cost_sentence(c, cures, name),
              f"An effect counts as significant when its 95% interval (paired over "
              f"{c.plan.replicates} replicates) excludes zero."]
    return " ".join(p for p in parts if p)


def _baseline_sentence(c: Comparison) -> str:
    b = c.plan.baseline.name
    s = {k: c.stat(b, k)["mean"] for k in ("compliance_rate", "illness_cases", "unsafe_share",
                                            "sample_failure_rate", "collusion_rate")}
    return (f"Under the baseline, {fmt.value('compliance_rate', s['compliance_rate'])} of food "
            f"businesses comply and about {fmt.value('illness_cases', s['illness_cases'])} "
            f"people a month fall ill; {fmt.value('unsafe_share', s['unsafe_share'])} of "
            f"batches are truly unsafe while official tests fail "
            f"{fmt.value('sample_failure_rate', s['sample_failure_rate'])}, and "
            f"{fmt.value('collusion_rate', s['collusion_rate'])} of test reports are "
            f"bought passes.")


def _effects(c: Comparison, cures: list[str], key: str, direction: str) -> list:
    rows = [c.stat(n, key) for n in cures]
    rows = [r for r in rows if r["direction"] == direction]
    # the largest improvement first
    return sorted(rows, key=lambda r: -abs(r["diff"]))


def _described(rows: list, name: Emphasis) -> list[str]:
    return [f"{name(r['scenario'])} ({fmt.effect(r)}, 95% CI {fmt.effect_interval(r)})"
            for r in rows]


def _compliance_sentence(c: Comparison, cures: list[str], name: Emphasis) -> str:
    rows = _effects(c, cures, "compliance_rate", "better")
    if not rows:
        return "No cure significantly raises compliance."
    many = f"{len(rows)} of {len(cures)} cures" if len(cures) > 1 else "The cure"
    return (f"{many} significantly raise{'s' if many == 'The cure' else ''} compliance: "
            f"{_join(_described(rows, name))}.")


def _illness_sentence(c: Comparison, cures: list[str], name: Emphasis) -> str:
    rows = _effects(c, cures, "illness_cases", "better")
    if not rows:
        return "No cure significantly reduces illness."
    return f"Illness falls significantly under {_join(_described(rows, name))}."


def _worse_sentence(c: Comparison, cures: list[str], name: Emphasis) -> str:
    worse = []
    for key, what in (("compliance_rate", "compliance"), ("illness_cases", "illness")):
        worse += [f"{what} under {name(r['scenario'])} ({fmt.effect(r)})"
                  for r in _effects(c, cures, key, "worse")]
    return f"Things get significantly worse for {_join(worse)}." if worse else ""


def _no_effect_sentence(c: Comparison, cures: list[str], name: Emphasis) -> str:
    flat = [n for n in cures if not any(c.stat(n, k)["significant"]
                                        for k in ("compliance_rate", "illness_cases"))]
    if not flat:
        return ""
    verb = "makes" if len(flat) == 1 else "make"
    return (f"{_join([_with_spending(c, n, name) for n in flat])} {verb} no difference to "
            f"compliance or illness that can be told apart from chance.")


def _with_spending(c: Comparison, cure: str, name: Emphasis) -> str:
    """A cure's name, and what it spends on top if that is significantly more: money for no
    clear gain is worth saying."""
    spent = c.stat(cure, "budget_spent")
    if spent["significant"] and spent["diff"] > 0:
        return f"{name(cure)} (although it spends {fmt.effect(spent)} more)"
    return name(cure)


def _cost_sentence(c: Comparison, cures: list[str], name: Emphasis) -> str:
    """What the cure with the largest compliance gain (else illness cut) costs."""
    rows = (_effects(c, cures, "compliance_rate", "better")
            or _effects(c, cures, "illness_cases", "better"))
    if not rows:
        return ""
    best = rows[0]["scenario"]
    spent = c.stat(best, "budget_spent")
    base = c.stat(c.plan.baseline.name, "budget_spent")["mean"]
    if spent["significant"]:
        money = (f"spends {fmt.value('budget_spent', spent['mean'])} yuan a month, "
                 f"{fmt.effect(spent)} against the baseline's "
                 f"{fmt.value('budget_spent', base)}")
    else:
        money = (f"spends about the same as the baseline "
                 f"({fmt.value('budget_spent', spent['mean'])} yuan a month)")
    cost = c.stat(best, "cost_per_violation")["mean"]
    base_cost = c.stat(c.plan.baseline.name, "cost_per_violation")["mean"]
    return (f"The strongest of these, {name(best)}, {money}; each violation it detects costs "
            f"{fmt.value('cost_per_violation', cost)} yuan (baseline: "
            f"{fmt.value('cost_per_violation', base_cost)}).")
