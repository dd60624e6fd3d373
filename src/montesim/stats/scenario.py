"""Scenario analysis: which inputs are unusual when the output is in a range of its
percentiles (its top decile, say), and by how much.

For the iterations whose output lies between the ``low`` and ``high`` percentiles (by
rank, so the count is exact whatever the ties), each input's median there is compared
with its median over all iterations. The *shift* is that difference in the input's
standard deviations; inputs are listed by the size of their shift, largest first, and
those whose shift reaches ``threshold`` (0.5 by default) are marked significant.
Iterations where the output is not finite are left out; so are an input's non-finite
values. A constant input has no shift (``unranked``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from montesim.errors import InputError
from montesim.stats.aligned import TOP, as_arrays, check_percentile, check_top
from montesim.stats.ranking import average_ranks, rank_window

THRESHOLD = 0.5  # shifts of half a standard deviation or more are significant
DECILE = 10.0


@dataclass(frozen=True)
class ScenarioInput:
    input: str
    median: float  # the input's median over the scenario's iterations
    overall_median: float  # ... and over all iterations
    shift: float  # (median - overall_median) / the input's standard deviation
    percentile: float  # where ``median`` lies in the input's distribution, 0..100
    significant: bool  # |shift| >= threshold


@dataclass(frozen=True)
class Scenario:
    low: float  # the output's percentile range, 0..100
    high: float
    output_low: float  # the output's lowest and highest values in the scenario
    output_high: float
    iterations: int
    inputs: tuple[ScenarioInput, ...]  # the ``top`` largest |shift|, largest first
    omitted: int
    unranked: tuple[str, ...]


def check_range(low: float, high: float, where: str) -> tuple[float, float]:
    low = check_percentile(low, f"{where}.low")
    high = check_percentile(high, f"{where}.high")
    if not low < high:
        raise InputError(
            f"{where}.low ({low:g}) must be below {where}.high ({high:g})", location=f"{where}.low"
        )
    return low, high


def _percentile_of(sorted_x: np.ndarray, value: float) -> float:
    """The mid-rank percentile of ``value`` among ``sorted_x``."""
    below = np.searchsorted(sorted_x, value, side="left")
    upto = np.searchsorted(sorted_x, value, side="right")
    return float(100.0 * (below + upto) / 2.0 / len(sorted_x))


def scenario(
    inputs: Mapping[str, np.ndarray],
    output: np.ndarray,
    *,
    low: float,
    high: float,
    top: int = TOP,
    threshold: float = THRESHOLD,
) -> Scenario:
    """The inputs that stand out when the output is between its ``low`` and ``high``
    percentiles (``low=90, high=100``: its top decile)."""
    low, high = check_range(low, high, "scenario")
    top = check_top(top)
    xs, y = as_arrays(inputs, output)
    ok = np.isfinite(y)
    rows = np.flatnonzero(ok)
    chosen = rows[rank_window(average_ranks(y[rows])[1], low, high)]
    if len(chosen) == 0:
        raise InputError(
            f"no iteration has the output between its {low:g}th and {high:g}th percentiles",
            location="scenario.low",
        )
    members = np.zeros(len(y), dtype=bool)
    members[chosen] = True
    found, unranked = [], []
    for name, x in xs.items():
        finite = ok & np.isfinite(x)
        every, inside = x[finite], x[finite & members]
        if len(inside) == 0 or every.min() == every.max():
            unranked.append(name)
            continue
        every = np.sort(every)
        median, overall = float(np.median(inside)), float(np.median(every))
        shift = (median - overall) / float(every.std(ddof=1))
        found.append(
            ScenarioInput(
                name, median, overall, shift, _percentile_of(every, median), abs(shift) >= threshold
            )
        )
    found.sort(key=lambda s: (-abs(s.shift), s.input))
    return Scenario(
        low=low,
        high=high,
        output_low=float(y[chosen].min()),
        output_high=float(y[chosen].max()),
        iterations=len(chosen),
        inputs=tuple(found[:top]),
        omitted=max(len(found) - top, 0),
        unranked=tuple(unranked),
    )


def scenarios(
    inputs: Mapping[str, np.ndarray],
    output: np.ndarray,
    *,
    percent: float = DECILE,
    top: int = TOP,
    threshold: float = THRESHOLD,
) -> tuple[Scenario, Scenario]:
    """The scenarios of the output's top and bottom ``percent`` (a decile by default)."""
    percent = check_percentile(percent, "scenario.percent")
    if not 0 < percent <= 50:
        raise InputError(
            f"scenario.percent must be above 0 and at most 50 (got {percent:g})",
            location="scenario.percent",
        )
    upper = scenario(inputs, output, low=100.0 - percent, high=100.0, top=top, threshold=threshold)
    lower = scenario(inputs, output, low=0.0, high=percent, top=top, threshold=threshold)
    return upper, lower
