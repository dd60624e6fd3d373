"""Change in output mean: the output's mean over each input's bins, as a tornado and a spider.

Each input's iterations are sorted and cut into ``bins`` groups of equal size (deciles by
default); the output's mean in each group shows how the output moves with that input.
The tornado's bar for an input runs from the lowest to the highest of those means; the
spider draws them against the input's percentile. Inputs are ranked by the bar's length
(its *swing*), largest first, and the first ``top`` are shown.

Iterations where the input or the output is not finite are left out for that input. An
input that takes one value has no bar (its bins would differ only by iteration order),
nor has one with fewer iterations than bins; both are listed as ``unranked``.
Tied values (discrete inputs) are split between bins by iteration order, as any
equal-count binning must, so their bins mix iterations of neighbouring values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from montesim.errors import InputError
from montesim.stats.aligned import TOP, as_arrays, check_top, finite_pair
from montesim.stats.ranking import average_ranks, rank_bins

BINS = 10


@dataclass(frozen=True)
class BinMeans:
    """One input's bins, lowest input values first: the input's and the output's mean in each."""

    input: str
    percentiles: tuple[float, ...]  # each bin's midpoint, as a percentile of the input
    input_means: tuple[float, ...]
    output_means: tuple[float, ...]

    @property
    def swing(self) -> float:
        return max(self.output_means) - min(self.output_means)


@dataclass(frozen=True)
class MeanBar:
    """A tornado bar: the lowest and highest output mean over the input's bins."""

    input: str
    low: float
    high: float
    low_bin: int  # which bin gave ``low`` (0 holds the input's lowest values)
    high_bin: int


@dataclass(frozen=True)
class MeanTornado:
    baseline: float  # the output's mean over every iteration where it is finite
    bars: tuple[MeanBar, ...]  # the ``top`` longest, longest first
    omitted: int  # ranked inputs beyond ``top``
    unranked: tuple[str, ...]  # constant inputs, or too few iterations for the bins


@dataclass(frozen=True)
class Spider:
    baseline: float
    lines: tuple[BinMeans, ...]  # the ``top`` inputs of the tornado, in its order
    omitted: int
    unranked: tuple[str, ...]


def _check_bins(bins: int) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or not 2 <= bins <= 100:
        raise InputError(
            f"bins must be a whole number from 2 to 100 (got {bins!r})", location="bins"
        )
    return int(bins)


def one_input(name: str, x: np.ndarray, y: np.ndarray, bins: int) -> BinMeans | None:
    """``name``'s bins (None when it is constant or has fewer finite iterations than bins)."""
    x, y = finite_pair(x, y)
    if len(x) < bins or x.min() == x.max():
        return None
    of = rank_bins(average_ranks(x)[1], bins)
    counts = np.bincount(of, minlength=bins)
    x_means = np.bincount(of, weights=x, minlength=bins) / counts
    y_means = np.bincount(of, weights=y, minlength=bins) / counts
    return BinMeans(
        input=name,
        percentiles=tuple(100.0 * (i + 0.5) / bins for i in range(bins)),
        input_means=tuple(float(v) for v in x_means),
        output_means=tuple(float(v) for v in y_means),
    )


def bin_means(
    inputs: Mapping[str, np.ndarray], output: np.ndarray, *, bins: int = BINS
) -> tuple[list[BinMeans], list[str], float]:
    """Every input's bins, longest swing first (ties by name); the unranked inputs; the
    output's mean."""
    bins = _check_bins(bins)
    xs, y = as_arrays(inputs, output)
    ranked, unranked = [], []
    for name, x in xs.items():
        found = one_input(name, x, y, bins)
        if found is None:
            unranked.append(name)
        else:
            ranked.append(found)
    ranked.sort(key=lambda b: (-b.swing, b.input))
    finite = y[np.isfinite(y)]
    baseline = float(finite.mean()) if len(finite) else float("nan")
    return ranked, unranked, baseline


def change_in_mean(
    inputs: Mapping[str, np.ndarray],
    output: np.ndarray,
    *,
    bins: int = BINS,
    top: int = TOP,
) -> MeanTornado:
    """The change-in-output-mean tornado of the ``top`` inputs with the longest bars."""
    top = check_top(top)
    ranked, unranked, baseline = bin_means(inputs, output, bins=bins)
    bars = []
    for b in ranked[:top]:
        means = np.asarray(b.output_means)
        lo, hi = int(np.argmin(means)), int(np.argmax(means))
        bars.append(MeanBar(b.input, float(means[lo]), float(means[hi]), lo, hi))
    return MeanTornado(baseline, tuple(bars), max(len(ranked) - top, 0), tuple(unranked))


def spider(
    inputs: Mapping[str, np.ndarray],
    output: np.ndarray,
    *,
    bins: int = BINS,
    top: int = TOP,
) -> Spider:
    """The output's mean against each input's percentile, for the ``top`` inputs of the
    change-in-mean tornado."""
    top = check_top(top)
    ranked, unranked, baseline = bin_means(inputs, output, bins=bins)
    return Spider(baseline, tuple(ranked[:top]), max(len(ranked) - top, 0), tuple(unranked))
