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
    n = len(x)
    # an unstable sort is several times faster; without ties its order is the stable one
    order = np.argsort(x)
    ranks = np.empty(n, dtype=np.float64)
    if n == 0:
        return ranks, order
    xs = x[order]
    starts_group = np.empty(n, dtype=bool)
    starts_group[0] = True
    np.not_equal(xs[1:], xs[:-1], out=starts_group[1:])
    if not starts_group.all():
        order = np.argsort(x, kind="stable")
    if starts_group.all():  # no ties: ranks are the positions
        ranks[order] = np.arange(1, n + 1, dtype=np.float64)
        return ranks, order
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], n)
    # a group at sorted positions start..end-1 holds ranks start+1..end
    average = (starts + 1 + ends) / 2.0
    ranks[order] = average[np.cumsum(starts_group) - 1]
    return ranks, order
