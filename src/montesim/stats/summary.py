"""Summary statistics of simulated outputs, as JSON-able dicts.

Every number is a Python float or int, and anything undefined (the std of one value,
the skewness of constant data) is ``None``, never NaN, so results serialize as JSON.
Non-finite values are the caller's to exclude (and count as errors) before calling.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from montesim.stats.ranking import average_ranks

PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
MAX_BINS = 200
ECDF_POINTS = 101


def jsonable(value: float | np.floating | None) -> float | None:
    """A float, or None for None, NaN and infinities."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def bin_count(x: np.ndarray, *, scratch: bool = False, ordered: np.ndarray | None = None) -> int:
    """Freedman–Diaconis bins (Sturges when the IQR is 0), between 1 and MAX_BINS.

    ``scratch``: ``x`` may be reordered in place (its quantiles are found by partitioning).
    ``ordered``: ``x`` sorted, when the caller has it (its quantiles are then cheap).
    """
    n = len(x)
    if n < 2:
        return 1
    lo, hi = float(np.min(x)), float(np.max(x))
    if hi == lo:
        return 1
    if ordered is not None:
        q25, q75 = np.percentile(ordered, [25, 75])
    else:
        q25, q75 = np.percentile(x, [25, 75], overwrite_input=scratch)
    iqr = float(q75 - q25)
    if iqr > 0:
        bins = math.ceil((hi - lo) / (2.0 * iqr * n ** (-1.0 / 3.0)))
    else:
        bins = math.ceil(math.log2(n)) + 1
    return int(min(max(bins, 1), MAX_BINS))


def histogram(
    x: np.ndarray, *, scratch: bool = False, ordered: np.ndarray | None = None
) -> dict[str, list[Any]]:
    """Bin edges and counts (``len(edges) == len(counts) + 1``); empty lists for no data.

    ``ordered``: ``x`` sorted, when the caller has it: the same edges and counts as
    ``np.histogram`` (bins ``[e_i, e_i+1)``, the last one closed), found by bisection.
    """
    if len(x) == 0:
        return {"edges": [], "counts": []}
    bins = bin_count(x, scratch=scratch, ordered=ordered)
    if ordered is None:
        counts, edges = np.histogram(x, bins=bins)
    else:
        edges = np.histogram_bin_edges(x, bins=bins)
        cuts = np.searchsorted(ordered, edges, side="left")
        cuts[-1] = np.searchsorted(ordered, edges[-1], side="right")
        counts = np.diff(cuts)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def ecdf(
    x: np.ndarray, points: int = ECDF_POINTS, *, scratch: bool = False
) -> list[dict[str, float]]:
    """The empirical CDF at ``points`` evenly spaced probabilities: [{"x": quantile, "p": p}]."""
    if len(x) == 0:
        return []
    p = np.linspace(0.0, 1.0, points)
    q = np.quantile(x, p, overwrite_input=scratch)
    return [{"x": float(xi), "p": float(pi)} for xi, pi in zip(q, p, strict=True)]


# moments are summed over pieces of this many values: no full-length temporaries
MOMENT_PIECE = 1 << 18


def _std(x: np.ndarray, mean: float) -> float:
    """Sample standard deviation (ddof=1), as ``np.std`` but without a copy of ``x``.

    Up to MOMENT_PIECE values it is ``np.std(x, ddof=1)`` bit for bit; past that the
    pieces' sums are added in order (a rounding difference of the last bits at most).
    """
    ss = 0.0
    for start in range(0, len(x), MOMENT_PIECE):
        d = x[start : start + MOMENT_PIECE] - mean
        ss += float(np.sum(np.multiply(d, d, out=d)))
    return math.sqrt(ss / (len(x) - 1))


def _moments(x: np.ndarray, mean: float, std: float | None) -> tuple[float | None, float | None]:
    """Sample-adjusted skewness and excess kurtosis (as Excel's SKEW and KURT)."""
    n = len(x)
    if not std:  # constant data or fewer than two points: shape is undefined
        return None, None
    s2 = s3 = s4 = 0.0
    for start in range(0, n, MOMENT_PIECE):
        d = x[start : start + MOMENT_PIECE] - mean
        d2 = d * d
        s2 += float(np.sum(d2))
        s3 += float(np.sum(d2 * d))  # products: far cheaper than **
        s4 += float(np.sum(d2 * d2))
    m2, m3, m4 = s2 / n, s3 / n, s4 / n
    if m2 <= 0:
        return None, None
    skew = math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5 if n >= 3 else None
    kurt = None
    if n >= 4:
        kurt = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * m4 / (m2 * m2) - 3 * (n - 1))
    return jsonable(skew), jsonable(kurt)


