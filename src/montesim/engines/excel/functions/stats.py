"""Statistics: counts, averages, extremes, dispersion, percentiles, ranks, conditional
aggregates, regression, and distribution functions (NORM.DIST, NORM.INV, ...)."""

from __future__ import annotations

from types import ModuleType

import numpy as np

from ..values import (
    BOOL,
    DIV0,
    EMPTY,
    NA,
    NUM,
    NUMERR,
    TEXT,
    VALUE,
    Value,
    error,
    merge_err,
    num_result,
    numbers,
)
from .criteria import criteria_mask, over_criteria
from .helpers import agg_result, collect, err_where, fast_reduce, numeric
from .math import _if_mask, _resize, _sum_if
from .registry import ALL, EvalContext, params, register


def scipy_stats() -> ModuleType:
    """scipy.stats, imported where used: its import takes most of a second."""
    from scipy import stats

    return stats


def _masked(vals: np.ndarray, mask: np.ndarray) -> np.ma.MaskedArray:
    return np.ma.masked_array(vals, mask=~mask)


def finish(out: np.ndarray, err: np.ndarray | None, bad: np.ndarray, code: int) -> Value:
    err = merge_err(err, np.where(bad, np.int8(code), np.int8(0)).astype(np.int8))
    return agg_result(np.where(bad, 0.0, out), err)


@register("COUNT", min_args=1)
def count(ctx: EvalContext, *args: Value | None) -> Value:
    n = 0
    t = max((a.trials for a in args if a is not None), default=1)
    total = np.zeros(t)
    for a in args:
        if a is None:
            continue
        f = a.full()
        ok = (f.err == 0) & (f.kind == NUM)
        if not a.is_ref and a.dims == (1, 1):
            ok = ok | ((f.err == 0) & (f.kind == BOOL))
            if a.kind is not None and (f.kind == TEXT).any():
                n_, e_ = numbers(a)
                ok = ok | ((e_ == 0) if e_ is not None else np.ones_like(ok))
        total = total + ok.reshape(ok.shape[0], -1).sum(axis=1)
    return agg_result(total + n, None)


@register("COUNTA", min_args=1)
def counta(ctx: EvalContext, *args: Value | None) -> Value:
    t = max((a.trials for a in args if a is not None), default=1)
    total = np.zeros(t)
    for a in args:
        if a is None:
            continue
        f = a.full()
        ok = (f.kind != EMPTY) | (f.err != 0)
        total = total + ok.reshape(ok.shape[0], -1).sum(axis=1)
    return agg_result(total, None)


@register("COUNTBLANK", min_args=1, max_args=1, ranges=ALL)
def countblank(ctx: EvalContext, a: Value) -> Value:
    f = a.full()
    ok = ((f.kind == EMPTY) | ((f.kind == TEXT) & (f.text == ""))) & (f.err == 0)
    return agg_result(ok.reshape(ok.shape[0], -1).sum(axis=1), None)


def register_aggregate(
    names: tuple[str, ...],
    fn,
    *,
    min_n: int = 1,
    code: int = DIV0,
    a_variant: bool = False,
    fast: np.ufunc | None = None,
) -> None:
    def impl(ctx: EvalContext, *args: Value | None) -> Value:
        if fast is not None:
            done = fast_reduce(args, fast)
            if done is not None:
                return done
        vals, mask, err = collect(args, count_text=a_variant, count_bool_in_refs=a_variant)
        n = mask.sum(axis=1)
        with np.errstate(all="ignore"):
            out = fn(vals, mask, n)
        return finish(np.asarray(out, float), err, n < min_n, code)

    register(*names, min_args=1)(impl)


def mean(v, m, n):
    return np.where(m, v, 0.0).sum(axis=1) / np.maximum(n, 1)


def variance(v, m, n, ddof):
    mu = mean(v, m, n)[:, None]
    return np.where(m, (v - mu) ** 2, 0.0).sum(axis=1) / np.maximum(n - ddof, 1)


