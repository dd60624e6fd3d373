"""average_ranks agrees with scipy.stats.rankdata, ties included."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from montesim.stats.ranking import average_ranks


@pytest.mark.parametrize(
    "x",
    [
        np.random.default_rng(0).normal(size=1000),
        np.random.default_rng(1).integers(0, 7, size=1000).astype(float),
        np.array([3.0, 3.0, 3.0]),
        np.array([5.0]),
        np.array([2.0, 1.0, 2.0, 0.0, 1.0]),
    ],
)
def test_average_ranks_match_scipy(x):
    ranks, order = average_ranks(x)
    np.testing.assert_array_equal(ranks, stats.rankdata(x))
    np.testing.assert_array_equal(x[order], np.sort(x))
    np.testing.assert_array_equal(order, np.argsort(x, kind="stable"))  # ties in trial order


def test_empty():
    ranks, order = average_ranks(np.array([]))
    assert ranks.shape == (0,) and order.shape == (0,)


@pytest.mark.parametrize("seed", range(6))
def test_ranks_within_a_subset_are_those_of_the_subset_sorted_again(seed):
    """The sensitivity of an output with failed trials ranks each input within the
    trials kept from the input's own sort order: the very ranks and order that sorting
    the subset gives, ties and left-out non-finite values included."""
    from montesim.stats.ranking import ranks_within

    rng = np.random.default_rng(seed)
    n = 2000
    x = rng.normal(size=n) if seed % 2 else rng.integers(0, 9, size=n).astype(float)
    x[rng.random(n) < 0.05] = np.nan if seed < 3 else np.inf
    keep = np.isfinite(x) & (rng.random(n) < (0.999 if seed % 3 else 0.5))
    ranks, order = ranks_within(x, average_ranks(x)[1], keep)
    want_ranks, want_order = average_ranks(x[keep])
    np.testing.assert_array_equal(ranks, want_ranks)
    np.testing.assert_array_equal(order, want_order)
    none = np.zeros(n, bool)
    assert ranks_within(x, average_ranks(x)[1], none)[0].shape == (0,)
