"""The objects that compute a distribution (backends), and the checks of parameters.

Each family (``sampling.families``) turns checked parameters into a *backend*: an object with a vectorized
``ppf`` and ``cdf``, ``cdf_below(x) = P(X < x)`` (differs from ``cdf`` for discrete
families, needed for truncation) and ``mean_between(lo, hi)``. SciPy's frozen
distributions do the work wherever SciPy has the family; they are built on first use, so
a run whose families all have a closed-form inverse CDF (normal, lognormal, uniform,
triangular, PERT and beta, exponential) never imports ``scipy.stats`` (most of a second).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property
from typing import Any, Protocol

import numpy as np

# widest integer support tabulated for fast discrete inverse CDFs
TABLE_LIMIT = 1_000_000


class ParamError(ValueError):
    """A bad parameter; ``make_distribution`` turns it into an InputError with a location."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class Backend(Protocol):
    discrete: bool

    def ppf(self, u: np.ndarray) -> np.ndarray: ...

    def cdf(self, x: np.ndarray) -> np.ndarray: ...

    def cdf_below(self, x: float) -> float: ...

    def mean_between(self, lo: float, hi: float) -> float: ...


# A continuous family's inverse CDF inside (0, 1) as (standard ppf, shapes, loc, scale):
# ppf(u) = standard(u, *shapes) * scale + loc, element-wise in u and the shapes
Direct = tuple[Callable[..., np.ndarray], tuple[np.ndarray, ...], Any, Any]


class ScipyBackend:
    """A SciPy distribution (continuous, or discrete on the integers), frozen on first use.

    ``ScipyBackend("norm", 10, 2)`` stands for ``scipy.stats.norm(10, 2)`` (or for one
    of the few families SciPy lacks, in ``sampling.scipy_extra``). ``direct``,
    where given, is the family's inverse CDF with a standard ppf written with
    ``scipy.special`` (below), so that sampling needs no ``scipy.stats``; it equals
    SciPy's ``ppf`` bit for bit inside (0, 1) (tests/sampling/test_direct_ppf.py).
    """

    def __init__(
        self,
        name: str,
        *args: Any,
        discrete: bool = False,
        direct: Direct | None = None,
        mean: float | None = None,
        **kwds: Any,
    ) -> None:
        self._spec = (name, args, kwds)
        self.discrete = discrete
        self._mean = mean
        if direct is not None:
            self._direct = direct

    @cached_property
    def frozen(self) -> Any:
        from montesim.sampling.scipy_extra import scipy_family  # SciPy's import is slow

        name, args, kwds = self._spec
        return scipy_family(name)(*args, **kwds)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        if self.discrete and self._table is not None:
            return self._table_ppf(u)
        direct = self._direct
        if direct is not None and u.ndim == 1 and u.size and u.min() > 0.0 and u.max() < 1.0:
            ppf, shapes, loc, scale = direct
            return ppf(u, *(np.broadcast_to(a, u.shape) for a in shapes)) * scale + loc
        return np.asarray(self.frozen.ppf(u), dtype=np.float64)

    @cached_property
    def _direct(self) -> Direct | None:
        """SciPy's own (``_ppf``, shapes, loc, scale) of a frozen continuous distribution.

        For probabilities strictly inside (0, 1) SciPy's ``ppf`` computes exactly
        ``_ppf(u, *shapes) * scale + loc``; calling that directly skips its per-call
        argument checks (most of the time of a 4,096-trial block), same numbers bit for bit.
        """
        from scipy import stats  # imported where used: SciPy's import is slow

        dist = getattr(self.frozen, "dist", None)
        if self.discrete or not isinstance(dist, stats.rv_continuous):
            return None
        shapes, loc, scale = dist._parse_args(*self.frozen.args, **self.frozen.kwds)
        return dist._ppf, tuple(np.asarray(a) for a in shapes), loc, scale

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.frozen.cdf(x), dtype=np.float64)

    @cached_property
    def _table(self) -> tuple[float, np.ndarray] | None:
        """(first value, CDF at each integer) over the support that matters.

        SciPy's discrete ppf inverts special functions value by value, about 20x slower
        than a binary search in the CDF; the search returns the same smallest k with
        CDF(k) >= u. None when the support is too wide to tabulate.
        """
        lo, hi = self.frozen.ppf([2.0**-54, 1.0 - 2.0**-53])
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo > TABLE_LIMIT:
            return None
        return float(lo), np.asarray(self.frozen.cdf(np.arange(lo, hi + 1)), dtype=np.float64)

    def _table_ppf(self, u: np.ndarray) -> np.ndarray:
        first, cum = self._table  # type: ignore[misc]
        out = first + np.searchsorted(cum, u, side="left").astype(np.float64)
        outside = (u <= cum[0]) | (u > cum[-1])
        if np.any(outside):  # far tails (or truncation windows) beyond the table
            out[outside] = self.frozen.ppf(u[outside])
        return out

    def cdf_below(self, x: float) -> float:
        if self.discrete:
            return float(self.frozen.cdf(math.ceil(x) - 1)) if math.isfinite(x) else float(x > 0)
        return float(self.frozen.cdf(x))

    def mean_between(self, lo: float, hi: float) -> float:
        if lo == -math.inf and hi == math.inf:
            return self._mean if self._mean is not None else float(self.frozen.mean())
        if (
            self.discrete
        ):  # integer support: make the bounds integers so expect() sums the right points
            lo = math.ceil(lo) if math.isfinite(lo) else lo
            hi = math.floor(hi) if math.isfinite(hi) else hi
        return float(self.frozen.expect(lb=lo, ub=hi, conditional=True))


