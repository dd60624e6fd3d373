"""Builders of the discrete families beyond the first sixteen, in @RISK's parameters."""

from __future__ import annotations

import numpy as np

from montesim.sampling.backends import (
    Backend,
    PointBackend,
    ScipyBackend,
    TableBackend,
    integer,
    nonneg,
    require,
)


def _probability(p: float, name: str = "p", *, zero: bool = True) -> None:
    """p in [0, 1], or in (0, 1] when ``zero`` is False."""
    inside = (p >= 0 if zero else p > 0) and p <= 1
    low = "0 <=" if zero else "0 <"
    require(inside, name, f"{name} must be {low} {name} <= 1 (got {p:g})")


def bernoulli(p: float) -> Backend:
    """1 with probability p, else 0."""
    _probability(p)
    return PointBackend(p) if p in (0.0, 1.0) else ScipyBackend("bernoulli", p, discrete=True)


def duniform(values: np.ndarray) -> Backend:
    """Each of the listed values equally likely."""
    require(len(values) > 0, "values", "values must not be empty")
    return TableBackend(values, np.ones(len(values)))


def geomet(p: float) -> Backend:
    """Failures before the first success, each trial a success with probability p:
    P(X = k) = p (1 - p)^k for k = 0, 1, ..."""
    _probability(p, zero=False)
    return PointBackend(0.0) if p == 1 else ScipyBackend("geom", p, loc=-1, discrete=True)


def negbin(s: float, p: float) -> Backend:
    """Failures before the s-th success: P(X = k) = C(k + s - 1, k) p^s (1 - p)^k."""
    successes = integer(s, "s")
    require(successes >= 1, "s", f"s must be >= 1 (got {s:g})")
    _probability(p, zero=False)
    return PointBackend(0.0) if p == 1 else ScipyBackend("nbinom", successes, p, discrete=True)


def hypergeo(n: float, d: float, m: float) -> Backend:
    """Successes in a sample of n drawn without replacement from a population of M that
    holds D successes."""
    sample, found, population = integer(n, "n"), integer(d, "D"), integer(m, "M")
    nonneg(population, "M")
    require(0 <= sample <= population, "n", f"n must be between 0 and M ({m:g}) (got {n:g})")
    require(0 <= found <= population, "D", f"D must be between 0 and M ({m:g}) (got {d:g})")
    if sample == 0 or found == 0:
        return PointBackend(0.0)
    if found == population:
        return PointBackend(float(sample))
    if sample == population:
        return PointBackend(float(found))
    return ScipyBackend("hypergeom", population, found, sample, discrete=True)
