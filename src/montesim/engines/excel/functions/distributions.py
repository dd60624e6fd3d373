"""More distributions (t and F tails, chi-square tails and inverses, binomial inverse and
range, negative binomial, hypergeometric), the statistical tests (T.TEST, Z.TEST,
F.TEST, CHISQ.TEST), and the statistics that go with them (PERCENTRANK, TRIMMEAN,
STEYX, PROB, SKEW.P, VARA...), vectorized over trials like the rest of ``stats``."""

from __future__ import annotations

import numpy as np

from ..values import DIV0, NA, NUMERR, Value, error, merge_err, numbers
from .helpers import collect
from .registry import ALL, EvalContext, params, register
from .stats import (
    finish,
    mean,
    pairs,
    register_aggregate,
    register_distribution,
    scipy_stats,
    variance,
)


def _sps():
    return scipy_stats()


def _t(df):
    return np.trunc(df)


# -- t, F and chi-square tails and inverses --------------------------------------------------

register_distribution(
    ("T.DIST.2T",),
    lambda x, df: 2 * _sps().t.sf(x, _t(df)),
    2,
    lambda x, d: (x >= 0) & (d >= 1),
)
register_distribution(("T.DIST.RT",), lambda x, df: _sps().t.sf(x, _t(df)), 2, lambda x, d: d >= 1)
register_distribution(
    ("TDIST",),
    lambda x, df, tails: np.trunc(tails) * _sps().t.sf(x, _t(df)),
    3,
    lambda x, d, k: (x >= 0) & (d >= 1) & ((np.trunc(k) == 1) | (np.trunc(k) == 2)),
)
register_distribution(
    ("F.DIST",),
    lambda x, a, b, cum: np.where(
        cum != 0, _sps().f.cdf(x, _t(a), _t(b)), _sps().f.pdf(x, _t(a), _t(b))
    ),
    4,
    lambda x, a, b, c: (x >= 0) & (a >= 1) & (b >= 1),
)
register_distribution(
    ("F.DIST.RT", "FDIST"),
    lambda x, a, b: _sps().f.sf(x, _t(a), _t(b)),
    3,
    lambda x, a, b: (x >= 0) & (a >= 1) & (b >= 1),
)
register_distribution(
    ("F.INV",),
    lambda p, a, b: _sps().f.ppf(p, _t(a), _t(b)),
    3,
    lambda p, a, b: (p >= 0) & (p <= 1) & (a >= 1) & (b >= 1),
)
register_distribution(
    ("F.INV.RT", "FINV"),
    lambda p, a, b: _sps().f.isf(p, _t(a), _t(b)),
    3,
    lambda p, a, b: (p >= 0) & (p <= 1) & (a >= 1) & (b >= 1),
)
register_distribution(
    ("CHISQ.DIST.RT", "CHIDIST"),
    lambda x, df: _sps().chi2.sf(x, _t(df)),
    2,
    lambda x, d: (x >= 0) & (d >= 1),
)
register_distribution(
    ("CHISQ.INV.RT", "CHIINV"),
    lambda p, df: _sps().chi2.isf(p, _t(df)),
    2,
    lambda p, d: (p >= 0) & (p <= 1) & (d >= 1),
)

register_distribution(
    ("BETADIST",),
    lambda x, a, b, lo, hi: _sps().beta.cdf((x - lo) / (hi - lo), a, b),
    5,
    lambda x, a, b, lo, hi: (a > 0) & (b > 0) & (x >= lo) & (x <= hi) & (lo < hi),
    defaults=(0.0, 1.0),
)

# -- discrete distributions ---------------------------------------------------------------------

register_distribution(
    ("BINOM.INV", "CRITBINOM"),
    lambda n, p, a: _sps().binom.ppf(a, _t(n), p),
    3,
    lambda n, p, a: (n >= 0) & (p >= 0) & (p <= 1) & (a >= 0) & (a <= 1),
)


