"""Builders of the continuous families beyond the first sixteen, in @RISK's parameters.

Each checks its parameters (a ParamError names the bad one) and returns a backend; the
mapping from @RISK's parameters to SciPy's is the whole of each builder, so it is written
out with the distribution function it gives.
"""

from __future__ import annotations

import math

import numpy as np

from montesim.sampling.backends import (
    Backend,
    PointBackend,
    ScipyBackend,
    beta_ppf,
    closed,
    integer,
    nonneg,
    norm_ppf,
    positive,
    require,
)


def _location_scale(name: str, loc: float, scale: float, scale_name: str) -> Backend:
    """A location-scale family; scale 0 is all mass at the location (as @RISK allows)."""
    nonneg(scale, scale_name)
    return PointBackend(loc) if scale == 0 else ScipyBackend(name, loc=loc, scale=scale)


def _bounds(lo: float, hi: float) -> None:
    require(lo < hi, "min", f"min ({lo:g}) must be < max ({hi:g})")


def betageneral(alpha1: float, alpha2: float, lo: float, hi: float) -> Backend:
    """Beta(alpha1, alpha2) stretched onto [min, max]."""
    positive(alpha1, "alpha1")
    positive(alpha2, "alpha2")
    require(lo <= hi, "min", f"min ({lo:g}) must be <= max ({hi:g})")
    if lo == hi:
        return PointBackend(lo)
    return closed("beta", beta_ppf, (alpha1, alpha2), lo, hi - lo, alpha1 / (alpha1 + alpha2))


def cauchy(gamma: float, beta: float) -> Backend:
    """F(x) = 1/2 + atan((x - gamma) / beta) / pi; no mean (``mean()`` is NaN)."""
    return _location_scale("cauchy", gamma, beta, "beta")


def chisq(nu: float) -> Backend:
    """Chi-square with nu degrees of freedom."""
    positive(nu, "nu")
    return ScipyBackend("chi2", nu)


def erf(h: float) -> Backend:
    """@RISK's error function distribution: normal(0, 1 / (h * sqrt(2)))."""
    positive(h, "h")
    return closed("norm", norm_ppf, (), 0.0, 1.0 / (h * math.sqrt(2.0)), 0.0)


def erlang(m: float, beta: float) -> Backend:
    """Gamma with a whole shape m and scale beta."""
    shape = integer(m, "m")
    positive(shape, "m")
    positive(beta, "beta")
    return ScipyBackend("gamma", float(shape), scale=beta)


def extvalue(alpha: float, beta: float) -> Backend:
    """Gumbel (largest extreme): F(x) = exp(-exp(-(x - alpha) / beta))."""
    return _location_scale("gumbel_r", alpha, beta, "beta")


def extvaluemin(alpha: float, beta: float) -> Backend:
    """Gumbel (smallest extreme): F(x) = 1 - exp(-exp((x - alpha) / beta))."""
    return _location_scale("gumbel_l", alpha, beta, "beta")


def f(nu1: float, nu2: float) -> Backend:
    """F with nu1 and nu2 degrees of freedom."""
    positive(nu1, "nu1")
    positive(nu2, "nu2")
    return ScipyBackend("f", nu1, nu2)


def frechet(gamma: float, beta: float, alpha: float) -> Backend:
    """F(x) = exp(-((x - gamma) / beta) ** -alpha) for x > gamma."""
    positive(beta, "beta")
    positive(alpha, "alpha")
    return ScipyBackend("invweibull", alpha, loc=gamma, scale=beta)


def general(lo: float, hi: float, xs: np.ndarray, ps: np.ndarray) -> Backend:
    """A density through (min, 0), (xs[i], ps[i]) and (max, 0), linear in between;
    the ps are relative heights (scaled so that the area is 1)."""
    _bounds(lo, hi)
    require(
        len(xs) == len(ps), "ps", f"xs and ps must have the same length ({len(xs)} vs {len(ps)})"
    )
    edges = np.concatenate(([lo], xs, [hi]))
    require(
        bool(np.all(np.diff(edges) > 0)), "xs", "xs must be strictly increasing within (min, max)"
    )
    require(bool(np.all(ps >= 0)), "ps", "ps must all be >= 0")
    require(bool(ps.sum() > 0), "ps", "ps must not all be 0")
    heights = np.concatenate(([0.0], ps, [0.0]))
    return ScipyBackend("general", edges, heights)


