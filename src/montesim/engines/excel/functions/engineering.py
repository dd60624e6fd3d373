"""Base conversions (DEC2BIN, HEX2DEC, ...) and a few engineering helpers."""

from __future__ import annotations

import numpy as np

from ..values import (
    NUMERR,
    VALUE,
    Value,
    XlError,
    format_general,
    from_py,
    merge_err,
    num_result,
    numbers,
)
from .helpers import err_where, lift, numeric
from .registry import EvalContext, register

_BASES = {"BIN": 2, "OCT": 8, "DEC": 10, "HEX": 16}
_DIGITS = "0123456789ABCDEF"
# two's-complement width (in digits) and the most negative value per base
_LIMITS = {2: (10, -512, 511), 8: (10, -(2**29), 2**29 - 1), 16: (10, -(2**39), 2**39 - 1)}


def _parse_base(x, base: int) -> int:
    s = x if isinstance(x, str) else format_general(float(x)) if not isinstance(x, bool) else None
    if s is None:
        raise XlError(VALUE)
    s = s.strip().upper()
    if s == "":
        return 0
    if len(s) > 10 or any(ch not in _DIGITS[:base] for ch in s):
        raise XlError(NUMERR)
    n = int(s, base)
    if len(s) == 10 and int(s[0], base) >= base // 2:
        n -= base**10
    return n


def _to_base(n: int, base: int, places) -> str:
    width, lo, hi = _LIMITS[base]
    if n < lo or n > hi:
        raise XlError(NUMERR)
    if n < 0:
        n += base**width
        digits = _fmt(n, base)
        return digits
    digits = _fmt(n, base)
    if places is not None:
        p = int(np.trunc(places))
        if len(digits) > p:
            raise XlError(NUMERR)
        digits = digits.rjust(p, "0")
    return digits


def _fmt(n: int, base: int) -> str:
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, base)
        out.append(_DIGITS[r])
    return "".join(reversed(out))


def _places(p, given: bool):
    """The places argument, validated first (an empty cell given as places is 0: #NUM!)."""
    if not given:
        return None
    if p is None:
        p = 0.0
    if isinstance(p, str):
        from ..values import parse_number

        v = parse_number(p)
        if v is None:
            raise XlError(VALUE)
        return v
    if isinstance(p, bool):
        raise XlError(VALUE)
    if not 1 <= int(np.trunc(p)) <= 10:
        raise XlError(NUMERR)
    return p


def _converter(src: int, dst: int):
    def convert(x, places=None, given=False):
        places = _places(places, given)
        if isinstance(x, bool):
            raise XlError(VALUE)
        if src == 10:
            if isinstance(x, str):
                from ..values import parse_number

                v = parse_number(x)
                if v is None:
                    raise XlError(VALUE)
                x = v
            if x is None:
                x = 0.0
            n = int(np.trunc(x))
        else:
            if x is None:
                x = ""
            n = _parse_base(x, src)
        if dst == 10:
            return float(n)
        return _to_base(n, dst, places)

    return convert


for _s, _sb in _BASES.items():
    for _d, _db in _BASES.items():
        if _s == _d:
            continue
        fn = _converter(_sb, _db)
        nargs = 1 if _db == 10 else 2

        def _impl(ctx: EvalContext, x: Value, places: Value | None = None, _fn=fn) -> Value:
            given = from_py(places is not None)
            return lift(_fn, [x, places, given], "aab")

        register(f"{_s}2{_d}", min_args=1, max_args=nargs)(_impl)


@register("DELTA", min_args=1, max_args=2)
def delta(ctx: EvalContext, a: Value, b: Value | None = None) -> Value:
    return numeric(lambda x, y: (x == y).astype(float), a, b, defaults=(0.0,))


@register("GESTEP", min_args=1, max_args=2)
def gestep(ctx: EvalContext, a: Value, b: Value | None = None) -> Value:
    return numeric(lambda x, y: (x >= y).astype(float), a, b, defaults=(0.0,))


def _bit(name: str, fn) -> None:
    def impl(ctx: EvalContext, a: Value, b: Value) -> Value:
        def f(x, y):
            if x < 0 or y < 0 or x != int(x) or y != int(y) or x >= 2**48 or y >= 2**48:
                raise XlError(NUMERR)
            return float(fn(int(x), int(y)))

        return lift(f, [a, b], "nn")

    register(name, min_args=2, max_args=2)(impl)


_bit("BITAND", lambda x, y: x & y)
_bit("BITOR", lambda x, y: x | y)
_bit("BITXOR", lambda x, y: x ^ y)


def _bessel(fn, positive_x: bool):  # noqa: ANN001, ANN202
    def impl(ctx: EvalContext, x: Value, n: Value) -> Value:

        xs, ex = numbers(x)
        ns, en = numbers(n)
        order = np.trunc(ns)
        with np.errstate(all="ignore"):
            out = fn(order, xs)
        bad = (order < 0) | ((xs <= 0) if positive_x else np.zeros_like(xs, bool))
        err = err_where(
            np.broadcast_to(bad, np.broadcast_shapes(xs.shape, ns.shape)), NUMERR, merge_err(ex, en)
        )
        return num_result(out, err)

    return impl


def _scipy(name: str):  # noqa: ANN202
    def call(order, x):  # noqa: ANN001, ANN202
        from scipy import special

        return getattr(special, name)(order, x)

    return call


register("BESSELI", min_args=2, max_args=2)(_bessel(_scipy("iv"), False))
register("BESSELJ", min_args=2, max_args=2)(_bessel(_scipy("jv"), False))
register("BESSELK", min_args=2, max_args=2)(_bessel(_scipy("kv"), True))
register("BESSELY", min_args=2, max_args=2)(_bessel(_scipy("yv"), True))