register_aggregate(("AVERAGE",), mean)
register_aggregate(("AVERAGEA",), mean, a_variant=True)
register_aggregate(
    ("MAX",),
    lambda v, m, n: np.where(n > 0, np.where(m, v, -np.inf).max(axis=1, initial=-np.inf), 0.0),
    min_n=0,
    fast=np.maximum,
)
register_aggregate(
    ("MIN",),
    lambda v, m, n: np.where(n > 0, np.where(m, v, np.inf).min(axis=1, initial=np.inf), 0.0),
    min_n=0,
    fast=np.minimum,
)
register_aggregate(
    ("MAXA",),
    lambda v, m, n: np.where(n > 0, np.where(m, v, -np.inf).max(axis=1, initial=-np.inf), 0.0),
    min_n=0,
    a_variant=True,
)
register_aggregate(
    ("MINA",),
    lambda v, m, n: np.where(n > 0, np.where(m, v, np.inf).min(axis=1, initial=np.inf), 0.0),
    min_n=0,
    a_variant=True,
)
register_aggregate(("STDEV", "STDEV.S"), lambda v, m, n: np.sqrt(variance(v, m, n, 1)), min_n=2)
register_aggregate(("STDEVP", "STDEV.P"), lambda v, m, n: np.sqrt(variance(v, m, n, 0)), min_n=1)
register_aggregate(
    ("STDEVA",), lambda v, m, n: np.sqrt(variance(v, m, n, 1)), min_n=2, a_variant=True
)
register_aggregate(("VAR", "VAR.S"), lambda v, m, n: variance(v, m, n, 1), min_n=2)
register_aggregate(("VARP", "VAR.P"), lambda v, m, n: variance(v, m, n, 0), min_n=1)
register_aggregate(("DEVSQ",), lambda v, m, n: variance(v, m, n, 0) * n, min_n=1, code=NUMERR)
register_aggregate(
    ("AVEDEV",),
    lambda v, m, n: (
        np.where(m, np.abs(v - mean(v, m, n)[:, None]), 0).sum(axis=1) / np.maximum(n, 1)
    ),
    code=NUMERR,
)
register_aggregate(
    ("MEDIAN",), lambda v, m, n: np.ma.median(_masked(v, m), axis=1).filled(0.0), code=NUMERR
)
register_aggregate(
    ("GEOMEAN",),
    lambda v, m, n: np.exp(
        np.where(m, np.log(np.where(m, v, 1.0)), 0).sum(axis=1) / np.maximum(n, 1)
    ),
    code=NUMERR,
)
register_aggregate(
    ("HARMEAN",),
    lambda v, m, n: n / np.where(m, 1.0 / np.where(m, v, 1.0), 0).sum(axis=1),
    code=NUMERR,
)


def _skew(v, m, n):
    mu = mean(v, m, n)[:, None]
    s = np.sqrt(variance(v, m, n, 1))[:, None]
    z3 = np.where(m, ((v - mu) / s) ** 3, 0).sum(axis=1)
    return n / ((n - 1) * (n - 2)) * z3


def _kurt(v, m, n):
    mu = mean(v, m, n)[:, None]
    s = np.sqrt(variance(v, m, n, 1))[:, None]
    z4 = np.where(m, ((v - mu) / s) ** 4, 0).sum(axis=1)
    return n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * z4 - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))


register_aggregate(("SKEW",), _skew, min_n=3)
register_aggregate(("KURT",), _kurt, min_n=4)


def _mode(v, m, n):
    out = np.zeros(v.shape[0])
    for t in range(v.shape[0]):
        xs = v[t][m[t]]
        if xs.size == 0:
            out[t] = np.nan
            continue
        uniq, first, counts = np.unique(xs, return_index=True, return_counts=True)
        best = counts.max()
        if best < 2:
            out[t] = np.nan
            continue
        cands = [(first[i], uniq[i]) for i in range(len(uniq)) if counts[i] == best]
        out[t] = min(cands)[1]
    return out


@register("MODE", "MODE.SNGL", min_args=1)
def mode(ctx: EvalContext, *args: Value | None) -> Value:
    vals, mask, err = collect(args)
    out = _mode(vals, mask, None)
    return finish(np.nan_to_num(out), err, np.isnan(out), NA)


def _sorted_per_trial(arr: Value) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    vals, mask, err = collect([arr.with_ref(True)])
    s = np.sort(np.where(mask, vals, np.inf), axis=1)
    return s, mask.sum(axis=1), err


