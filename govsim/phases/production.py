"""Production: whether each business's food is unsafe this month.

The chance follows from the business's strategy (complying or cutting corners) and its
sector's hazard, higher for catering and small outlets (see ``businesses.hazard_*``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from govsim.model import GovernanceModel


def produce(model: GovernanceModel) -> None:
    """Draw this month's unsafe batches."""
    b = model.businesses
    hazard = np.where(b.complying, b.hazard_comply, b.hazard_cut)
    b.unsafe = model.rng.random(b.count) < hazard
    model.tally["compliance_rate"] = np.count_nonzero(b.complying) / b.count
    # what a perfect random sample of businesses would find this month
    model.tally["unsafe_share"] = np.count_nonzero(b.unsafe) / b.count
