"""The tabulated beta inverse (PERT and beta inputs) against SciPy's, and its edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.special import _ufuncs

from montesim.sampling.betainv import CELLS, RTOL, TINY_SLACK, BetaInverse, beta_ppf
from montesim.sampling.lhs import U_MAX, U_MIN

SHAPES = [(1, 5), (5, 1), (2.3, 3.7), (3, 3), (1.0001, 4.9999), (0.5, 0.5), (0.3, 2), (20, 30)]


@pytest.mark.parametrize(("a", "b"), SHAPES)
def test_within_the_checked_tolerance_of_scipys_inverse(a: float, b: float) -> None:
    u = np.concatenate([np.random.default_rng(1).random(200_000), np.linspace(0, 1, 20_001)])
    exact = _ufuncs._beta_ppf(u, a, b)
    ours = BetaInverse(a, b)(u)
    assert np.all(np.abs(ours - exact) <= 2 * RTOL * exact)
    # most cells use the table (the rest, tails and misses, SciPy's inverse)
    assert BetaInverse(a, b).ok.sum() > 0.9 * CELLS


@given(
    a=st.floats(0.05, 200),
    b=st.floats(0.05, 200),
    u=st.lists(st.floats(0, 1), min_size=1, max_size=50),
)
@settings(max_examples=60, deadline=None)
def test_any_shape_and_probability(a: float, b: float, u: list[float]) -> None:
    q = np.array(u)
    with special.errstate(all="ignore"):
        exact = _ufuncs._beta_ppf(q, a, b)
    ours = beta_ppf(q, a, b)
    known = ~np.isnan(exact)
    assert np.all(np.abs(ours - exact)[known] <= 2 * RTOL * np.abs(exact[known]))
    # where SciPy's root search gives up (tiny probabilities), ours still inverts the CDF
    lost = q[~known]
    assert np.all(np.abs(special.betainc(a, b, ours[~known]) - lost) <= 1e-12 * lost + TINY_SLACK)


def test_probabilities_where_scipys_root_search_gives_up() -> None:
    """Boost's inverse returns NaN for beta(3, 3) at 4.5e-175 (a quantile near 3.6e-59):
    the lower-tail series and Newton steps give the quantile instead, exact to 1e-12."""
    u = np.array([4.4912689618903045e-175, 1e-250, 1e-17, 5e-324])
    with special.errstate(all="ignore"):
        assert np.isnan(_ufuncs._beta_ppf(u[0], 3.0, 3.0))
    x = beta_ppf(u, 3.0, 3.0)
    assert np.all(np.abs(special.betainc(3.0, 3.0, x) - u) <= 1e-12 * u + TINY_SLACK)
    assert np.all(x > 0)
    assert x[0] == pytest.approx((u[0] / 10) ** (1 / 3), rel=1e-9)  # I_x(3, 3) ~ 10 x^3


def test_edges_and_bad_probabilities_are_scipys() -> None:
    u = np.array([0.0, 1e-300, U_MIN, 0.5, U_MAX, 1.0, np.nan, -0.1, 1.1])
    ours, exact = beta_ppf(u, 2.0, 3.0), _ufuncs._beta_ppf(u, 2.0, 3.0)
    assert np.array_equal(ours[[0, 1, 2, 4, 5]], exact[[0, 1, 2, 4, 5]])  # tails: SciPy's own
    assert np.isnan(ours[6:]).all()


def test_rows_of_different_shapes_and_element_wise_shapes() -> None:
    rng = np.random.default_rng(2)
    u = rng.random((3, 5000))
    a = np.broadcast_to(np.array([[2.0], [3.0], [0.7]]), u.shape)
    b = np.broadcast_to(np.array([[2.0], [1.5], [4.0]]), u.shape)
    rows = beta_ppf(u, a, b)
    for r in range(3):
        assert np.array_equal(rows[r], beta_ppf(u[r], a[r, 0], b[r, 0]))  # same as one by one
    a_varied = rng.uniform(1, 3, 5000)  # no shape shared along the row: SciPy's inverse
    assert np.array_equal(beta_ppf(u[0], a_varied, 2.0), _ufuncs._beta_ppf(u[0], a_varied, 2.0))
    assert beta_ppf(0.3, 2, 3) == pytest.approx(_ufuncs._beta_ppf(0.3, 2, 3), rel=1e-12)


def test_draws_follow_the_beta_distribution() -> None:
    u = (np.random.default_rng(5).permutation(50_000) + 0.5) / 50_000  # stratified
    x = beta_ppf(u, 2.3, 3.7)
    assert stats.kstest(x, stats.beta(2.3, 3.7).cdf).pvalue > 0.01
