"""Rank correlation between inputs: checking the matrix, and Iman–Conover reordering.

Iman–Conover (1982) induces a target *rank* (Spearman) correlation by reordering each
column of a sample, so every marginal, and the Latin hypercube strata, stay exactly as
drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

from montesim.errors import InputError

PSD_TOLERANCE = 1e-9


def _corr_error(message: str, location: str | None, detail: object = None) -> InputError:
    where = f"{location}: " if location else ""
    return InputError(where + message, code="invalid_correlation", location=location, detail=detail)


def _as_float_matrix(corr: object, k: int, names: list[str], location: str | None) -> np.ndarray:
    """A (k, k) object array of floats and Nones; InputError for anything else."""
    rows = list(corr) if isinstance(corr, Sequence | np.ndarray) else None
    if (
        rows is None
        or len(rows) != k
        or any(
            isinstance(r, str) or not isinstance(r, Sequence | np.ndarray) or len(r) != k
            for r in rows
        )
    ):
        raise _corr_error(
            f"the correlation matrix must be {k}x{k} (one row and column per input: "
            f"{', '.join(names)})",
            location,
        )
    out = np.empty((k, k), dtype=object)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is None:
                out[i, j] = None
            elif isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise _corr_error(
                    f"the correlation between {names[i]!r} and {names[j]!r} must be a number "
                    f"(got {value!r})",
                    location,
                )
            else:
                out[i, j] = float(value)
    return out


def validate_corr(
    corr: Sequence[Sequence[float]] | np.ndarray,
    names: list[str],
    *,
    location: str | None = None,
    repair: bool = False,
) -> np.ndarray:
    """The correlation matrix as a float array, or InputError naming what is wrong.

    Checks shape, finiteness, symmetry, unit diagonal, entries in [-1, 1] and positive
    semidefiniteness. Blank (None) entries are filled from the mirror entry, so a matrix
    may give only one triangle as @RISK matrices in workbooks often do; a blank diagonal
    is 1. With ``repair=True`` a matrix that is only not PSD is replaced by the nearest
    correlation matrix (Higham 2002) instead of being rejected.
    """
    k = len(names)
    c = _as_float_matrix(corr, k, names, location)
    for i in range(k):
        for j in range(i + 1, k):
            if c[i, j] is None and c[j, i] is None:
                raise _corr_error(
                    f"the correlation between {names[i]!r} and {names[j]!r} is missing", location
                )
            if c[i, j] is None:
                c[i, j] = c[j, i]
            elif c[j, i] is None:
                c[j, i] = c[i, j]
        if c[i, i] is None:
            c[i, i] = 1.0
    c = c.astype(np.float64)
    for i in range(k):
        for j in range(i, k):
            a, b = c[i, j], c[j, i]
            pair = f"{names[i]!r} and {names[j]!r}"
            if not (math.isfinite(a) and math.isfinite(b)):
                raise _corr_error(f"the correlation between {pair} is not a number", location)
            if i == j and a != 1.0:
                raise _corr_error(
                    f"the diagonal entry for {names[i]!r} must be 1 (got {a:g})", location
                )
            if abs(a - b) > 1e-12:
                raise _corr_error(
                    f"the matrix must be symmetric: {names[i]!r},{names[j]!r} is {a:g} "
                    f"but {names[j]!r},{names[i]!r} is {b:g}",
                    location,
                )
            if not -1.0 <= a <= 1.0:
                raise _corr_error(
                    f"the correlation between {pair} is {a:g}, outside [-1, 1]", location
                )
    c = (c + c.T) / 2
    if k == 0:
        return c
    smallest = float(np.linalg.eigvalsh(c)[0])
    if smallest < -PSD_TOLERANCE:
        if repair:
            return nearest_correlation(c)
        raise _corr_error(
            "the correlation matrix is not consistent (not positive semidefinite: smallest "
            f"eigenvalue {smallest:.4g}); some pairs contradict each other, for example "
            "A~B and B~C strongly positive but A~C strongly negative",
            location,
            detail={"smallest_eigenvalue": smallest},
        )
    return c


def _psd_part(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.maximum(w, 0.0)) @ v.T


def nearest_correlation(a: np.ndarray, *, tol: float = 1e-10, max_iter: int = 1000) -> np.ndarray:
    """The nearest correlation matrix in Frobenius norm (Higham's alternating projections)."""
    y = np.array(a, dtype=np.float64)
    correction = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - correction
        x = _psd_part(r)
        correction = x - r
        y_next = x.copy()
        np.fill_diagonal(y_next, 1.0)
        done = np.linalg.norm(y_next - y) <= tol * max(1.0, np.linalg.norm(y))
        y = y_next
        if done:
            break
    # make the result exactly symmetric with a unit diagonal and no negative eigenvalues
    y = _psd_part((y + y.T) / 2)
    d = np.sqrt(np.diag(y))
    y = y / np.outer(d, d)
    np.fill_diagonal(y, 1.0)
    return np.clip(y, -1.0, 1.0)


def _square_root(c: np.ndarray) -> np.ndarray:
    """A matrix ``P`` with ``P @ P.T == c`` (Cholesky, or eigenvalues for singular ``c``)."""
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(c)
        return v * np.sqrt(np.maximum(w, 0.0))


def iman_conover(u: np.ndarray, corr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Reorder each column of ``u`` (n, k) so its Spearman correlation approximates ``corr``.

    Normal scores are given Pearson correlation ``2 sin(pi/6 * corr)``, the value whose
    Spearman correlation for normal data is ``corr``; the scores' own sample correlation
    is divided out first so the reordering hits the target closely even for small n.
    """
    u = np.asarray(u, dtype=np.float64)
    n, k = u.shape
    if k < 2 or n < 2:
        return u.copy()
    scores = special.ndtri(np.arange(1, n + 1) / (n + 1))
    s = rng.permuted(np.repeat(scores[None, :], k, axis=0), axis=1)  # (k, n): rows are inputs
    try:
        q = np.linalg.cholesky(np.corrcoef(s))
        white = np.linalg.inv(q) @ s
    except np.linalg.LinAlgError:  # fewer rows than inputs: skip the exact whitening
        white = s
    target = 2.0 * np.sin(np.pi / 6.0 * np.asarray(corr, dtype=np.float64))
    np.fill_diagonal(target, 1.0)
    t = _square_root(target) @ white
    sorted_u = np.sort(u.T, axis=1)
    out = np.empty_like(sorted_u)
    for j in range(k):
        # the r-th smallest score's trial gets the r-th smallest uniform
        out[j, np.argsort(t[j], kind="stable")] = sorted_u[j]
    return out.T  # (n, k), each input's trials contiguous