def _kth(names, largest: bool) -> None:
    def impl(ctx: EvalContext, arr: Value, k: Value) -> Value:
        s, n, err = _sorted_per_trial(arr)
        kk, ke = numbers(k)
        kk = np.ceil(kk.reshape(-1))
        t = max(s.shape[0], kk.shape[0])
        s = np.broadcast_to(s, (t, s.shape[1]))
        n = np.broadcast_to(n, (t,))
        kk = np.broadcast_to(kk, (t,))
        bad = (kk < 1) | (kk > n)
        pos = np.where(largest, n - kk, kk - 1)
        pos = np.clip(pos, 0, max(s.shape[1] - 1, 0)).astype(int)
        out = s[np.arange(t), pos] if s.shape[1] else np.zeros(t)
        return finish(out, merge_err(err, None if ke is None else ke.reshape(-1)), bad, NUMERR)

    register(*names, min_args=2, max_args=2, values=params(1))(impl)


_kth(("LARGE",), True)
_kth(("SMALL",), False)


def _percentile_impl(exclusive: bool):
    def impl(ctx: EvalContext, arr: Value, p: Value) -> Value:
        s, n, err = _sorted_per_trial(arr)
        pp, pe = numbers(p)
        pp = pp.reshape(-1)
        t = max(s.shape[0], pp.shape[0])
        s = np.broadcast_to(s, (t, s.shape[1]))
        n = np.broadcast_to(n, (t,)).astype(float)
        pp = np.broadcast_to(pp, (t,))
        if exclusive:
            h = pp * (n + 1) - 1
            bad = (h < 0) | (h > n - 1) | (n == 0)
        else:
            h = pp * (n - 1)
            bad = (pp < 0) | (pp > 1) | (n == 0)
        h = np.clip(h, 0, np.maximum(n - 1, 0))
        lo = np.floor(h).astype(int)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0).astype(int))
        idx = np.arange(t)
        if s.shape[1] == 0:
            return finish(np.zeros(t), err, np.ones(t, bool), NUMERR)
        a, b = s[idx, lo], s[idx, hi]
        with np.errstate(all="ignore"):
            out = np.where(hi == lo, a, a + (h - lo) * (b - a))
        return finish(out, merge_err(err, None if pe is None else pe.reshape(-1)), bad, NUMERR)

    return impl


register("PERCENTILE", "PERCENTILE.INC", min_args=2, max_args=2, values=params(1))(
    _percentile_impl(False)
)
register("PERCENTILE.EXC", min_args=2, max_args=2, values=params(1))(_percentile_impl(True))


def _quartile(exclusive: bool):
    inner = _percentile_impl(exclusive)

    def impl(ctx: EvalContext, arr: Value, q: Value) -> Value:
        qq, qe = numbers(q)
        qq = np.trunc(qq)
        bad = (qq < 0) | (qq > 4) if not exclusive else (qq < 1) | (qq > 3)
        res = inner(ctx, arr, Value(qq / 4.0, None, qe))
        if np.any(bad):
            err = err_where(np.broadcast_to(bad, res.shape), NUMERR, res.err)
            return num_result(res.num, err, check=False)
        return res

    return impl


register("QUARTILE", "QUARTILE.INC", min_args=2, max_args=2, values=params(1))(_quartile(False))
register("QUARTILE.EXC", min_args=2, max_args=2, values=params(1))(_quartile(True))


def _rank(avg: bool):
    def impl(ctx: EvalContext, x: Value, ref: Value, order: Value | None = None) -> Value:
        vals, mask, err = collect([ref.with_ref(True)])
        xv, xe = numbers(x)
        xv = xv.reshape(-1)
        t = max(vals.shape[0], xv.shape[0])
        vals = np.broadcast_to(vals, (t, vals.shape[1]))
        mask = np.broadcast_to(mask, (t, mask.shape[1]))
        xv = np.broadcast_to(xv, (t,))[:, None]
        asc = order is not None and bool(np.broadcast_to(order.num, order.shape).reshape(-1)[0])
        better = (vals < xv) if asc else (vals > xv)
        above = (better & mask).sum(axis=1)
        equal = ((vals == xv) & mask).sum(axis=1)
        out = above + 1 + (np.maximum(equal - 1, 0) / 2.0 if avg else 0)
        return finish(
            out.astype(float),
            merge_err(err, None if xe is None else xe.reshape(-1)),
            equal == 0,
            NA,
        )

    return impl


