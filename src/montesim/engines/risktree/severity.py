"""Severity families: the loss of one event, checked on input and sampled fast.

Each family is a pydantic model (the user's form, validated with messages naming the
field) that also draws ``n`` losses from a generator with NumPy's own samplers, and
gives its SciPy twin (``frozen()``) or its curve for previews.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from montesim.engines.risktree import metalog

# the 95th percentile of N(0, 1), scipy.special.ndtri(0.95) to the last bit: a 90 % interval
# is ±Z95 (a literal so that importing this module does not import SciPy)
Z95 = 1.6448536269514722
_TINY = 2.0**-53
MAX_EMPIRICAL_SAMPLES = 100_000


class _Family(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError  # abstract: every severity family below defines it

    def frozen(self) -> Any:
        """The same distribution as a frozen SciPy object (None where SciPy has none)."""
        return None

    def curve(self, points: int) -> dict[str, list[float]]:
        """x, pdf(x) and cdf(x) on a grid covering the body of the distribution."""
        dist = self.frozen()
        x = np.linspace(
            float(dist.ppf(0.0)) if np.isfinite(dist.ppf(0.0)) else 0.0,
            float(dist.ppf(0.995)),
            points,
        )
        x = np.maximum(x, 0.0)
        return _curve(x, dist.pdf(x), dist.cdf(x))

    def quantile(self, q: float) -> float:
        return float(self.frozen().ppf(q))


def _curve(x: np.ndarray, pdf: np.ndarray, cdf: np.ndarray) -> dict[str, list[float]]:
    return {"x": x.tolist(), "pdf": np.nan_to_num(pdf).tolist(), "cdf": cdf.tolist()}


def _positive(value: float, name: str) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be a positive loss (got {value})")


def _min_mode_max(lo: float, mode: float, hi: float) -> None:
    if lo < 0:
        raise ValueError(f"min must not be negative: losses are positive (got {lo})")
    if not lo < hi:
        raise ValueError(f"min must be below max (got min {lo}, max {hi})")
    if not lo <= mode <= hi:
        raise ValueError(f"mode must lie between min and max (got {mode})")


class Lognormal(_Family):
    """Lognormal from a 90 % interval: ``low`` and ``high`` are the 5th and 95th percentiles."""

    family: Literal["lognormal"] = "lognormal"
    low: float
    high: float

    @model_validator(mode="after")
    def _check(self) -> Lognormal:
        _positive(self.low, "low")
        _positive(self.high, "high")
        if not self.low < self.high:
            raise ValueError(f"low must be below high (got low {self.low}, high {self.high})")
        return self

    @property
    def mu(self) -> float:
        return (math.log(self.low) + math.log(self.high)) / 2.0

    @property
    def sigma(self) -> float:
        return (math.log(self.high) - math.log(self.low)) / (2.0 * Z95)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)

    def frozen(self) -> Any:
        from scipy import stats  # imported where used: SciPy's import is slow

        return stats.lognorm(s=self.sigma, scale=math.exp(self.mu))


class Pert(_Family):
    """PERT (min, mode, max): a beta with shape weight ``lamb`` (4 by default)."""

    family: Literal["pert"] = "pert"
    min: float
    mode: float
    max: float
    lamb: float = Field(4.0, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Pert:
        _min_mode_max(self.min, self.mode, self.max)
        return self

    @property
    def shapes(self) -> tuple[float, float]:
        span = self.max - self.min
        return (
            1.0 + self.lamb * (self.mode - self.min) / span,
            1.0 + self.lamb * (self.max - self.mode) / span,
        )

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        a, b = self.shapes
        return self.min + (self.max - self.min) * rng.beta(a, b, n)

    def frozen(self) -> Any:
        from scipy import stats  # imported where used: SciPy's import is slow

        a, b = self.shapes
        return stats.beta(a, b, loc=self.min, scale=self.max - self.min)


class Triangular(_Family):
    family: Literal["triangular"] = "triangular"
    min: float
    mode: float
    max: float

    @model_validator(mode="after")
    def _check(self) -> Triangular:
        _min_mode_max(self.min, self.mode, self.max)
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.min, self.mode, self.max, n)

    def frozen(self) -> Any:
        from scipy import stats  # imported where used: SciPy's import is slow

        span = self.max - self.min
        return stats.triang((self.mode - self.min) / span, loc=self.min, scale=span)


class Uniform(_Family):
    family: Literal["uniform"] = "uniform"
    min: float
    max: float

    @model_validator(mode="after")
    def _check(self) -> Uniform:
        _min_mode_max(self.min, self.min, self.max)
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.min, self.max, n)

    def frozen(self) -> Any:
        from scipy import stats  # imported where used: SciPy's import is slow

        return stats.uniform(loc=self.min, scale=self.max - self.min)


class Normal(_Family):
    """Normal with ``mean`` and ``sd``, truncated at 0 so no event has a negative loss."""

    family: Literal["normal"] = "normal"
    mean: float
    sd: float

    @model_validator(mode="after")
    def _check(self) -> Normal:
        _positive(self.mean, "mean")
        _positive(self.sd, "sd")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        from scipy import special  # imported where used: SciPy's import is slow

        # Inverse CDF of the truncated normal, written from the upper tail for accuracy.
        above = special.ndtr(self.mean / self.sd)  # P(X > 0) before truncation
        u = rng.random(n)
        return self.mean - self.sd * special.ndtri((1.0 - u) * above)

    def frozen(self) -> Any:
        from scipy import stats  # imported where used: SciPy's import is slow

        return stats.truncnorm(-self.mean / self.sd, np.inf, loc=self.mean, scale=self.sd)


class Metalog(_Family):
    """Metalog through ``quantiles`` (pairs ``[probability, loss]``), bounded below at
    ``lower`` (0 by default) and, when ``upper`` is given, above at it; ``terms`` below the
    number of pairs fits the least-squares metalog instead of the interpolating one."""

    family: Literal["metalog"] = "metalog"
    quantiles: list[tuple[float, float]] = Field(min_length=2, max_length=metalog.MAX_PAIRS)
    terms: int | None = Field(None, ge=2, le=metalog.MAX_TERMS)
    lower: float = Field(0.0, ge=0.0)
    upper: float | None = None
    _coef: np.ndarray = PrivateAttr()

    @model_validator(mode="after")
    def _fit(self) -> Metalog:
        ps = [p for p, _ in self.quantiles]
        xs = [x for _, x in self.quantiles]
        if any(not 0 < p < 1 for p in ps):
            raise ValueError("quantile probabilities must lie strictly between 0 and 1")
        if self.terms is None and len(ps) > metalog.MAX_TERMS:
            raise ValueError(
                f"{len(ps)} quantile pairs need terms (at most {metalog.MAX_TERMS}) for a "
                "least-squares fit"
            )
        if self.terms is not None and self.terms > len(ps):
            raise ValueError(f"terms ({self.terms}) must not exceed the {len(ps)} quantile pairs")
        if any(not x > self.lower for x in xs):
            raise ValueError(
                f"quantile losses must be above the metalog's lower bound {self.lower:g}"
            )
        if self.upper is not None and any(not x < self.upper for x in xs):
            raise ValueError(f"quantile losses must be below the upper bound {self.upper:g}")
        if any(b <= a for a, b in zip(ps, ps[1:], strict=False)) or any(
            b <= a for a, b in zip(xs, xs[1:], strict=False)
        ):
            raise ValueError("quantile pairs must increase in both probability and loss")
        try:
            self._coef = metalog.fit(self.quantiles, self.terms, self.lower, self.upper)
        except metalog.InfeasibleMetalog as exc:
            raise ValueError(f"infeasible metalog: {exc}") from None
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        y = np.clip(rng.random(n), _TINY, 1.0 - _TINY)
        return metalog.quantile(self._coef, y, self.lower, self.upper)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return metalog.cdf(self._coef, x, self.lower, self.upper)

    def quantile(self, q: float) -> float:
        return float(metalog.quantile(self._coef, np.array([q]), self.lower, self.upper)[0])

    def curve(self, points: int) -> dict[str, list[float]]:
        y = np.linspace(0.005, 0.995, points)
        x, pdf = metalog.density_at(self._coef, y, self.lower, self.upper)
        return _curve(x, pdf, y)


class Empirical(_Family):
    """Losses resampled with replacement from observed ``samples``."""

    family: Literal["empirical"] = "empirical"
    samples: list[float] = Field(min_length=1, max_length=MAX_EMPIRICAL_SAMPLES)
    _values: np.ndarray = PrivateAttr()

    @model_validator(mode="after")
    def _check(self) -> Empirical:
        values = np.sort(np.asarray(self.samples, dtype=np.float64))
        if not np.all(np.isfinite(values)) or values[0] < 0:
            raise ValueError("samples must be finite, non-negative losses")
        self._values = values
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._values[rng.integers(0, self._values.size, n)]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return np.searchsorted(self._values, x, side="right") / self._values.size

    def quantile(self, q: float) -> float:
        return float(np.quantile(self._values, q))

    def curve(self, points: int) -> dict[str, list[float]]:
        lo, hi = float(self._values[0]), float(self._values[-1])
        hi = hi if hi > lo else lo + 1.0
        x = np.linspace(lo, hi, points)
        density, edges = np.histogram(self._values, bins=points, range=(lo, hi), density=True)
        bins = np.minimum(np.searchsorted(edges, x, side="right") - 1, points - 1)
        return _curve(x, density[bins], self.cdf(x))


Severity = Annotated[
    Lognormal | Pert | Triangular | Uniform | Normal | Metalog | Empirical,
    Field(discriminator="family"),
]
FAMILIES = ("lognormal", "pert", "triangular", "uniform", "normal", "metalog", "empirical")
