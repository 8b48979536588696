"""The report's opening paragraph: a plain-language verdict generated from the numbers.

It answers the policymaker's question in order: where we stand (the baseline), which cures
significantly raise compliance and cut illness and by how much, which make things worse or no
clear difference, and what the cures that work cost the public, in order of their effect
(saying so when the first cannot be told apart from the second).
"""

from __future__ import annotations

from collections.abc import Callable

from govsim.compare.core import OUTCOME, Comparison, paired_difference
from govsim.compare.costs import COST_LINES
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
    flat.sort(key=lambda n: -c.stat(n, "compliance_rate")["diff"])  # by effect, not by name
    verb = "makes" if len(flat) == 1 else "make"
    return (f"{_join([_with_spending(c, n, name) for n in flat])} {verb} no difference to "
            f"compliance or illness that can be told apart from chance.")


def _cost_key(c: Comparison) -> str:
    """The total public cost when the comparison has it, else the testing budget."""
    return "public_cost" if c.has("public_cost") else "budget_spent"


def _with_spending(c: Comparison, cure: str, name: Emphasis) -> str:
    """A cure's name, and what it spends on top if that is significantly more: money for no
    clear gain is worth saying."""
    spent = c.stat(cure, _cost_key(c))
    if spent["significant"] and spent["diff"] > 0:
        return (f"{name(cure)} (although it costs {fmt.effect(spent).lstrip('+')} more "
                "public money)")
    return name(cure)


def _cost_sentence(c: Comparison, cures: list[str], name: Emphasis) -> str:
    """What the cures that work cost, in order of their effect, and whether the first can
    be told apart from the second (never "the strongest" when it cannot)."""
    rows = _effects(c, cures, "compliance_rate", "better")
    what = "compliance"
    if not rows:
        rows, what = _effects(c, cures, "illness_cases", "better"), "illness"
    if not rows:
        return ""
    parts = [f"{name(r['scenario'])} {_cost_phrase(c, r['scenario'])}" for r in rows]
    lead = "It" if len(rows) == 1 else "In order of their effect on " + what + ", they"
    text = f"{lead} cost the public: {'; '.join(parts)}."
    if len(rows) > 1:
        text += " " + _lead_sentence(c, rows[0]["scenario"], rows[1]["scenario"],
                                     rows[0]["outcome"], what, name)
    return text


def _cost_phrase(c: Comparison, cure: str) -> str:
    key = _cost_key(c)
    spent, base = c.stat(cure, key), c.stat(c.plan.baseline.name, key)["mean"]
    if spent["significant"]:
        text = (f"{fmt.value(key, spent['mean'])} yuan a month, {fmt.effect(spent)} against "
                f"the baseline's {fmt.value(key, base)}")
        lines = _changed_lines(c, cure)
        if lines:
            text += f" ({lines})"
    else:
        text = f"about the same as the baseline ({fmt.value(key, spent['mean'])} yuan a month)"
    ce = c.cost_effectiveness
    row = ce[ce["scenario"] == cure]
    if spent["significant"] and not row.empty and not row.iloc[0]["note"]:
        r = row.iloc[0]
        if r["high"] < 0:
            text += ", and it saves money while averting illness"
        elif r["low"] > 0:
            text += (f", {r['yuan_per_case']:,.0f} yuan per illness case averted "
                     f"(95% CI {r['low']:,.0f} to {r['high']:,.0f})")
    return text


def _changed_lines(c: Comparison, cure: str) -> str:
    """The cost lines that change significantly, e.g. "rewards +20,800 yuan"."""
    out = []
    for line in COST_LINES:
        if c.has(line.key):
            row = c.stat(cure, line.key)
            if row["significant"]:
                out.append(f"{line.label.lower()} {row['diff']:+,.0f} yuan")
    return ", ".join(out)


def _lead_sentence(c: Comparison, first: str, second: str, key: str, what: str,
                   name: Emphasis) -> str:
    """Whether the first cure's effect can be told apart from the second's (paired by
    replicate, like every effect)."""
    by_name = {n: g.set_index("replicate")[key] for n, g in c.per_run.groupby("scenario")}
    diff, low, high, _ = paired_difference(by_name[first], by_name[second])
    better = OUTCOME[key].better
    if low > 0 or high < 0:
        if (diff > 0) == (better > 0):
            return f"{name(first)} does significantly better on {what} than {name(second)}."
        return ""
    return (f"{name(first)} and {name(second)} cannot be told apart on {what}: the difference "
            "between them is within the noise.")
