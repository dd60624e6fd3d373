"""Which inputs drive an output: tornado (rank correlation), variance shares, spider.

All results are JSON-able; an input or output that is constant has no rank correlation
(``None``) rather than a NaN and a warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from montesim.stats.ranking import average_ranks, rank_bins, ranks_within


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``np.dot`` of two vectors without BLAS: a threaded BLAS ``ddot`` is up to a
    hundred times slower on a busy machine (its threads wait for cores), and its sum's
    order depends on the thread count. Centred ranks are multiples of 1/2, so up to a
    few 100,000 trials every order gives the same, exact, sum."""
    return float(np.einsum("i,i->", a, b))


class _Centered:
    """A rank vector minus its mean, and its squared norm: the output's is shared by inputs."""

    def __init__(self, ranks: np.ndarray) -> None:
        self.d = ranks - ranks.mean() if len(ranks) else ranks  # none: no NumPy warning
        self.ss = _dot(self.d, self.d)


def _spearman(x: _Centered, y: _Centered) -> float | None:
    """Pearson correlation of two centred rank vectors; None if either is constant."""
    denom = float(np.sqrt(x.ss * y.ss))
    if denom <= 0:
        return None
    return float(np.clip(_dot(x.d, y.d) / denom, -1.0, 1.0))


class _Bins:
    """An input's quantile bins by rank (``order`` is the stable sort order of ``x``; tied
    values are split between bins by trial order, so bins stay equal in size), its mean in
    each: the same for every output that keeps all trials."""

    def __init__(self, x: np.ndarray, order: np.ndarray, deciles: int) -> None:
        self.of = rank_bins(order, deciles)
        self.counts = np.bincount(self.of, minlength=deciles)
        self.x_means = np.bincount(self.of, weights=x, minlength=deciles) / self.counts


def _spider(y: np.ndarray, bins: _Bins, deciles: int) -> list[dict[str, float]]:
    """Output mean minus overall mean within each quantile bin of the input."""
    y_means = np.bincount(bins.of, weights=y, minlength=deciles) / bins.counts
    overall = float(y.mean())
    return [
        {
            "percentile": 100.0 * (i + 0.5) / deciles,
            "input_mean": float(bins.x_means[i]),
            "delta_mean": float(y_means[i] - overall),
        }
        for i in range(deciles)
    ]


Row = tuple[str, float | None, list[dict[str, float]]]
THREADED_MIN = 10_000  # trials from which inputs are ranked on several threads


class _Output:
    """An output's values by trial, which are finite, and (once asked) the centred ranks
    of the finite ones: shared by every input that leaves out no other trial."""

    def __init__(self, output: np.ndarray) -> None:
        self.y = np.asarray(output, dtype=np.float64).ravel()
        self.ok = np.isfinite(self.y)
        self._ranks: _Centered | None = None

    def ranks_ok(self) -> _Centered:
        if self._ranks is None:
            y = self.y if self.ok.all() else self.y[self.ok]
            self._ranks = _Centered(average_ranks(y)[0])
        return self._ranks


