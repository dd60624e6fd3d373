"""What one chunk of an Excel job hands back to be persisted and merged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Partial:
    """One chunk's outputs per trial (the kept window's inputs are drawn again at the
    merge: ``draws.kept_inputs``)."""

    start: int
    size: int
    values: np.ndarray  # (outputs, size) float64; NaN where codes != 0
    codes: np.ndarray | None  # (outputs, size) int8 error codes, None when no trial failed