register("RANK", "RANK.EQ", min_args=2, max_args=3, values=params(0, 2), ranges=params(1))(
    _rank(False)
)
register("RANK.AVG", min_args=2, max_args=3, values=params(0, 2), ranges=params(1))(_rank(True))


# -- conditional aggregates ------------------------------------------------------------------


@register(
    "COUNTIF", min_args=2, max_args=2, values=params(1), ranges=params(0), criteria=(0, False)
)
@over_criteria(lambda i: i == 1)
def countif(ctx: EvalContext, rng: Value, crit: Value) -> Value:
    m = criteria_mask(rng, crit)
    return agg_result(m.reshape(m.shape[0], -1).sum(axis=1), None)


@register(
    "COUNTIFS",
    min_args=2,
    values=params(every=(1, 2)),
    ranges=params(every=(0, 2)),
    criteria=(0, True),
)
@over_criteria(lambda i: i % 2 == 1)
def countifs(ctx: EvalContext, *pairs: Value | None) -> Value:
    if len(pairs) % 2:
        return error(VALUE)
    mask = _if_mask([(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)])  # type: ignore[misc]
    if mask is None:
        return error(VALUE)
    return agg_result(mask.reshape(mask.shape[0], -1).sum(axis=1), None)


@register(
    "AVERAGEIF", min_args=2, max_args=3, values=params(1), ranges=params(0, 2), criteria=(0, False)
)
@over_criteria(lambda i: i == 1)
def averageif(ctx: EvalContext, rng: Value, crit: Value, avg_range: Value | None = None) -> Value:
    mask = criteria_mask(rng, crit)
    target = rng if avg_range is None else _resize(avg_range, rng.dims)
    s, c, err = _sum_if(target, mask)
    with np.errstate(all="ignore"):
        return finish(s / np.maximum(c, 1), err, c == 0, DIV0)


@register(
    "AVERAGEIFS",
    min_args=3,
    values=params(every=(2, 2)),
    ranges=params(0, every=(1, 2)),
    criteria=(1, True),
)
@over_criteria(lambda i: i >= 2 and i % 2 == 0)
def averageifs(ctx: EvalContext, avg_range: Value, *pairs: Value | None) -> Value:
    if len(pairs) % 2:
        return error(VALUE)
    mask = _if_mask([(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)])  # type: ignore[misc]
    if mask is None:
        return error(VALUE)
    s, c, err = _sum_if(avg_range, mask)
    return finish(s / np.maximum(c, 1), err, c == 0, DIV0)


def _minmax_ifs(largest: bool):
    def impl(ctx: EvalContext, rng: Value, *pairs: Value | None) -> Value:
        if len(pairs) % 2:
            return error(VALUE)
        mask = _if_mask([(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)])  # type: ignore[misc]
        if mask is None:
            return error(VALUE)
        shape = np.broadcast_shapes(rng.shape, mask.shape)
        f = rng.full()
        m = np.broadcast_to(mask, shape) & (np.broadcast_to(f.kind, shape) == NUM)
        num = np.broadcast_to(f.num, shape).reshape(shape[0], -1)
        m = m.reshape(shape[0], -1)
        fill = -np.inf if largest else np.inf
        red = np.where(m, num, fill)
        out = red.max(axis=1) if largest else red.min(axis=1)
        return agg_result(np.where(np.isfinite(out), out, 0.0), None)

    return impl


register(
    "MAXIFS",
    min_args=3,
    values=params(every=(2, 2)),
    ranges=params(0, every=(1, 2)),
    criteria=(1, True),
)(over_criteria(lambda i: i >= 2 and i % 2 == 0)(_minmax_ifs(True)))
register(
    "MINIFS",
    min_args=3,
    values=params(every=(2, 2)),
    ranges=params(0, every=(1, 2)),
    criteria=(1, True),
)(over_criteria(lambda i: i >= 2 and i % 2 == 0)(_minmax_ifs(False)))


