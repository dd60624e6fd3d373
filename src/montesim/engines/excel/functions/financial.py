"""Financial functions, vectorized over trials: NPV, IRR (Newton over all trials at once),
XNPV, XIRR, PMT, PV, FV, RATE, NPER, IPMT, PPMT, depreciation (SLN, SYD, DB, DDB, VDB)."""

from __future__ import annotations

import numpy as np

from ..values import NUMERR, VALUE, Value, error, merge_err, num_result, numbers
from .helpers import agg_result, collect, err_where, lift, numeric
from .registry import ALL, EvalContext, params, register


def _growth(r, n):
    """(1 + r) ** n as Excel computes it, exp(n * log1p(r)): its cached PMT values match
    this to the last bit, and a schedule paid with them ends at 0 where the power's
    rounding leaves a residue (-4.3e-10 after 60 rows in a published model)."""
    return np.exp(n * np.log1p(r))


def _pv(r, n, pmt, fv, typ):
    with np.errstate(all="ignore"):
        g = _growth(r, n)
        ann = np.where(r == 0, n, (g - 1) / np.where(r == 0, 1, r))
        return np.where(r == 0, -(fv + pmt * n), -(fv + pmt * (1 + r * typ) * ann) / g)


def _fv(r, n, pmt, pv, typ):
    with np.errstate(all="ignore"):
        g = _growth(r, n)
        ann = (g - 1) / np.where(r == 0, 1, r)
        return np.where(r == 0, -(pv + pmt * n), -(pv * g + pmt * (1 + r * typ) * ann))


def _pmt(r, n, pv, fv, typ):
    with np.errstate(all="ignore"):
        g = _growth(r, n)
        rr = np.where(r == 0, 1, r)
        # r * pv * g in that order: Excel's cached payments are that product, to the bit
        return np.where(
            r == 0, -(pv + fv) / n, -(rr * pv * g + rr * fv) / ((1 + rr * typ) * (g - 1))
        )


def _ipmt(r, per, n, pv, fv, typ):
    pmt = _pmt(r, n, pv, fv, typ)
    adv = typ != 0
    with np.errstate(all="ignore"):
        later = np.where(adv, _fv(r, per - 2, pmt, pv, 1) - pmt, _fv(r, per - 1, pmt, pv, 0))
        first = np.where(adv, 0.0, -pv)
        return np.where(per == 1, first, later) * r


@register("PV", min_args=3, max_args=5, values=ALL)
def pv(ctx: EvalContext, r, n, pmt, fv=None, typ=None) -> Value:
    return numeric(_pv, r, n, pmt, fv, typ, defaults=(0.0, 0.0))


@register("FV", min_args=3, max_args=5, values=ALL)
def fv(ctx: EvalContext, r, n, pmt, pv=None, typ=None) -> Value:
    return numeric(_fv, r, n, pmt, pv, typ, defaults=(0.0, 0.0))


@register("PMT", min_args=3, max_args=5, values=ALL)
def pmt(ctx: EvalContext, r, n, pv, fv=None, typ=None) -> Value:
    return numeric(_pmt, r, n, pv, fv, typ, defaults=(0.0, 0.0))


@register("IPMT", min_args=4, max_args=6, values=ALL)
def ipmt(ctx: EvalContext, r, per, n, pv, fv=None, typ=None) -> Value:
    res = numeric(_ipmt, r, per, n, pv, fv, typ, defaults=(0.0, 0.0))
    return _check_period(res, per, n)


@register("PPMT", min_args=4, max_args=6, values=ALL)
def ppmt(ctx: EvalContext, r, per, n, pv, fv=None, typ=None) -> Value:
    res = numeric(
        lambda r, p, n, v, f, t: _pmt(r, n, v, f, t) - _ipmt(r, p, n, v, f, t),
        r,
        per,
        n,
        pv,
        fv,
        typ,
        defaults=(0.0, 0.0),
    )
    return _check_period(res, per, n)


def _check_period(res: Value, per: Value, n: Value) -> Value:
    p, _ = numbers(per)
    nn, _ = numbers(n)
    bad = (p < 1) | (p > nn)
    if np.any(bad):
        return num_result(
            res.num, err_where(np.broadcast_to(bad, res.shape), NUMERR, res.err), check=False
        )
    return res


