"""Bounded metalogs fitted through quantile pairs (Keelin, 2016).

The metalog ``M(y)`` is fitted to ``z = ln(x − lower)`` (semi-bounded: a loss above
``lower``, unbounded above) or ``z = ln((x − lower) / (upper − x))`` (bounded on both
sides). With ``k`` pairs and ``k`` terms it interpolates them; with fewer terms it is
the least-squares fit (as register fits its expert leaves: ``min(k, 4)`` terms unless
told). The fit is feasible only when its quantile function increases on all of (0, 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAX_TERMS = 10
MAX_PAIRS = 100
# Where feasibility is checked: dense in the middle, reaching far into both tails.
_CHECK_Y = np.unique(
    np.concatenate([np.linspace(1e-4, 1 - 1e-4, 4001), np.geomspace(1e-12, 1e-4, 200)])
)
_CHECK_Y = np.unique(np.concatenate([_CHECK_Y, 1.0 - _CHECK_Y]))


class InfeasibleMetalog(ValueError):
    """The quantile pairs give a metalog whose quantile function is not increasing."""


def _basis(y: np.ndarray, terms: int) -> np.ndarray:
    """Metalog basis functions at probabilities ``y``: shape (len(y), terms)."""
    logit = np.log(y / (1.0 - y))
    c = y - 0.5
    cols = [np.ones_like(y), logit, c * logit, c]
    for j in range(5, terms + 1):
        power = (j - 1) // 2 if j % 2 else j // 2 - 1
        cols.append(c**power if j % 2 else c**power * logit)
    return np.stack(cols[:terms], axis=1)


def _basis_slope(y: np.ndarray, terms: int) -> np.ndarray:
    """d(basis)/dy at ``y``."""
    logit = np.log(y / (1.0 - y))
    dlogit = 1.0 / (y * (1.0 - y))
    c = y - 0.5
    cols = [np.zeros_like(y), dlogit, logit + c * dlogit, np.ones_like(y)]
    for j in range(5, terms + 1):
        if j % 2:
            power = (j - 1) // 2
            cols.append(power * c ** (power - 1))
        else:
            power = j // 2 - 1
            cols.append(power * c ** (power - 1) * logit + c**power * dlogit)
    return np.stack(cols[:terms], axis=1)


def transform(x: np.ndarray, lower: float, upper: float | None) -> np.ndarray:
    """The metalog's scale: ``ln(x − lower)``, or the logit of x within (lower, upper)."""
    x = np.asarray(x, dtype=np.float64)
    if upper is None:
        return np.log(x - lower)
    return np.log((x - lower) / (upper - x))


def untransform(z: np.ndarray, lower: float, upper: float | None) -> np.ndarray:
    """Loss from the metalog's scale (the inverse of :func:`transform`)."""
    if upper is None:
        return lower + np.exp(z)
    # (lower + upper·e^z) / (1 + e^z), written so a large z gives upper, not inf/inf
    return lower + (upper - lower) / (1.0 + np.exp(-z))


def fit(
    pairs: Sequence[tuple[float, float]],
    terms: int | None = None,
    lower: float = 0.0,
    upper: float | None = None,
) -> np.ndarray:
    """Coefficients of the metalog through ``pairs``; InfeasibleMetalog if it can't be."""
    p = np.array([a for a, _ in pairs], dtype=np.float64)
    z = transform(np.array([b for _, b in pairs], dtype=np.float64), lower, upper)
    terms = p.size if terms is None else terms
    try:
        if terms == p.size:
            coef = np.linalg.solve(_basis(p, terms), z)
        else:
            coef = np.linalg.lstsq(_basis(p, terms), z, rcond=None)[0]
    except np.linalg.LinAlgError:
        raise InfeasibleMetalog("the quantile pairs do not determine a metalog") from None
    if not np.all(np.isfinite(coef)) or np.any(_basis_slope(_CHECK_Y, terms) @ coef <= 0):
        raise InfeasibleMetalog(
            "no valid metalog passes through these quantile pairs (its quantile function "
            "would decrease somewhere); spread the values out or use fewer pairs"
        )
    return coef


def quantile(
    coef: np.ndarray, y: np.ndarray, lower: float = 0.0, upper: float | None = None
) -> np.ndarray:
    """Loss at probability ``y`` (0 < y < 1)."""
    return untransform(_basis(np.asarray(y, dtype=np.float64), coef.size) @ coef, lower, upper)


def density_at(
    coef: np.ndarray, y: np.ndarray, lower: float = 0.0, upper: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(x, pdf(x)) at probabilities ``y``: f(x) = (dz/dx) / M'(y) for z = M(y)."""
    y = np.asarray(y, dtype=np.float64)
    x = quantile(coef, y, lower, upper)
    dz_dx = 1.0 / (x - lower) if upper is None else (upper - lower) / ((x - lower) * (upper - x))
    return x, dz_dx / (_basis_slope(y, coef.size) @ coef)


def cdf(
    coef: np.ndarray, x: np.ndarray, lower: float = 0.0, upper: float | None = None
) -> np.ndarray:
    """P(X ≤ x) by inverting the (increasing) quantile function on a fine grid."""
    y = _CHECK_Y
    q = quantile(coef, y, lower, upper)
    return np.interp(np.asarray(x, dtype=np.float64), q, y, left=0.0, right=1.0)
