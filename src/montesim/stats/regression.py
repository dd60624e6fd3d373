"""A linear regression of the output on every input: standardised coefficients (the
regression tornado) and each input's contribution to the output's variance.

The regression uses the iterations where the output and every input are finite, on
standardised values (mean 0, standard deviation 1), so a coefficient says by how many of
its standard deviations the output moves when the input moves by one of its own, the
others held. Inputs join one at a time, the one that raises R² most first (forward
stepwise): an input's *contribution to variance* is the rise in R² when it joined, the
share of the output's variance it explains beyond the inputs before it. The final
coefficients do not depend on that order.

An input that is constant, or a linear combination of inputs already in (so that its
coefficient could not be told apart), gets no coefficient: it is listed under
``dropped`` with the reason. R² is ``None`` when the output is constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from montesim.stats.aligned import TOP, as_arrays, check_top

# an input whose variance left unexplained by the inputs already in is below this (as a
# fraction of its own) is a linear combination of them
COLLINEAR = 1e-10
CHUNK = 8192  # iterations standardised at a time: (CHUNK x inputs) doubles of scratch


@dataclass(frozen=True)
class Coefficient:
    input: str
    standardized: float  # output standard deviations per input standard deviation
    per_unit: float  # output units per input unit


@dataclass(frozen=True)
class Contribution:
    input: str
    r_squared_gain: float  # the rise in R² when the input joined the regression
    share: float  # r_squared_gain / R² of all inputs: the shares of all inputs sum to 1
    step: int  # when it joined (1 = first)


@dataclass(frozen=True)
class Dropped:
    input: str
    reason: str  # "constant" or "collinear"


@dataclass(frozen=True)
class Regression:
    r_squared: float | None
    iterations: int  # the iterations used: output and every input finite
    coefficients: tuple[Coefficient, ...]  # the ``top`` largest |standardized|, largest first
    contributions: tuple[Contribution, ...]  # the ``top`` largest gains, largest first
    omitted: int  # inputs with a coefficient beyond ``top``
    dropped: tuple[Dropped, ...]


def _sweep(a: np.ndarray, k: int) -> None:
    """Sweep the symmetric matrix ``a`` on pivot ``k`` in place (Goodnight's operator):
    once swept on a set S of rows, ``a[S, y]`` holds the regression coefficients of ``y``
    on S and the unswept block the covariances left unexplained by S."""
    d = a[k, k]
    row = a[k, :] / d
    col = a[:, k].copy()
    a -= np.outer(col, row)
    a[k, :] = row
    a[:, k] = -col / d
    a[k, k] = 1.0 / d


def _correlations(
    columns: list[np.ndarray], y: np.ndarray, keep: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """The inputs' correlation matrix, their correlations with ``y``, their standard
    deviations and y's, and the number of iterations, over the iterations ``keep``."""
    if keep is not None:
        columns = [c[keep] for c in columns]
        y = y[keep]
    n, k = len(y), len(columns)
    means = np.array([c.mean() for c in columns])
    sds = np.array([c.std(ddof=1) for c in columns])
    y_mean, y_sd = float(y.mean()), float(y.std(ddof=1))
    gram, cross = np.zeros((k, k)), np.zeros(k)
    z = np.empty((min(CHUNK, n), k))
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        block = z[: stop - start]
        for j, c in enumerate(columns):
            np.subtract(c[start:stop], means[j], out=block[:, j])
            block[:, j] /= sds[j]
        # einsum, not a BLAS matmul: its sums run in one order whatever the thread count
        # or CPU, so the coefficients are the same everywhere (and as fast at this size)
        gram += np.einsum("ij,ik->jk", block, block)
        cross += np.einsum("ij,i->j", block, (y[start:stop] - y_mean) / y_sd)
    return gram / (n - 1), cross / (n - 1), sds, y_sd, n


def regression(
    inputs: Mapping[str, np.ndarray], output: np.ndarray, *, top: int = TOP
) -> Regression:
    """Standardised regression coefficients and contributions to variance of the output."""
    top = check_top(top)
    xs, y = as_arrays(inputs, output)
    ok = np.isfinite(y)
    for x in xs.values():
        ok &= np.isfinite(x)
    n = int(ok.sum())
    if n < 3:  # a regression needs more iterations than the one coefficient and the mean
        return Regression(None, n, (), (), 0, tuple(Dropped(m, "too few iterations") for m in xs))
    keep = None if n == len(y) else ok
    dropped: list[Dropped] = []
    names, columns = [], []
    for name, x in xs.items():
        used = x if keep is None else x[keep]
        if used.min() == used.max():
            dropped.append(Dropped(name, "constant"))
        else:
            names.append(name)
            columns.append(x)
    y_used = y if keep is None else y[keep]
    if y_used.min() == y_used.max():  # nothing to explain: R² is undefined
        dropped += [Dropped(m, "constant output") for m in names]
        return Regression(None, n, (), (), 0, tuple(dropped))
    if not names:
        return Regression(0.0, n, (), (), 0, tuple(dropped))
    corr, with_y, sds, y_sd, n = _correlations(columns, y, keep)
    k = len(names)
    a = np.empty((k + 1, k + 1))
    a[:k, :k], a[:k, k], a[k, :k], a[k, k] = corr, with_y, with_y, 1.0

    steps: list[tuple[int, float]] = []
    left = list(range(k))
    while left:
        # the rise in R² if input j joined now: its partial correlation with y, squared
        usable = [j for j in left if a[j, j] > COLLINEAR]
        if not usable:
            break
        gains = [a[j, k] ** 2 / a[j, j] for j in usable]
        best = usable[int(np.argmax(gains))]
        steps.append((best, float(max(gains))))
        _sweep(a, best)
        left.remove(best)
    dropped += [Dropped(names[j], "collinear") for j in left]

    r_squared = float(min(max(1.0 - a[k, k], 0.0), 1.0))
    coefficients = sorted(
        (Coefficient(names[j], float(a[j, k]), float(a[j, k] * y_sd / sds[j])) for j, _ in steps),
        key=lambda c: (-abs(c.standardized), c.input),
    )
    contributions = sorted(
        (
            Contribution(names[j], gain, gain / r_squared if r_squared > 0 else 0.0, step + 1)
            for step, (j, gain) in enumerate(steps)
        ),
        key=lambda c: (-c.r_squared_gain, c.step),
    )
    return Regression(
        r_squared=r_squared,
        iterations=n,
        coefficients=tuple(coefficients[:top]),
        contributions=tuple(contributions[:top]),
        omitted=max(len(steps) - top, 0),
        dropped=tuple(dropped),
    )
