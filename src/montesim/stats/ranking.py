"""Ranks for rank correlation: one stable sort, ties sharing their average rank."""

from __future__ import annotations

import numpy as np


def average_ranks(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks of ``x`` (tied values share their average rank) and the stable sort order.

    Same ranks as ``scipy.stats.rankdata(x)``; the order is returned too because
    callers that bin by rank need it, and sorting is the whole cost. The order is the
    stable one: ties stay in trial order.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    # an unstable sort is several times faster; without ties its order is the stable one
    order = np.argsort(x)
    starts_group = _group_starts(x[order])
    if not starts_group.all():
        order = np.argsort(x, kind="stable")
    return _ranks(order, starts_group), order


def ranks_within(
    x: np.ndarray, order: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``average_ranks(x[keep])`` from ``order``, the sort order ``average_ranks(x)`` gave:
    the kept trials in that order are the subset sorted (stably), without sorting again."""
    x = np.asarray(x, dtype=np.float64).ravel()
    kept = order[keep[order]]  # trials of the subset, in sorted order
    position = np.cumsum(keep) - 1  # a kept trial's index in x[keep]
    sub_order = position[kept]
    return _ranks(sub_order, _group_starts(x[kept])), sub_order


def _group_starts(xs: np.ndarray) -> np.ndarray:
    """For sorted values, where each run of equal values starts."""
    starts_group = np.empty(len(xs), dtype=bool)
    if len(xs):
        starts_group[0] = True
        np.not_equal(xs[1:], xs[:-1], out=starts_group[1:])
    return starts_group


def _ranks(order: np.ndarray, starts_group: np.ndarray) -> np.ndarray:
    """1-based average ranks of the values that ``order`` sorts, with their runs of ties."""
    n = len(order)
    ranks = np.empty(n, dtype=np.float64)
    if n == 0:
        return ranks
    if starts_group.all():  # no ties: ranks are the positions
        ranks[order] = np.arange(1, n + 1, dtype=np.float64)
        return ranks
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], n)
    # a group at sorted positions start..end-1 holds ranks start+1..end
    average = (starts + 1 + ends) / 2.0
    ranks[order] = average[np.cumsum(starts_group) - 1]
    return ranks


def rank_bins(order: np.ndarray, bins: int) -> np.ndarray:
    """The bin (0 .. bins-1) of each trial when trials are cut into ``bins`` groups of
    equal size by rank; ``order`` is the stable sort order (tied values are split between
    bins by trial order, so bins stay equal in size)."""
    n = len(order)
    of = np.empty(n, dtype=np.int64)
    of[order] = np.arange(n) * bins // n
    return of


def rank_window(order: np.ndarray, low: float, high: float) -> np.ndarray:
    """The trials whose rank lies between the ``low`` and ``high`` percentiles (0..100):
    ``order[floor(n * low / 100) : ceil(n * high / 100)]``, ``order`` being the stable
    sort order, so the window holds the same count whatever the ties."""
    n = len(order)
    start = int(np.floor(n * low / 100.0))
    stop = int(np.ceil(n * high / 100.0))
    return order[start:stop]
