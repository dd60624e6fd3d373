"""Loss distributions from many trials: a mergeable histogram sketch and the LEC maths.

A node's trial losses are summarised by a :class:`LossHistogram`: exact counts, sums and
the maximum plus a log-linear histogram whose buckets come straight from the float's bits
(exponent and the top ``MANTISSA_BITS`` mantissa bits), so a bucket is at most
``2**-MANTISSA_BITS`` (0.78 %) wide relative to its value. Chunks of a job each build
one and :meth:`LossHistogram.merge` adds them, so partials stay small whatever the
number of trials. Quantiles, TVaR and exceedance probabilities are read from it with
linear interpolation inside a bucket; the mean, P(no loss) and the variance are exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

MANTISSA_BITS = 7
_SHIFT = 52 - MANTISSA_BITS

QUANTILE_LEVELS: tuple[tuple[str, float], ...] = (
    ("p50", 0.50),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p99.5", 0.995),
)
TVAR_LEVELS: tuple[tuple[str, float], ...] = (("95", 0.95), ("99", 0.99))
RETURN_PERIODS: tuple[float, ...] = (2, 5, 10, 20, 50, 100, 200, 250, 500, 1000)


def bucket_keys(x: np.ndarray) -> np.ndarray:
    """Bucket key of each positive float64: its sign-less bits shifted to the bucket width."""
    return (np.ascontiguousarray(x, dtype=np.float64).view(np.int64) >> _SHIFT).astype(np.int32)


def bucket_edges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper value edges of buckets ``keys``."""
    k = keys.astype(np.int64)
    lo = (k << _SHIFT).view(np.float64)
    hi = ((k + 1) << _SHIFT).view(np.float64)
    return lo, hi


