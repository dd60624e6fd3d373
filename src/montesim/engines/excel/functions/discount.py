"""Discounted securities, Treasury bills, growth over schedules and the dollar-price
conversions: DISC, INTRATE, RECEIVED, PRICEDISC, YIELDDISC, TBILLPRICE, TBILLYIELD,
TBILLEQ, ACCRINTM, FVSCHEDULE, PDURATION, ISPMT, DOLLARDE, DOLLARFR; and the working
days with any weekend (NETWORKDAYS.INTL, WORKDAY.INTL). Each is the closed form on its
Microsoft help page, element by element over trials."""

from __future__ import annotations

import calendar
import math

import numpy as np

from ..values import (
    DIV0,
    NUMERR,
    VALUE,
    Value,
    XlError,
    error,
    merge_err,
    num_result,
    numbers,
    parse_datetime_text,
)
from .dates import _to_date, yearfrac
from .helpers import collect, lift
from .registry import ALL, EvalContext, params, register


def _dates(s: float, m: float) -> tuple[int, int]:
    """Settlement and maturity as whole serials; maturity after settlement."""
    si, mi = math.floor(s), math.floor(m)
    if si >= mi or si < 0:
        raise XlError(NUMERR)
    return si, mi


def _basis(b: float | None) -> int:
    k = 0 if b is None else math.trunc(b)
    if k not in (0, 1, 2, 3, 4):
        raise XlError(NUMERR)
    return k


def _years(s: float, m: float, b: float | None) -> float:
    si, mi = _dates(s, m)
    return yearfrac(si, mi, _basis(b))


def _positive(*xs: float) -> None:
    if any(x <= 0 for x in xs):
        raise XlError(NUMERR)


def _disc(s, m, pr, red, b=None):
    _positive(pr, red)
    return (red - pr) / red / _years(s, m, b)


def _intrate(s, m, inv, red, b=None):
    _positive(inv, red)
    return (red - inv) / inv / _years(s, m, b)


def _received(s, m, inv, disc, b=None):
    _positive(inv, disc)
    den = 1 - disc * _years(s, m, b)
    if den <= 0:
        raise XlError(NUMERR)
    return inv / den


def _pricedisc(s, m, disc, red, b=None):
    _positive(disc, red)
    return red - disc * red * _years(s, m, b)


def _yielddisc(s, m, pr, red, b=None):
    _positive(pr, red)
    return (red - pr) / pr / _years(s, m, b)


def _tbill_days(s: float, m: float) -> int:
    si, mi = _dates(s, m)
    d = _to_date(si)
    last = calendar.monthrange(d.year + 1, d.month)[1]
    if _to_date(mi) > d.replace(year=d.year + 1, day=min(d.day, last)):
        raise XlError(NUMERR)  # a bill matures within a year
    return mi - si


def _tbillprice(s, m, disc):
    _positive(disc)
    price = 100 * (1 - disc * _tbill_days(s, m) / 360)
    if price <= 0:
        raise XlError(NUMERR)
    return price


def _tbillyield(s, m, pr):
    _positive(pr)
    return (100 - pr) / pr * 360 / _tbill_days(s, m)


def _tbilleq(s, m, disc):
    """The bond-equivalent yield: 365 r / (360 - r d) up to half a year; beyond, the
    semi-annual compounding equation solved for the yield."""
    _positive(disc)
    d = _tbill_days(s, m)
    if d <= 182:
        return 365 * disc / (360 - disc * d)
    price = 100 * (1 - disc * d / 360)
    if price <= 0:
        raise XlError(NUMERR)
    t = d / 365
    return (-t + math.sqrt(t * t - (2 * t - 1) * (1 - 100 / price))) / (t - 0.5)


def _accrintm(issue, s, rate, par=None, b=None):
    par = 1000.0 if par is None else par
    _positive(rate, par)
    return par * rate * _years(issue, s, b)


def _matfrac(issue, s, m, b):
    """Year fractions issue->maturity, issue->settlement, settlement->maturity."""
    si, mi = _dates(s, m)
    ii = math.floor(issue)
    if ii > si:
        raise XlError(NUMERR)
    k = _basis(b)
    return yearfrac(ii, mi, k), yearfrac(ii, si, k), yearfrac(si, mi, k)