class PointBackend:
    """All mass at one value (a degenerate distribution such as uniform(3, 3))."""

    discrete = True

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) >= self.value).astype(np.float64)

    def cdf_below(self, x: float) -> float:
        return float(x > self.value)

    def mean_between(self, lo: float, hi: float) -> float:
        return self.value


class TableBackend:
    """A finite discrete distribution on arbitrary values (RiskDiscrete)."""

    discrete = True

    def __init__(self, values: np.ndarray, probs: np.ndarray) -> None:
        order = np.argsort(values, kind="stable")
        values, probs = values[order], probs[order]
        # merge repeated values so the CDF is a proper step function
        self.values, inverse = np.unique(values, return_inverse=True)
        self.probs = np.bincount(inverse, weights=probs) / probs.sum()
        self.cum = np.cumsum(self.probs)
        self.cum[-1] = 1.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.cum, np.asarray(u, dtype=np.float64), side="left")
        return self.values[np.minimum(idx, len(self.values) - 1)]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.values, np.asarray(x, dtype=np.float64), side="right")
        return np.concatenate(([0.0], self.cum))[idx]

    def cdf_below(self, x: float) -> float:
        return float(self.probs[self.values < x].sum())

    def mean_between(self, lo: float, hi: float) -> float:
        inside = (self.values >= lo) & (self.values <= hi)
        return float(np.dot(self.values[inside], self.probs[inside]) / self.probs[inside].sum())


# ---- parameter checks ---------------------------------------------------------------


def require(ok: bool, param: str, message: str) -> None:
    if not ok:
        raise ParamError(param, message)


def nonneg(value: float, param: str) -> None:
    require(value >= 0, param, f"{param} must be >= 0 (got {value:g})")


def positive(value: float, param: str) -> None:
    require(value > 0, param, f"{param} must be > 0 (got {value:g})")


def ordered(lo: float, hi: float, lo_name: str, hi_name: str) -> None:
    require(lo <= hi, lo_name, f"{lo_name} ({lo:g}) must be <= {hi_name} ({hi:g})")


def integer(value: float, param: str) -> int:
    require(float(value).is_integer(), param, f"{param} must be a whole number (got {value:g})")
    return int(value)


# ---- standard inverse CDFs with scipy.special only (SciPy's _ppf of each family) ----
# scipy.special imports in a third of a second, scipy.stats in most of a second.


def norm_ppf(u: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return ndtri(u)


def lognorm_ppf(u: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.exp(s * norm_ppf(u))


def uniform_ppf(u: np.ndarray) -> np.ndarray:
    return u


def triang_ppf(u: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.where(u < c, np.sqrt(c * u), 1 - np.sqrt((1 - c) * (1 - u)))


def beta_ppf(u: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from montesim.sampling.betainv import beta_ppf as tabulated  # SciPy's, 10x faster

    return tabulated(u, a, b)


def expon_ppf(u: np.ndarray) -> np.ndarray:
    from scipy.special import log1p

    return -log1p(-u)


def closed(
    name: str,
    ppf: Callable[..., np.ndarray],
    shapes: tuple[float, ...],
    loc: float,
    scale: float,
    mean: float,
) -> Backend:
    """scipy.stats.<name>(*shapes, loc=loc, scale=scale), sampled through ``ppf``.

    ``mean`` is the standard distribution's mean, scaled here as SciPy scales it.
    """
    direct = (ppf, tuple(np.asarray(a) for a in shapes), loc, scale)
    return ScipyBackend(
        name, *shapes, loc=loc, scale=scale, direct=direct, mean=float(mean * scale + loc)
    )