def _row(
    name: str,
    values: np.ndarray,
    out: _Output,
    ranked: tuple[np.ndarray, np.ndarray] | None,
    deciles: int,
    shared: dict[str, Any],
) -> Row:
    """One input's rank correlation with the output and its spider points. ``shared``
    keeps what the next output can reuse: whether the input is finite, its centred ranks
    and its bins (for outputs that keep every trial)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if len(x) != len(out.y):
        raise ValueError(f"input {name!r} has {len(x)} values, output has {len(out.y)}")
    finite = shared.get("finite")
    if finite is None:
        finite = shared["finite"] = bool(np.isfinite(x).all())
    every = finite and bool(out.ok.all())
    y = out.y
    if every:  # every trial: the input's ranks, centred once for all such outputs
        x_centred = shared.get("centred")
        if x_centred is None:
            x_ranks, order = ranked if ranked is not None else average_ranks(x)
            x_centred = shared["centred"] = _Centered(x_ranks)
        else:
            order = ranked[1] if ranked is not None else average_ranks(x)[1]
        y_ranks = out.ranks_ok()
    else:  # the input ranked within the trials kept, from its sort order over all
        keep = out.ok if finite else np.isfinite(x) & out.ok
        if ranked is not None:
            x_ranks, order = ranks_within(x, ranked[1], keep)
        else:
            x_ranks, order = average_ranks(x[keep])
        x, y = x[keep], y[keep]
        x_centred = _Centered(x_ranks)
        y_ranks = out.ranks_ok() if finite else _Centered(average_ranks(y)[0])
    rho = _spearman(x_centred, y_ranks) if len(x) >= 2 else None
    spider: list[dict[str, float]] = []
    if rho is not None and len(x) >= deciles:
        bins = shared.get("bins") if every else None
        if bins is None:
            bins = _Bins(x, order, deciles)
            if every:
                shared["bins"] = bins
        spider = _spider(y, bins, deciles)
    return name, rho, spider


def _report(rows: list[Row]) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: -1.0 if r[1] is None else abs(r[1]), reverse=True)
    total = sum(r[1] ** 2 for r in rows if r[1] is not None)
    return {
        "tornado": [{"input": name, "rho": rho} for name, rho, _ in rows],
        "contribution_to_variance": [
            {"input": name, "share": (rho**2 / total) if rho is not None and total > 0 else None}
            for name, rho, _ in rows
        ],
        "spider": [{"input": name, "points": points} for name, _, points in rows],
    }


def sensitivity(
    inputs: dict[str, np.ndarray],
    output: np.ndarray,
    *,
    deciles: int = 10,
) -> dict[str, Any]:
    """Sensitivity of ``output`` to each of ``inputs`` (arrays aligned by trial).

    Returns:
      tornado: [{"input", "rho"}] with rho the Spearman rank correlation, sorted by |rho|
        descending (None, for constant data, last);
      contribution_to_variance: [{"input", "share"}], share = rho^2 / sum of rho^2 over
        inputs: an approximation that assumes independent inputs and a monotone model;
      spider: [{"input", "points": [{"percentile", "input_mean", "delta_mean"}]}], for
        each input the mean output within each of ``deciles`` rank bins of the input
        minus the overall output mean ("percentile" is the bin's midpoint).
    Trials where the output or the input is not finite are left out for that input.
    """
    return sensitivities(inputs, [output], deciles=deciles)[0]


def sensitivities(
    inputs: dict[str, np.ndarray],
    outputs: list[np.ndarray],
    *,
    deciles: int = 10,
    on_ranked: Callable[[str, np.ndarray, np.ndarray], None] | None = None,
) -> list[dict[str, Any]]:
    """:func:`sensitivity` of each output (the same results), sorting each input once
    for all outputs and only one input at a time: memory for one input's ranks, not
    for every input's. ``on_ranked(name, x, order)`` gets each input with its sort
    order (for statistics that a sorted copy makes cheap); inputs are ranked on several
    threads, so it may be called from several at once."""
    outs = [_Output(y) for y in outputs]
    for out in outs:
        if inputs and np.count_nonzero(out.ok) >= 2:
            out.ranks_ok()  # shared by the inputs: ranked once, before the threads start

    def one_input(item: tuple[str, np.ndarray]) -> list[Row]:
        name, values = item
        x = np.asarray(values, dtype=np.float64).ravel()
        ranked = average_ranks(x)
        if on_ranked is not None:
            on_ranked(name, x, ranked[1])
        shared: dict[str, Any] = {}
        return [_row(name, x, out, ranked, deciles, shared) for out in outs]

    # NumPy's sorts and gathers release the GIL: inputs are ranked on every core (the
    # merge runs when the workers are done). Rows come back in input order.
    threads = min(len(inputs), os.cpu_count() or 1)
    if threads > 1 and outs and len(outs[0].y) >= THREADED_MIN:
        with ThreadPoolExecutor(threads, thread_name_prefix="montesim-ranks") as pool:
            per_input = list(pool.map(one_input, inputs.items()))
    else:
        per_input = [one_input(item) for item in inputs.items()]
    return [_report([found[i] for found in per_input]) for i in range(len(outs))]
