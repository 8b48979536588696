"""The table the terminal ends with: the main outcomes per scenario, each cure's effect
beside its value, a star on the significant ones."""

from __future__ import annotations

from govsim.compare.core import OUTCOME, Comparison, window_phrase
from govsim.compare.report import format as fmt

#: The outcomes shown in the terminal (the report has them all).
TEXT_OUTCOMES = ("compliance_rate", "illness_cases", "false_pass_rate", "collusion_rate",
                 "public_trust", "budget_spent")
SHORT = {"compliance_rate": "complying", "illness_cases": "ill / month",
         "false_pass_rate": "false reports", "collusion_rate": "bought passes",
         "public_trust": "trust", "budget_spent": "budget / month",
         "public_cost": "public cost / month"}


def _shown(c: Comparison) -> tuple[str, ...]:
    """The terminal's outcomes: every public cost rather than the testing budget alone."""
    if c.has("public_cost"):
        return tuple("public_cost" if k == "budget_spent" else k for k in TEXT_OUTCOMES)
    return TEXT_OUTCOMES


def _cell(c: Comparison, name: str, key: str, base: bool) -> tuple[str, str]:
    """(value, change from the baseline with its star); the baseline has no change."""
    row = c.stat(name, key)
    text = fmt.value(OUTCOME[key], row["mean"])
    if base:
        return text, ""
    return text, f"{fmt.effect(row)}{'*' if row['significant'] else ''}"


def text_table(c: Comparison) -> str:
    """An aligned plain-text table, baseline first: per outcome a value column (right-aligned)
    and a change column (left-aligned), so numbers and changes line up in their own columns."""
    names = c.plan.names
    base = names[0]
    shown = _shown(c)
    cells = {n: [_cell(c, n, k, n == base) for k in shown] for n in names}
    value_w = [max(len(cells[n][j][0]) for n in names) for j in range(len(shown))]
    change_w = [max(len(cells[n][j][1]) for n in names) for j in range(len(shown))]
    widths = [max(v + 1 + d, len(SHORT[k]))
              for v, d, k in zip(value_w, change_w, shown, strict=True)]
    name_w = max(len(n) for n in [*names, "scenario"])
    header = "scenario".ljust(name_w) + "".join(
        f"   {SHORT[k]:<{w}}" for k, w in zip(shown, widths, strict=True))
    lines = [header.rstrip()]
    for n in names:
        row = n.ljust(name_w)
        for (value, change), v, w in zip(cells[n], value_w, widths, strict=True):
            row += f"   {f'{value:>{v}} {change}':<{w}}"
        lines.append(row.rstrip())
    lines.insert(1, "-" * len(lines[0]))
    lines.append(f"\n{window_phrase(c.plan)} over {c.plan.replicates} replicates;"
                 f" beside each cure's value, its change from {base}\n(pp: percentage points),"
                 " * where the 95% paired interval excludes zero.")
    return "\n".join(lines)