def histogrm(lo: float, hi: float, ps: np.ndarray) -> Backend:
    """len(ps) classes of equal width between min and max, each with probability
    proportional to its p, uniform within a class."""
    require(lo <= hi, "min", f"min ({lo:g}) must be <= max ({hi:g})")
    require(len(ps) > 0, "ps", "ps must not be empty")
    require(bool(np.all(ps >= 0)), "ps", "ps must all be >= 0")
    require(bool(ps.sum() > 0), "ps", "ps must not all be 0")
    if lo == hi:
        return PointBackend(lo)
    edges = np.linspace(lo, hi, len(ps) + 1)
    return ScipyBackend("rv_histogram", (ps / ps.sum(), edges), density=False)


def invgauss(mu: float, lam: float) -> Backend:
    """Inverse Gaussian with mean mu and shape lambda."""
    positive(mu, "mu")
    positive(lam, "lambda")
    return ScipyBackend("invgauss", mu / lam, scale=lam)


def johnsonsb(alpha1: float, alpha2: float, a: float, b: float) -> Backend:
    """alpha1 + alpha2 * ln((x - a) / (b - x)) is standard normal, a < x < b."""
    positive(alpha2, "alpha2")
    require(a < b, "a", f"a ({a:g}) must be < b ({b:g})")
    return ScipyBackend("johnsonsb", alpha1, alpha2, loc=a, scale=b - a)


def johnsonsu(alpha1: float, alpha2: float, gamma: float, beta: float) -> Backend:
    """alpha1 + alpha2 * asinh((x - gamma) / beta) is standard normal."""
    positive(alpha2, "alpha2")
    positive(beta, "beta")
    return ScipyBackend("johnsonsu", alpha1, alpha2, loc=gamma, scale=beta)


def kumaraswamy(alpha1: float, alpha2: float, lo: float, hi: float) -> Backend:
    """F(x) = 1 - (1 - z ** alpha1) ** alpha2 with z = (x - min) / (max - min)."""
    positive(alpha1, "alpha1")
    positive(alpha2, "alpha2")
    _bounds(lo, hi)
    return ScipyBackend("kumaraswamy", alpha1, alpha2, loc=lo, scale=hi - lo)


def laplace(mu: float, sigma: float) -> Backend:
    """Laplace with mean mu and standard deviation sigma (@RISK's parameters):
    density exp(-sqrt(2) |x - mu| / sigma) / (sqrt(2) sigma)."""
    nonneg(sigma, "sigma")
    if sigma == 0:
        return PointBackend(mu)
    return ScipyBackend("laplace", loc=mu, scale=sigma / math.sqrt(2.0))


def levy(a: float, c: float) -> Backend:
    """Lévy: F(x) = erfc(sqrt(c / (2 (x - a)))) for x > a; no mean (``mean()`` is inf)."""
    positive(c, "c")
    return ScipyBackend("levy", loc=a, scale=c)


def logistic(alpha: float, beta: float) -> Backend:
    """F(x) = 1 / (1 + exp(-(x - alpha) / beta))."""
    return _location_scale("logistic", alpha, beta, "beta")


def loglogistic(gamma: float, beta: float, alpha: float) -> Backend:
    """F(x) = 1 / (1 + ((x - gamma) / beta) ** -alpha) for x > gamma."""
    positive(beta, "beta")
    positive(alpha, "alpha")
    return ScipyBackend("fisk", alpha, loc=gamma, scale=beta)


def pareto(theta: float, a: float) -> Backend:
    """F(x) = 1 - (a / x) ** theta for x >= a."""
    positive(theta, "theta")
    positive(a, "a")
    return ScipyBackend("pareto", theta, scale=a)


def pareto2(b: float, q: float) -> Backend:
    """Pareto of the second kind (Lomax): F(x) = 1 - (b / (x + b)) ** q for x >= 0."""
    positive(b, "b")
    positive(q, "q")
    return ScipyBackend("lomax", q, scale=b)


def pearson5(alpha: float, beta: float) -> Backend:
    """Inverse gamma: 1/X is gamma(alpha, scale 1/beta)."""
    positive(alpha, "alpha")
    positive(beta, "beta")
    return ScipyBackend("invgamma", alpha, scale=beta)


def pearson6(beta1: float, beta2: float, beta: float) -> Backend:
    """Beta prime: density (x/beta)^(beta1-1) / (beta B(beta1, beta2) (1 + x/beta)^(beta1+beta2))."""
    positive(beta1, "beta1")
    positive(beta2, "beta2")
    positive(beta, "beta")
    return ScipyBackend("betaprime", beta1, beta2, scale=beta)


def rayleigh(b: float) -> Backend:
    """F(x) = 1 - exp(-x^2 / (2 b^2)) for x >= 0."""
    positive(b, "b")
    return ScipyBackend("rayleigh", scale=b)


def student(nu: float) -> Backend:
    """Student's t with nu degrees of freedom."""
    positive(nu, "nu")
    return ScipyBackend("t", nu)
