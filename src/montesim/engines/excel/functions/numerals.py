"""Numbers written in other bases and in Roman numerals (BASE, DECIMAL, ROMAN, ARABIC),
sums over pairs of arrays (SUMXMY2, SUMX2MY2, SUMX2PY2), SERIESSUM, MULTINOMIAL,
COMBINA and the reciprocal and hyperbolic trigonometry Excel added in 2013."""

from __future__ import annotations

import math

import numpy as np

from ..values import DIV0, NA, NUMERR, VALUE, Value, XlError, error, merge_err, num_result, numbers
from .helpers import err_where, lift
from .registry import ALL, EvalContext, register
from .stats import finish, pairs

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base(n: float, radix: float, width: float | None) -> str:
    n, radix = math.trunc(n), math.trunc(radix)
    if n < 0 or n >= 2**53 or not 2 <= radix <= 36:
        raise XlError(NUMERR)
    out = ""
    while n:
        n, d = divmod(n, radix)
        out = _DIGITS[d] + out
    out = out or "0"
    if width is not None:
        w = math.trunc(width)
        if w < 0 or w > 255:
            raise XlError(NUMERR)
        out = out.rjust(w, "0")
    return out


def _decimal(text: str, radix: float) -> float:
    r = math.trunc(radix)
    if not 2 <= r <= 36 or len(text) > 255:
        raise XlError(NUMERR)
    total = 0
    for ch in text.strip().upper():
        d = _DIGITS.find(ch)
        if d < 0 or d >= r:
            raise XlError(NUMERR)
        total = total * r + d
    return float(total)


register("BASE", min_args=2, max_args=3, values=ALL)(
    lambda ctx, n, r, w=None: lift(_base, [n, r, w], "nnn")
)
register("DECIMAL", min_args=2, max_args=2, values=ALL)(
    lambda ctx, s, r: lift(_decimal, [s, r], "sn")
)

# ROMAN's forms: 0 the classic numerals; 1 to 4 ever more concise, allowing subtractive
# pairs whose smaller numeral is further below the larger one (ROMAN's help page:
# 499 is CDXCIX, LDVLIV, XDIX, VDIV, ID)
_CLASSIC = [
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
]  # fmt: skip
_CONCISE = {
    1: [(950, "LM"), (450, "LD"), (95, "VC"), (45, "VL")],
    2: [(990, "XM"), (490, "XD"), (99, "IC"), (49, "IL")],
    3: [(995, "VM"), (495, "VD")],
    4: [(999, "IM"), (499, "ID")],
}


def _roman(n: float, form: object) -> str:
    k = 0 if form is None or form is True else 4 if form is False else math.trunc(form)  # type: ignore[arg-type]
    n = math.trunc(n)
    if n < 0 or n > 3999 or not 0 <= k <= 4:
        raise XlError(VALUE)
    tokens = list(_CLASSIC)
    for level in range(1, k + 1):
        tokens += _CONCISE[level]
    tokens.sort(key=lambda t: -t[0])
    out = []
    for value, text in tokens:
        while n >= value:
            out.append(text)
            n -= value
    return "".join(out)


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def _arabic(text: str) -> float:
    s = text.strip().upper()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("-")
    if len(s) > 255 or any(ch not in _ROMAN_VALUES for ch in s):
        raise XlError(VALUE)
    total = 0
    for i, ch in enumerate(s):
        v = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[s[i + 1]] if i + 1 < len(s) else 0
        total += -v if v < nxt else v
    return float(sign * total)


register("ROMAN", min_args=1, max_args=2, values=ALL)(
    lambda ctx, n, form=None: lift(_roman, [n, form], "na")
)
register("ARABIC", min_args=1, max_args=1, values=ALL)(lambda ctx, s: lift(_arabic, [s], "s"))


# -- sums over two arrays ---------------------------------------------------------------------


def _pair_sum(fn):
    def impl(ctx: EvalContext, a: Value, b: Value) -> Value:
        if a.dims[0] * a.dims[1] != b.dims[0] * b.dims[1]:
            return error(NA)
        p = pairs(a, b)
        if p is None:
            return error(NA)
        x, y, m, err = p
        return finish(np.where(m, fn(x, y), 0.0).sum(axis=1), err, np.zeros(m.shape[0], bool), 0)

    return impl


