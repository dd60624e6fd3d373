"""The distribution families: their parameters, checks, and the objects that compute them.

Each family turns checked parameters into a *backend*: an object with a vectorized
``ppf`` and ``cdf``, ``cdf_below(x) = P(X < x)`` (differs from ``cdf`` for discrete
families, needed for truncation) and ``mean_between(lo, hi)``. SciPy's frozen
distributions do the work wherever SciPy has the family; they are built on first use, so
a run whose families all have a closed-form inverse CDF (normal, lognormal, uniform,
triangular, PERT and beta, exponential) never imports ``scipy.stats`` (most of a second).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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

    ``ScipyBackend("norm", 10, 2)`` stands for ``scipy.stats.norm(10, 2)``. ``direct``,
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
        from scipy import stats  # imported where used: SciPy's import is slow

        name, args, kwds = self._spec
        return getattr(stats, name)(*args, **kwds)

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


def _require(ok: bool, param: str, message: str) -> None:
    if not ok:
        raise ParamError(param, message)


def _nonneg(value: float, param: str) -> None:
    _require(value >= 0, param, f"{param} must be >= 0 (got {value:g})")


def _positive(value: float, param: str) -> None:
    _require(value > 0, param, f"{param} must be > 0 (got {value:g})")


def _ordered(lo: float, hi: float, lo_name: str, hi_name: str) -> None:
    _require(lo <= hi, lo_name, f"{lo_name} ({lo:g}) must be <= {hi_name} ({hi:g})")


def _integer(value: float, param: str) -> int:
    _require(float(value).is_integer(), param, f"{param} must be a whole number (got {value:g})")
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


def _closed(
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


# ---- builders -------------------------------------------------------------------------


def _normal(mean: float, sd: float) -> Backend:
    _nonneg(sd, "sd")
    return PointBackend(mean) if sd == 0 else _closed("norm", norm_ppf, (), mean, sd, 0.0)


def _lognorm(mean: float, sd: float) -> Backend:
    # @RISK's RiskLognorm takes the mean and sd of the lognormal itself
    _positive(mean, "mean")
    _nonneg(sd, "sd")
    if sd == 0:
        return PointBackend(mean)
    sigma2 = math.log1p((sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    s = math.sqrt(sigma2)
    return _closed("lognorm", lognorm_ppf, (s,), 0, math.exp(mu), np.sqrt(np.exp(s * s)))


def _lognorm2(mu: float, sigma: float) -> Backend:
    _nonneg(sigma, "sigma")
    if sigma == 0:
        return PointBackend(math.exp(mu))
    return _closed(
        "lognorm", lognorm_ppf, (sigma,), 0, math.exp(mu), np.sqrt(np.exp(sigma * sigma))
    )


def _uniform(lo: float, hi: float) -> Backend:
    _ordered(lo, hi, "min", "max")
    return PointBackend(lo) if lo == hi else _closed("uniform", uniform_ppf, (), lo, hi - lo, 0.5)


def _check_three_point(lo: float, mode: float, hi: float) -> None:
    _ordered(lo, mode, "min", "mode")
    _ordered(mode, hi, "mode", "max")


def _triang(lo: float, mode: float, hi: float) -> Backend:
    _check_three_point(lo, mode, hi)
    if lo == hi:
        return PointBackend(lo)
    c = (mode - lo) / (hi - lo)
    return _closed("triang", triang_ppf, (c,), lo, hi - lo, (c + 1.0) / 3.0)


def _pert(lo: float, mode: float, hi: float) -> Backend:
    _check_three_point(lo, mode, hi)
    if lo == hi:
        return PointBackend(lo)
    width = hi - lo
    a = 1 + 4 * (mode - lo) / width
    b = 1 + 4 * (hi - mode) / width
    return _closed("beta", beta_ppf, (a, b), lo, width, a / (a + b))


def _beta(alpha: float, beta: float) -> Backend:
    _positive(alpha, "alpha")
    _positive(beta, "beta")
    return _closed("beta", beta_ppf, (alpha, beta), 0, 1, alpha / (alpha + beta))


def _gamma(alpha: float, beta: float) -> Backend:
    _positive(alpha, "alpha")
    _positive(beta, "beta")
    return ScipyBackend("gamma", alpha, scale=beta)


def _expon(beta: float) -> Backend:
    _positive(beta, "beta")
    return _closed("expon", expon_ppf, (), 0, beta, 1.0)


def _weibull(alpha: float, beta: float) -> Backend:
    _positive(alpha, "alpha")
    _positive(beta, "beta")
    return ScipyBackend("weibull_min", alpha, scale=beta)


def _poisson(lam: float) -> Backend:
    _nonneg(lam, "lambda")
    return PointBackend(0.0) if lam == 0 else ScipyBackend("poisson", lam, discrete=True)


def _binomial(n: float, p: float) -> Backend:
    trials = _integer(n, "n")
    _nonneg(trials, "n")
    _require(0 <= p <= 1, "p", f"p must be between 0 and 1 (got {p:g})")
    if trials == 0 or p in (0.0, 1.0):
        return PointBackend(trials * p)
    return ScipyBackend("binom", trials, p, discrete=True)


def _intuniform(lo: float, hi: float) -> Backend:
    a, b = _integer(lo, "min"), _integer(hi, "max")
    _ordered(a, b, "min", "max")
    return PointBackend(a) if a == b else ScipyBackend("randint", a, b + 1, discrete=True)


def _discrete(values: np.ndarray, probs: np.ndarray) -> Backend:
    _require(len(values) > 0, "values", "values must not be empty")
    _require(
        len(values) == len(probs),
        "probs",
        f"values and probs must have the same length ({len(values)} vs {len(probs)})",
    )
    _require(bool(np.all(probs >= 0)), "probs", "probs must all be >= 0")
    _require(probs.sum() > 0, "probs", "probs must sum to more than 0")
    return TableBackend(values, probs)


def _cumul(lo: float, hi: float, xs: np.ndarray, ps: np.ndarray) -> Backend:
    # @RISK RiskCumul: a piecewise-linear CDF through (min,0), (xs,ps), (max,1)
    _require(lo < hi, "min", f"min ({lo:g}) must be < max ({hi:g})")
    _require(
        len(xs) == len(ps), "ps", f"xs and ps must have the same length ({len(xs)} vs {len(ps)})"
    )
    edges = np.concatenate(([lo], xs, [hi]))
    cum = np.concatenate(([0.0], ps, [1.0]))
    _require(
        bool(np.all(np.diff(edges) > 0)), "xs", "xs must be strictly increasing within (min, max)"
    )
    _require(bool(np.all((ps >= 0) & (ps <= 1))), "ps", "ps must be between 0 and 1")
    _require(bool(np.all(np.diff(cum) >= 0)), "ps", "ps must be non-decreasing")
    return ScipyBackend("rv_histogram", (np.diff(cum), edges), density=False)


def trigen_bounds(
    bottom: float, mode: float, top: float, p_bottom: float, p_top: float
) -> tuple[float, float]:
    """The (min, max) of the triangle with this mode whose CDF is p_bottom at bottom, p_top at top."""
    m, n = mode - bottom, top - mode

    def legs(width: float) -> tuple[float, float]:
        # (bottom - a)^2 = p_bottom * width * (mode - a), solved for d = mode - a >= m; same on the right
        def leg(gap: float, p: float) -> float:
            s = 2 * gap + p * width
            return (s + math.sqrt(max(s * s - 4 * gap * gap, 0.0))) / 2

        return leg(m, p_bottom), leg(n, 1 - p_top)

    def excess(width: float) -> float:
        d, e = legs(width)
        return d + e - width

    lo_w = m + n
    hi_w = lo_w
    while excess(hi_w) > 0:  # d + e grows slower than the width since p_bottom < p_top
        hi_w *= 2
    from scipy import optimize  # imported where used: SciPy's import is slow

    width = optimize.brentq(excess, lo_w, hi_w, xtol=1e-14 * hi_w, rtol=4 * np.finfo(float).eps)
    d, e = legs(width)
    return mode - d, mode + e


def _trigen(bottom: float, mode: float, top: float, p_bottom: float, p_top: float) -> Backend:
    _ordered(bottom, mode, "bottom", "mode")
    _ordered(mode, top, "mode", "top")
    # @RISK documents percentages 0..100; fractions 0..1 are accepted when both are <= 1
    scale = 1.0 if max(p_bottom, p_top) <= 1 else 100.0
    pb, pt = p_bottom / scale, p_top / scale
    _require(0 <= pb < 1, "bottom_pct", f"bottom_pct must be in [0, 100) (got {p_bottom:g})")
    _require(0 < pt <= 1, "top_pct", f"top_pct must be in (0, 100] (got {p_top:g})")
    _require(pb < pt, "bottom_pct", "bottom_pct must be < top_pct")
    _require(bottom < top, "top", f"bottom ({bottom:g}) must be < top ({top:g})")
    lo, hi = trigen_bounds(bottom, mode, top, pb, pt)
    return _triang(lo, min(max(mode, lo), hi), hi)


@dataclass(frozen=True)
class Family:
    name: str
    params: tuple[str, ...]
    build: Callable[..., Backend]
    vectors: frozenset[str] = frozenset()  # parameters that are lists of numbers


_FAMILIES: tuple[Family, ...] = (
    Family("normal", ("mean", "sd"), _normal),
    Family("lognorm", ("mean", "sd"), _lognorm),
    Family("lognorm2", ("mu", "sigma"), _lognorm2),
    Family("uniform", ("min", "max"), _uniform),
    Family("triang", ("min", "mode", "max"), _triang),
    Family("pert", ("min", "mode", "max"), _pert),
    Family("beta", ("alpha", "beta"), _beta),
    Family("gamma", ("alpha", "beta"), _gamma),
    Family("expon", ("beta",), _expon),
    Family("weibull", ("alpha", "beta"), _weibull),
    Family("poisson", ("lambda",), _poisson),
    Family("binomial", ("n", "p"), _binomial),
    Family("discrete", ("values", "probs"), _discrete, frozenset({"values", "probs"})),
    Family("intuniform", ("min", "max"), _intuniform),
    Family("cumul", ("min", "max", "xs", "ps"), _cumul, frozenset({"xs", "ps"})),
    Family("trigen", ("bottom", "mode", "top", "bottom_pct", "top_pct"), _trigen),
)

FAMILY_TABLE: dict[str, Family] = {f.name: f for f in _FAMILIES}

# other spellings users write (after lower-casing and dropping a "Risk" prefix)
ALIASES: dict[str, str] = {
    "norm": "normal",
    "lognormal": "lognorm",
    "lognormal2": "lognorm2",
    "triangular": "triang",
    "exponential": "expon",
    "exp": "expon",
    "binom": "binomial",
    "duniform": "intuniform",
}


def canonical_family(name: str) -> str | None:
    """The canonical family for a name such as ``"RiskNormal"`` or ``"triangular"``, else None."""
    key = name.strip().lower()
    if key.startswith("risk") and key not in FAMILY_TABLE:
        key = key[4:]
    key = ALIASES.get(key, key)
    return key if key in FAMILY_TABLE else None


def as_vector(value: float | Sequence[float] | np.ndarray) -> np.ndarray:
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