def _pricemat(s, m, issue, rate, yld, b=None):
    """Price per 100 of a security paying its interest at maturity."""
    if rate < 0 or yld < 0:
        raise XlError(NUMERR)
    im, is_, sm = _matfrac(issue, s, m, b)
    return 100 * ((1 + im * rate) / (1 + sm * yld) - is_ * rate)


def _yieldmat(s, m, issue, rate, pr, b=None):
    """Yield of a security paying its interest at maturity, priced ``pr`` per 100."""
    if rate < 0 or pr <= 0:
        raise XlError(NUMERR)
    im, is_, sm = _matfrac(issue, s, m, b)
    p = pr / 100
    return ((1 + im * rate) - (p + is_ * rate)) / (p + is_ * rate) / sm


for _name, _fn, _n in (
    ("PRICEMAT", _pricemat, 6),
    ("YIELDMAT", _yieldmat, 6),
    ("DISC", _disc, 5),
    ("INTRATE", _intrate, 5),
    ("RECEIVED", _received, 5),
    ("PRICEDISC", _pricedisc, 5),
    ("YIELDDISC", _yielddisc, 5),
    ("TBILLPRICE", _tbillprice, 3),
    ("TBILLYIELD", _tbillyield, 3),
    ("TBILLEQ", _tbilleq, 3),
    ("ACCRINTM", _accrintm, 5),
):

    def _impl(ctx: EvalContext, *args: Value | None, _fn=_fn, _n=_n) -> Value:
        padded = list(args) + [None] * (_n - len(args))
        return lift(_fn, padded, "n" * _n)

    register(_name, min_args={3: 3, 5: 4, 6: 5}[_n], max_args=_n, values=ALL)(_impl)


def _amorlinc(cost, bought, first, salvage, period, rate, b=None):
    """French linear depreciation: the first period prorated from the purchase date to
    the end of the first period, then cost * rate a period until only the salvage value
    is left, the last period taking what remains."""
    if cost < 0 or salvage < 0 or salvage > cost or rate <= 0 or period < 0:
        raise XlError(NUMERR)
    if math.floor(bought) > math.floor(first):
        raise XlError(NUMERR)
    k = _basis(b)
    full = cost * rate
    first_part = yearfrac(math.floor(bought), math.floor(first), k) * rate * cost
    periods = math.trunc((cost - salvage - first_part) / full)
    n = math.trunc(period)
    if n == 0:
        return first_part
    if n <= periods:
        return full
    if n == periods + 1:
        return cost - salvage - full * periods - first_part
    return 0.0


register("AMORLINC", min_args=6, max_args=7, values=ALL)(
    lambda ctx, *a: lift(_amorlinc, [*a, *[None] * (7 - len(a))], "nnnnnnn")
)


@register("FVSCHEDULE", min_args=2, max_args=2, values=params(0))
def fvschedule(ctx: EvalContext, principal: Value, schedule: Value) -> Value:
    """principal * (1 + r1) * (1 + r2) * ...; blank rates count as 0."""
    p, pe = numbers(principal)
    vals, mask, err = collect([schedule.with_ref(True)])
    growth = np.where(mask, 1 + vals, 1.0).prod(axis=1)
    t = max(p.shape[0], growth.shape[0])
    out = np.broadcast_to(p.reshape(-1), (t,)) * np.broadcast_to(growth, (t,))
    return num_result(
        out.reshape(-1, 1, 1),
        merge_err(
            None if pe is None else pe.reshape(-1, 1, 1),
            None if err is None else err.reshape(-1, 1, 1),
        ),
    )


def _pduration(rate, pv, fv):
    _positive(rate, pv, fv)
    return (math.log(fv) - math.log(pv)) / math.log1p(rate)


register("PDURATION", min_args=3, max_args=3, values=ALL)(
    lambda ctx, r, p, f: lift(_pduration, [r, p, f], "nnn")
)
register("ISPMT", min_args=4, max_args=4, values=ALL)(
    lambda ctx, r, per, n, pv: lift(
        lambda a, b, c, d: d * a * (b / c - 1) if c else _raise(DIV0), [r, per, n, pv], "nnnn"
    )
)


def _raise(code: int) -> float:
    raise XlError(code)


def _fraction_digits(f: float) -> int:
    return 10 ** math.ceil(math.log10(f)) if f > 1 else 1


def _dollarde(x: float, f: float) -> float:
    """A price written as whole + (numerator as decimal digits) back to a decimal."""
    fr = math.trunc(f)
    if fr < 0:
        raise XlError(NUMERR)
    if fr == 0:
        raise XlError(DIV0)
    whole = math.trunc(x)
    return whole + (x - whole) * _fraction_digits(fr) / fr


