"""Truncated distributions: samples stay in bounds and follow the conditional law."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from montesim.engines.base import InputError
from montesim.sampling import make_distribution, sample_inputs

N = 20_000


def draw(dist, method: str = "mc") -> np.ndarray:
    return sample_inputs(99, [dist], [3], 0, N, method=method)[:, 0]


def test_truncated_normal_is_the_conditional_normal():
    dist = make_distribution("normal", [0, 1], truncate=(-1, 2))
    x = draw(dist)
    assert x.min() >= -1 and x.max() <= 2
    ref = stats.truncnorm(-1, 2)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-6)
    np.testing.assert_allclose(dist.cdf(np.array([-1, 0, 2])), ref.cdf([-1, 0, 2]), atol=1e-12)


def test_one_sided_truncation_of_gamma():
    dist = make_distribution("gamma", [2, 3], truncate=(4, None))
    base = stats.gamma(2, scale=3)
    x = draw(dist, method="lhs")
    assert x.min() >= 4

    def conditional_cdf(v):
        return np.clip((base.cdf(v) - base.cdf(4)) / base.sf(4), 0, 1)

    assert stats.kstest(x, conditional_cdf).pvalue > 1e-3
    # memoryless check of the mean formula: E[X | X > 4] computed by numerical integration
    assert dist.mean() == pytest.approx(base.expect(lb=4, conditional=True), rel=1e-6)


def test_truncated_poisson_keeps_integer_support_inside_bounds():
    dist = make_distribution("poisson", [3], truncate=(2, 5))
    x = draw(dist)
    values, counts = np.unique(x, return_counts=True)
    np.testing.assert_array_equal(values, [2, 3, 4, 5])
    pmf = stats.poisson(3).pmf(values)
    assert stats.chisquare(counts, pmf / pmf.sum() * N).pvalue > 1e-3
    assert dist.mean() == pytest.approx(np.dot(values, pmf) / pmf.sum())


def test_truncated_discrete_table_with_fractional_bounds():
    dist = make_distribution("discrete", [[1, 2, 3, 4], [0.1, 0.2, 0.3, 0.4]], truncate=(1.5, 3.5))
    x = draw(dist)
    assert set(np.unique(x)) == {2.0, 3.0}
    assert np.mean(x == 2) == pytest.approx(0.4, abs=0.015)
    assert dist.mean() == pytest.approx((2 * 0.2 + 3 * 0.3) / 0.5)


def test_truncation_outside_the_support_is_rejected():
    with pytest.raises(InputError, match="zero probability") as info:
        make_distribution("uniform", [0, 1], truncate=(2, 3), location="Inputs!C4")
    assert info.value.location == "Inputs!C4"


def test_inverted_truncation_bounds_are_rejected():
    with pytest.raises(InputError, match="truncation"):
        make_distribution("normal", [0, 1], truncate=(2, -2))


def test_far_upper_tail_truncation_keeps_precision():
    # P(X > 10) = 7.6e-24 rounds to 1 - cdf = 0; survival probabilities must be used
    dist = make_distribution("normal", [0, 1], truncate=(10, None))
    ref = stats.truncnorm(10, np.inf)
    x = draw(dist)
    assert x.min() >= 10
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-9)
    np.testing.assert_allclose(
        dist.cdf(np.array([10.05, 10.2])), ref.cdf([10.05, 10.2]), atol=1e-12
    )
