"""Severity families: samples against SciPy, the lognormal interval, the metalog fit."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from montesim.engines.risktree.severity import Severity

SEVERITY = TypeAdapter(Severity)
N = 20_000


def severity(**fields):
    return SEVERITY.validate_python(fields)


def draws(sev, n: int = N, seed: int = 11) -> np.ndarray:
    return sev.sample(np.random.default_rng(seed), n)


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "lognormal", "low": 1_000, "high": 50_000},
        {"family": "pert", "min": 100, "mode": 400, "max": 2_000},
        {"family": "pert", "min": 0, "mode": 0, "max": 10, "lamb": 2},
        {"family": "triangular", "min": 100, "mode": 1_500, "max": 2_000},
        {"family": "uniform", "min": 5, "max": 50},
        {"family": "normal", "mean": 1_000, "sd": 300},
        {"family": "normal", "mean": 100, "sd": 300},  # heavily truncated at 0
    ],
)
def test_samples_pass_ks_against_scipy(fields) -> None:
    sev = severity(**fields)
    x = draws(sev)
    assert stats.kstest(x, sev.frozen().cdf).pvalue > 1e-3
    assert x.min() >= 0


def test_lognormal_percentiles_match_the_interval() -> None:
    sev = severity(family="lognormal", low=2_000, high=300_000)
    x = draws(sev, 200_000)
    p5, p95 = np.quantile(x, [0.05, 0.95])
    # Sampling error of a sample quantile: sqrt(q(1−q)/n) / f(x_q); allow 4 of them.
    for got, want, q in ((p5, 2_000, 0.05), (p95, 300_000, 0.95)):
        se = np.sqrt(q * (1 - q) / x.size) / sev.frozen().pdf(want)
        assert abs(got - want) < 4 * se


def test_metalog_passes_through_its_quantiles_and_matches_its_cdf() -> None:
    pairs = [(0.1, 1_000.0), (0.5, 5_000.0), (0.9, 40_000.0), (0.99, 200_000.0)]
    sev = severity(family="metalog", quantiles=pairs)
    for p, x in pairs:
        assert sev.quantile(p) == pytest.approx(x, rel=1e-9)
    x = draws(sev)
    assert x.min() > 0  # bounded below at 0
    assert stats.kstest(x, sev.cdf).pvalue > 1e-3
    np.testing.assert_allclose(np.quantile(x, [0.1, 0.5, 0.9]), [1_000, 5_000, 40_000], rtol=0.06)


def test_two_pair_metalog_is_log_logistic() -> None:
    sev = severity(family="metalog", quantiles=[[0.25, 10.0], [0.75, 90.0]])
    # Two terms: ln x = a + b·logit(y), so the median is the geometric mean.
    assert sev.quantile(0.5) == pytest.approx(30.0)


def test_infeasible_metalog_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="infeasible metalog"):
        severity(family="metalog", quantiles=[[0.1, 100], [0.2, 10_000], [0.8, 10_100], [0.9, 1e6]])


def test_empirical_resamples_its_samples() -> None:
    data = np.random.default_rng(3).gamma(2.0, 500.0, 300)
    sev = severity(family="empirical", samples=data.tolist())
    x = draws(sev)
    assert set(np.unique(x)) <= set(data)
    assert stats.ks_2samp(x, data).pvalue > 1e-3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"family": "lognormal", "low": 0, "high": 10}, "low must be a positive loss"),
        ({"family": "lognormal", "low": 10, "high": 5}, "low must be below high"),
        ({"family": "pert", "min": 5, "mode": 1, "max": 9}, "mode must lie between"),
        ({"family": "triangular", "min": -1, "mode": 1, "max": 9}, "must not be negative"),
        ({"family": "uniform", "min": 9, "max": 9}, "min must be below max"),
        ({"family": "normal", "mean": 10, "sd": 0}, "sd must be a positive loss"),
        ({"family": "metalog", "quantiles": [[0.5, 10]]}, "at least 2"),
        ({"family": "metalog", "quantiles": [[0.5, 10], [0.4, 20]]}, "must increase"),
        ({"family": "empirical", "samples": [1, -2]}, "non-negative"),
        ({"family": "gamma", "a": 1}, "does not match any of the expected tags"),
    ],
)
def test_bad_parameters_are_refused(fields, message) -> None:
    with pytest.raises(ValidationError, match=message):
        severity(**fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "lognormal", "low": 1_000, "high": 50_000},
        {"family": "pert", "min": 100, "mode": 400, "max": 2_000},
        {"family": "metalog", "quantiles": [[0.1, 1_000], [0.5, 5_000], [0.9, 40_000]]},
        {"family": "empirical", "samples": [1, 2, 2, 3, 10]},
    ],
)
def test_curve_is_a_density_and_a_cdf(fields) -> None:
    curve = severity(**fields).curve(200)
    x, pdf, cdf = (np.array(curve[k]) for k in ("x", "pdf", "cdf"))
    assert len(x) == 200 and np.all(np.diff(x) > 0)
    assert np.all(pdf >= 0) and np.all(np.diff(cdf) >= -1e-12)
    assert 0 <= cdf[0] <= 0.2 and cdf[-1] > 0.9
    assert np.trapezoid(pdf, x) == pytest.approx(cdf[-1] - cdf[0], abs=0.1)


@pytest.mark.parametrize(
    "fields",
    [
        {"family": "lognormal", "low": 1_000, "high": 50_000},
        {"family": "pert", "min": 100, "mode": 400, "max": 2_000},
        {"family": "pert", "min": 0, "mode": 0, "max": 10, "lamb": 2},
        {"family": "triangular", "min": 100, "mode": 1_500, "max": 2_000},
        {"family": "uniform", "min": 5, "max": 50},
        {"family": "normal", "mean": 100, "sd": 300},
        {"family": "metalog", "quantiles": [[0.1, 1_000], [0.5, 5_000], [0.9, 40_000]]},
        {"family": "empirical", "samples": [1, 2, 2, 3, 10]},
    ],
)
def test_fewer_draws_are_a_prefix_of_more(fields) -> None:
    # A run that ends inside a block of trials draws only the events it needs; they
    # must be the first events of the whole block's draws.
    sev = severity(**fields)
    whole = draws(sev, 5_000)
    for n in (0, 1, 7, 4_999):
        np.testing.assert_array_equal(draws(sev, n), whole[:n])