register("SUMXMY2", min_args=2, max_args=2)(_pair_sum(lambda x, y: (x - y) ** 2))
register("SUMX2MY2", min_args=2, max_args=2)(_pair_sum(lambda x, y: x * x - y * y))
register("SUMX2PY2", min_args=2, max_args=2)(_pair_sum(lambda x, y: x * x + y * y))


@register("SERIESSUM", min_args=4, max_args=4)
def seriessum(ctx: EvalContext, x: Value, n: Value, m: Value, coefs: Value) -> Value:
    """a1 x^n + a2 x^(n+m) + a3 x^(n+2m) + ..."""
    xv, xe = numbers(x)
    nv, ne = numbers(n)
    mv, me = numbers(m)
    cv, ce = numbers(coefs)
    t = max(a.shape[0] for a in (xv, nv, mv, cv))
    c = np.broadcast_to(cv, (cv.shape[0], *coefs.dims)).reshape(cv.shape[0], -1)
    c = np.broadcast_to(c, (t, c.shape[1]))
    k = np.arange(c.shape[1])
    xv, nv, mv = (np.broadcast_to(a.reshape(-1, 1), (t, 1)) for a in (xv, nv, mv))
    with np.errstate(all="ignore"):
        out = (c * xv ** (nv + k * mv)).sum(axis=1)
    err = merge_err(
        *(None if e is None else e.reshape(e.shape[0], -1).max(axis=1) for e in (xe, ne, me, ce))
    )
    return num_result(out.reshape(-1, 1, 1), None if err is None else err.reshape(-1, 1, 1))


@register("MULTINOMIAL", min_args=1)
def multinomial(ctx: EvalContext, *args: Value | None) -> Value:
    """(a + b + ...)! / (a! b! ...) of the numbers given (each truncated)."""
    from .helpers import collect

    vals, mask, err = collect([a for a in args if a is not None])
    v = np.where(mask, np.trunc(vals), 0.0)
    from scipy import special

    with np.errstate(all="ignore"):
        out = special.gammaln(v.sum(axis=1) + 1) - np.where(mask, special.gammaln(v + 1), 0).sum(
            axis=1
        )
        out = np.round(np.exp(out))
    bad = np.where(mask, vals < 0, False).any(axis=1)
    return finish(out, err, bad, NUMERR)


@register("COMBINA", min_args=2, max_args=2, values=ALL)
def combina(ctx: EvalContext, n: Value, k: Value) -> Value:
    """Combinations with repetitions: COMBIN(n + k - 1, k)."""
    from scipy import special

    a, ea = numbers(n)
    b, eb = numbers(k)
    a, b = np.trunc(a), np.trunc(b)
    bad = (a < 0) | (b < 0) | (a < 1) & (b > 0)
    with np.errstate(all="ignore"):
        out = np.where(bad, 0.0, np.round(special.comb(a + b - 1, b)))
    shape = np.broadcast_shapes(a.shape, b.shape)
    return num_result(out, err_where(np.broadcast_to(bad, shape), NUMERR, merge_err(ea, eb)))


def _trig(name: str, fn, valid, code: int = NUMERR) -> None:
    def impl(ctx: EvalContext, x: Value) -> Value:
        a, e = numbers(x)
        bad = ~valid(a)
        with np.errstate(all="ignore"):
            out = np.where(bad, 0.0, fn(np.where(bad, 1.0, a)))
        return num_result(out, err_where(bad, code, e))

    register(name, min_args=1, max_args=1, values=ALL)(impl)


_trig("ACOT", lambda a: np.pi / 2 - np.arctan(a), lambda a: np.isfinite(a))
_trig("ACOTH", lambda a: 0.5 * np.log((a + 1) / (a - 1)), lambda a: np.abs(a) > 1)
_trig("COTH", lambda a: 1 / np.tanh(a), lambda a: a != 0, DIV0)
_trig("CSCH", lambda a: 1 / np.sinh(a), lambda a: a != 0, DIV0)
_trig("SECH", lambda a: 1 / np.cosh(a), lambda a: np.isfinite(a))

__all__ = ["VALUE"]
