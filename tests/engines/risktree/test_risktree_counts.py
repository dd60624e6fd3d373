"""Poisson counts by guide table: exactly the inverse CDF, for every rate."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy import stats

from montesim.engines.risktree.counts import PoissonCounts


@pytest.mark.parametrize("lam", [1e-6, 0.2, 1.7, 30.0, 1_000.0])
def test_counts_are_the_inverse_cdf(lam: float) -> None:
    counts = PoissonCounts(lam)
    cdf = stats.poisson.cdf(np.arange(counts.cdf.size - 1), lam)
    u = np.concatenate(
        [
            np.random.default_rng(1).random(200_000),
            cdf[cdf < 1.0],  # exactly on a step: the count above it
            np.nextafter(cdf[cdf < 1.0], 0.0),  # just below a step
            [0.0, 1.0 - 2.0**-53],
        ]
    )
    np.testing.assert_array_equal(counts(u), np.searchsorted(cdf, u, side="right"))


def test_counts_follow_the_poisson_law() -> None:
    lam, n = 2.5, 100_000
    k = PoissonCounts(lam)(np.random.default_rng(2).random(n))
    observed = np.bincount(np.minimum(k, 10), minlength=11)  # 10 stands for "10 or more"
    expected = n * np.append(stats.poisson.pmf(np.arange(10), lam), stats.poisson.sf(9, lam))
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_pickle_sends_the_rate_and_rebuilds_the_tables() -> None:
    counts = PoissonCounts(4.2)
    data = pickle.dumps(counts)
    assert len(data) < 200  # plans travel once per chunk
    back = pickle.loads(data)
    u = np.random.default_rng(3).random(10_000)
    np.testing.assert_array_equal(back(u), counts(u))