# -- paired data -------------------------------------------------------------------------


def pairs(
    ys: Value, xs: Value
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None] | None:
    if ys.dims[0] * ys.dims[1] != xs.dims[0] * xs.dims[1]:
        return None
    vy, my, ey = collect([ys.with_ref(True)])
    vx, mx, ex = collect([xs.with_ref(True)])
    t = max(vy.shape[0], vx.shape[0])
    vy, vx = np.broadcast_to(vy, (t, vy.shape[1])), np.broadcast_to(vx, (t, vx.shape[1]))
    m = np.broadcast_to(my, (t, my.shape[1])) & np.broadcast_to(mx, (t, mx.shape[1]))
    return vy, vx, m, merge_err(ey, ex)


def _regress(ys: Value, xs: Value):
    p = pairs(ys, xs)
    if p is None:
        return None
    vy, vx, m, err = p
    n = m.sum(axis=1)
    nn = np.maximum(n, 1)
    mx = np.where(m, vx, 0).sum(axis=1) / nn
    my = np.where(m, vy, 0).sum(axis=1) / nn
    dx = np.where(m, vx - mx[:, None], 0)
    dy = np.where(m, vy - my[:, None], 0)
    sxx = (dx * dx).sum(axis=1)
    syy = (dy * dy).sum(axis=1)
    sxy = (dx * dy).sum(axis=1)
    return n, mx, my, sxx, syy, sxy, err


@register("SLOPE", min_args=2, max_args=2)
def slope(ctx: EvalContext, ys: Value, xs: Value) -> Value:
    r = _regress(ys, xs)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    with np.errstate(all="ignore"):
        return finish(sxy / sxx, err, sxx == 0, DIV0)


@register("INTERCEPT", min_args=2, max_args=2)
def intercept(ctx: EvalContext, ys: Value, xs: Value) -> Value:
    r = _regress(ys, xs)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    with np.errstate(all="ignore"):
        return finish(my - sxy / sxx * mx, err, sxx == 0, DIV0)


@register("FORECAST", "FORECAST.LINEAR", min_args=3, max_args=3, values=params(0))
def forecast(ctx: EvalContext, x: Value, ys: Value, xs: Value) -> Value:
    r = _regress(ys, xs)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    xv, xe = numbers(x)
    with np.errstate(all="ignore"):
        b = sxy / sxx
        out = my + b * (xv.reshape(-1) - mx)
    return finish(out, merge_err(err, None if xe is None else xe.reshape(-1)), sxx == 0, DIV0)


@register("CORREL", "PEARSON", min_args=2, max_args=2)
def correl(ctx: EvalContext, a: Value, b: Value) -> Value:
    r = _regress(a, b)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    with np.errstate(all="ignore"):
        return finish(sxy / np.sqrt(sxx * syy), err, (sxx == 0) | (syy == 0), DIV0)


@register("RSQ", min_args=2, max_args=2)
def rsq(ctx: EvalContext, a: Value, b: Value) -> Value:
    r = _regress(a, b)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    with np.errstate(all="ignore"):
        return finish(sxy**2 / (sxx * syy), err, (sxx == 0) | (syy == 0), DIV0)


@register("COVAR", "COVARIANCE.P", min_args=2, max_args=2)
def covar(ctx: EvalContext, a: Value, b: Value) -> Value:
    r = _regress(a, b)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    return finish(sxy / np.maximum(n, 1), err, n == 0, DIV0)


@register("COVARIANCE.S", min_args=2, max_args=2)
def covariance_s(ctx: EvalContext, a: Value, b: Value) -> Value:
    r = _regress(a, b)
    if r is None:
        return error(NA)
    n, mx, my, sxx, syy, sxy, err = r
    return finish(sxy / np.maximum(n - 1, 1), err, n < 2, DIV0)


# -- distributions --------------------------------------------------------------------------


