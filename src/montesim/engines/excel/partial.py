"""What one chunk of an Excel job hands back to be persisted and merged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Partial:
    """One chunk's outputs per trial (and inputs for trials in the raw window)."""

    start: int
    size: int
    values: np.ndarray  # (outputs, size) float64; NaN where codes != 0
    codes: np.ndarray | None  # (outputs, size) int8 error codes, None when no trial failed
    inputs: np.ndarray  # (inputs, trials in the raw window) float64
