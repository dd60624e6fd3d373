"""Poisson event counts from uniforms, by inverse CDF with a guide table.

``np.searchsorted`` over the CDF costs a branchy binary search per trial; a guide table
(Chen and Asau) indexed by the uniform's top bits starts each search at, or just below,
the answer, so nearly every trial is settled by one lookup and one comparison (the few
left search the table in full). The counts are exactly
``np.searchsorted(cdf, u, side="right")``; only the speed differs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MIN_CELLS = 4096


@dataclass(frozen=True)
class PoissonCounts:
    """The number of events in a period for uniforms ``u``, for a Poisson rate ``lam``."""

    lam: float
    cdf: np.ndarray = field(init=False, repr=False)
    guide: np.ndarray = field(init=False, repr=False)
    cells: int = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from scipy import stats  # imported where used: SciPy's import takes most of a second

        # CDF at 0, 1, ... until it is 1 in double precision, then +inf so every search
        # stops inside the table (a uniform is below 1).
        top = int(self.lam + 12.0 * np.sqrt(self.lam) + 30)
        cdf = np.append(stats.poisson.cdf(np.arange(top + 1), self.lam), np.inf)
        # A power of two, several per table entry, so most cells hold no CDF step.
        cells = max(MIN_CELLS, 1 << (4 * cdf.size).bit_length())
        # Cell i holds uniforms in [i / cells, (i + 1) / cells); the count of its lower
        # edge is a lower bound for all of them. Scaling by a power of two is exact.
        guide = np.searchsorted(cdf, np.arange(cells) / cells, side="right")
        object.__setattr__(self, "cdf", cdf)
        object.__setattr__(self, "guide", guide.astype(np.intp))
        object.__setattr__(self, "cells", cells)

    def __reduce__(self) -> tuple[type, tuple[float]]:
        # Plans cross processes once per chunk: send the rate, rebuild the tables there.
        return (PoissonCounts, (self.lam,))

    def __call__(self, u: np.ndarray) -> np.ndarray:
        k = self.guide[(u * self.cells).astype(np.intp)]
        # The few trials in a cell with a CDF step inside it search the table in full.
        behind = np.flatnonzero(u >= self.cdf[k])
        k[behind] = np.searchsorted(self.cdf, u[behind], side="right")
        return k
