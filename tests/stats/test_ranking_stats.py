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
