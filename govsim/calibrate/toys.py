"""A toy simulator with a known answer, for testing the calibration machinery.

It goes through exactly the same path as govsim (targets file, priors, seeded sampler,
executors, pyabc history, outputs), selected with ``model = "govsim.calibrate.toys:linear"``.
Not a model of anything.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from govsim.sweep.models import free_parameters

#: Monthly noise of the toy's outputs.
NOISE = 0.3


@free_parameters("a", "b", "c", "months", "delay", outputs=("y1", "y2"))
def linear(params: dict[str, Any], seed: int, base, series: bool = True) -> pd.DataFrame:
    """Monthly y1 = a + noise and y2 = a + b + noise; ``c`` has no effect (so the data say
    nothing about it); sleeps ``delay`` seconds (to make a calibration last)."""
    time.sleep(float(params.get("delay", 0.0)))
    months = int(params.get("months", 24))
    rng = np.random.default_rng(seed)
    a, b = float(params["a"]), float(params["b"])
    return pd.DataFrame({
        "step": np.arange(1, months + 1),
        "y1": a + NOISE * rng.standard_normal(months),
        "y2": a + b + NOISE * rng.standard_normal(months),
    })