def brief(x: np.ndarray, *, ordered: np.ndarray | None = None) -> dict[str, Any]:
    """n, mean, std, min, max and percentiles of the finite values ``x`` (see summarize).

    ``ordered``: ``x`` sorted, when the caller has it (percentiles then cost no partition).
    """
    if ordered is not None:
        return _brief(np.asarray(x, dtype=np.float64).ravel(), ordered=ordered)
    return _brief(np.array(x, dtype=np.float64).ravel(), scratch=True)


def _brief(
    x: np.ndarray, *, scratch: bool = False, ordered: np.ndarray | None = None
) -> dict[str, Any]:
    """The brief statistics; sums run first, in trial order, then quantiles may reorder x."""
    n = int(len(x))
    if n == 0:
        return {
            "n": 0,
            "mean": None,
            "std": None,
            "min": None,
            "max": None,
            "percentiles": {f"p{p}": None for p in PERCENTILES},
        }
    mean = float(np.mean(x))
    lo, hi = float(np.min(x)), float(np.max(x))
    std = _std(x, mean) if n >= 2 else None
    if std is not None and lo == hi:
        std = 0.0  # exactly constant: avoid a rounding residue like 1e-16
    if ordered is not None:
        pct = np.percentile(ordered, PERCENTILES)
    else:
        pct = np.percentile(x, PERCENTILES, overwrite_input=scratch)
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "min": lo,
        "max": hi,
        "percentiles": {f"p{p}": float(v) for p, v in zip(PERCENTILES, pct, strict=True)},
    }


def summarize(x: np.ndarray, *, overwrite: bool = False) -> dict[str, Any]:
    """Summary statistics of the finite values ``x``.

    ``overwrite``: ``x`` is the caller's scratch copy and may be reordered in place
    (quantiles partition it; saves a copy the size of ``x``).

    Keys: n, mean, std (sample, ddof=1), min, max, skewness, kurtosis (EXCESS kurtosis,
    0 for a normal; both sample-adjusted like Excel's SKEW/KURT), percentiles
    {"p1": ..., "p99": ...} (linear interpolation), ci95_mean [lo, hi] (Student t),
    histogram {"edges", "counts"} and ecdf [{"x", "p"}] (101 points).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    if not (overwrite and x.flags.writeable):
        x = x.copy()
    n = len(x)
    # the order-dependent sums (mean, std, moments) see x in trial order; the quantiles
    # after them partition x in place
    skew = kurt = None
    if n >= 2 and np.min(x) != np.max(x):  # constant data has no shape
        mean = float(np.mean(x))
        skew, kurt = _moments(x, mean, _std(x, mean))
    out = _brief(x, scratch=True)
    if n == 0:
        out.update(skewness=None, kurtosis=None, ci95_mean=None, histogram=histogram(x), ecdf=[])
        return out
    mean, std = out["mean"], out["std"]
    ci = None
    if std is not None:
        from scipy.special import stdtrit  # Student's t quantile, as scipy.stats.t.ppf

        half = float(stdtrit(n - 1, 0.975)) * std / math.sqrt(n)
        ci = [mean - half, mean + half]
    out.update(
        skewness=skew,
        kurtosis=kurt,
        ci95_mean=ci,
        histogram=histogram(x, scratch=True),
        ecdf=ecdf(x, scratch=True),
    )
    return out


def _pearson(rows: np.ndarray) -> list[list[float | None]]:
    """Pearson correlation between the rows of ``rows`` (k, n); None where a row is constant."""
    k = rows.shape[0]
    centered = rows - rows.mean(axis=1, keepdims=True)
    norms = np.sqrt(np.einsum("ij,ij->i", centered, centered))
    ok = norms > 0
    z = centered / np.where(ok, norms, 1.0)[:, None]
    r = np.clip(z @ z.T, -1.0, 1.0)
    matrix: list[list[float | None]] = [[None] * k for _ in range(k)]
    for i in range(k):
        for j in range(k):
            if ok[i] and ok[j]:
                matrix[i][j] = 1.0 if i == j else float(r[i, j])
    return matrix


def correlation_matrix(columns: dict[str, np.ndarray]) -> dict[str, Any]:
    """Pearson and Spearman correlations between named columns of equal length.

    Rows where any column is non-finite are left out. Entries involving a constant
    column are None. Returns {"names", "n", "pearson", "spearman"} (lists of lists).
    """
    names = list(columns)
    if not names:
        return {"names": [], "n": 0, "pearson": [], "spearman": []}
    data = np.vstack([np.asarray(columns[name], dtype=np.float64).ravel() for name in names])
    data = data[:, np.all(np.isfinite(data), axis=0)]  # one row per column name
    n = int(data.shape[1])
    if n < 2:
        empty = [[None] * len(names) for _ in names]
        return {"names": names, "n": n, "pearson": empty, "spearman": [r[:] for r in empty]}
    ranks = np.vstack([average_ranks(row)[0] for row in data])
    return {
        "names": names,
        "n": n,
        "pearson": _pearson(data),
        "spearman": _pearson(ranks),
    }