@register("NPER", min_args=3, max_args=5, values=ALL)
def nper(ctx: EvalContext, r, pmt, pv, fv=None, typ=None) -> Value:
    def f(r, pmt, pv, fv, typ):
        with np.errstate(all="ignore"):
            a = pmt * (1 + r * typ)
            return np.where(
                r == 0, -(pv + fv) / pmt, np.log((a - fv * r) / (a + pv * r)) / np.log1p(r)
            )

    return numeric(f, r, pmt, pv, fv, typ, defaults=(0.0, 0.0))


def _newton(
    f, df, x0: np.ndarray, iters: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorized Newton iteration; returns (root, converged)."""
    x = x0.astype(float).copy()
    done = np.zeros(x.shape, bool)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            fx, dfx = f(x), df(x)
            step = fx / dfx
            step = np.where(np.isfinite(step), step, 0.0)
            x_new = np.where(done, x, x - step)
            x_new = np.where(x_new <= -1, (x - 1) / 2, x_new)  # stay above -100%
            conv = np.abs(x_new - x) <= tol * np.maximum(1.0, np.abs(x_new))
            done = done | conv
            x = x_new
            if done.all():
                break
        ok = (
            done
            & np.isfinite(x)
            & (np.abs(f(x)) < 1e-6 * np.maximum(1.0, np.abs(f(np.zeros_like(x)))))
        )
    return x, ok


@register("RATE", min_args=3, max_args=6, values=ALL)
def rate(ctx: EvalContext, n, pmt, pv, fv=None, typ=None, guess=None) -> Value:
    (nv, pm, p, f, t, g), err = _nums(
        [n, pmt, pv, fv, typ, guess], [None, None, None, 0.0, 0.0, 0.1]
    )
    shape = np.broadcast_shapes(nv.shape, pm.shape, p.shape, f.shape, t.shape, g.shape)
    nv, pm, p, f, t = (np.broadcast_to(a, shape) for a in (nv, pm, p, f, t))

    def fn(r):
        return np.where(
            np.abs(r) < 1e-12,
            p + pm * nv + f,
            p * (1 + r) ** nv + pm * (1 + r * t) * ((1 + r) ** nv - 1) / np.where(r == 0, 1, r) + f,
        )

    def dfn(r, h=1e-7):
        return (fn(r + h) - fn(r - h)) / (2 * h)

    x, ok = _newton(fn, dfn, np.broadcast_to(g, shape))
    return num_result(np.where(ok, x, 0.0), err_where(~ok, NUMERR, err))


def _nums(vals, defaults):
    out, errs = [], []
    for v, d in zip(vals, defaults, strict=True):
        if v is None:
            out.append(np.full((1, 1, 1), d))
            continue
        n, e = numbers(v)
        out.append(n)
        errs.append(e)
    return out, merge_err(*errs)


@register("NPV", min_args=2, values=params(0))
def npv(ctx: EvalContext, r: Value, *values: Value | None) -> Value:
    rv, re_ = numbers(r)
    vals, mask, err = collect(values)
    rr = rv.reshape(-1)[:, None]
    pos = np.cumsum(mask, axis=1)
    with np.errstate(all="ignore"):
        out = np.where(mask, vals / (1 + rr) ** pos, 0.0).sum(axis=1)
    err = merge_err(None if re_ is None else re_.reshape(-1), err)
    err = err_where((rv.reshape(-1) == -1), 2, err)
    return agg_result(out, err)


def _cashflows(values: Value) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    return collect([values.with_ref(True)])


@register("IRR", min_args=1, max_args=2, values=params(1))
def irr(ctx: EvalContext, values: Value, guess: Value | None = None) -> Value:
    vals, mask, err = _cashflows(values)
    t = vals.shape[0]
    g = np.full(t, 0.1) if guess is None else np.broadcast_to(numbers(guess)[0].reshape(-1), (t,))
    pos = np.cumsum(mask, axis=1) - 1
    v = np.where(mask, vals, 0.0)
    has_sign_change = (v > 0).any(axis=1) & (v < 0).any(axis=1)

    if mask.all():  # every trial has the same positions: Horner's rule, active trials only
        # trials whose flows never change sign have no rate (#NUM!): no search for them
        x = np.zeros(t)
        ok = np.zeros(t, bool)
        for alt in (None, 0.0, -0.5, 0.5, 1.0, -0.9, 5.0):
            retry = np.flatnonzero(~ok & has_sign_change)
            if retry.size == 0:
                break
            start = g[retry].astype(float) if alt is None else np.full(retry.size, alt)
            x2, ok2 = _irr_horner(v[retry], start)
            x[retry] = np.where(ok2 | (alt is None), x2, x[retry])
            ok[retry] = ok2
    else:

        def f(r):
            return (v / (1 + r[:, None]) ** pos).sum(axis=1)

        def df(r):
            return (-pos * v / (1 + r[:, None]) ** (pos + 1)).sum(axis=1)

        x, ok = _newton(f, df, g.astype(float))
        for alt in (0.0, -0.5, 0.5, 1.0, -0.9, 5.0):
            if ok.all():
                break
            x2, ok2 = _newton(f, df, np.full(t, alt))
            x = np.where(ok, x, x2)
            ok = ok | ok2
    bad = ~ok | ~has_sign_change
    return agg_result(np.where(bad, 0.0, x), err_where(bad, NUMERR, err))


def _npv_horner(flows: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NPV of flows ``flows`` (n, T): period by row, trials contiguous, at rates ``r``
    (T,), and its derivative in r, by Horner's rule (in place: no temporaries per period)."""
    z = 1.0 / (1.0 + r)
    p = flows[-1].copy()
    dp = np.zeros_like(p)
    for k in range(flows.shape[0] - 2, -1, -1):
        dp *= z  # dp = dp * z + p, the same two roundings
        dp += p
        p *= z
        p += flows[k]
    return p, -dp * z * z  # d/dr = d/dz * dz/dr, dz/dr = -z^2


def _irr_horner(
    v: np.ndarray, x0: np.ndarray, iters: int = 100, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Newton's method for IRR on the trials not converged yet; returns (rate, converged).

    ``v`` is (T, n); Horner's rule reads it a period at a time, so it works on the
    transpose, each period's trials contiguous."""
    flows = np.ascontiguousarray(v.T)
    x = x0.copy()
    done = np.zeros(x.shape, bool)
    active = np.arange(x.size)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            if active.size == 0:
                break
            xa = x[active]
            fx, dfx = _npv_horner(flows if active.size == x.size else flows[:, active], xa)
            step = fx / dfx
            step = np.where(np.isfinite(step), step, 0.0)
            new = xa - step
            new = np.where(new <= -1, (xa - 1) / 2, new)  # stay above -100%
            conv = np.abs(new - xa) <= tol * np.maximum(1.0, np.abs(new))
            x[active] = new
            done[active[conv]] = True
            active = active[~conv]
        fx, _ = _npv_horner(flows, x)
        scale = np.maximum(1.0, np.abs(v.sum(axis=1)))
        ok = done & np.isfinite(x) & (np.abs(fx) < 1e-6 * scale)
    return x, ok


def _xflows(values: Value, dates: Value):
    vals, vm, ve = collect([values.with_ref(True)])
    ds, dm, de = collect([dates.with_ref(True)])
    if vals.shape[1] != ds.shape[1]:
        return None
    t = max(vals.shape[0], ds.shape[0])
    vals = np.broadcast_to(vals, (t, vals.shape[1]))
    ds = np.broadcast_to(np.floor(ds), (t, ds.shape[1]))
    yrs = (ds - ds[:, :1]) / 365.0
    return vals, yrs, merge_err(ve, de)


@register("XNPV", min_args=3, max_args=3, values=params(0))
def xnpv(ctx: EvalContext, r: Value, values: Value, dates: Value) -> Value:
    fl = _xflows(values, dates)
    if fl is None:
        return error(NUMERR)
    vals, yrs, err = fl
    rv = numbers(r)[0].reshape(-1)[:, None]
    with np.errstate(all="ignore"):
        out = (vals / (1 + rv) ** yrs).sum(axis=1)
    return agg_result(out, err)


@register("XIRR", min_args=2, max_args=3, values=params(2))
def xirr(ctx: EvalContext, values: Value, dates: Value, guess: Value | None = None) -> Value:
    fl = _xflows(values, dates)
    if fl is None:
        return error(NUMERR)
    vals, yrs, err = fl
    t = vals.shape[0]
    g = np.full(t, 0.1) if guess is None else np.broadcast_to(numbers(guess)[0].reshape(-1), (t,))

    def f(r):
        return (vals / (1 + r[:, None]) ** yrs).sum(axis=1)

    def df(r):
        return (-yrs * vals / (1 + r[:, None]) ** (yrs + 1)).sum(axis=1)

    x, ok = _newton(f, df, g.astype(float))
    return agg_result(np.where(ok, x, 0.0), err_where(~ok, NUMERR, err))


@register("MIRR", min_args=3, max_args=3, values=params(1, 2))
def mirr(ctx: EvalContext, values: Value, fr: Value, rr: Value) -> Value:
    vals, mask, err = _cashflows(values)
    f = numbers(fr)[0].reshape(-1)[:, None]
    r = numbers(rr)[0].reshape(-1)[:, None]
    n = mask.sum(axis=1)
    pos = np.cumsum(mask, axis=1) - 1
    v = np.where(mask, vals, 0.0)
    with np.errstate(all="ignore"):
        pv_neg = np.where(v < 0, v / (1 + f) ** pos, 0).sum(axis=1)
        fv_pos = np.where(v > 0, v * (1 + r) ** (n[:, None] - 1 - pos), 0).sum(axis=1)
        out = (-fv_pos / pv_neg) ** (1.0 / (n - 1)) - 1
    bad = (pv_neg == 0) | (fv_pos == 0)
    return agg_result(np.where(bad, 0, out), err_where(bad, 2, err))


@register("EFFECT", min_args=2, max_args=2, values=ALL)
def effect(ctx: EvalContext, r: Value, n: Value) -> Value:
    return numeric(
        lambda r, n: np.where((r > 0) & (n >= 1), (1 + r / np.trunc(n)) ** np.trunc(n) - 1, np.nan),
        r,
        n,
    )


@register("NOMINAL", min_args=2, max_args=2, values=ALL)
def nominal(ctx: EvalContext, r: Value, n: Value) -> Value:
    return numeric(
        lambda r, n: np.where(
            (r > 0) & (n >= 1), np.trunc(n) * ((1 + r) ** (1 / np.trunc(n)) - 1), np.nan
        ),
        r,
        n,
    )


@register("SLN", min_args=3, max_args=3, values=ALL)
def sln(ctx: EvalContext, cost: Value, salvage: Value, life: Value) -> Value:
    c, _ = numbers(life)
    res = numeric(lambda a, b, n: (a - b) / n, cost, salvage, life)
    if np.any(c == 0):
        return num_result(
            res.num, err_where(np.broadcast_to(c == 0, res.shape), 2, res.err), check=False
        )
    return res


@register("SYD", min_args=4, max_args=4, values=ALL)
def syd(ctx: EvalContext, cost, salvage, life, per) -> Value:
    return numeric(
        lambda c, s, n, p: np.where(
            (n > 0) & (p >= 1) & (p <= n), (c - s) * (n - p + 1) * 2 / (n * (n + 1)), np.nan
        ),
        cost,
        salvage,
        life,
        per,
    )


def get_ddb(cost: float, salvage: float, life: float, period: float, factor: float) -> float:
    rate = factor / life
    if rate >= 1:
        rate = 1.0
        old = cost if period == 1 else 0.0
    else:
        old = cost * (1 - rate) ** (period - 1)
    new = cost * (1 - rate) ** period
    d = old - salvage if new < salvage else old - new
    return max(d, 0.0)


def _ddb(cost, salvage, life, period, factor=None):
    factor = 2.0 if factor is None else factor
    if cost < 0 or salvage < 0 or life <= 0 or period <= 0 or period > life or factor <= 0:
        from ..values import XlError

        raise XlError(NUMERR)
    return get_ddb(cost, salvage, life, period, factor)


register("DDB", min_args=4, max_args=5, values=ALL)(
    lambda ctx, *a: lift(_ddb, list(a) + [None] * (5 - len(a)), "nnnnn")
)


def _vdb(cost, salvage, life, start, end, factor=None, no_switch=None):
    from ..values import XlError

    factor = 2.0 if factor is None else factor
    if (
        start < 0
        or end < start
        or end > life
        or cost < 0
        or salvage > cost
        or factor <= 0
        or life <= 0
    ):
        raise XlError(NUMERR)
    if no_switch:
        int_start, int_end = int(np.floor(start)), int(np.ceil(end))
        total = 0.0
        for i in range(int_start + 1, int_end + 1):
            term = get_ddb(cost, salvage, life, i, factor)
            if i == int_start + 1:
                term *= min(end, int_start + 1) - start
            elif i == int_end:
                term *= end + 1 - int_end
            total += term
        return total
    return _vdb_switch(cost, salvage, life, start, end, factor)


def _vdb_switch(
    cost: float, salvage: float, life: float, start: float, end: float, factor: float
) -> float:
    """Declining balance switching to straight line, Excel's way for fractional periods.

    The periods are laid on a grid 0, f, f+1, f+2, ... where f is the fractional part
    of ``start`` (0, 1, 2, ... when ``start`` is whole). Each period depreciates the
    larger of declining balance (book * rate) and straight line over the life left;
    a period cut short by ``end`` (or the first one, of length f) takes its share.
    """
    rate = min(factor / life, 1.0)
    frac = start - np.floor(start)
    t, book, total = 0.0, cost, 0.0
    eps = 1e-9
    while t < end - eps:
        step = frac if (t == 0.0 and frac > eps) else 1.0
        full_ddb = min(book * rate, max(book - salvage, 0.0))
        sl = (book - salvage) / (life - t) if life - t > eps else book - salvage
        dep = max(full_ddb, sl, 0.0)
        length = min(step, end - t)
        part = dep * length
        if t >= start - eps:  # ``start`` lies on the grid
            total += part
        book -= part
        t += length
    return total


register("VDB", min_args=5, max_args=7, values=ALL)(
    lambda ctx, *a: lift(_vdb, list(a) + [None] * (7 - len(a)), "nnnnnnb")
)


def _db(cost, salvage, life, period, month=None):
    from ..values import XlError

    month = 12.0 if month is None else np.trunc(month)
    life = np.trunc(life)
    period = np.trunc(period)
    if (
        cost < 0
        or salvage < 0
        or life <= 0
        or period <= 0
        or month < 1
        or month > 12
        or period > life + 1
    ):
        raise XlError(NUMERR)
    if cost == 0:
        return 0.0
    rate = round(1 - (salvage / cost) ** (1 / life), 3)
    total = cost * rate * month / 12
    if period == 1:
        return total
    dep = total
    for p in range(2, int(period) + 1):
        dep = (cost - total) * rate
        if p == life + 1:
            dep = dep * (12 - month) / 12
        total += dep
    return dep


register("DB", min_args=4, max_args=5, values=ALL)(
    lambda ctx, *a: lift(_db, list(a) + [None] * (5 - len(a)), "nnnnn")
)


def _cum(principal: bool):
    def impl(ctx: EvalContext, r, n, pv, start, end, typ) -> Value:
        def f(r, n, pv, s, e, t):
            s, e = np.ceil(s), np.floor(e)
            total = np.zeros(
                np.broadcast_shapes(r.shape, n.shape, pv.shape, s.shape, e.shape, t.shape)
            )
            hi = int(np.max(e)) if np.size(e) else 0
            lo = int(np.min(s)) if np.size(s) else 1
            for p in range(max(lo, 1), hi + 1):
                ip = _ipmt(r, np.float64(p), n, pv, 0.0, t)
                term = _pmt(r, n, pv, 0.0, t) - ip if principal else ip
                total = total + np.where((p >= s) & (p <= e), term, 0.0)
            bad = (r <= 0) | (n <= 0) | (pv <= 0) | (s < 1) | (e < s) | ((t != 0) & (t != 1))
            return np.where(bad, np.nan, total)

        return numeric(f, r, n, pv, start, end, typ)

    return impl


register("CUMIPMT", min_args=6, max_args=6, values=ALL)(_cum(False))
register("CUMPRINC", min_args=6, max_args=6, values=ALL)(_cum(True))

__all__ = ["VALUE"]


@register("RRI", min_args=3, max_args=3, values=ALL)
def rri(ctx: EvalContext, n: Value, pv: Value, fv: Value) -> Value:
    """The equivalent interest rate for growth from pv to fv over n periods."""
    x, ex = numbers(n)
    a, ea = numbers(pv)
    b, eb = numbers(fv)
    with np.errstate(all="ignore"):
        out = np.power(b / a, 1.0 / x) - 1.0
    err = merge_err(merge_err(ex, ea), eb)
    bad = np.broadcast_to((x <= 0) | (a == 0), out.shape)
    err = err_where(bad, NUMERR, err)
    return num_result(out, err)
