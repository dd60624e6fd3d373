"""Each family against SciPy (or the analytic formula): quantiles, moments, KS / chi-square."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

from montesim.engines.base import InputError
from montesim.sampling import FAMILIES, make_distribution, sample_inputs

N = 20_000
SEED = 20240601


def draw(dist, *, method: str = "mc", n: int = N, stream: int = 7) -> np.ndarray:
    return sample_inputs(SEED, [dist], [stream], 0, n, method=method)[:, 0]


def _lognorm_ref(mean: float, sd: float):
    # independent of the library's formula: median = mean / sqrt(1 + cv^2)
    cv2 = (sd / mean) ** 2
    return stats.lognorm(s=math.sqrt(math.log(1 + cv2)), scale=mean / math.sqrt(1 + cv2))


CONTINUOUS = [
    ("normal", [10, 2], stats.norm(10, 2)),
    ("RiskNormal", [-3, 0.5], stats.norm(-3, 0.5)),
    ("lognorm", [10, 3], _lognorm_ref(10, 3)),
    ("RiskLognorm2", [1, 0.5], stats.lognorm(s=0.5, scale=math.e)),
    ("uniform", [2, 5], stats.uniform(2, 3)),
    ("triang", [1, 2, 5], stats.triang(0.25, loc=1, scale=4)),
    ("RiskPert", [1, 2, 5], stats.beta(2, 4, loc=1, scale=4)),
    ("beta", [2, 3], stats.beta(2, 3)),
    ("gamma", [2, 3], stats.gamma(2, scale=3)),
    ("expon", [4], stats.expon(scale=4)),
    ("weibull", [1.5, 2], stats.weibull_min(1.5, scale=2)),
]

DISCRETE = [
    ("poisson", [3.5], stats.poisson(3.5)),
    ("binomial", [10, 0.3], stats.binom(10, 0.3)),
    ("RiskIntUniform", [-2, 4], stats.randint(-2, 5)),
]


@pytest.mark.parametrize(
    ("family", "args", "ref"), CONTINUOUS, ids=[f"{c[0]}{c[1]}" for c in CONTINUOUS]
)
def test_continuous_family_matches_scipy(family, args, ref):
    dist = make_distribution(family, args)
    grid = np.linspace(0.001, 0.999, 101)
    np.testing.assert_allclose(dist.ppf(grid), ref.ppf(grid), rtol=1e-9, atol=1e-12)
    x = draw(dist)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    se = ref.std() / math.sqrt(N)
    assert abs(x.mean() - ref.mean()) < 5 * se
    assert x.var(ddof=1) == pytest.approx(ref.var(), rel=0.08)
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-9)
    np.testing.assert_allclose(dist.cdf(ref.ppf(grid)), grid, atol=1e-9)


@pytest.mark.parametrize(
    ("family", "args", "ref"), DISCRETE, ids=[f"{c[0]}{c[1]}" for c in DISCRETE]
)
def test_integer_family_matches_pmf(family, args, ref):
    dist = make_distribution(family, args)
    grid = np.linspace(1e-6, 1 - 1e-6, 2001)
    np.testing.assert_array_equal(dist.ppf(grid), ref.ppf(grid))
    x = draw(dist)
    assert np.all(x == np.round(x))
    values, counts = np.unique(x, return_counts=True)
    support = np.arange(ref.ppf(1e-9), ref.ppf(1 - 1e-9) + 1)
    assert set(values) <= set(support)
    expected = ref.pmf(support) * N
    observed = np.array([counts[values == v].sum() for v in support])
    # pool the sparse tail cells so the chi-square approximation holds
    keep = expected >= 5
    obs, exp = observed[keep], expected[keep]
    if not keep.all():
        obs, exp = np.append(obs, observed[~keep].sum()), np.append(exp, N - exp.sum())
    exp = (
        exp * obs.sum() / exp.sum()
    )  # chisquare wants equal totals; the tails beyond 1e-9 are tiny
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-9)


def test_discrete_table_probabilities_are_normalised():
    dist = make_distribution("RiskDiscrete", [[5, 1, 2.5], [2, 1, 1]])
    x = draw(dist)
    values, counts = np.unique(x, return_counts=True)
    np.testing.assert_array_equal(values, [1, 2.5, 5])
    probs = np.array([0.25, 0.25, 0.5])
    assert stats.chisquare(counts, probs * N).pvalue > 1e-3
    assert dist.mean() == pytest.approx(0.25 + 0.625 + 2.5)
    np.testing.assert_allclose(
        dist.cdf(np.array([0, 1, 2, 2.5, 4, 5, 9])), [0, 0.25, 0.25, 0.5, 0.5, 1, 1]
    )


def test_discrete_repeated_values_merge():
    dist = make_distribution("discrete", [[1, 2, 1], [0.2, 0.5, 0.3]])
    assert dist.cdf(np.array([1.0]))[0] == pytest.approx(0.5)


def test_lognorm_uses_risk_mean_and_sd():
    # @RISK's RiskLognorm(mean, sd): the samples themselves have that mean and sd
    x = draw(make_distribution("RiskLognorm", [10, 3]), method="lhs")
    assert x.mean() == pytest.approx(10, rel=2e-3)
    assert x.std(ddof=1) == pytest.approx(3, rel=2e-2)
    assert np.all(x > 0)


def test_lognorm2_uses_underlying_normal():
    x = draw(make_distribution("lognorm2", [1.2, 0.4]), method="lhs")
    logs = np.log(x)
    assert logs.mean() == pytest.approx(1.2, abs=2e-3)
    assert logs.std(ddof=1) == pytest.approx(0.4, rel=5e-3)


def test_pert_mean_is_the_pert_formula():
    dist = make_distribution("pert", [1, 2, 5])
    assert dist.mean() == pytest.approx((1 + 4 * 2 + 5) / 6)


def test_cumul_is_piecewise_linear_through_points():
    dist = make_distribution("RiskCumul", [0, 10, [2, 5], [0.3, 0.6]])

    def cdf(x):
        return np.interp(x, [0, 2, 5, 10], [0, 0.3, 0.6, 1])

    np.testing.assert_allclose(
        dist.cdf(np.array([0, 1, 2, 3.5, 5, 7.5, 10])), cdf(np.array([0, 1, 2, 3.5, 5, 7.5, 10]))
    )
    x = draw(dist)
    assert x.min() >= 0 and x.max() <= 10
    assert stats.kstest(x, cdf).pvalue > 1e-3
    # mean of piecewise-uniform pieces: sum of segment probability x midpoint
    assert dist.mean() == pytest.approx(0.3 * 1 + 0.3 * 3.5 + 0.4 * 7.5)


@pytest.mark.parametrize(
    "args",
    [[100, 200, 300, 10, 90], [1, 2, 5, 5, 95], [1, 2, 5, 0.05, 0.95], [0, 0, 4, 0, 80]],
)
def test_trigen_hits_its_percentiles(args):
    bottom, mode, top, pb, pt = args
    scale = 100 if max(pb, pt) > 1 else 1
    dist = make_distribution("RiskTrigen", args)
    assert dist.cdf(np.array([bottom]))[0] == pytest.approx(pb / scale, abs=1e-9)
    assert dist.cdf(np.array([top]))[0] == pytest.approx(pt / scale, abs=1e-9)
    lo, hi = dist.ppf(np.array([0.0, 1.0]))
    ref = stats.triang((mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    assert ref.cdf(bottom) == pytest.approx(pb / scale, abs=1e-9)
    assert ref.cdf(top) == pytest.approx(pt / scale, abs=1e-9)
    x = draw(dist)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    assert np.mean(x <= bottom) == pytest.approx(pb / scale, abs=0.01)


def test_trigen_percent_and_fraction_forms_agree():
    a = make_distribution("trigen", [1, 2, 5, 5, 95])
    b = make_distribution("trigen", [1, 2, 5, 0.05, 0.95])
    u = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(a.ppf(u), b.ppf(u))


@pytest.mark.parametrize(
    ("family", "args", "value"),
    [
        ("uniform", [3, 3], 3),
        ("normal", [4, 0], 4),
        ("triang", [2, 2, 2], 2),
        ("binomial", [5, 1], 5),
    ],
)
def test_degenerate_parameters_give_a_constant(family, args, value):
    x = draw(make_distribution(family, args), n=100)
    assert np.all(x == value)


BAD = [
    ("normal", [0, -1], "sd"),
    ("lognorm", [-1, 1], "mean"),
    ("uniform", [5, 1], "min"),
    ("triang", [1, 6, 5], "mode"),
    ("pert", [3, 1, 5], "min"),
    ("beta", [0, 1], "alpha"),
    ("gamma", [1, -2], "beta"),
    ("expon", [0], "beta"),
    ("weibull", [-1, 1], "alpha"),
    ("poisson", [-0.5], "lambda"),
    ("binomial", [10, 1.5], "p"),
    ("binomial", [2.5, 0.5], "n"),
    ("intuniform", [1.5, 3], "min"),
    ("discrete", [[1, 2], [0, 0]], "probs"),
    ("discrete", [[1, 2], [0.5, -0.1]], "probs"),
    ("discrete", [[1, 2, 3], [0.5, 0.5]], "probs"),
    ("cumul", [0, 10, [5, 2], [0.3, 0.6]], "xs"),
    ("cumul", [0, 10, [2, 5], [0.6, 0.3]], "ps"),
    ("cumul", [0, 10, [2, 12], [0.3, 0.6]], "xs"),
    ("trigen", [1, 2, 5, 90, 10], "bottom_pct"),
    ("normal", [1], "args"),
    ("normal", [1, 2, 3], "args"),
    ("normal", [1, float("nan")], "sd"),
    ("normal", [1, "2"], "sd"),
    ("discrete", [1, [1]], "values"),
    ("NoSuchDist", [1, 2], "family"),
]


@pytest.mark.parametrize(("family", "args", "param"), BAD, ids=lambda v: str(v))
def test_bad_parameters_raise_input_error_naming_cell_and_parameter(family, args, param):
    with pytest.raises(InputError) as info:
        make_distribution(family, args, location="Sheet1!B2")
    err = info.value
    assert err.code == "invalid_distribution"
    assert err.location == "Sheet1!B2"
    assert "Sheet1!B2" in err.message
    assert err.detail == {"parameter": param}
    if param not in ("args", "family"):
        assert param in err.message


def test_family_names_are_case_insensitive_with_optional_risk_prefix():
    for name in ("normal", "Normal", "RiskNormal", "RISKNORMAL", "risknormal"):
        assert make_distribution(name, [0, 1]).family == "normal"
    assert set(FAMILIES) >= {"normal", "lognorm", "pert", "trigen", "cumul", "discrete"}


def test_distribution_pickles_small_and_equal():
    dist = make_distribution("pert", [1, 2, 5], truncate=(1.5, None))
    blob = pickle.dumps(dist)
    assert len(blob) < 400
    back = pickle.loads(blob)
    assert back == dist
    u = np.linspace(0.01, 0.99, 17)
    np.testing.assert_array_equal(back.ppf(u), dist.ppf(u))