@register("BINOM.DIST.RANGE", min_args=3, max_args=4, values=ALL)
def binom_dist_range(
    ctx: EvalContext, n: Value, p: Value, s: Value, s2: Value | None = None
) -> Value:
    """P(s <= X <= s2) for X ~ Binomial(n, p); s2 defaults to s."""
    nn, ne = numbers(n)
    pp, pe = numbers(p)
    lo, le = numbers(s)
    hi, he = numbers(s2) if s2 is not None else (lo, None)
    nn, lo, hi = np.trunc(nn), np.trunc(lo), np.trunc(hi)
    with np.errstate(all="ignore"):
        b = _sps().binom
        out = b.cdf(hi, nn, pp) - b.cdf(lo - 1, nn, pp)
    bad = (nn < 0) | (pp < 0) | (pp > 1) | (lo < 0) | (lo > nn) | (hi < lo) | (hi > nn)
    return finish(np.asarray(out, float), merge_err(ne, pe, le, he), bad, NUMERR)


register_distribution(
    ("NEGBINOM.DIST",),
    lambda f, s, p, cum: np.where(
        cum != 0,
        _sps().nbinom.cdf(np.trunc(f), np.trunc(s), p),
        _sps().nbinom.pmf(np.trunc(f), np.trunc(s), p),
    ),
    4,
    lambda f, s, p, c: (f >= 0) & (s >= 1) & (p >= 0) & (p <= 1),
)
register_distribution(
    ("NEGBINOMDIST",),
    lambda f, s, p: _sps().nbinom.pmf(np.trunc(f), np.trunc(s), p),
    3,
    lambda f, s, p: (f >= 0) & (s >= 1) & (p >= 0) & (p <= 1),
)


def _hyp_valid(k, n, big_k, big_n, *_):
    k, n, big_k, big_n = (np.trunc(v) for v in (k, n, big_k, big_n))
    return (
        (k >= 0)
        & (k <= np.minimum(n, big_k))
        & (k >= np.maximum(0, n - big_n + big_k))
        & (n > 0)
        & (n <= big_n)
        & (big_k > 0)
        & (big_k <= big_n)
        & (big_n > 0)
    )


def _hyp(k, n, big_k, big_n, cum):
    k, n, big_k, big_n = (np.trunc(v) for v in (k, n, big_k, big_n))
    h = _sps().hypergeom
    return np.where(cum != 0, h.cdf(k, big_n, big_k, n), h.pmf(k, big_n, big_k, n))


register_distribution(("HYPGEOM.DIST",), _hyp, 5, _hyp_valid)
register_distribution(("HYPGEOMDIST",), lambda k, n, a, b: _hyp(k, n, a, b, 0.0), 4, _hyp_valid)

# -- others of one value ------------------------------------------------------------------------

register_distribution(
    ("CONFIDENCE.T",),
    lambda a, sd, n: _sps().t.ppf(1 - a / 2, np.trunc(n) - 1) * sd / np.sqrt(np.trunc(n)),
    3,
    lambda a, s, n: (a > 0) & (a < 1) & (s > 0) & (np.trunc(n) >= 2),
)
register_distribution(
    ("GAMMA",),
    lambda x: _gamma(x),
    1,
    lambda x: ~((x <= 0) & (x == np.trunc(x))),
)
register_distribution(
    ("PERMUTATIONA",),
    lambda n, k: np.trunc(n) ** np.trunc(k),
    2,
    lambda n, k: (n >= 0) & (k >= 0),
)


def _gamma(x):
    from scipy import special

    return special.gamma(x)


# -- aggregates ------------------------------------------------------------------------------------

register_aggregate(("VARA",), lambda v, m, n: variance(v, m, n, 1), min_n=2, a_variant=True)
register_aggregate(("VARPA",), lambda v, m, n: variance(v, m, n, 0), min_n=1, a_variant=True)
register_aggregate(
    ("STDEVPA",), lambda v, m, n: np.sqrt(variance(v, m, n, 0)), min_n=1, a_variant=True
)


