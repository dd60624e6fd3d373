"""Families SciPy lacks, written as SciPy distributions so that they get its machinery
(``sf``, ``isf``, ``expect``) like every other family.

Imported only where a distribution is first computed: it imports ``scipy.stats``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats


class kumaraswamy_gen(stats.rv_continuous):  # noqa: N801 - SciPy's naming of generators
    """Kumaraswamy on [0, 1]: ``F(x) = 1 - (1 - x**a)**b``."""

    def _pdf(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b * x ** (a - 1) * (1 - x**a) ** (b - 1)

    def _cdf(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return -np.expm1(b * np.log1p(-(x**a)))

    def _sf(self, x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.exp(b * np.log1p(-(x**a)))

    def _ppf(self, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (-np.expm1(np.log1p(-q) / b)) ** (1 / a)

    def _isf(self, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (-np.expm1(np.log(q) / b)) ** (1 / a)

    def _munp(self, n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return b * special.beta(1 + n / a, b)


class general_gen(stats.rv_continuous):  # noqa: N801
    """A density that is linear between the points ``(xs[i], heights[i])`` and 0 outside
    (@RISK's RiskGeneral); one instance per distribution, as ``scipy.stats.rv_histogram``.

    ``heights`` are relative: they are scaled so that the area is 1.
    """

    def __init__(self, xs: np.ndarray, heights: np.ndarray, *args: Any, **kwargs: Any) -> None:
        self._points = (np.asarray(xs, dtype=np.float64), np.asarray(heights, dtype=np.float64))
        x, h = self._points
        width = np.diff(x)
        mass = (h[:-1] + h[1:]) / 2 * width
        total = mass.sum()
        self._x = x
        self._h = h / total
        self._slope = np.diff(self._h) / width
        self._cum = np.concatenate(([0.0], np.cumsum(mass / total)))
        self._cum[-1] = 1.0
        kwargs["a"], kwargs["b"] = float(x[0]), float(x[-1])
        super().__init__(*args, **kwargs)

    def _updated_ctor_param(self) -> dict[str, Any]:
        # SciPy rebuilds a distribution from these when it freezes or copies it
        params = super()._updated_ctor_param()
        params["xs"], params["heights"] = self._points
        return params

    def _segment(self, x: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self._x, x, side="right") - 1, 0, len(self._x) - 2)

    def _pdf(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self._x, self._h)

    def _cdf(self, x: np.ndarray) -> np.ndarray:
        i = self._segment(x)
        d = np.clip(x - self._x[i], 0.0, self._x[i + 1] - self._x[i])
        return np.minimum(self._cum[i] + d * (self._h[i] + self._slope[i] * d / 2), 1.0)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # within a segment the CDF is cum + h*d + slope*d^2/2: solve for d in the form
        # that stays exact when the slope is 0 and loses nothing when h is 0
        i = np.clip(np.searchsorted(self._cum, q, side="right") - 1, 0, len(self._x) - 2)
        r = np.maximum(q - self._cum[i], 0.0)
        h = self._h[i]
        root = np.sqrt(np.maximum(h * h + 2 * self._slope[i] * r, 0.0))
        denom = h + root
        safe = np.where(denom > 0, denom, 1.0)
        d = np.where(denom > 0, 2 * r / safe, 0.0)
        return np.minimum(self._x[i] + d, self._x[i + 1])

    def _munp(self, n: int) -> Any:
        if n != 1:
            return super()._munp(n)
        # the integral of x * (h + slope * (x - a)) over each segment [a, a + d]
        a, d = self._x[:-1], np.diff(self._x)
        h, s = self._h[:-1], self._slope
        return float(np.sum(a * h * d + (a * s + h) * d**2 / 2 + s * d**3 / 3))


kumaraswamy = kumaraswamy_gen(a=0.0, b=1.0, name="kumaraswamy")

_EXTRA: dict[str, Any] = {"kumaraswamy": kumaraswamy, "general": general_gen}


def scipy_family(name: str) -> Any:
    """The SciPy distribution (or generator class) called ``name``, ours included."""
    extra = _EXTRA.get(name)
    return extra if extra is not None else getattr(stats, name)
