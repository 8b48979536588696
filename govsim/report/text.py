"""The table the terminal ends with: the main outcomes per scenario, each cure's effect
beside its value, a star on the significant ones."""

from __future__ import annotations

from govsim.compare import OUTCOME, Comparison
from govsim.report import format as fmt

#: The outcomes shown in the terminal (the report has them all).
TEXT_OUTCOMES = ("compliance_rate", "illness_cases", "false_pass_rate", "collusion_rate",
                 "public_trust", "budget_spent")
SHORT = {"compliance_rate": "complying", "illness_cases": "ill / month",
         "false_pass_rate": "false reports", "collusion_rate": "bought passes",
         "public_trust": "trust", "budget_spent": "budget / month"}


def _cell(c: Comparison, name: str, key: str, base: bool) -> str:
    row = c.stat(name, key)
    text = fmt.value(OUTCOME[key], row["mean"])
    if base:
        return text
    return f"{text} {fmt.effect(row)}{'*' if row['significant'] else ' '}"


def text_table(c: Comparison) -> str:
    """An aligned plain-text table, baseline first."""
    names = c.plan.names
    base = names[0]
    grid = [["scenario", *(SHORT[k] for k in TEXT_OUTCOMES)]]
    grid += [[n, *(_cell(c, n, k, n == base) for k in TEXT_OUTCOMES)] for n in names]
    widths = [max(len(row[j]) for row in grid) for j in range(len(grid[0]))]
    lines = []
    for row in grid:
        cells = [row[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(row[1:], widths[1:],
                                                                        strict=True)]
        lines.append("  ".join(cells))
    lines.insert(1, "-" * len(lines[0]))
    months = c.plan.baseline.run.months
    lines.append(f"\nMean of the last 12 of {months} months over {c.plan.replicates} replicates;"
                 f" beside each cure's value, its change from {base}\n(pp: percentage points),"
                 " * where the 95% paired interval excludes zero.")
    return "\n".join(lines)