@dataclass
class LossHistogram:
    """Sufficient statistics of one node's trial losses (all values ≥ 0).

    Everything merges exactly, whatever the order: counts are integers, and sums are
    kept per block of trials and added with ``math.fsum`` (exactly rounded), so the
    figures do not depend on how the trials were cut into chunks.
    """

    n: int
    zeros: int
    max: float
    at_max: int  # trials whose loss equals ``max`` exactly (a cap is a point mass)
    keys: np.ndarray  # int32, sorted, unique: buckets holding positive losses
    counts: np.ndarray  # int64 per bucket
    block_sums: np.ndarray  # float64: the sum of losses of each block of trials
    block_sq: np.ndarray  # float64: the sum of squared losses of each block

    @classmethod
    def empty(cls, n: int = 0) -> LossHistogram:
        none = np.empty(0, np.float64)
        return cls(n, n, 0.0, 0, np.empty(0, np.int32), np.empty(0, np.int64), none, none)

    @classmethod
    def from_values(
        cls,
        values: np.ndarray,
        n: int | None = None,
        block_sums: np.ndarray | None = None,
        block_sq: np.ndarray | None = None,
    ) -> LossHistogram:
        """Summarise ``values``.

        With ``n`` given, ``values`` are just the positive losses among ``n`` trials.
        ``block_sums``/``block_sq`` are the sums of losses and of their squares per block
        of trials (blocks with no trials may be left out); by default all trials are one block.
        """
        values = np.asarray(values, dtype=np.float64)
        if n is None:
            n = int(values.size)
            values = values[values > 0]
        if values.size == 0:
            return cls.empty(int(n))
        if block_sums is None or block_sq is None:
            block_sums = np.array([values.sum()])
            block_sq = np.array([np.square(values).sum()])
        top = float(values.max())
        keys = bucket_keys(values)
        base = int(keys.min())
        counts = np.bincount(keys - base)
        used = np.flatnonzero(counts)
        return cls(
            n=int(n),
            zeros=int(n - values.size),
            max=top,
            at_max=int(np.count_nonzero(values == top)),
            keys=(used + base).astype(np.int32),
            counts=counts[used].astype(np.int64),
            block_sums=np.asarray(block_sums, dtype=np.float64),
            block_sq=np.asarray(block_sq, dtype=np.float64),
        )

    @classmethod
    def merge(cls, parts: Iterable[LossHistogram]) -> LossHistogram:
        parts = [p for p in parts if p.n > 0]
        if not parts:
            return cls.empty()
        top = float(max(p.max for p in parts))
        keys = np.concatenate([p.keys for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        order = np.argsort(keys, kind="stable")
        keys, counts = keys[order], counts[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if keys.size else keys
        return cls(
            n=sum(p.n for p in parts),
            zeros=sum(p.zeros for p in parts),
            max=top,
            at_max=sum(p.at_max for p in parts if p.max == top),
            keys=keys[starts].astype(np.int32),
            counts=np.add.reduceat(counts, starts) if keys.size else counts,
            block_sums=np.concatenate([p.block_sums for p in parts]),
            block_sq=np.concatenate([p.block_sq for p in parts]),
        )

    @property
    def total(self) -> float:
        return math.fsum(self.block_sums)

    @property
    def total_sq(self) -> float:
        return math.fsum(self.block_sq)

    # -- exact moments ---------------------------------------------------------------

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """Sample variance (n − 1 denominator)."""
        if self.n < 2:
            return 0.0
        return max(0.0, (self.total_sq - self.total * self.mean) / (self.n - 1))

    @property
    def p_zero(self) -> float:
        return self.zeros / self.n if self.n else 1.0

    # -- read from the buckets -------------------------------------------------------

    def _buckets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lo, hi, count) per bucket, the trials at the maximum as a point bucket.

        Losses spread evenly across a bucket, except that the top bucket ends at the
        largest loss and trials exactly at it (a cap, say) are a point mass there.
        """
        lo, hi = bucket_edges(self.keys)
        counts = self.counts.astype(np.float64)
        if self.keys.size:
            hi[-1] = self.max
            lo[-1] = min(lo[-1], self.max)
            if self.at_max:
                counts[-1] -= self.at_max
                lo = np.append(lo, self.max)
                hi = np.append(hi, self.max)
                counts = np.append(counts, float(self.at_max))
                if counts[-2] <= 0:
                    lo, hi, counts = np.delete(lo, -2), np.delete(hi, -2), np.delete(counts, -2)
        return lo, hi, counts

    def quantiles(self, qs: Sequence[float]) -> np.ndarray:
        """Loss quantiles at levels ``qs`` (NumPy's 'linear' definition, rank q·(n−1))."""
        q = np.asarray(qs, dtype=np.float64)
        if self.n == 0:
            return np.zeros_like(q)
        return self._value_at_rank(q * (self.n - 1) + 0.5)

    def _value_at_rank(self, rank: np.ndarray) -> np.ndarray:
        """Value at fractional ``rank``: the i-th smallest trial (from 0) sits at i + 0.5."""
        out = np.zeros_like(rank, dtype=np.float64)
        pos = rank > self.zeros
        if not pos.any() or self.keys.size == 0:
            return out
        lo, hi, counts = self._buckets()
        cum = self.zeros + np.cumsum(counts)
        r = rank[pos]
        idx = np.minimum(np.searchsorted(cum, r, side="left"), cum.size - 1)
        before = cum[idx] - counts[idx]
        frac = np.clip((r - before) / counts[idx], 0.0, 1.0)
        out[pos] = lo[idx] + frac * (hi[idx] - lo[idx])
        return out

    def exceedance(self, x: Sequence[float] | np.ndarray) -> np.ndarray:
        """P(L ≥ x) for each ``x`` (x ≤ 0 gives 1)."""
        x = np.asarray(x, dtype=np.float64)
        if self.n == 0:
            return np.zeros_like(x)
        lo, hi, counts = self._buckets()
        # Share of each bucket at or above each x: matrix (len(x), buckets), both small.
        width = hi - lo
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(
                width > 0,
                np.clip((hi - x[:, None]) / np.where(width > 0, width, 1.0), 0.0, 1.0),
                (lo >= x[:, None]).astype(np.float64),
            )
        out = share @ counts / self.n
        out[x <= 0] = 1.0
        return out

    def tvar(self, q: float) -> float:
        """Tail value at risk: the mean of the worst (1 − q) share of trials."""
        if self.n == 0:
            return 0.0
        k = (1.0 - q) * self.n  # how many trials (fractional) are in the tail
        if k <= 0:
            return self.max
        lo, hi, counts = self._buckets()
        above = np.cumsum(counts[::-1])[::-1] - counts  # trials in higher buckets
        take = np.clip(k - above, 0.0, counts)
        # The top `take` of a bucket's `c` evenly spread trials average hi − (take/c)·width/2.
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_top = hi - np.where(counts > 0, take / counts, 0.0) * (hi - lo) / 2.0
        take_sum = float(np.sum(take * mean_top))
        return float(take_sum / k)  # any remaining need is zeros


def tick_grid(x_max: float, *, count: int, scale: str, x_min: float | None = None) -> np.ndarray:
    """Shared x ticks: ``count`` points up to ``x_max``, linear from 0 or log from ``x_min``."""
    if x_max <= 0:
        return np.zeros(1)
    if scale == "log":
        lo = x_min if x_min and 0 < x_min < x_max else x_max / 1e3
        return np.geomspace(lo, x_max, count)
    return np.linspace(0.0, x_max, count + 1)[1:]


def lec_points(hist: LossHistogram, ticks: np.ndarray, tail_trim: float) -> dict[str, list[float]]:
    """The node's LEC: (0, P(L > 0)) then P(L ≥ x) on ``ticks`` while it is ≥ ``tail_trim``."""
    p = hist.exceedance(ticks)
    keep = p >= tail_trim
    stop = int(np.argmin(keep)) if not keep.all() else keep.size
    losses = [0.0, *ticks[:stop].tolist()]
    probs = [1.0 - hist.p_zero, *p[:stop].tolist()]
    return {"loss": losses, "exceedance": probs}


def return_periods(
    hist: LossHistogram, periods: Sequence[float] = RETURN_PERIODS
) -> list[dict[str, float]]:
    """Loss exceeded on average once every T periods, for T the trials can resolve."""
    usable = [t for t in periods if t > 1 and hist.n >= t]
    if not usable:
        return []
    values = hist.quantiles([1.0 - 1.0 / t for t in usable])
    return [
        {"period": float(t), "probability": 1.0 / t, "loss": float(v)}
        for t, v in zip(usable, values, strict=True)
    ]


def summarize(hist: LossHistogram) -> dict[str, object]:
    """The per-node figures: AAL, spread, P(no loss), quantiles, TVaR, return periods."""
    qs = hist.quantiles([q for _, q in QUANTILE_LEVELS])
    return {
        "trials": hist.n,
        "aal": hist.mean,
        "std": float(np.sqrt(hist.variance)),
        "p_no_loss": hist.p_zero,
        "max": hist.max,
        "quantiles": {name: float(v) for (name, _), v in zip(QUANTILE_LEVELS, qs, strict=True)},
        "tvar": {name: hist.tvar(q) for name, q in TVAR_LEVELS},
        "return_periods": return_periods(hist),
    }
