"""The families beyond the first sixteen, each against its closed form as @RISK defines it.

The references are written here from the distribution functions (with ``scipy.special``
for the incomplete gamma and beta functions), not from ``scipy.stats`` with the library's
own mapping of parameters, so a wrong parameterisation fails: the inverse CDF at several
probabilities, a Kolmogorov-Smirnov test on draws, the mean and the variance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from scipy import integrate, special, stats

from montesim.engines.base import InputError
from montesim.sampling import FAMILIES, make_distribution, sample_inputs
from montesim.sampling.families import FAMILY_TABLE, risk_functions

N = 20_000
SEED = 20261208
PROBS = np.array([0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999])
EULER = 0.5772156649015329


def draw(dist, *, n: int = N, method: str = "mc") -> np.ndarray:
    return sample_inputs(SEED, [dist], [11], 0, n, method=method)[:, 0]


def phi(z):
    return special.ndtr(z)


@dataclass
class Case:
    family: str
    args: list
    cdf: Callable[[np.ndarray], np.ndarray]
    mean: float
    var: float | None  # None: infinite, or too heavy-tailed to compare a sample's


def _general_density(lo, hi, xs, ps):
    pts_x = np.concatenate(([lo], xs, [hi]))
    pts_y = np.concatenate(([0.0], ps, [0.0]))
    area = np.trapezoid(pts_y, pts_x)
    return lambda x: np.interp(x, pts_x, pts_y) / area, pts_x


def _general_case() -> Case:
    lo, hi, xs, ps = 0.0, 10.0, [2.0, 5.0, 7.0, 9.0], [1.0, 2.0, 3.0, 1.0]
    dens, knots = _general_density(lo, hi, xs, ps)

    def cdf(x):
        return np.array(
            [integrate.quad(dens, lo, min(max(v, lo), hi), points=knots, limit=200)[0] for v in x]
        )

    mean = integrate.quad(lambda v: v * dens(v), lo, hi, points=knots)[0]
    second = integrate.quad(lambda v: v * v * dens(v), lo, hi, points=knots)[0]
    return Case("RiskGeneral", [lo, hi, xs, ps], cdf, mean, second - mean**2)


def _histogram_case() -> Case:
    # @RISK's example: RiskHistogrm(10, 20, {1,2,3,2,1}): probabilities 1/9, 2/9, 3/9, ...
    probs = np.array([1, 2, 3, 2, 1]) / 9
    edges = np.linspace(10, 20, 6)
    mids = (edges[:-1] + edges[1:]) / 2
    mean = float(probs @ mids)
    var = float(probs @ (mids**2 + 4 / 12)) - mean**2  # within-class variance (width 2)^2/12
    return Case(
        "RiskHistogrm",
        [10, 20, [1, 2, 3, 2, 1]],
        lambda x: np.interp(x, edges, np.concatenate(([0], np.cumsum(probs)))),
        mean,
        var,
    )


def _kumaraswamy_case(a: float, b: float, lo: float, hi: float) -> Case:
    def moment(n):
        return b * special.beta(1 + n / a, b)

    w = hi - lo
    return Case(
        "RiskKumaraswamy",
        [a, b, lo, hi],
        lambda x: 1 - (1 - np.clip((x - lo) / w, 0, 1) ** a) ** b,
        lo + w * moment(1),
        w * w * (moment(2) - moment(1) ** 2),
    )


def _loglogistic_case(g: float, b: float, a: float) -> Case:
    t = math.pi / a
    return Case(
        "RiskLoglogistic",
        [g, b, a],
        lambda x: 1 / (1 + (np.maximum(x - g, 1e-300) / b) ** -a),
        g + b * t / math.sin(t),
        b * b * (2 * t / math.sin(2 * t) - (t / math.sin(t)) ** 2),
    )


def _invgauss_cdf(mu: float, lam: float):
    def cdf(x):
        r = np.sqrt(lam / x)
        return phi(r * (x / mu - 1)) + np.exp(2 * lam / mu) * phi(-r * (x / mu + 1))

    return cdf


def _johnson_su_moments(a1, a2, g, b):
    w = math.exp(1 / a2**2)
    om = a1 / a2
    mean = g - b * math.sqrt(w) * math.sinh(om)
    var = b * b / 2 * (w - 1) * (w * math.cosh(2 * om) + 1)
    return mean, var


def _johnsonsb_case() -> Case:
    a1, a2, a, b = 1.0, 2.0, 0.0, 10.0

    def cdf(x):
        z = np.clip((x - a) / (b - a), 1e-300, 1 - 1e-16)
        return phi(a1 + a2 * np.log(z / (1 - z)))

    # moments by integrating the quantile function (the normal through the transform)
    def q(u):
        z = (special.ndtri(u) - a1) / a2
        return a + (b - a) / (1 + math.exp(-z))

    mean = integrate.quad(q, 0, 1)[0]
    var = integrate.quad(lambda u: (q(u) - mean) ** 2, 0, 1)[0]
    return Case("RiskJohnsonSB", [a1, a2, a, b], cdf, mean, var)


def _cases() -> list[Case]:
    su_mean, su_var = _johnson_su_moments(1.0, 2.0, 0.0, 3.0)
    return [
        Case(
            "RiskBetaGeneral",
            [2, 3, 10, 20],
            lambda x: special.betainc(2, 3, np.clip((x - 10) / 10, 0, 1)),
            10 + 10 * 2 / 5,
            100 * 6 / (25 * 6),
        ),
        Case(
            "RiskCauchy", [1, 2], lambda x: 0.5 + np.arctan((x - 1) / 2) / math.pi, math.nan, None
        ),
        Case("RiskChiSq", [4], lambda x: special.gammainc(2, np.maximum(x, 0) / 2), 4.0, 8.0),
        Case(
            "RiskCumulD",
            [0, 10, [1, 5, 9], [0.9, 0.3, 0.1]],
            lambda x: np.interp(x, [0, 1, 5, 9, 10], [0, 0.1, 0.7, 0.9, 1]),
            0.1 * 0.5 + 0.6 * 3 + 0.2 * 7 + 0.1 * 9.5,
            None,
        ),
        Case("RiskErf", [2], lambda x: phi(x * 2 * math.sqrt(2)), 0.0, 1 / 8),
        Case("RiskErlang", [3, 2], lambda x: special.gammainc(3, np.maximum(x, 0) / 2), 6.0, 12.0),
        Case(
            "RiskExtValue",
            [1, 2],
            lambda x: np.exp(-np.exp(-(x - 1) / 2)),
            1 + 2 * EULER,
            math.pi**2 / 6 * 4,
        ),
        Case(
            "RiskExtValueMin",
            [1, 2],
            lambda x: 1 - np.exp(-np.exp((x - 1) / 2)),
            1 - 2 * EULER,
            math.pi**2 / 6 * 4,
        ),
        Case(
            "RiskF",
            [5, 12],
            lambda x: special.betainc(2.5, 6, 5 * x / (5 * x + 12)),
            12 / 10,
            2 * 144 * 15 / (5 * 100 * 8),
        ),
        Case(
            "RiskFrechet",
            [1, 2, 5],
            lambda x: np.exp(-((np.maximum(x - 1, 1e-300) / 2) ** -5)),
            1 + 2 * math.gamma(1 - 1 / 5),
            4 * (math.gamma(1 - 2 / 5) - math.gamma(1 - 1 / 5) ** 2),
        ),
        _general_case(),
        _histogram_case(),
        Case("RiskInvGauss", [2, 3], _invgauss_cdf(2, 3), 2.0, 8 / 3),
        _johnsonsb_case(),
        Case(
            "RiskJohnsonSU",
            [1, 2, 0, 3],
            lambda x: phi(1 + 2 * np.arcsinh(x / 3)),
            su_mean,
            su_var,
        ),
        _kumaraswamy_case(2, 3, 0, 10),
        Case(
            "RiskLaplace",
            [1, 2],
            lambda x: np.where(
                x < 1,
                0.5 * np.exp(math.sqrt(2) * (x - 1) / 2),
                1 - 0.5 * np.exp(-math.sqrt(2) * (x - 1) / 2),
            ),
            1.0,
            4.0,
        ),
        Case(
            "RiskLevy",
            [0, 1],
            lambda x: special.erfc(np.sqrt(1 / (2 * np.maximum(x, 1e-300)))),
            math.inf,
            None,
        ),
        Case(
            "RiskLogistic",
            [1, 2],
            lambda x: 1 / (1 + np.exp(-(x - 1) / 2)),
            1.0,
            math.pi**2 * 4 / 3,
        ),
        _loglogistic_case(0, 1, 3),
        _loglogistic_case(5, 2, 6),
        Case(
            "RiskPareto",
            [3, 2],
            lambda x: 1 - (2 / np.maximum(x, 2)) ** 3,
            3 * 2 / 2,
            4 * 3 / (4 * 1),
        ),
        Case(
            "RiskPareto2",
            [2, 5],
            lambda x: 1 - (2 / (np.maximum(x, 0) + 2)) ** 5,
            2 / 4,
            4 * 5 / (16 * 3),
        ),
        Case(
            "RiskPearson5",
            [5, 2],
            lambda x: special.gammaincc(5, 2 / np.maximum(x, 1e-300)),
            2 / 4,
            4 / (16 * 3),
        ),
        Case(
            "RiskPearson6",
            [2, 6, 3],
            lambda x: special.betainc(2, 6, (x / 3) / (1 + x / 3)),
            3 * 2 / 5,
            9 * 2 * 7 / (25 * 4),
        ),
        Case(
            "RiskRayleigh",
            [2],
            lambda x: 1 - np.exp(-(np.maximum(x, 0) ** 2) / 8),
            2 * math.sqrt(math.pi / 2),
            (4 - math.pi) / 2 * 4,
        ),
        Case(
            "RiskStudent",
            [5],
            lambda x: np.where(
                x < 0,
                0.5 * special.betainc(2.5, 0.5, 5 / (5 + x * x)),
                1 - 0.5 * special.betainc(2.5, 0.5, 5 / (5 + x * x)),
            ),
            0.0,
            None,  # kurtosis 9: a sample's variance is too noisy to compare
        ),
    ]


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.family}{c.args}" for c in CASES])
def test_continuous_family_against_its_closed_form(case: Case) -> None:
    dist = make_distribution(case.family, case.args)
    assert not dist.discrete
    # the inverse CDF: the closed-form CDF of ppf(p) is p
    np.testing.assert_allclose(case.cdf(dist.ppf(PROBS)), PROBS, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(dist.cdf(dist.ppf(PROBS)), PROBS, rtol=1e-7, atol=1e-10)
    x = draw(dist)
    assert stats.kstest(x, case.cdf).pvalue > 1e-3
    if math.isnan(case.mean):
        assert math.isnan(dist.mean())  # no mean: said so, not made up
    elif math.isinf(case.mean):
        assert dist.mean() == math.inf
    else:
        assert dist.mean() == pytest.approx(case.mean, rel=1e-7, abs=1e-12)
    if case.var is not None:
        assert abs(x.mean() - case.mean) < 5 * math.sqrt(case.var / N)
        assert x.var(ddof=1) == pytest.approx(case.var, rel=0.1)


@dataclass
class DiscreteCase:
    family: str
    args: list
    pmf: Callable[[int], float]
    support: range
    mean: float


def _negbin_pmf(s: int, p: float):
    return lambda k: math.comb(k + s - 1, k) * p**s * (1 - p) ** k


def _hypergeo_pmf(n: int, d: int, m: int):
    return lambda k: math.comb(d, k) * math.comb(m - d, n - k) / math.comb(m, n)


DISCRETE = [
    DiscreteCase("RiskBernoulli", [0.3], lambda k: 0.3 if k == 1 else 0.7, range(2), 0.3),
    DiscreteCase("RiskGeomet", [0.3], lambda k: 0.3 * 0.7**k, range(80), 0.7 / 0.3),
    DiscreteCase("RiskNegbin", [3, 0.4], _negbin_pmf(3, 0.4), range(120), 3 * 0.6 / 0.4),
    DiscreteCase("RiskNegbin", [1, 0.25], _negbin_pmf(1, 0.25), range(200), 0.75 / 0.25),
    DiscreteCase("RiskHypergeo", [10, 20, 50], _hypergeo_pmf(10, 20, 50), range(11), 10 * 20 / 50),
    DiscreteCase("RiskHypergeo", [6, 4, 9], _hypergeo_pmf(6, 4, 9), range(5), 6 * 4 / 9),
]


@pytest.mark.parametrize("case", DISCRETE, ids=[f"{c.family}{c.args}" for c in DISCRETE])
def test_integer_family_against_its_mass_function(case: DiscreteCase) -> None:
    dist = make_distribution(case.family, case.args)
    assert dist.discrete
    ks = np.array(case.support)
    pmf = np.array([case.pmf(int(k)) for k in ks])
    cum = np.cumsum(pmf)
    # the inverse CDF is the smallest k whose CDF reaches u
    grid = np.linspace(1e-4, 1 - 1e-4, 999)
    expected = ks[np.searchsorted(cum, grid - 1e-12, side="left")]
    np.testing.assert_array_equal(dist.ppf(grid), expected)
    np.testing.assert_allclose(dist.cdf(ks.astype(float)), cum, atol=1e-9)
    x = draw(dist)
    counts = np.array([np.count_nonzero(x == k) for k in ks])
    assert counts.sum() == N  # nothing outside the support
    keep = pmf * N >= 5
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(pmf[keep] * N, N - pmf[keep].sum() * N)
    if exp[-1] < 5:  # no tail worth a cell
        obs, exp = obs[:-1], exp[:-1]
        exp = exp * obs.sum() / exp.sum()
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    assert dist.mean() == pytest.approx(case.mean, rel=1e-9)


def test_discrete_uniform_takes_each_listed_value_equally() -> None:
    dist = make_distribution("RiskDUniform", [[7, 1, 5]])
    x = draw(dist)
    values, counts = np.unique(x, return_counts=True)
    np.testing.assert_array_equal(values, [1, 5, 7])
    assert stats.chisquare(counts).pvalue > 1e-3
    assert dist.mean() == pytest.approx(13 / 3)
    np.testing.assert_allclose(
        dist.cdf(np.array([0, 1, 4, 5, 7, 8])), [0, 1 / 3, 1 / 3, 2 / 3, 1, 1]
    )


@pytest.mark.parametrize(
    ("family", "args", "value"),
    [
        ("laplace", [3, 0], 3),
        ("logistic", [2, 0], 2),
        ("extvalue", [-1, 0], -1),
        ("cauchy", [4, 0], 4),
        ("betageneral", [2, 3, 5, 5], 5),
        ("histogrm", [4, 4, [1, 2]], 4),
        ("bernoulli", [1], 1),
        ("bernoulli", [0], 0),
        ("geomet", [1], 0),
        ("negbin", [3, 1], 0),
        ("hypergeo", [5, 0, 10], 0),
        ("hypergeo", [5, 10, 10], 5),
        ("hypergeo", [10, 4, 10], 4),
    ],
)
def test_degenerate_parameters_give_a_constant(family: str, args: list, value: float) -> None:
    x = draw(make_distribution(family, args), n=100)
    assert np.all(x == value)


BAD = [
    ("betageneral", [0, 1, 0, 1], "alpha1"),
    ("betageneral", [1, 1, 2, 1], "min"),
    ("cauchy", [0, -1], "beta"),
    ("chisq", [0], "nu"),
    ("erf", [-1], "h"),
    ("erlang", [2.5, 1], "m"),
    ("erlang", [0, 1], "m"),
    ("erlang", [2, 0], "beta"),
    ("extvalue", [0, -2], "beta"),
    ("extvaluemin", [0, -2], "beta"),
    ("f", [1, 0], "nu2"),
    ("frechet", [0, 0, 1], "beta"),
    ("frechet", [0, 1, -1], "alpha"),
    ("general", [0, 10, [2, 12], [1, 1]], "xs"),
    ("general", [0, 10, [5, 2], [1, 1]], "xs"),
    ("general", [0, 10, [2, 5], [1, -1]], "ps"),
    ("general", [0, 10, [2, 5], [0, 0]], "ps"),
    ("general", [0, 10, [2, 5], [1]], "ps"),
    ("general", [10, 0, [2, 5], [1, 1]], "min"),
    ("histogrm", [0, 10, [1, -1]], "ps"),
    ("histogrm", [10, 0, [1, 1]], "min"),
    ("histogrm", [0, 10, [0, 0]], "ps"),
    ("invgauss", [0, 1], "mu"),
    ("invgauss", [1, 0], "lambda"),
    ("johnsonsb", [0, 0, 0, 1], "alpha2"),
    ("johnsonsb", [0, 1, 1, 1], "a"),
    ("johnsonsu", [0, 1, 0, 0], "beta"),
    ("kumaraswamy", [1, 0, 0, 1], "alpha2"),
    ("kumaraswamy", [1, 1, 1, 0], "min"),
    ("laplace", [0, -1], "sigma"),
    ("levy", [0, 0], "c"),
    ("logistic", [0, -1], "beta"),
    ("loglogistic", [0, 1, 0], "alpha"),
    ("loglogistic", [0, -1, 2], "beta"),
    ("pareto", [0, 1], "theta"),
    ("pareto", [1, 0], "a"),
    ("pareto2", [0, 1], "b"),
    ("pareto2", [1, -1], "q"),
    ("pearson5", [0, 1], "alpha"),
    ("pearson6", [1, 1, 0], "beta"),
    ("rayleigh", [0], "b"),
    ("student", [-2], "nu"),
    ("cumuld", [0, 10, [2, 5], [0.3, 0.6]], "ps"),
    ("bernoulli", [1.5], "p"),
    ("geomet", [0], "p"),
    ("negbin", [0, 0.5], "s"),
    ("negbin", [1.5, 0.5], "s"),
    ("negbin", [2, 0], "p"),
    ("hypergeo", [11, 3, 10], "n"),
    ("hypergeo", [5, 11, 10], "D"),
    ("hypergeo", [5, 3, 10.5], "M"),
    ("duniform", [[]], "values"),
    ("duniform", [5], "values"),
    ("loglogistic", [0, 1], "args"),
]


@pytest.mark.parametrize(("family", "args", "param"), BAD, ids=lambda v: str(v))
def test_bad_parameters_name_the_parameter(family: str, args: list, param: str) -> None:
    with pytest.raises(InputError) as info:
        make_distribution(family, args, location="Inputs!C3")
    err = info.value
    assert err.code == "invalid_distribution"
    assert err.location == "Inputs!C3" and "Inputs!C3" in err.message
    assert err.detail == {"parameter": param}
    if param != "args":
        assert param in err.message


def test_truncated_new_family_stays_inside_and_keeps_its_shape() -> None:
    dist = make_distribution("RiskLoglogistic", [0, 1, 3], truncate=(0.5, 2.0))
    x = draw(dist)
    assert x.min() >= 0.5 and x.max() <= 2.0

    def full(v):
        return 1 / (1 + np.maximum(v, 1e-300) ** -3)

    lo, hi = full(0.5), full(2.0)
    assert stats.kstest(x, lambda v: (full(np.clip(v, 0.5, 2.0)) - lo) / (hi - lo)).pvalue > 1e-3
    # far upper tail of a heavy-tailed family: survival probabilities keep the window
    tail = make_distribution("pareto", [3, 1], truncate=(1e4, None))
    assert draw(tail, n=4096).min() >= 1e4
    assert tail.mean() == pytest.approx(1.5e4, rel=1e-6)  # Pareto: E[X | X > t] = t θ/(θ-1)


def test_truncated_general_mean_is_the_windows_mean() -> None:
    case = _general_case()
    dist = make_distribution(case.family, case.args, truncate=(3, 8))
    dens, knots = _general_density(*case.args)
    mass = integrate.quad(dens, 3, 8, points=knots)[0]
    mean = integrate.quad(lambda v: v * dens(v), 3, 8, points=knots)[0] / mass
    assert dist.mean() == pytest.approx(mean, rel=1e-9)
    x = draw(dist)
    assert x.min() >= 3 and x.max() <= 8
    assert stats.kstest(x, lambda v: (case.cdf(v) - case.cdf([3])[0]) / mass).pvalue > 1e-3


def test_lhs_draws_of_a_new_family_hit_every_stratum() -> None:
    dist = make_distribution("RiskPearson6", [2, 6, 3])
    x = draw(dist, n=4096, method="lhs")
    u = np.sort(dist.cdf(x))
    np.testing.assert_array_equal(np.floor(u * 4096), np.arange(4096))


# parameters each family accepts: the cases above, and the first sixteen's
EXAMPLES = (
    {c.family.lower()[4:]: c.args for c in CASES}
    | {c.family.lower()[4:]: c.args for c in DISCRETE}
    | {
        "normal": [0, 1],
        "lognorm": [10, 3],
        "lognorm2": [1, 0.5],
        "uniform": [0, 1],
        "triang": [1, 2, 5],
        "pert": [1, 2, 5],
        "beta": [2, 3],
        "gamma": [2, 3],
        "expon": [4],
        "weibull": [1.5, 2],
        "poisson": [3],
        "binomial": [10, 0.3],
        "discrete": [[1, 2], [0.5, 0.5]],
        "intuniform": [1, 6],
        "cumul": [0, 10, [2, 5], [0.3, 0.6]],
        "trigen": [1, 2, 5, 10, 90],
        "duniform": [[1, 5, 7]],
    }
)


def test_there_are_at_least_forty_families_each_with_its_risk_function() -> None:
    assert len(FAMILIES) >= 40
    table = risk_functions()
    for name, fam in FAMILY_TABLE.items():
        assert fam.risk, f"{name} has no @RISK name"
        for risk in fam.risk:
            assert risk.startswith("Risk") and table[risk.upper()[4:]] == name
            assert make_distribution(risk, EXAMPLES[name]).family == name
        assert fam.discrete == make_distribution(name, EXAMPLES[name]).discrete


def test_aliases_reach_their_families() -> None:
    from montesim.sampling import canonical_family

    for alias, family in [
        ("gumbel", "extvalue"),
        ("Student", "student"),
        ("t", "student"),
        ("geometric", "geomet"),
        ("negativebinomial", "negbin"),
        ("histogram", "histogrm"),
        ("lomax", "pareto2"),
        ("fisk", "loglogistic"),
        ("RiskChiSq", "chisq"),
        ("RISKHYPERGEO", "hypergeo"),
        ("yesno", "bernoulli"),
        ("MaxExtreme", "extvalue"),
        ("minextreme", "extvaluemin"),
        ("betapert", "pert"),
    ]:
        assert canonical_family(alias) == family


def test_the_docs_list_every_family_with_its_risk_function() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "distributions.md").read_text()
    for fam in FAMILY_TABLE.values():
        params = ", ".join("{" + p + "}" if p in fam.vectors else p for p in fam.params)
        assert f"`{fam.risk[0]}({params})` | `{fam.name}`" in text, fam.name
