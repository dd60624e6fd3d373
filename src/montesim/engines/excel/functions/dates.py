"""Dates as Excel 1900-system serial numbers (with the fictitious 1900-02-29)."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np

from ..values import (
    BOOL,
    NUMERR,
    VALUE,
    Value,
    XlError,
    from_serial,
    merge_err,
    num_result,
    numbers,
    to_serial,
)
from .helpers import coerce, err_where, lift, numeric
from .registry import ALL, EvalContext, params, register

_BASE = np.datetime64("1899-12-30", "D")


def ymd(serial: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorized (year, month, day) of serials, honouring Excel's 1900 quirks."""
    s = np.floor(serial).astype(np.int64)
    days = np.where(s < 60, s + 1, s)
    d64 = _BASE + days.astype("timedelta64[D]")
    y = d64.astype("datetime64[Y]").astype(int) + 1970
    m = d64.astype("datetime64[M]").astype(int) % 12 + 1
    d = (d64 - d64.astype("datetime64[M]")).astype(int) + 1
    y = np.where(s == 60, 1900, np.where(s == 0, 1900, y))
    m = np.where(s == 60, 2, np.where(s == 0, 1, m))
    d = np.where(s == 60, 29, np.where(s == 0, 0, d))
    return y, m, d


def serial_of(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Serial of year/month/day with Excel's month and day overflow rules."""
    total = y.astype(np.int64) * 12 + (m.astype(np.int64) - 1)
    yy, mm = total // 12, total % 12
    first = (yy - 1970).astype("datetime64[Y]").astype("datetime64[M]") + mm.astype(
        "timedelta64[M]"
    )
    days = (first.astype("datetime64[D]") - _BASE).astype(np.int64) + d.astype(np.int64) - 1
    return np.where(days < 61, days - 1, days).astype(float)


def _serial_args(*vals: Value) -> tuple[list[np.ndarray], np.ndarray | None]:
    nums, errs = [], []
    for v in vals:
        n, e = numbers(v)
        nums.append(n)
        errs.append(e)
    return nums, merge_err(*errs)


def _bool_is_value(err: np.ndarray | None, *vals: Value) -> np.ndarray | None:
    """#VALUE! where an argument is a boolean (date functions do not take TRUE/FALSE)."""
    for v in vals:
        if v.kind is not None:
            err = err_where(np.broadcast_to(v.kind == BOOL, v.shape), VALUE, err)
    return err


@register("DATE", min_args=3, max_args=3, values=ALL)
def date(ctx: EvalContext, y: Value, m: Value, d: Value) -> Value:
    (yv, mv, dv), err = _serial_args(y, m, d)
    yv, mv, dv = np.trunc(yv), np.trunc(mv), np.trunc(dv)
    yv = np.where(yv < 1900, yv + 1900, yv)
    shape = np.broadcast_shapes(yv.shape, mv.shape, dv.shape)
    bad = np.broadcast_to((yv < 1900) | (yv > 9999), shape)
    safe = np.where(bad, 2000, yv)
    out = serial_of(
        np.broadcast_to(safe, shape), np.broadcast_to(mv, shape), np.broadcast_to(dv, shape)
    )
    bad = bad | (out < 0) | (out > 2958465)
    return num_result(np.where(bad, 0.0, out), err_where(bad, NUMERR, err))


def _part(name: str, which: int) -> None:
    def impl(ctx: EvalContext, x: Value) -> Value:
        n, e = numbers(x)
        bad = (n < 0) | (n > 2958465.99999)
        parts = ymd(np.where(bad, 1, n))
        return num_result(parts[which].astype(float), err_where(bad, NUMERR, e))

    register(name, min_args=1, max_args=1, values=ALL)(impl)


_part("YEAR", 0)
_part("MONTH", 1)
_part("DAY", 2)


def _add_months(start: np.ndarray, months: np.ndarray, end_of_month: bool) -> np.ndarray:
    y, m, d = ymd(start)
    months = np.trunc(months).astype(np.int64)
    total = y * 12 + (m - 1) + months
    yy, mm = total // 12, total % 12 + 1
    first_next = serial_of(yy, mm + 1, np.ones_like(yy))
    last = first_next - 1
    if end_of_month:
        return last
    first = serial_of(yy, mm, np.ones_like(yy))
    return np.minimum(first + d - 1, last)


def _month_shift(start: Value, months: Value, end_of_month: bool) -> Value:
    """EDATE (same day) or EOMONTH (last day) ``months`` after ``start``."""
    (s, m), err = _serial_args(start, months)
    err = _bool_is_value(err, start, months)
    shape = np.broadcast_shapes(s.shape, m.shape)
    bad = np.broadcast_to(s < 0, shape)
    out = _add_months(
        np.broadcast_to(np.where(s < 0, 1, s), shape), np.broadcast_to(m, shape), end_of_month
    )
    return num_result(out, err_where(bad | (out < 0), NUMERR, err))


@register("EDATE", min_args=2, max_args=2, values=ALL)
def edate(ctx: EvalContext, start: Value, months: Value) -> Value:
    return _month_shift(start, months, False)


@register("EOMONTH", min_args=2, max_args=2, values=ALL)
def eomonth(ctx: EvalContext, start: Value, months: Value) -> Value:
    return _month_shift(start, months, True)


@register("TODAY", min_args=0, max_args=0)
def today(ctx: EvalContext) -> Value:
    return num_result(np.full((1, 1, 1), float(np.floor(ctx.today))), None)


@register("NOW", min_args=0, max_args=0)
def now(ctx: EvalContext) -> Value:
    return num_result(np.full((1, 1, 1), ctx.now), None)


@register("DAYS", min_args=2, max_args=2, values=ALL)
def days(ctx: EvalContext, end: Value, start: Value) -> Value:
    return numeric(lambda e, s: np.trunc(e) - np.trunc(s), end, start)


def _time_parts(x: float) -> tuple[int, int, int]:
    secs = int(round((x % 1.0) * 86400)) % 86400 if x >= 0 else -1
    if secs < 0:
        raise XlError(NUMERR)
    return secs // 3600, (secs // 60) % 60, secs % 60


def _time_fn(name: str, idx: int) -> None:
    def impl(ctx: EvalContext, x: Value) -> Value:
        return lift(lambda v: float(_time_parts(v)[idx]), [x], "n")

    register(name, min_args=1, max_args=1, values=ALL)(impl)


_time_fn("HOUR", 0)
_time_fn("MINUTE", 1)
_time_fn("SECOND", 2)


@register("TIME", min_args=3, max_args=3, values=ALL)
def time_(ctx: EvalContext, h: Value, m: Value, s: Value) -> Value:
    def f(h, m, s):
        total = np.trunc(h) * 3600 + np.trunc(m) * 60 + np.trunc(s)
        return (total % 86400) / 86400.0

    res = numeric(f, h, m, s)
    (hv, mv, sv), _ = _serial_args(h, m, s)
    total = np.trunc(hv) * 3600 + np.trunc(mv) * 60 + np.trunc(sv)
    if np.any(total < 0):
        return num_result(
            res.num, err_where(np.broadcast_to(total < 0, res.shape), NUMERR, res.err), check=False
        )
    return res


def _weekday(serial: float, kind: float | None) -> float:
    s = int(np.floor(serial))
    if s < 0:
        raise XlError(NUMERR)
    # serial 1 (1900-01-01) was a Sunday in Excel's calendar
    sun0 = (s - 1) % 7 if s >= 60 or s == 0 else (s - 1) % 7
    if s < 60 and s != 0:
        sun0 = (s - 1) % 7
    k = 1 if kind is None else int(kind)
    mapping = {
        1: (0, 1),
        2: (1, 1),
        3: (1, 0),
        11: (1, 1),
        12: (2, 1),
        13: (3, 1),
        14: (4, 1),
        15: (5, 1),
        16: (6, 1),
        17: (0, 1),
    }
    if k not in mapping:
        raise XlError(NUMERR)
    start, base = mapping[k]
    return float((sun0 - start) % 7 + base)


register("WEEKDAY", min_args=1, max_args=2, values=ALL)(
    lambda ctx, x, k=None: lift(_weekday, [x, k], "nn")
)


def _to_date(serial: float) -> dt.date:
    if serial < 1:
        raise XlError(NUMERR)
    return from_serial(np.floor(serial)).date()


def _weeknum(serial: float, kind: float | None) -> float:
    d = _to_date(serial)
    k = 1 if kind is None else int(kind)
    if k == 21:
        return float(d.isocalendar()[1])
    start = {1: 6, 17: 6, 2: 0, 11: 0, 12: 1, 13: 2, 14: 3, 15: 4, 16: 5}.get(k)
    if start is None:
        raise XlError(NUMERR)
    jan1 = dt.date(d.year, 1, 1)
    offset = (jan1.weekday() - start) % 7
    return float((d - jan1).days + offset) // 7 + 1


register("WEEKNUM", min_args=1, max_args=2, values=ALL)(
    lambda ctx, x, k=None: lift(_weeknum, [x, k], "nn")
)
register("ISOWEEKNUM", min_args=1, max_args=1, values=ALL)(
    lambda ctx, x: lift(lambda s: float(_to_date(s).isocalendar()[1]), [x], "n")
)


def _days360(a: float, b: float, european: bool | None) -> float:
    (y1,), (m1,), (d1,) = (np.atleast_1d(v) for v in ymd(np.array([a])))
    (y2,), (m2,), (d2,) = (np.atleast_1d(v) for v in ymd(np.array([b])))
    if european:
        d1 = min(d1, 30)
        d2 = min(d2, 30)
    else:
        if d1 == 31 or _last_feb(y1, m1, d1):
            d1 = 30
        if d2 == 31 and d1 >= 30:
            d2 = 30
    return float((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1))


def _last_feb(y: int, m: int, d: int) -> bool:
    return m == 2 and d == calendar.monthrange(int(y), 2)[1]


register("DAYS360", min_args=2, max_args=3, values=ALL)(
    lambda ctx, a, b, e=None: lift(_days360, [a, b, e], "nnb")
)


def _ymd(serial: float) -> tuple[int, int, int]:
    y, m, d = ymd(np.array([float(serial)]))
    return int(y[0]), int(m[0]), int(d[0])


def _is_leap(y: int) -> bool:
    return calendar.isleap(y)


def yearfrac(start: float, end: float, basis: float | None = None) -> float:
    b = 0 if basis is None else int(np.trunc(basis))
    if b < 0 or b > 4 or start < 0 or end < 0:
        raise XlError(NUMERR)
    s, e = np.floor(start), np.floor(end)
    if s > e:
        s, e = e, s
    if s == e:
        return 0.0
    y1, m1, d1 = _ymd(s)
    y2, m2, d2 = _ymd(e)
    if b == 0:
        if d1 == 31 and d2 == 31:
            d1 = d2 = 30
        elif d1 == 31:
            d1 = 30
        elif d1 == 30 and d2 == 31:
            d2 = 30
        elif m1 == 2 and m2 == 2 and _last_feb(y1, m1, d1) and _last_feb(y2, m2, d2):
            d1 = d2 = 30
        elif _last_feb(y1, m1, d1):
            d1 = 30
            if d2 == 31:
                d2 = 30
        return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360.0
    if b == 4:
        d1, d2 = min(d1, 30), min(d2, 30)
        return ((y2 - y1) * 360 + (m2 - m1) * 30 + (d2 - d1)) / 360.0
    days_between = e - s
    if b == 2:
        return days_between / 360.0
    if b == 3:
        return days_between / 365.0
    # basis 1: actual/actual
    within_year = y1 == y2 or (y2 == y1 + 1 and (m1 > m2 or (m1 == m2 and d1 >= d2)))
    if within_year:
        if y1 == y2 and _is_leap(y1) or _feb29_between(y1, m1, d1, y2, m2, d2):
            year_len = 366.0
        else:
            year_len = 365.0
        return days_between / year_len
    n_years = y2 - y1 + 1
    total = (
        (to_serial(dt.date(y2 + 1, 1, 1)) - to_serial(dt.date(y1, 1, 1)))
        if y1 > 1900
        else sum(366 if _is_leap(y) else 365 for y in range(y1, y2 + 1))
    )
    return days_between / (total / n_years)


def _feb29_between(y1: int, m1: int, d1: int, y2: int, m2: int, d2: int) -> bool:
    for y in range(y1, y2 + 1):
        if _is_leap(y) and (y1, m1, d1) <= (y, 2, 29) <= (y2, m2, d2):
            return True
    return False


def _yearfrac_checked(basis, start, end) -> float:
    """YEARFRAC with Excel's argument checks: the basis first, then the two dates."""
    if isinstance(basis, XlError):
        raise basis
    if isinstance(basis, bool):
        raise XlError(VALUE)
    b = coerce(basis, "n")
    if not 0 <= int(np.trunc(b)) <= 4:
        raise XlError(NUMERR)
    s, e = coerce(start, "n"), coerce(end, "n")
    if not (0 <= s <= 2958465.99999 and 0 <= e <= 2958465.99999):
        raise XlError(NUMERR)
    return yearfrac(s, e, b)


register("YEARFRAC", min_args=2, max_args=3, values=ALL)(
    lambda ctx, a, b, c=None: lift(_yearfrac_checked, [c, a, b], "xxx")
)


def _datedif(start: float, end: float, unit: str) -> float:
    if start > end or start < 0:
        raise XlError(NUMERR)
    y1, m1, d1 = _ymd(start)
    y2, m2, d2 = _ymd(end)
    u = unit.upper()
    if u == "D":
        return float(np.floor(end) - np.floor(start))
    months = (y2 - y1) * 12 + (m2 - m1) - (1 if d2 < d1 else 0)
    if u == "M":
        return float(months)
    if u == "Y":
        return float(months // 12)
    if u == "YM":
        return float(months % 12)
    if u == "MD":
        if d2 >= d1:
            return float(d2 - d1)
        pm_y, pm_m = (y2, m2 - 1) if m2 > 1 else (y2 - 1, 12)
        return (
            float(calendar.monthrange(pm_y, pm_m)[1] - d1 + d2)
            if pm_y >= 1900
            else float(d2 - d1 + 31)
        )
    if u == "YD":
        ys = y2 if (m2, d2) >= (m1, d1) else y2 - 1
        try:
            anchor = to_serial(dt.date(ys, m1, d1))
        except ValueError:
            anchor = to_serial(dt.date(ys, m1, 28)) + 1
        return float(np.floor(end) - anchor)
    raise XlError(NUMERR)


register("DATEDIF", min_args=3, max_args=3, values=ALL)(
    lambda ctx, a, b, u: lift(_datedif, [a, b, u], "nns")
)


def _networkdays(a: float, b: float) -> float:
    s, e = int(np.floor(a)), int(np.floor(b))
    sign = 1
    if s > e:
        s, e, sign = e, s, -1
    d0 = _to_date(s)
    total = e - s + 1
    full, rem = divmod(total, 7)
    count = full * 5
    wd = d0.weekday()
    for i in range(rem):
        if (wd + i) % 7 < 5:
            count += 1
    return float(sign * count)


def _workday(a: float, n: float) -> float:
    d = int(np.floor(a))
    step = 1 if n >= 0 else -1
    left = abs(int(np.trunc(n)))
    while left:
        d += step
        if _to_date(d).weekday() < 5:
            left -= 1
    return float(d)


def _no_holidays(fn):
    def impl(ctx: EvalContext, a: Value, b: Value, holidays: Value | None = None) -> Value:
        if holidays is not None:
            return _with_holidays(fn, a, b, holidays)
        return lift(fn, [a, b], "nn")

    return impl


def _with_holidays(fn, a: Value, b: Value, holidays: Value) -> Value:
    hs = {int(np.floor(x)) for x in np.broadcast_to(holidays.num, holidays.shape)[0].reshape(-1)}

    def g(x, y):
        if fn is _networkdays:
            s, e = sorted((int(np.floor(x)), int(np.floor(y))))
            base = _networkdays(x, y)
            sub = sum(1 for h in hs if s <= h <= e and _to_date(h).weekday() < 5)
            return base - sub if base >= 0 else base + sub
        d = int(np.floor(x))
        step = 1 if y >= 0 else -1
        left = abs(int(np.trunc(y)))
        while left:
            d += step
            if _to_date(d).weekday() < 5 and d not in hs:
                left -= 1
        return float(d)

    return lift(g, [a, b], "nn")


register("NETWORKDAYS", min_args=2, max_args=3, values=params(0, 1), ranges=params(2))(
    _no_holidays(_networkdays)
)
register("WORKDAY", min_args=2, max_args=3, values=params(0, 1), ranges=params(2))(
    _no_holidays(_workday)
)

__all__ = ["ymd", "serial_of", "yearfrac", "VALUE"]
