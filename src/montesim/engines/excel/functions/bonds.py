"""Bonds that pay coupons: the coupon dates and days (COUPPCD, COUPNCD, COUPNUM,
COUPDAYBS, COUPDAYS, COUPDAYSNC), PRICE, YIELD, DURATION, MDURATION and ACCRINT.

Coupon dates run back from maturity every 12 / frequency months (month ends stay month
ends when maturity is one). Days are counted by the basis: 0 US (NASD) 30/360, 1
actual/actual, 2 actual/360, 3 actual/365, 4 European 30/360; a coupon period is
360 / frequency days long under 0, 2 and 4, 365 / frequency under 3, and its actual
length under 1. These are the formulas of the functions' Microsoft help pages, element
by element over trials."""

from __future__ import annotations

import calendar
import datetime as dt
import math

from ..values import NUMERR, XlError, to_serial
from .dates import _days360, _to_date
from .helpers import lift
from .registry import ALL, register


def _shift(d: dt.date, months: int, month_end: bool) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, last if month_end else min(d.day, last))


def _serial(d: dt.date) -> float:
    return to_serial(d)


def _check(
    s: float, m: float, freq: float, basis: float | None
) -> tuple[dt.date, dt.date, int, int]:
    f = math.trunc(freq)
    b = 0 if basis is None else math.trunc(basis)
    if f not in (1, 2, 4) or b not in (0, 1, 2, 3, 4) or math.floor(s) >= math.floor(m):
        raise XlError(NUMERR)
    return _to_date(s), _to_date(m), f, b


def _around(settle: dt.date, mat: dt.date, freq: int) -> tuple[dt.date, dt.date, int]:
    """The coupon dates on each side of settlement (previous <= settlement < next) and
    how many coupons remain (those after settlement, up to maturity)."""
    step = 12 // freq
    month_end = mat.day == calendar.monthrange(mat.year, mat.month)[1]
    k, nxt = 0, mat
    while True:
        prev = _shift(mat, -step * (k + 1), month_end)
        if prev <= settle:
            return prev, nxt, k + 1
        k, nxt = k + 1, prev


def _days(a: dt.date, b: dt.date, basis: int) -> float:
    if basis in (0, 4):
        return _days360(_serial(a), _serial(b), basis == 4)
    return float((b - a).days)


def _period(prev: dt.date, nxt: dt.date, freq: int, basis: int) -> float:
    if basis == 1:
        return float((nxt - prev).days)
    return (365.0 if basis == 3 else 360.0) / freq


def _coup(s, m, freq, basis=None):
    settle, mat, f, b = _check(s, m, freq, basis)
    prev, nxt, n = _around(settle, mat, f)
    days = _period(prev, nxt, f, b)
    bs = _days(prev, settle, b)
    nc = days - bs if b in (0, 4) else float((nxt - settle).days)
    return prev, nxt, n, bs, days, nc


for _name, _pick in (
    ("COUPPCD", lambda c: _serial(c[0])),
    ("COUPNCD", lambda c: _serial(c[1])),
    ("COUPNUM", lambda c: float(c[2])),
    ("COUPDAYBS", lambda c: c[3]),
    ("COUPDAYS", lambda c: c[4]),
    ("COUPDAYSNC", lambda c: c[5]),
):
    register(_name, min_args=3, max_args=4, values=ALL)(
        lambda ctx, s, m, f, b=None, _pick=_pick: lift(
            lambda *a: _pick(_coup(*a)), [s, m, f, b], "nnnn"
        )
    )


def _price(s, m, rate, yld, red, freq, basis=None) -> float:
    if rate < 0 or yld < 0 or red <= 0:
        raise XlError(NUMERR)
    _, _, n, a, e, dsc = _coup(s, m, freq, basis)
    f = math.trunc(freq)
    c = 100 * rate / f
    if n == 1:
        return (red + c) / (1 + dsc / e * yld / f) - c * a / e
    base = 1 + yld / f
    x = dsc / e
    total = red / base ** (n - 1 + x)
    total += sum(c / base ** (k - 1 + x) for k in range(1, n + 1))
    return total - c * a / e


register("PRICE", min_args=6, max_args=7, values=ALL)(
    lambda ctx, *a: lift(_price, [*a, *[None] * (7 - len(a))], "nnnnnnn")
)


