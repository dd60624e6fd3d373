"""Risk appetite: a loss tolerance curve held against the root's loss exceedance curve.

A tolerance is a list of ``[loss, probability]`` points: the board accepts losses of at
least ``loss`` with probability at most ``probability`` per period. Between points it is
read on log-log axes (a straight line on the LEC chart); the curve is checked at its own
points and at every LEC tick between its first and last loss.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from montesim.stats.lec import LossHistogram


def tolerance_at(points: list[tuple[float, float]], losses: np.ndarray) -> np.ndarray:
    """The tolerated probability at ``losses`` (within the curve's range), log-log linear."""
    xs = np.log([x for x, _ in points])
    ps = np.log([p for _, p in points])
    return np.exp(np.interp(np.log(losses), xs, ps))


def check(
    points: list[tuple[float, float]], hist: LossHistogram, ticks: np.ndarray
) -> dict[str, Any]:
    """``{points, exceeded, worst}``: the LEC against the tolerance, worst by ratio."""
    losses = np.array([x for x, _ in points])
    inside = ticks[(ticks > losses[0]) & (ticks < losses[-1])]
    at = np.unique(np.concatenate([losses, inside]))
    tolerated = tolerance_at(points, at)
    tolerated[np.searchsorted(at, losses)] = [p for _, p in points]  # exactly as given
    lec = hist.exceedance(at)
    ratio = lec / tolerated
    worst = int(np.argmax(ratio))
    rows = [
        {"loss": x, "probability": p, "lec_probability": float(q), "exceeded": bool(q > p)}
        for (x, p), q in zip(points, hist.exceedance(losses), strict=True)
    ]
    return {
        "points": rows,
        "exceeded": bool(np.any(lec > tolerated)),
        "worst": {
            "loss": float(at[worst]),
            "probability": float(tolerated[worst]),
            "lec_probability": float(lec[worst]),
            "ratio": float(ratio[worst]) if math.isfinite(ratio[worst]) else None,
        },
    }
