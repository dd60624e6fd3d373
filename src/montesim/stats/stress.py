"""Stress analysis from the iterations: the output when one input is held to a range of
its percentiles (its lowest decile, say), the others left as they came.

For each input, the iterations where that input's rank lies between the ``low`` and
``high`` percentiles (an exact count, whatever the ties) are kept and the output's mean,
standard deviation and percentiles computed over them. With independent inputs this is
the output's distribution when the input is sampled from that range only; with
correlated inputs the others move with it, as they would in the model. Inputs are listed
by how far the stressed mean moves from the baseline, largest first. Iterations where
the output is not finite are left out (and an input's non-finite values).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from montesim.errors import InputError
from montesim.stats.aligned import TOP, as_arrays, check_percentile, check_top
from montesim.stats.ranking import average_ranks, rank_window
from montesim.stats.scenario import check_range

PERCENTILES = (5.0, 50.0, 95.0)


@dataclass(frozen=True)
class OutputSummary:
    iterations: int
    mean: float
    std: float | None  # None for fewer than two iterations
    percentiles: dict[float, float]


@dataclass(frozen=True)
class Stressed:
    input: str
    input_low: float  # the input's lowest and highest values in the window
    input_high: float
    output: OutputSummary
    change: float  # output.mean - the baseline's mean


@dataclass(frozen=True)
class Stress:
    low: float  # the window, as percentiles of each input, 0..100
    high: float
    baseline: OutputSummary  # every iteration where the output is finite
    inputs: tuple[Stressed, ...]  # the ``top`` largest |change|, largest first
    omitted: int


def _summary(y: np.ndarray, percentiles: Sequence[float]) -> OutputSummary:
    return OutputSummary(
        iterations=len(y),
        mean=float(y.mean()),
        std=float(y.std(ddof=1)) if len(y) > 1 else None,
        percentiles={
            p: float(v) for p, v in zip(percentiles, np.percentile(y, percentiles), strict=True)
        },
    )


def stress(
    inputs: Mapping[str, np.ndarray],
    output: np.ndarray,
    *,
    low: float,
    high: float,
    only: Sequence[str] | None = None,
    top: int = TOP,
    percentiles: Sequence[float] = PERCENTILES,
) -> Stress:
    """The output with each input (or each of ``only``) held between its ``low`` and
    ``high`` percentiles, the ``top`` most telling first."""
    low, high = check_range(low, high, "stress")
    top = check_top(top)
    percentiles = [check_percentile(p, "stress.percentiles") for p in percentiles]
    xs, y = as_arrays(inputs, output)
    if only is not None:
        unknown = [name for name in only if name not in xs]
        if unknown:
            raise InputError(
                f"stress.inputs names no input {', '.join(map(repr, unknown))}",
                location="stress.inputs",
            )
        xs = {name: xs[name] for name in only}
    ok = np.isfinite(y)
    if not ok.any():
        raise InputError("the output has no finite value to stress", location="stress")
    baseline = _summary(y[ok], percentiles)
    found = []
    for name, x in xs.items():
        rows = np.flatnonzero(ok & np.isfinite(x))
        window = rows[rank_window(average_ranks(x[rows])[1], low, high)]
        if len(window) == 0:
            raise InputError(
                f"no iteration has {name} between its {low:g}th and {high:g}th percentiles",
                location="stress.low",
            )
        summary = _summary(y[window], percentiles)
        found.append(
            Stressed(
                name,
                float(x[window].min()),
                float(x[window].max()),
                summary,
                summary.mean - baseline.mean,
            )
        )
    found.sort(key=lambda s: (-abs(s.change), s.input))
    return Stress(low, high, baseline, tuple(found[:top]), max(len(found) - top, 0))
