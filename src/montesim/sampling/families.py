"""The distribution families: their parameters in @RISK's terms and @RISK's names for them.

Each family turns checked parameters into a backend (``sampling.backends``). The first
sixteen are built here; the others in ``sampling.continuous`` and ``sampling.discrete``.
A run whose families all have a closed-form inverse CDF (normal, lognormal, uniform,
triangular, PERT and beta, exponential) never imports ``scipy.stats`` (most of a second).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from montesim.sampling import continuous, discrete
from montesim.sampling.backends import (
    TABLE_LIMIT,
    Backend,
    Direct,
    ParamError,
    PointBackend,
    ScipyBackend,
    TableBackend,
    beta_ppf,
    closed,
    expon_ppf,
    integer,
    lognorm_ppf,
    nonneg,
    norm_ppf,
    ordered,
    positive,
    require,
    triang_ppf,
    uniform_ppf,
)

__all__ = [  # the backends' names are kept here for the modules that import them from here
    "ALIASES",
    "FAMILY_TABLE",
    "TABLE_LIMIT",
    "Backend",
    "Direct",
    "Family",
    "ParamError",
    "PointBackend",
    "ScipyBackend",
    "TableBackend",
    "as_vector",
    "beta_ppf",
    "canonical_family",
    "expon_ppf",
    "lognorm_ppf",
    "norm_ppf",
    "risk_functions",
    "trigen_bounds",
    "triang_ppf",
    "uniform_ppf",
]


# ---- builders -------------------------------------------------------------------------


def _normal(mean: float, sd: float) -> Backend:
    nonneg(sd, "sd")
    return PointBackend(mean) if sd == 0 else closed("norm", norm_ppf, (), mean, sd, 0.0)


def _lognorm(mean: float, sd: float) -> Backend:
    # @RISK's RiskLognorm takes the mean and sd of the lognormal itself
    positive(mean, "mean")
    nonneg(sd, "sd")
    if sd == 0:
        return PointBackend(mean)
    sigma2 = math.log1p((sd / mean) ** 2)
    mu = math.log(mean) - sigma2 / 2
    s = math.sqrt(sigma2)
    return closed("lognorm", lognorm_ppf, (s,), 0, math.exp(mu), np.sqrt(np.exp(s * s)))


def _lognorm2(mu: float, sigma: float) -> Backend:
    nonneg(sigma, "sigma")
    if sigma == 0:
        return PointBackend(math.exp(mu))
    return closed("lognorm", lognorm_ppf, (sigma,), 0, math.exp(mu), np.sqrt(np.exp(sigma * sigma)))


def _uniform(lo: float, hi: float) -> Backend:
    ordered(lo, hi, "min", "max")
    return PointBackend(lo) if lo == hi else closed("uniform", uniform_ppf, (), lo, hi - lo, 0.5)


def _check_three_point(lo: float, mode: float, hi: float) -> None:
    ordered(lo, mode, "min", "mode")
    ordered(mode, hi, "mode", "max")


def _triang(lo: float, mode: float, hi: float) -> Backend:
    _check_three_point(lo, mode, hi)
    if lo == hi:
        return PointBackend(lo)
    c = (mode - lo) / (hi - lo)
    return closed("triang", triang_ppf, (c,), lo, hi - lo, (c + 1.0) / 3.0)


def _pert(lo: float, mode: float, hi: float) -> Backend:
    _check_three_point(lo, mode, hi)
    if lo == hi:
        return PointBackend(lo)
    width = hi - lo
    a = 1 + 4 * (mode - lo) / width
    b = 1 + 4 * (hi - mode) / width
    return closed("beta", beta_ppf, (a, b), lo, width, a / (a + b))


def _beta(alpha: float, beta: float) -> Backend:
    positive(alpha, "alpha")
    positive(beta, "beta")
    return closed("beta", beta_ppf, (alpha, beta), 0, 1, alpha / (alpha + beta))


def _gamma(alpha: float, beta: float) -> Backend:
    positive(alpha, "alpha")
    positive(beta, "beta")
    return ScipyBackend("gamma", alpha, scale=beta)


def _expon(beta: float) -> Backend:
    positive(beta, "beta")
    return closed("expon", expon_ppf, (), 0, beta, 1.0)


def _weibull(alpha: float, beta: float) -> Backend:
    positive(alpha, "alpha")
    positive(beta, "beta")
    return ScipyBackend("weibull_min", alpha, scale=beta)


def _poisson(lam: float) -> Backend:
    nonneg(lam, "lambda")
    return PointBackend(0.0) if lam == 0 else ScipyBackend("poisson", lam, discrete=True)


def _binomial(n: float, p: float) -> Backend:
    trials = integer(n, "n")
    nonneg(trials, "n")
    require(0 <= p <= 1, "p", f"p must be between 0 and 1 (got {p:g})")
    if trials == 0 or p in (0.0, 1.0):
        return PointBackend(trials * p)
    return ScipyBackend("binom", trials, p, discrete=True)


def _intuniform(lo: float, hi: float) -> Backend:
    a, b = integer(lo, "min"), integer(hi, "max")
    ordered(a, b, "min", "max")
    return PointBackend(a) if a == b else ScipyBackend("randint", a, b + 1, discrete=True)


def _discrete(values: np.ndarray, probs: np.ndarray) -> Backend:
    require(len(values) > 0, "values", "values must not be empty")
    require(
        len(values) == len(probs),
        "probs",
        f"values and probs must have the same length ({len(values)} vs {len(probs)})",
    )
    require(bool(np.all(probs >= 0)), "probs", "probs must all be >= 0")
    require(probs.sum() > 0, "probs", "probs must sum to more than 0")
    return TableBackend(values, probs)


def _cumul(lo: float, hi: float, xs: np.ndarray, ps: np.ndarray) -> Backend:
    # @RISK RiskCumul: a piecewise-linear CDF through (min,0), (xs,ps), (max,1)
    require(lo < hi, "min", f"min ({lo:g}) must be < max ({hi:g})")
    require(
        len(xs) == len(ps), "ps", f"xs and ps must have the same length ({len(xs)} vs {len(ps)})"
    )
    edges = np.concatenate(([lo], xs, [hi]))
    cum = np.concatenate(([0.0], ps, [1.0]))
    require(
        bool(np.all(np.diff(edges) > 0)), "xs", "xs must be strictly increasing within (min, max)"
    )
    require(bool(np.all((ps >= 0) & (ps <= 1))), "ps", "ps must be between 0 and 1")
    require(bool(np.all(np.diff(cum) >= 0)), "ps", "ps must be non-decreasing")
    return ScipyBackend("rv_histogram", (np.diff(cum), edges), density=False)


def trigen_bounds(
    bottom: float, mode: float, top: float, p_bottom: float, p_top: float
) -> tuple[float, float]:
    """The (min, max) of the triangle with this mode whose CDF is p_bottom at bottom, p_top at top."""
    m, n = mode - bottom, top - mode

    def legs(width: float) -> tuple[float, float]:
        # (bottom - a)^2 = p_bottom * width * (mode - a), solved for d = mode - a >= m; same on the right
        def leg(gap: float, p: float) -> float:
            s = 2 * gap + p * width
            return (s + math.sqrt(max(s * s - 4 * gap * gap, 0.0))) / 2

        return leg(m, p_bottom), leg(n, 1 - p_top)

    def excess(width: float) -> float:
        d, e = legs(width)
        return d + e - width

    lo_w = m + n
    hi_w = lo_w
    while excess(hi_w) > 0:  # d + e grows slower than the width since p_bottom < p_top
        hi_w *= 2
    from scipy import optimize  # imported where used: SciPy's import is slow

    width = optimize.brentq(excess, lo_w, hi_w, xtol=1e-14 * hi_w, rtol=4 * np.finfo(float).eps)
    d, e = legs(width)
    return mode - d, mode + e


def _trigen(bottom: float, mode: float, top: float, p_bottom: float, p_top: float) -> Backend:
    ordered(bottom, mode, "bottom", "mode")
    ordered(mode, top, "mode", "top")
    # @RISK documents percentages 0..100; fractions 0..1 are accepted when both are <= 1
    scale = 1.0 if max(p_bottom, p_top) <= 1 else 100.0
    pb, pt = p_bottom / scale, p_top / scale
    require(0 <= pb < 1, "bottom_pct", f"bottom_pct must be in [0, 100) (got {p_bottom:g})")
    require(0 < pt <= 1, "top_pct", f"top_pct must be in (0, 100] (got {p_top:g})")
    require(pb < pt, "bottom_pct", "bottom_pct must be < top_pct")
    require(bottom < top, "top", f"bottom ({bottom:g}) must be < top ({top:g})")
    lo, hi = trigen_bounds(bottom, mode, top, pb, pt)
    return _triang(lo, min(max(mode, lo), hi), hi)


def _cumuld(lo: float, hi: float, xs: np.ndarray, ps: np.ndarray) -> Backend:
    # @RISK RiskCumulD: the ps are P(X > x), decreasing
    require(bool(np.all((ps >= 0) & (ps <= 1))), "ps", "ps must be between 0 and 1")
    require(bool(np.all(np.diff(ps) <= 0)), "ps", "ps must be non-increasing (P(X > x))")
    return _cumul(lo, hi, xs, 1.0 - ps)


@dataclass(frozen=True)
class Family:
    """A family: its parameters in order, its builder, and how @RISK writes it."""

    name: str
    params: tuple[str, ...]
    build: Callable[..., Backend]
    vectors: frozenset[str] = frozenset()  # parameters that are lists of numbers
    risk: tuple[str, ...] = ()  # @RISK's functions that create it: RiskNormal
    discrete: bool = False  # whether its values are isolated points
    doc: str = ""  # what the parameters mean, in a line


_V = frozenset
_FAMILIES: tuple[Family, ...] = (
    Family("normal", ("mean", "sd"), _normal, risk=("RiskNormal",), doc="mean, standard deviation"),
    Family(
        "lognorm",
        ("mean", "sd"),
        _lognorm,
        risk=("RiskLognorm",),
        doc="mean and standard deviation of the lognormal itself",
    ),
    Family(
        "lognorm2",
        ("mu", "sigma"),
        _lognorm2,
        risk=("RiskLognorm2",),
        doc="mean and standard deviation of the underlying normal, ln(X)",
    ),
    Family("uniform", ("min", "max"), _uniform, risk=("RiskUniform",), doc="bounds"),
    Family(
        "triang",
        ("min", "mode", "max"),
        _triang,
        risk=("RiskTriang",),
        doc="minimum, most likely, maximum",
    ),
    Family(
        "pert",
        ("min", "mode", "max"),
        _pert,
        risk=("RiskPert",),
        doc="minimum, most likely, maximum; mean (min + 4 mode + max) / 6",
    ),
    Family("beta", ("alpha", "beta"), _beta, risk=("RiskBeta",), doc="shapes, on [0, 1]"),
    Family("gamma", ("alpha", "beta"), _gamma, risk=("RiskGamma",), doc="shape, scale"),
    Family("expon", ("beta",), _expon, risk=("RiskExpon",), doc="mean"),
    Family("weibull", ("alpha", "beta"), _weibull, risk=("RiskWeibull",), doc="shape, scale"),
    Family("poisson", ("lambda",), _poisson, risk=("RiskPoisson",), discrete=True, doc="mean"),
    Family(
        "binomial",
        ("n", "p"),
        _binomial,
        risk=("RiskBinomial",),
        discrete=True,
        doc="successes in n trials of probability p",
    ),
    Family(
        "discrete",
        ("values", "probs"),
        _discrete,
        _V({"values", "probs"}),
        risk=("RiskDiscrete",),
        discrete=True,
        doc="values and their probability weights",
    ),
    Family(
        "intuniform",
        ("min", "max"),
        _intuniform,
        risk=("RiskIntUniform",),
        discrete=True,
        doc="every whole number from min to max equally likely",
    ),
    Family(
        "cumul",
        ("min", "max", "xs", "ps"),
        _cumul,
        _V({"xs", "ps"}),
        risk=("RiskCumul",),
        doc="piecewise-linear CDF through (min, 0), (xs, ps), (max, 1)",
    ),
    Family(
        "trigen",
        ("bottom", "mode", "top", "bottom_pct", "top_pct"),
        _trigen,
        risk=("RiskTrigen",),
        doc="triangle with bottom and top at these percentiles",
    ),
    # ---- continuous, in sampling.continuous
    Family(
        "betageneral",
        ("alpha1", "alpha2", "min", "max"),
        continuous.betageneral,
        risk=("RiskBetaGeneral",),
        doc="beta shapes, stretched onto [min, max]",
    ),
    Family(
        "cauchy",
        ("gamma", "beta"),
        continuous.cauchy,
        risk=("RiskCauchy",),
        doc="location (median), scale; no mean",
    ),
    Family("chisq", ("nu",), continuous.chisq, risk=("RiskChiSq",), doc="degrees of freedom"),
    Family(
        "cumuld",
        ("min", "max", "xs", "ps"),
        _cumuld,
        _V({"xs", "ps"}),
        risk=("RiskCumulD",),
        doc="piecewise-linear CDF with P(X > xs) = ps",
    ),
    Family(
        "erf",
        ("h",),
        continuous.erf,
        risk=("RiskErf",),
        doc="normal(0, 1 / (h sqrt 2)): h is the precision",
    ),
    Family(
        "erlang",
        ("m", "beta"),
        continuous.erlang,
        risk=("RiskErlang",),
        doc="gamma with whole shape m, scale beta",
    ),
    Family(
        "extvalue",
        ("alpha", "beta"),
        continuous.extvalue,
        risk=("RiskExtValue",),
        doc="Gumbel of maxima: location (mode), scale",
    ),
    Family(
        "extvaluemin",
        ("alpha", "beta"),
        continuous.extvaluemin,
        risk=("RiskExtValueMin",),
        doc="Gumbel of minima: location (mode), scale",
    ),
    Family("f", ("nu1", "nu2"), continuous.f, risk=("RiskF",), doc="degrees of freedom"),
    Family(
        "frechet",
        ("gamma", "beta", "alpha"),
        continuous.frechet,
        risk=("RiskFrechet",),
        doc="location, scale, shape",
    ),
    Family(
        "general",
        ("min", "max", "xs", "ps"),
        continuous.general,
        _V({"xs", "ps"}),
        risk=("RiskGeneral",),
        doc="density through (min, 0), (xs, ps), (max, 0), linear between",
    ),
    Family(
        "histogrm",
        ("min", "max", "ps"),
        continuous.histogrm,
        _V({"ps"}),
        risk=("RiskHistogrm",),
        doc="equal-width classes from min to max with weights ps",
    ),
    Family(
        "invgauss",
        ("mu", "lambda"),
        continuous.invgauss,
        risk=("RiskInvGauss",),
        doc="mean, shape",
    ),
    Family(
        "johnsonsb",
        ("alpha1", "alpha2", "a", "b"),
        continuous.johnsonsb,
        risk=("RiskJohnsonSB",),
        doc="alpha1 + alpha2 ln((x - a) / (b - x)) is N(0, 1)",
    ),
    Family(
        "johnsonsu",
        ("alpha1", "alpha2", "gamma", "beta"),
        continuous.johnsonsu,
        risk=("RiskJohnsonSU",),
        doc="alpha1 + alpha2 asinh((x - gamma) / beta) is N(0, 1)",
    ),
    Family(
        "kumaraswamy",
        ("alpha1", "alpha2", "min", "max"),
        continuous.kumaraswamy,
        risk=("RiskKumaraswamy",),
        doc="shapes, on [min, max]",
    ),
    Family(
        "laplace",
        ("mu", "sigma"),
        continuous.laplace,
        risk=("RiskLaplace",),
        doc="mean, standard deviation",
    ),
    Family("levy", ("a", "c"), continuous.levy, risk=("RiskLevy",), doc="location, scale"),
    Family(
        "logistic",
        ("alpha", "beta"),
        continuous.logistic,
        risk=("RiskLogistic",),
        doc="location (mean), scale",
    ),
    Family(
        "loglogistic",
        ("gamma", "beta", "alpha"),
        continuous.loglogistic,
        risk=("RiskLoglogistic",),
        doc="location, scale, shape",
    ),
    Family(
        "pareto",
        ("theta", "a"),
        continuous.pareto,
        risk=("RiskPareto",),
        doc="shape, scale (the minimum)",
    ),
    Family(
        "pareto2",
        ("b", "q"),
        continuous.pareto2,
        risk=("RiskPareto2",),
        doc="scale, shape (Lomax, from 0)",
    ),
    Family(
        "pearson5",
        ("alpha", "beta"),
        continuous.pearson5,
        risk=("RiskPearson5",),
        doc="inverse gamma: shape, scale",
    ),
    Family(
        "pearson6",
        ("beta1", "beta2", "beta"),
        continuous.pearson6,
        risk=("RiskPearson6",),
        doc="beta prime: shapes, scale",
    ),
    Family("rayleigh", ("b",), continuous.rayleigh, risk=("RiskRayleigh",), doc="scale"),
    Family("student", ("nu",), continuous.student, risk=("RiskStudent",), doc="degrees of freedom"),
    # ---- discrete, in sampling.discrete
    Family(
        "bernoulli",
        ("p",),
        discrete.bernoulli,
        risk=("RiskBernoulli",),
        discrete=True,
        doc="1 with probability p, else 0",
    ),
    Family(
        "duniform",
        ("values",),
        discrete.duniform,
        _V({"values"}),
        risk=("RiskDUniform",),
        discrete=True,
        doc="each listed value equally likely",
    ),
    Family(
        "geomet",
        ("p",),
        discrete.geomet,
        risk=("RiskGeomet",),
        discrete=True,
        doc="failures before the first success",
    ),
    Family(
        "hypergeo",
        ("n", "D", "M"),
        discrete.hypergeo,
        risk=("RiskHypergeo",),
        discrete=True,
        doc="successes in n draws without replacement from M holding D successes",
    ),
    Family(
        "negbin",
        ("s", "p"),
        discrete.negbin,
        risk=("RiskNegbin",),
        discrete=True,
        doc="failures before the s-th success",
    ),
)

FAMILY_TABLE: dict[str, Family] = {f.name: f for f in _FAMILIES}

# other spellings users write (after lower-casing and dropping a "Risk" prefix)
ALIASES: dict[str, str] = {
    "norm": "normal",
    "lognormal": "lognorm",
    "lognormal2": "lognorm2",
    "triangular": "triang",
    "exponential": "expon",
    "exp": "expon",
    "binom": "binomial",
    "chisquare": "chisq",
    "chi2": "chisq",
    "gumbel": "extvalue",
    "gumbelmin": "extvaluemin",
    "histogram": "histogrm",
    "inversegaussian": "invgauss",
    "wald": "invgauss",
    "fisk": "loglogistic",
    "lomax": "pareto2",
    "inversegamma": "pearson5",
    "invgamma": "pearson5",
    "betaprime": "pearson6",
    "t": "student",
    "geometric": "geomet",
    "negbinomial": "negbin",
    "negativebinomial": "negbin",
    "hypergeometric": "hypergeo",
    "cumulative": "cumul",
    # Crystal Ball's names, where its parameters are @RISK's
    "yesno": "bernoulli",
    "maxextreme": "extvalue",
    "minextreme": "extvaluemin",
    "betapert": "pert",
}


def canonical_family(name: str) -> str | None:
    """The canonical family for a name such as ``"RiskNormal"`` or ``"triangular"``, else None."""
    key = name.strip().lower()
    if key.startswith("risk") and key not in FAMILY_TABLE:
        key = key[4:]
    key = ALIASES.get(key, key)
    return key if key in FAMILY_TABLE else None


def risk_functions() -> dict[str, str]:
    """@RISK's distribution functions, upper case without "RISK", to their families:
    ``{"NORMAL": "normal", "LOGLOGISTIC": "loglogistic", ...}``."""
    return {r.upper()[4:]: f.name for f in _FAMILIES for r in f.risk}


def as_vector(value: float | Sequence[float] | np.ndarray) -> np.ndarray:
    return np.atleast_1d(np.asarray(value, dtype=np.float64)).ravel()