def _dollarfr(x: float, f: float) -> float:
    fr = math.trunc(f)
    if fr < 0:
        raise XlError(NUMERR)
    if fr == 0:
        raise XlError(DIV0)
    whole = math.trunc(x)
    return whole + (x - whole) * fr / _fraction_digits(fr)


register("DOLLARDE", min_args=2, max_args=2, values=ALL)(
    lambda ctx, x, f: lift(_dollarde, [x, f], "nn")
)
register("DOLLARFR", min_args=2, max_args=2, values=ALL)(
    lambda ctx, x, f: lift(_dollarfr, [x, f], "nn")
)


# -- working days with any weekend ------------------------------------------------------------

# weekend codes: the weekdays (Monday 0) that are the weekend
_WEEKENDS = {
    1: {5, 6}, 2: {6, 0}, 3: {0, 1}, 4: {1, 2}, 5: {2, 3}, 6: {3, 4}, 7: {4, 5},
    11: {6}, 12: {0}, 13: {1}, 14: {2}, 15: {3}, 16: {4}, 17: {5},
}  # fmt: skip


def _weekend(v: Value | None) -> set[int]:
    """The weekend a NETWORKDAYS.INTL/WORKDAY.INTL argument names: a code, or seven
    characters 0/1 from Monday to Sunday (1 a weekend day; not all seven)."""
    if v is None:
        return _WEEKENDS[1]
    x = v.to_py()
    if x is None:
        return _WEEKENDS[1]
    if isinstance(x, str):
        if len(x) != 7 or set(x) - {"0", "1"} or x == "1111111":
            raise XlError(VALUE)
        return {i for i, ch in enumerate(x) if ch == "1"}
    if isinstance(x, bool) or not isinstance(x, float) or int(x) not in _WEEKENDS:
        raise XlError(NUMERR)
    return _WEEKENDS[int(x)]


def _holidays(v: Value | None) -> set[int]:
    """The holidays' serials: numbers, and text that reads as a date ("2006/1/2")."""
    out: set[int] = set()
    if v is None:
        return out
    for r in range(v.dims[0]):
        for c in range(v.dims[1]):
            x = v.to_py(0, r, c)
            if isinstance(x, XlError):
                raise x
            if isinstance(x, str):
                serial = parse_datetime_text(x)
                if serial is None:
                    raise XlError(VALUE)
                out.add(math.floor(serial))
            elif isinstance(x, float) and not isinstance(x, bool):
                out.add(math.floor(x))
    return out


@register("NETWORKDAYS.INTL", min_args=2, max_args=4, values=params(0, 1, 2), ranges=params(3))
def networkdays_intl(
    ctx: EvalContext, a: Value, b: Value, weekend: Value | None = None, hol: Value | None = None
) -> Value:
    try:
        off, hs = _weekend(weekend), _holidays(hol)
    except XlError as e:
        return error(e.code)

    def count(x: float, y: float) -> float:
        s, e = math.floor(x), math.floor(y)
        sign = 1 if s <= e else -1
        lo, hi = min(s, e), max(s, e)
        full, rem = divmod(hi - lo + 1, 7)
        first = _to_date(lo).weekday()
        n = full * (7 - len(off)) + sum(1 for i in range(rem) if (first + i) % 7 not in off)
        n -= sum(1 for h in hs if lo <= h <= hi and _to_date(h).weekday() not in off)
        return float(sign * n)

    return lift(count, [a, b], "nn")


@register("WORKDAY.INTL", min_args=2, max_args=4, values=params(0, 1, 2), ranges=params(3))
def workday_intl(
    ctx: EvalContext, a: Value, days: Value, weekend: Value | None = None, hol: Value | None = None
) -> Value:
    try:
        off, hs = _weekend(weekend), _holidays(hol)
    except XlError as e:
        return error(e.code)

    def step(x: float, n: float) -> float:
        d = math.floor(x)
        inc = 1 if n >= 0 else -1
        left = abs(math.trunc(n))
        if left > 1_000_000:
            raise XlError(NUMERR)
        while left:
            d += inc
            if d < 1:
                raise XlError(NUMERR)
            if _to_date(d).weekday() not in off and d not in hs:
                left -= 1
        return float(d)

    return lift(step, [a, days], "nn")
