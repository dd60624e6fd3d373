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
from .registry import ALL, EvalContext, register

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

        register(f"{_s}2{_d}", min_args=1, max_args=nargs, values=ALL)(_impl)


@register("DELTA", min_args=1, max_args=2, values=ALL)
def delta(ctx: EvalContext, a: Value, b: Value | None = None) -> Value:
    return numeric(lambda x, y: (x == y).astype(float), a, b, defaults=(0.0,))


@register("GESTEP", min_args=1, max_args=2, values=ALL)
def gestep(ctx: EvalContext, a: Value, b: Value | None = None) -> Value:
    return numeric(lambda x, y: (x >= y).astype(float), a, b, defaults=(0.0,))


def _bit(name: str, fn) -> None:
    def impl(ctx: EvalContext, a: Value, b: Value) -> Value:
        def f(x, y):
            if x < 0 or y < 0 or x != int(x) or y != int(y) or x >= 2**48 or y >= 2**48:
                raise XlError(NUMERR)
            return float(fn(int(x), int(y)))

        return lift(f, [a, b], "nn")

    register(name, min_args=2, max_args=2, values=ALL)(impl)


def _shift(x: float, n: float) -> float:
    """BITLSHIFT: x shifted left by n bits (right for a negative n), within 48 bits."""
    if x < 0 or x != int(x) or x >= 2**48 or abs(n) > 53:
        raise XlError(NUMERR)
    k = int(np.trunc(n))
    out = int(x) << k if k >= 0 else int(x) >> -k
    if out >= 2**48:
        raise XlError(NUMERR)
    return float(out)


register("BITLSHIFT", min_args=2, max_args=2, values=ALL)(
    lambda ctx, x, n: lift(_shift, [x, n], "nn")
)
register("BITRSHIFT", min_args=2, max_args=2, values=ALL)(
    lambda ctx, x, n: lift(lambda a, b: _shift(a, -b), [x, n], "nn")
)


def _erf(lo, hi):
    from scipy import special

    return special.erf(hi) - special.erf(lo)


register("ERF", min_args=1, max_args=2, values=ALL)(
    lambda ctx, lo, hi=None: (
        numeric(lambda a: _erf(0.0, a), lo) if hi is None else numeric(_erf, lo, hi)
    )
)
register("ERF.PRECISE", min_args=1, max_args=1, values=ALL)(
    lambda ctx, x: numeric(lambda a: _erf(0.0, a), x)
)


def _erfc(x):
    from scipy import special

    return special.erfc(x)  # not 1 - erf(x): no digits lost in the tail


register("ERFC", "ERFC.PRECISE", min_args=1, max_args=1, values=ALL)(
    lambda ctx, x: numeric(_erfc, x)
)

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


# Excel computes the modified Bessel functions of order 0 and 1 with the polynomial
# approximations of Abramowitz & Stegun 9.8.1-9.8.8 (|error| < 2e-7 relative), not to
# full precision: its saved values match these to the last digit, and differ from exact
# values by ~1e-9, which an engineering model carries into every downstream cell.
_I0_SMALL = (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813)
_I0_LARGE = (
    0.39894228, 0.01328592, 0.00225319, -0.00157565, 0.00916281,
    -0.02057706, 0.02635537, -0.01647633, 0.00392377,
)  # fmt: skip
_I1_SMALL = (0.5, 0.87890594, 0.51498869, 0.15084934, 0.02658733, 0.00301532, 0.00032411)
_I1_LARGE = (
    0.39894228, -0.03988024, -0.00362018, 0.00163801, -0.01031555,
    0.02282967, -0.02895312, 0.01787654, -0.00420059,
)  # fmt: skip
_K0_SMALL = (-0.57721566, 0.42278420, 0.23069756, 0.03488590, 0.00262698, 0.00010750, 0.0000074)
_K0_LARGE = (1.25331414, -0.07832358, 0.02189568, -0.01062446, 0.00587872, -0.00251540, 0.00053208)
_K1_SMALL = (1.0, 0.15443144, -0.67278579, -0.18156897, -0.01919402, -0.00110404, -0.00004686)
_K1_LARGE = (1.25331414, 0.23498619, -0.03655620, 0.01504268, -0.00780353, 0.00325614, -0.00068245)


def _poly(coef: tuple[float, ...], y: np.ndarray) -> np.ndarray:
    out = np.zeros_like(y)
    for c in reversed(coef):
        out = out * y + c
    return out


def _i01(order: int, x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    small = ax < 3.75
    ys = (x / 3.75) ** 2
    yl = 3.75 / np.where(small, 1.0, ax)
    large = np.exp(ax) / np.sqrt(np.where(small, 1.0, ax))
    if order == 0:
        return np.where(small, _poly(_I0_SMALL, ys), large * _poly(_I0_LARGE, yl))
    out = np.where(small, x * _poly(_I1_SMALL, ys), large * _poly(_I1_LARGE, yl))
    return np.where(~small & (x < 0), -out, out)


def _k01(order: int, x: np.ndarray) -> np.ndarray:
    small = x <= 2.0
    xs = np.where(x > 0, x, 1.0)
    ys = xs * xs / 4.0
    yl = 2.0 / xs
    large = np.exp(-xs) / np.sqrt(xs)
    if order == 0:
        near = -np.log(xs / 2.0) * _i01(0, xs) + _poly(_K0_SMALL, ys)
        return np.where(small, near, large * _poly(_K0_LARGE, yl))
    near = np.log(xs / 2.0) * _i01(1, xs) + _poly(_K1_SMALL, ys) / xs
    return np.where(small, near, large * _poly(_K1_LARGE, yl))


def _besseli(order: np.ndarray, x: np.ndarray) -> np.ndarray:
    from scipy import special

    order, x = np.broadcast_arrays(order, x)
    out = special.iv(order, x)  # orders 2 and up: to full precision
    for n in (0, 1):
        out = np.where(order == n, _i01(n, x), out)
    return out


def _besselk(order: np.ndarray, x: np.ndarray) -> np.ndarray:
    """K0 and K1 as above; higher orders by the upward recurrence
    K(n+1) = K(n-1) + 2n/x K(n), which is stable for K."""
    order, x = np.broadcast_arrays(order, x)
    xs = np.where(x > 0, x, 1.0)
    prev, cur = _k01(0, xs), _k01(1, xs)
    out = np.where(order == 0, prev, cur)
    top = int(np.nanmax(order)) if order.size else 1
    with np.errstate(all="ignore"):
        for n in range(1, min(top, 1000)):
            prev, cur = cur, prev + 2.0 * n / xs * cur
            out = np.where(order == n + 1, cur, out)
    if top >= 1000:
        from scipy import special

        out = np.where(order >= 1000, special.kv(order, x), out)
    return out


register("BESSELI", min_args=2, max_args=2, values=ALL)(_bessel(_besseli, False))
register("BESSELJ", min_args=2, max_args=2, values=ALL)(_bessel(_scipy("jv"), False))
register("BESSELK", min_args=2, max_args=2, values=ALL)(_bessel(_besselk, True))
register("BESSELY", min_args=2, max_args=2, values=ALL)(_bessel(_scipy("yv"), True))