def register_distribution(names, fn, nargs: int, valid=None, defaults=()) -> None:
    def impl(ctx: EvalContext, *args: Value | None) -> Value:
        res = numeric(fn, *args, defaults=defaults)
        if valid is not None:
            nums = []
            for i, a in enumerate(args):
                if a is None:
                    nums.append(np.float64(defaults[i - (len(args) - len(defaults))]))
                else:
                    nums.append(numbers(a)[0])
            bad = valid(*nums)
            if np.any(~bad):
                err = err_where(np.broadcast_to(~bad, res.shape), NUMERR, res.err)
                return num_result(res.num, err, check=False)
        return res

    register(*names, min_args=nargs - len(defaults), max_args=nargs, values=ALL)(impl)


def _norm_dist(x, mu, sd, cum):
    return np.where(cum != 0, scipy_stats().norm.cdf(x, mu, sd), scipy_stats().norm.pdf(x, mu, sd))


register_distribution(("NORM.DIST", "NORMDIST"), _norm_dist, 4, lambda x, m, s, c: s > 0)
register_distribution(
    ("NORM.INV", "NORMINV"),
    lambda p, mu, sd: scipy_stats().norm.ppf(p, mu, sd),
    3,
    lambda p, m, s: (p > 0) & (p < 1) & (s > 0),
)
register_distribution(
    ("NORM.S.DIST",),
    lambda z, cum: np.where(cum != 0, scipy_stats().norm.cdf(z), scipy_stats().norm.pdf(z)),
    2,
)
register_distribution(("NORMSDIST",), lambda z: scipy_stats().norm.cdf(z), 1)
register_distribution(
    ("NORM.S.INV", "NORMSINV"), lambda p: scipy_stats().norm.ppf(p), 1, lambda p: (p > 0) & (p < 1)
)
register_distribution(
    ("LOGNORM.DIST",),
    lambda x, mu, sd, cum: np.where(
        cum != 0,
        scipy_stats().norm.cdf((np.log(x) - mu) / sd),
        scipy_stats().norm.pdf((np.log(x) - mu) / sd) / (x * sd),
    ),
    4,
    lambda x, m, s, c: (x > 0) & (s > 0),
)
register_distribution(
    ("LOGNORMDIST",),
    lambda x, mu, sd: scipy_stats().norm.cdf((np.log(x) - mu) / sd),
    3,
    lambda x, m, s: (x > 0) & (s > 0),
)
register_distribution(
    ("LOGNORM.INV", "LOGINV"),
    lambda p, mu, sd: np.exp(mu + sd * scipy_stats().norm.ppf(p)),
    3,
    lambda p, m, s: (p > 0) & (p < 1) & (s > 0),
)
register_distribution(("STANDARDIZE",), lambda x, mu, sd: (x - mu) / sd, 3, lambda x, m, s: s > 0)
register_distribution(
    ("EXPON.DIST", "EXPONDIST"),
    lambda x, lam, cum: np.where(cum != 0, 1 - np.exp(-lam * x), lam * np.exp(-lam * x)),
    3,
    lambda x, l_, c: (x >= 0) & (l_ > 0),
)
register_distribution(
    ("BINOM.DIST", "BINOMDIST"),
    lambda k, n, p, cum: np.where(
        cum != 0,
        scipy_stats().binom.cdf(np.trunc(k), np.trunc(n), p),
        scipy_stats().binom.pmf(np.trunc(k), np.trunc(n), p),
    ),
    4,
    lambda k, n, p, c: (k >= 0) & (k <= n) & (p >= 0) & (p <= 1),
)
register_distribution(
    ("POISSON.DIST", "POISSON"),
    lambda k, lam, cum: np.where(
        cum != 0,
        scipy_stats().poisson.cdf(np.trunc(k), lam),
        scipy_stats().poisson.pmf(np.trunc(k), lam),
    ),
    3,
    lambda k, l_, c: (k >= 0) & (l_ >= 0),
)
register_distribution(
    ("GAMMA.DIST", "GAMMADIST"),
    lambda x, a, b, cum: np.where(
        cum != 0, scipy_stats().gamma.cdf(x, a, scale=b), scipy_stats().gamma.pdf(x, a, scale=b)
    ),
    4,
    lambda x, a, b, c: (x >= 0) & (a > 0) & (b > 0),
)
register_distribution(
    ("GAMMA.INV", "GAMMAINV"),
    lambda p, a, b: scipy_stats().gamma.ppf(p, a, scale=b),
    3,
    lambda p, a, b: (p >= 0) & (p < 1) & (a > 0) & (b > 0),
)
register_distribution(
    ("BETA.DIST",),
    lambda x, a, b, cum, lo, hi: np.where(
        cum != 0,
        scipy_stats().beta.cdf((x - lo) / (hi - lo), a, b),
        scipy_stats().beta.pdf((x - lo) / (hi - lo), a, b) / (hi - lo),
    ),
    6,
    lambda x, a, b, c, lo, hi: (a > 0) & (b > 0) & (x >= lo) & (x <= hi) & (lo < hi),
    defaults=(0.0, 1.0),
)
register_distribution(
    ("BETA.INV", "BETAINV"),
    lambda p, a, b, lo, hi: lo + (hi - lo) * scipy_stats().beta.ppf(p, a, b),
    5,
    lambda p, a, b, lo, hi: (p > 0) & (p < 1) & (a > 0) & (b > 0),
    defaults=(0.0, 1.0),
)
register_distribution(
    ("WEIBULL.DIST", "WEIBULL"),
    lambda x, k, lam, cum: np.where(
        cum != 0,
        1 - np.exp(-((x / lam) ** k)),
        k / lam * (x / lam) ** (k - 1) * np.exp(-((x / lam) ** k)),
    ),
    4,
    lambda x, k, l_, c: (x >= 0) & (k > 0) & (l_ > 0),
)
register_distribution(
    ("T.DIST",),
    lambda x, df, cum: np.where(
        cum != 0, scipy_stats().t.cdf(x, np.trunc(df)), scipy_stats().t.pdf(x, np.trunc(df))
    ),
    3,
    lambda x, d, c: d >= 1,
)
register_distribution(
    ("T.INV",),
    lambda p, df: scipy_stats().t.ppf(p, np.trunc(df)),
    2,
    lambda p, d: (p > 0) & (p < 1) & (d >= 1),
)
register_distribution(
    ("T.INV.2T", "TINV"),
    lambda p, df: scipy_stats().t.ppf(1 - p / 2, np.trunc(df)),
    2,
    lambda p, d: (p > 0) & (p <= 1) & (d >= 1),
)
register_distribution(
    ("CHISQ.DIST",),
    lambda x, df, cum: np.where(
        cum != 0, scipy_stats().chi2.cdf(x, np.trunc(df)), scipy_stats().chi2.pdf(x, np.trunc(df))
    ),
    3,
)
register_distribution(
    ("CHISQ.INV",),
    lambda p, df: scipy_stats().chi2.ppf(p, np.trunc(df)),
    2,
    lambda p, d: (p >= 0) & (p < 1) & (d >= 1),
)
register_distribution(
    ("CONFIDENCE", "CONFIDENCE.NORM"),
    lambda a, sd, n: scipy_stats().norm.ppf(1 - a / 2) * sd / np.sqrt(np.trunc(n)),
    3,
    lambda a, s, n: (a > 0) & (a < 1) & (s > 0) & (n >= 1),
)
register_distribution(("PHI",), lambda x: scipy_stats().norm.pdf(x), 1)
register_distribution(("GAUSS",), lambda x: scipy_stats().norm.cdf(x) - 0.5, 1)
register_distribution(("FISHER",), lambda x: np.arctanh(x), 1, lambda x: np.abs(x) < 1)
register_distribution(("FISHERINV",), lambda y: np.tanh(y), 1)


@register("SUBTOTAL", min_args=2)
def subtotal(ctx: EvalContext, fn: Value, *args: Value | None) -> Value:
    from .registry import get_function

    code = int(np.broadcast_to(fn.num, fn.shape).reshape(-1)[0]) % 100
    name = {
        1: "AVERAGE",
        2: "COUNT",
        3: "COUNTA",
        4: "MAX",
        5: "MIN",
        6: "PRODUCT",
        7: "STDEV",
        8: "STDEVP",
        9: "SUM",
        10: "VAR",
        11: "VARP",
    }.get(code)
    if name is None:
        return error(VALUE)
    return get_function(name).impl(ctx, *args)  # type: ignore[union-attr]
