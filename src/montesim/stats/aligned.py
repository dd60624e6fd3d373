"""Inputs and an output aligned by iteration, checked once for every analysis of them.

The analyses (``stats.tornado``, ``stats.regression``, ``stats.scenario``,
``stats.stress``) take ``inputs`` as ``{name: values by iteration}`` and ``output`` as
the output's values by iteration. Their options are checked here, with an InputError
naming the option, so that wherever they are wired a bad request is a clear 4xx.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from montesim.errors import InputError

TOP = 10  # how many inputs an analysis shows by default, largest effect first


def check_top(top: int, field: str = "top") -> int:
    if isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1:
        raise InputError(f"{field} must be a whole number >= 1 (got {top!r})", location=field)
    return int(top)


def check_percentile(value: float, field: str) -> float:
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not 0 <= float(value) <= 100:
        raise InputError(
            f"{field} must be a percentile from 0 to 100 (got {value!r})", location=field
        )
    return float(value)


def as_arrays(
    inputs: Mapping[str, np.ndarray], output: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Float vectors of one length; a ValueError (a caller's bug) when they differ."""
    y = np.asarray(output, dtype=np.float64).ravel()
    xs = {}
    for name, values in inputs.items():
        x = np.asarray(values, dtype=np.float64).ravel()
        if len(x) != len(y):
            raise ValueError(f"input {name!r} has {len(x)} values, the output has {len(y)}")
        xs[name] = x
    return xs, y


def finite_pair(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The iterations where both are finite (all of them, without copying, usually)."""
    ok = np.isfinite(x) & np.isfinite(y)
    return (x, y) if ok.all() else (x[ok], y[ok])
