"""Probability distributions as @RISK users write them, sampled by inverse CDF.

``make_distribution("RiskPert", [1, 2, 5], location="Sheet1!B2")`` checks the
parameters (raising an InputError that names the cell and the parameter) and returns a
small picklable :class:`Distribution`. Samples come from ``ppf`` applied to uniforms, so
Latin hypercube stratification and rank correlation work for every family alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from montesim.errors import InputError
from montesim.sampling.families import (
    FAMILY_TABLE,
    Backend,
    Direct,
    ParamError,
    ScipyBackend,
    as_vector,
    canonical_family,
)
from montesim.sampling.parse import parse_call

__all__ = [
    "FAMILIES",
    "Distribution",
    "canonical_family",
    "make_distribution",
    "parse_distribution",
]

FAMILIES: tuple[str, ...] = tuple(FAMILY_TABLE)

Param = float | tuple[float, ...]


def _error(message: str, location: str | None, param: str | None = None) -> InputError:
    where = f"{location}: " if location else ""
    return InputError(
        where + message,
        code="invalid_distribution",
        location=location,
        detail={"parameter": param} if param else None,
    )


class Distribution:
    """A distribution family with checked parameters and an optional truncation.

    Pickles as its family, parameters and bounds only; the SciPy object behind it is
    rebuilt on first use in the receiving process.
    """

    def __init__(
        self,
        family: str,
        params: tuple[Param, ...],
        truncate: tuple[float | None, float | None] | None = None,
    ) -> None:
        self.family = family
        self.params = params
        self.truncate = truncate

    def __reduce__(self) -> tuple[Any, ...]:
        return (Distribution, (self.family, self.params, self.truncate))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Distribution) and (
            (self.family, self.params, self.truncate)
            == (other.family, other.params, other.truncate)
        )

    def __hash__(self) -> int:
        return hash((self.family, self.params, self.truncate))

    def __repr__(self) -> str:
        args = ", ".join(
            "{" + ",".join(f"{v:g}" for v in p) + "}" if isinstance(p, tuple) else f"{p:g}"
            for p in self.params
        )
        text = f"{self.family}({args})"
        if self.truncate is not None:
            lo, hi = self.truncate
            text += f" truncated to [{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
        return f"<Distribution {text}>"

    # ---- the machinery, built lazily so pickles stay small --------------------------

    @cached_property
    def _backend(self) -> Backend:
        spec = FAMILY_TABLE[self.family]
        args = [as_vector(p) if isinstance(p, tuple) else p for p in self.params]
        return spec.build(*args)

    @cached_property
    def _bounds(self) -> tuple[float, float, float, float]:
        """(lo, hi, P(X < lo), P(X <= hi)) of the truncation window."""
        lo, hi = self.truncate or (None, None)
        lo = -math.inf if lo is None else float(lo)
        hi = math.inf if hi is None else float(hi)
        backend = self._backend
        f_lo = 0.0 if lo == -math.inf else backend.cdf_below(lo)
        f_hi = 1.0 if hi == math.inf else float(backend.cdf(np.array([hi]))[0])
        return lo, hi, f_lo, f_hi

    @cached_property
    def _upper(self) -> tuple[float, float] | None:
        """(P(X > lo), P(X > hi)) when a continuous window lies in the upper tail.

        There the CDF is 1 - tiny and loses the tiny part; survival probabilities keep it.
        """
        backend = self._backend
        lo, hi, f_lo, _ = self._bounds
        if f_lo <= 0.5 or not isinstance(backend, ScipyBackend) or backend.discrete:
            return None
        s_hi = 0.0 if hi == math.inf else float(backend.frozen.sf(hi))
        return float(backend.frozen.sf(lo)), s_hi

    def _mass(self) -> float:
        """The probability of the truncation window under the untruncated distribution."""
        if self._upper is not None:
            return self._upper[0] - self._upper[1]
        return self._bounds[3] - self._bounds[2]

    @property
    def discrete(self) -> bool:
        return self._backend.discrete

    def direct_ppf(self) -> Direct | None:
        """(standard ppf, shapes, loc, scale) when ``ppf(u)`` is exactly
        ``standard(u, *shapes) * scale + loc`` for ``u`` inside (0, 1); else None."""
        backend = self._backend
        if self.truncate is not None or not isinstance(backend, ScipyBackend):
            return None
        return backend._direct

    # ---- public ------------------------------------------------------------------------

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF (of the truncated distribution when truncated), elementwise."""
        u = np.asarray(u, dtype=np.float64)
        if self.truncate is None:
            return self._backend.ppf(u)
        lo, hi, f_lo, f_hi = self._bounds
        if self._upper is not None:
            s_lo, s_hi = self._upper
            x = self._backend.frozen.isf(s_lo - u * (s_lo - s_hi))  # type: ignore[attr-defined]
            return np.clip(np.asarray(x, dtype=np.float64), lo, hi)
        q = f_lo + u * (f_hi - f_lo)
        if self._backend.discrete:
            # stay strictly above P(X < lo) so rounding never returns a value below lo
            q = np.clip(q, np.nextafter(f_lo, 1.0), f_hi)
            return self._backend.ppf(q)
        return np.clip(self._backend.ppf(q), lo, hi)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(X <= x), elementwise (of the truncated distribution when truncated)."""
        x = np.asarray(x, dtype=np.float64)
        if self.truncate is None:
            return self._backend.cdf(x)
        if self._upper is not None:
            s_lo, s_hi = self._upper
            sf = self._backend.frozen.sf(x)  # type: ignore[attr-defined]
            return np.clip((s_lo - sf) / (s_lo - s_hi), 0.0, 1.0)
        _, _, f_lo, f_hi = self._bounds
        return np.clip((self._backend.cdf(x) - f_lo) / (f_hi - f_lo), 0.0, 1.0)

    def mean(self) -> float:
        """The expected value (of the truncated distribution when truncated)."""
        lo, hi, _, _ = self._bounds
        if self._upper is not None:
            # far-tail windows: SciPy's expect() divides by a CDF difference that rounds
            # to 0, so integrate the (survival-based) inverse CDF over (0, 1) instead
            from scipy import integrate  # imported where used: SciPy's import is slow

            value, _ = integrate.quad(
                lambda v: float(self.ppf(np.array([v]))[0]), 0.0, 1.0, limit=200
            )
            return float(value)
        return self._backend.mean_between(lo, hi)


def _check_number(value: Any, name: str, location: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _error(f"parameter {name} must be a number (got {value!r})", location, name)
    out = float(value)
    if not math.isfinite(out):
        raise _error(f"parameter {name} must be finite (got {out})", location, name)
    return out


def _check_vector(value: Any, name: str, location: str | None) -> tuple[float, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise _error(f"parameter {name} must be a list of numbers (got {value!r})", location, name)
    return tuple(_check_number(v, f"{name}[{i}]", location) for i, v in enumerate(value))


def make_distribution(
    family: str,
    args: Sequence[float | Sequence[float]],
    *,
    truncate: tuple[float | None, float | None] | None = None,
    location: str | None = None,
) -> Distribution:
    """A checked distribution; InputError(code="invalid_distribution") naming location and parameter."""
    canon = canonical_family(family) if isinstance(family, str) else None
    if canon is None:
        raise _error(
            f"unknown distribution {family!r}; known: {', '.join(FAMILIES)}", location, "family"
        )
    spec = FAMILY_TABLE[canon]
    signature = f"{canon}({', '.join(spec.params)})"
    if len(args) != len(spec.params):
        raise _error(
            f"{signature} takes {len(spec.params)} arguments, got {len(args)}", location, "args"
        )
    params: list[Param] = []
    for name, value in zip(spec.params, args, strict=True):
        if name in spec.vectors:
            params.append(_check_vector(value, name, location))
        else:
            params.append(_check_number(value, name, location))

    bounds = None
    if truncate is not None:
        lo, hi = truncate
        lo = None if lo is None else _check_number(lo, "truncate.min", location)
        hi = None if hi is None else _check_number(hi, "truncate.max", location)
        if lo is not None and hi is not None and lo > hi:
            raise _error(f"truncation min ({lo:g}) must be <= max ({hi:g})", location, "truncate")
        bounds = None if lo is None and hi is None else (lo, hi)

    dist = Distribution(canon, tuple(params), bounds)
    try:
        dist._backend  # noqa: B018 - builds and checks the parameters now, not at sampling time
    except ParamError as exc:
        raise _error(f"{signature}: {exc.message}", location, exc.param) from None
    if bounds is not None and not dist._mass() > 0:
        raise _error(
            f"{signature}: truncation range {list(bounds)} has zero probability",
            location,
            "truncate",
        )
    return dist


def parse_distribution(text: str, *, location: str | None = None) -> Distribution:
    """A distribution from text such as ``"RiskPert(1,2,5)"`` or ``"discrete({1,2},{0.3,0.7})"``.

    A truncation may be given @RISK-style as a last argument ``RiskTruncate(lo, hi)``
    (either bound may be empty). Numbers only: nothing in the text is ever evaluated.
    """
    call = parse_call(text, location=location)
    return make_distribution(call.name, call.args, truncate=call.truncate, location=location)