def _yield(s, m, rate, pr, red, freq, basis=None) -> float:
    """The yield at which PRICE is ``pr``: closed form for one coupon left, else Newton's
    method from the coupon rate (then bisection if it strays)."""
    if rate < 0 or pr <= 0 or red <= 0:
        raise XlError(NUMERR)
    _, _, n, a, e, dsc = _coup(s, m, freq, basis)
    f = math.trunc(freq)
    if n == 1:
        c = rate / f
        num = (red / 100 + c) - (pr / 100 + a / e * c)
        return num / (pr / 100 + a / e * c) * f * e / dsc

    def g(y: float) -> float:
        return _price(s, m, rate, y, red, freq, basis) - pr

    lo, hi = 0.0, 1.0
    while g(hi) > 0 and hi < 1e6:
        hi *= 2
    if g(lo) < 0 or g(hi) > 0:
        raise XlError(NUMERR)
    y = min(max(rate, 1e-6), hi)
    for _ in range(100):
        fy = g(y)
        if abs(fy) < 1e-12:
            return y
        dy = 1e-7 * max(1.0, y)
        slope = (g(y + dy) - fy) / dy
        nxt = y - fy / slope if slope else (lo + hi) / 2
        if fy > 0:
            lo = y
        else:
            hi = y
        y = nxt if lo < nxt < hi else (lo + hi) / 2
    return y


register("YIELD", min_args=6, max_args=7, values=ALL)(
    lambda ctx, *a: lift(_yield, [*a, *[None] * (7 - len(a))], "nnnnnnn")
)


def _duration(s, m, coupon, yld, freq, basis=None) -> float:
    """Macaulay duration in years: the cash flows' times weighted by their present values."""
    if coupon < 0 or yld < 0:
        raise XlError(NUMERR)
    _, _, n, _a, e, dsc = _coup(s, m, freq, basis)
    f = math.trunc(freq)
    x = dsc / e
    base = 1 + yld / f
    c = 100 * coupon / f
    pv = wt = 0.0
    for k in range(1, n + 1):
        cf = c + (100 if k == n else 0)
        t = k - 1 + x
        d = cf / base**t
        pv += d
        wt += t * d
    return wt / pv / f


register("DURATION", min_args=5, max_args=6, values=ALL)(
    lambda ctx, *a: lift(_duration, [*a, *[None] * (6 - len(a))], "nnnnnn")
)
register("MDURATION", min_args=5, max_args=6, values=ALL)(
    lambda ctx, *a: lift(
        lambda s, m, c, y, f, b=None: _duration(s, m, c, y, f, b) / (1 + y / math.trunc(f)),
        [*a, *[None] * (6 - len(a))],
        "nnnnnn",
    )
)


def _accrint(issue, first, settle, rate, par, freq, basis=None, from_issue=None) -> float:
    """Interest accrued from issue (or, calc_method FALSE, from the first interest date
    before settlement) to settlement: over each quasi-coupon period, its days within
    that span over its length."""
    f = math.trunc(freq)
    b = 0 if basis is None else math.trunc(basis)
    par = 1000.0 if par is None else par
    if rate <= 0 or par <= 0 or f not in (1, 2, 4) or b not in (0, 1, 2, 3, 4):
        raise XlError(NUMERR)
    i, fi, st = _to_date(issue), _to_date(first), _to_date(settle)
    if i >= st:
        raise XlError(NUMERR)
    step = 12 // f
    month_end = fi.day == calendar.monthrange(fi.year, fi.month)[1]
    k = 0
    while _shift(fi, -step * k, month_end) > i:
        k += 1
    start = i
    if from_issue is not None and not from_issue and st > fi:
        j = 0  # from the last coupon date on or before settlement
        while _shift(fi, step * (j + 1), month_end) <= st:
            j += 1
        start = _shift(fi, step * j, month_end)
    total, q = 0.0, -k
    while True:
        a, z = _shift(fi, step * q, month_end), _shift(fi, step * (q + 1), month_end)
        if a >= st:
            break
        lo, hi = max(a, start), min(z, st)
        if hi > lo:
            total += _days(lo, hi, b) / _period(a, z, f, b)
        q += 1
    return par * rate / f * total


register("ACCRINT", min_args=6, max_args=8, values=ALL)(
    lambda ctx, *a: lift(_accrint, [*a, *[None] * (8 - len(a))], "nnnnnnnb")
)
