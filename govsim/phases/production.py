"""Production: whether each business's food is unsafe this month.

The chance follows from the business's strategy (complying or cutting corners) and its
sector's hazard, higher for catering and small outlets (see ``businesses.hazard_*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from govsim.jit import compiled

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


def produce(model: GovernanceModel) -> None:
    """Draw this month's unsafe batches."""
    b = model.businesses
    draw = model.rng.random(b.count)
    b.unsafe, complying, unsafe = _produce(draw, b.complying, b.hazard_comply, b.hazard_cut)
    model.tally["compliance_rate"] = complying / b.count
    # what a perfect random sample of businesses would find this month
    model.tally["unsafe_share"] = unsafe / b.count


@compiled
def _produce(draw, complying, hazard_comply, hazard_cut):
    """Business by business: its food is unsafe when ``draw`` falls below the hazard of its
    strategy.

    Returns:
        (unsafe by business, the number complying, the number unsafe)
    """
    unsafe = np.empty(len(draw), dtype=np.bool_)
    n_complying = n_unsafe = 0
    for i in range(len(draw)):
        hazard = hazard_comply[i] if complying[i] else hazard_cut[i]
        unsafe[i] = draw[i] < hazard
        n_complying += complying[i]
        n_unsafe += unsafe[i]
    return unsafe, n_complying, n_unsafe