def _skew_p(v, m, n):
    mu = mean(v, m, n)[:, None]
    sd = np.sqrt(variance(v, m, n, 0))[:, None]
    return np.where(m, ((v - mu) / sd) ** 3, 0).sum(axis=1) / np.maximum(n, 1)


register_aggregate(("SKEW.P",), _skew_p, min_n=1)


def _per_trial(arr: Value) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The numbers of an array argument, trial by trial (text, booleans, blanks skipped)."""
    vals, mask, err = collect([arr.with_ref(True)])
    return [vals[t][mask[t]] for t in range(vals.shape[0])], err


def _scalar(v: Value | None, default: float, t: int) -> tuple[np.ndarray, np.ndarray | None]:
    if v is None:
        return np.full(t, default), None
    n, e = numbers(v)
    n = np.broadcast_to(n.reshape(-1), (max(t, n.size),))
    return n, None if e is None else e.reshape(-1)


@register("TRIMMEAN", min_args=2, max_args=2, values=params(1))
def trimmean(ctx: EvalContext, arr: Value, pct: Value) -> Value:
    """The mean without the smallest and largest values: floor(n * percent) of them,
    rounded down to an even number, half from each end."""
    data, err = _per_trial(arr)
    p, pe = _scalar(pct, 0.0, len(data))
    t = max(len(data), p.size)
    out, bad = np.zeros(t), np.zeros(t, bool)
    for i in range(t):
        xs = np.sort(data[min(i, len(data) - 1)])
        pi = p[min(i, p.size - 1)]
        if xs.size == 0 or pi < 0 or pi >= 1:
            bad[i] = True
            continue
        k = int(np.floor(xs.size * pi)) // 2
        out[i] = xs[k : xs.size - k].mean()
    return finish(out, merge_err(err, pe), bad, NUMERR)


def _percentrank(exclusive: bool):
    def impl(ctx: EvalContext, arr: Value, x: Value, sig: Value | None = None) -> Value:
        """Where x falls in the data, as a fraction: (values below x) / (n - 1), or
        (values below + 1) / (n + 1) for .EXC, interpolated between data values, and
        truncated (not rounded) to ``significance`` digits (3 by default)."""
        data, err = _per_trial(arr)
        xv, xe = _scalar(x, 0.0, len(data))
        sv, se = _scalar(sig, 3.0, len(data))
        t = max(len(data), xv.size, sv.size)
        out = np.zeros(t)
        code = np.zeros(t, np.int8)
        for i in range(t):
            xs = np.sort(data[min(i, len(data) - 1)])
            xi, digits = xv[min(i, xv.size - 1)], np.trunc(sv[min(i, sv.size - 1)])
            n = xs.size
            if digits < 1 or n == 0:
                code[i] = NUMERR
                continue
            if xi < xs[0] or xi > xs[-1]:
                code[i] = NA
                continue

            def rank(v: float, xs: np.ndarray = xs, n: int = n) -> float:
                below = float(np.searchsorted(xs, v, side="left"))
                return (below + 1) / (n + 1) if exclusive else (below / (n - 1) if n > 1 else 1.0)

            hi = int(np.searchsorted(xs, xi, side="left"))
            if xs[hi] == xi:
                r = rank(xi)
            else:
                a, b = xs[hi - 1], xs[hi]
                r = rank(a) + (xi - a) / (b - a) * (rank(b) - rank(a))
            scale = 10.0 ** int(digits)
            out[i] = np.floor(r * scale + 1e-9) / scale
        return finish(out, merge_err(err, xe, se, code if code.any() else None), code != 0, 0)

    return impl


register("PERCENTRANK", "PERCENTRANK.INC", min_args=2, max_args=3, values=params(1, 2))(
    _percentrank(False)
)
register("PERCENTRANK.EXC", min_args=2, max_args=3, values=params(1, 2))(_percentrank(True))


@register("STEYX", min_args=2, max_args=2)
def steyx(ctx: EvalContext, ys: Value, xs: Value) -> Value:
    """The standard error of the predicted y in the regression of y on x."""
    p = pairs(ys, xs)
    if p is None:
        return error(NA)
    vy, vx, m, err = p
    n = m.sum(axis=1)
    nn = np.maximum(n, 1)
    mx = np.where(m, vx, 0).sum(axis=1) / nn
    my = np.where(m, vy, 0).sum(axis=1) / nn
    dx, dy = np.where(m, vx - mx[:, None], 0), np.where(m, vy - my[:, None], 0)
    sxx, syy, sxy = (dx * dx).sum(axis=1), (dy * dy).sum(axis=1), (dx * dy).sum(axis=1)
    with np.errstate(all="ignore"):
        out = np.sqrt((syy - sxy * sxy / sxx) / (n - 2))
    return finish(out, err, (n < 3) | (sxx == 0), DIV0)


@register("PROB", min_args=3, max_args=4, values=params(2, 3))
def prob(ctx: EvalContext, xr: Value, pr: Value, lo: Value, hi: Value | None = None) -> Value:
    """The probability that a value of ``xr`` lies between ``lo`` and ``hi`` (equals
    ``lo`` when ``hi`` is not given), the probabilities ``pr`` summing to 1."""
    if xr.dims != pr.dims:
        return error(NA)
    p = pairs(xr, pr)
    if p is None:
        return error(NA)
    vx, vp, m, err = p
    a, ae = _scalar(lo, 0.0, vx.shape[0])
    b, be = _scalar(hi, 0.0, vx.shape[0]) if hi is not None else (a, None)
    t = max(vx.shape[0], a.size, b.size)
    vx, vp, m = (np.broadcast_to(z, (t, z.shape[1])) for z in (vx, vp, m))
    a, b = np.broadcast_to(a, (t,)), np.broadcast_to(b, (t,))
    inside = m & (vx >= a[:, None]) & (vx <= b[:, None])
    out = np.where(inside, vp, 0).sum(axis=1)
    total = np.where(m, vp, 0).sum(axis=1)
    bad = (np.where(m, (vp < 0) | (vp > 1), False)).any(axis=1) | (np.abs(total - 1) > 1e-9)
    return finish(out, merge_err(err, ae, be), bad, NUMERR)


# -- tests ---------------------------------------------------------------------------------------


@register("Z.TEST", "ZTEST", min_args=2, max_args=3, values=params(1, 2))
def z_test(ctx: EvalContext, arr: Value, x: Value, sigma: Value | None = None) -> Value:
    """One-tailed P-value of a z-test: 1 - NORM.S.DIST((mean - x) / (sigma / sqrt(n))),
    sigma the sample standard deviation when not given."""
    vals, mask, err = collect([arr.with_ref(True)])
    n = mask.sum(axis=1)
    mu = mean(vals, mask, n)
    sd = np.sqrt(variance(vals, mask, n, 1))
    xv, xe = _scalar(x, 0.0, vals.shape[0])
    if sigma is not None:
        sd, se = _scalar(sigma, 0.0, vals.shape[0])
    else:
        se = None
    with np.errstate(all="ignore"):
        z = (mu - xv) / (sd / np.sqrt(n))
        out = _sps().norm.sf(z)
    bad = (n < 1) | (sd <= 0) | ((n < 2) & (sigma is None))
    return finish(np.asarray(out, float), merge_err(err, xe, se), bad, DIV0)


@register("T.TEST", "TTEST", min_args=4, max_args=4, values=params(2, 3))
def t_test(ctx: EvalContext, a: Value, b: Value, tails: Value, kind: Value) -> Value:
    """Student's t-test P-value: paired (type 1), two samples of equal variance (2), or
    of unequal variance (3, Welch's degrees of freedom)."""
    tv, te = numbers(tails)
    kv, ke = numbers(kind)
    tails_n, kind_n = np.trunc(tv.reshape(-1)[0]), np.trunc(kv.reshape(-1)[0])
    if tails_n not in (1, 2) or kind_n not in (1, 2, 3):
        return error(NUMERR)
    sps = _sps()
    if kind_n == 1:
        if a.dims[0] * a.dims[1] != b.dims[0] * b.dims[1]:
            return error(NA)
        p = pairs(a, b)
        if p is None:
            return error(NA)
        va, vb, m, err = p
        d = va - vb
        n = m.sum(axis=1)
        md = mean(d, m, n)
        sd = np.sqrt(variance(d, m, n, 1))
        with np.errstate(all="ignore"):
            t = md / (sd / np.sqrt(n))
            df = n - 1.0
        bad = (n < 2) | (sd == 0)
    else:
        xa, ma, ea = collect([a.with_ref(True)])
        xb, mb, eb = collect([b.with_ref(True)])
        n1, n2 = ma.sum(axis=1), mb.sum(axis=1)
        m1, m2 = mean(xa, ma, n1), mean(xb, mb, n2)
        v1, v2 = variance(xa, ma, n1, 1), variance(xb, mb, n2, 1)
        err = merge_err(ea, eb)
        with np.errstate(all="ignore"):
            if kind_n == 2:
                df = n1 + n2 - 2.0
                sp = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
                t = (m1 - m2) / np.sqrt(sp * (1 / n1 + 1 / n2))
            else:
                q1, q2 = v1 / n1, v2 / n2
                t = (m1 - m2) / np.sqrt(q1 + q2)
                df = (q1 + q2) ** 2 / (q1 * q1 / (n1 - 1) + q2 * q2 / (n2 - 1))
        bad = (n1 < 2) | (n2 < 2)
    with np.errstate(all="ignore"):
        out = tails_n * sps.t.sf(np.abs(t), df)
    bad = bad | ~np.isfinite(out)
    return finish(np.asarray(out, float), merge_err(err, te, ke), bad, DIV0)


@register("F.TEST", "FTEST", min_args=2, max_args=2)
def f_test(ctx: EvalContext, a: Value, b: Value) -> Value:
    """Two-tailed P-value of the F-test that two samples' variances are equal."""
    xa, ma, ea = collect([a.with_ref(True)])
    xb, mb, eb = collect([b.with_ref(True)])
    n1, n2 = ma.sum(axis=1), mb.sum(axis=1)
    v1, v2 = variance(xa, ma, n1, 1), variance(xb, mb, n2, 1)
    with np.errstate(all="ignore"):
        f = v1 / v2
        dist = _sps().f
        out = 2 * np.minimum(dist.cdf(f, n1 - 1, n2 - 1), dist.sf(f, n1 - 1, n2 - 1))
    bad = (n1 < 2) | (n2 < 2) | (v1 == 0) | (v2 == 0)
    return finish(np.asarray(out, float), merge_err(ea, eb), bad, DIV0)


@register("CHISQ.TEST", "CHITEST", min_args=2, max_args=2)
def chisq_test(ctx: EvalContext, actual: Value, expected: Value) -> Value:
    """The chi-square test of independence: P(chi2 >= sum((A - E)^2 / E)) with
    (rows - 1)(columns - 1) degrees of freedom (n - 1 for a single row or column)."""
    if actual.dims != expected.dims:
        return error(NA)
    rows, cols = actual.dims
    if rows * cols < 2:
        return error(NA)
    p = pairs(actual, expected)
    if p is None:
        return error(NA)
    va, ve, m, err = p
    df = (rows - 1) * (cols - 1) if rows > 1 and cols > 1 else rows * cols - 1
    with np.errstate(all="ignore"):
        chi = np.where(m, (va - ve) ** 2 / ve, 0).sum(axis=1)
        out = _sps().chi2.sf(chi, df)
    bad = np.where(m, ve <= 0, False).any(axis=1)
    return finish(np.asarray(out, float), err, bad, NUMERR)


__all__ = ["steyx", "z_test", "t_test", "f_test", "chisq_test"]
