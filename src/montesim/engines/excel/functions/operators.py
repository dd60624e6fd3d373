"""Excel operators as registered functions: + - * / ^ & comparisons, unary minus, %."""

from __future__ import annotations

import operator

import numpy as np

from ..values import (
    BOOL,
    DIV0,
    EMPTY,
    NUM,
    NUMERR,
    TEXT,
    Value,
    bool_result,
    fit_pair,
    merge_err,
    num_result,
    numbers,
    text_result,
    texts,
)
from .helpers import err_where
from .registry import EvalContext, register


def _arith(a: Value | None, b: Value | None, fn) -> Value:
    """``fn`` element-wise. Like every function here it runs under ``program.run`` or
    ``Compiler.compile``, which turn NumPy's floating-point warnings off once for all:
    an overflow or 0/0 is a non-finite number, made #NUM! by ``num_result``."""
    if (
        a is not None
        and b is not None
        and a.kind is None
        and b.kind is None
        and a.err is None
        and b.err is None
        and a.num.shape[1:] == b.num.shape[1:]
    ):  # the hot path: plain numbers (shaped as their arrays) of one size
        return num_result(fn(a.num, b.num), None)
    a, b = fit_pair(a, b)
    plain = a is not None and b is not None and a.kind is None and b.kind is None
    if plain and a.err is None and b.err is None:
        return num_result(fn(a.num, b.num), None)
    x, ex = numbers(a) if a is not None else (np.zeros((1, 1, 1)), None)
    y, ey = numbers(b) if b is not None else (np.zeros((1, 1, 1)), None)
    return num_result(fn(x, y), merge_err(ex, ey))


@register("+", min_args=2, max_args=2)
def add(ctx: EvalContext, a: Value, b: Value) -> Value:
    return _arith(a, b, np.add)


@register("-", min_args=2, max_args=2)
def sub(ctx: EvalContext, a: Value, b: Value) -> Value:
    return _arith(a, b, np.subtract)


SNAP_BOUND_MIN = 64  # trials from which the residue test first tries one bound for all


def _snap(fn):
    """Excel sets the result of a formula's last addition or subtraction to 0 when it is
    a rounding residue of its operands (``=B18-B38`` shows 0, not 1.5e-11)."""

    def impl(a: Value, b: Value) -> Value:
        out = _arith(a, b, fn)
        if a is None or b is None:
            return out
        x, _ = numbers(a)
        y, _ = numbers(b)
        r = out.num
        if r.size >= SNAP_BOUND_MIN:
            # one bound for all trials first: no result is a residue when every |result|
            # exceeds 2^-49 times the largest operand (a few reductions, no temporaries)
            bound = max(x.max(), -x.min(), y.max(), -y.min()) * 2.0**-49
            if r.min() > bound or r.max() < -bound:
                return out
            # else only the results within that bound may be residues: test those alone
            near = np.flatnonzero(np.abs(r) <= bound)
            if not len(near):
                return out
            xs = np.broadcast_to(x, r.shape).flat[near]
            ys = np.broadcast_to(y, r.shape).flat[near]
            rs = r.flat[near]
            tiny = (np.abs(rs) <= np.maximum(np.abs(xs), np.abs(ys)) * 2.0**-49) & (rs != 0)
            if not tiny.any():
                return out
            snapped = r.copy()
            snapped.flat[near[tiny]] = 0.0
            return Value(snapped, out.kind, out.err, out.text)
        scale = np.maximum(np.abs(x), np.abs(y))
        np.multiply(scale, 2.0**-49, out=scale)
        tiny = np.abs(out.num) <= scale
        if not tiny.any():
            return out
        tiny &= out.num != 0
        if not tiny.any():
            return out
        return Value(np.where(tiny, 0.0, out.num), out.kind, out.err, out.text)

    return impl


_add_final, _sub_final = _snap(np.add), _snap(np.subtract)


@register("_ADD_FINAL", min_args=2, max_args=2)
def add_final(ctx: EvalContext, a: Value, b: Value) -> Value:
    return _add_final(a, b)


@register("_SUB_FINAL", min_args=2, max_args=2)
def sub_final(ctx: EvalContext, a: Value, b: Value) -> Value:
    return _sub_final(a, b)


@register("*", min_args=2, max_args=2)
def mul(ctx: EvalContext, a: Value, b: Value) -> Value:
    return _arith(a, b, np.multiply)


@register("/", min_args=2, max_args=2)
def div(ctx: EvalContext, a: Value, b: Value) -> Value:
    a, b = fit_pair(a, b)  # type: ignore[assignment]
    x, ex = numbers(a)
    y, ey = numbers(b)
    with np.errstate(all="ignore"):
        out = x / y
    err = merge_err(ex, ey)
    zero = y == 0
    if zero.any():  # checked before broadcasting: a constant divisor is one comparison
        err = err_where(np.broadcast_to(zero, out.shape), DIV0, err)
    return num_result(out, err)


@register("^", min_args=2, max_args=2)
def power(ctx: EvalContext, a: Value, b: Value) -> Value:
    a, b = fit_pair(a, b)  # type: ignore[assignment]
    x, ex = numbers(a)
    y, ey = numbers(b)
    return num_result(*excel_power(x, y, merge_err(ex, ey)))


def excel_power(
    x: np.ndarray, y: np.ndarray, err: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    with np.errstate(all="ignore"):
        out = np.power(x, y)
    shape = out.shape
    zero = x == 0
    if zero.any():  # 0^negative is #DIV/0!, 0^0 #NUM!; no zero base, no such error
        err = err_where(np.broadcast_to(zero & (y < 0), shape), DIV0, err)
        err = err_where(np.broadcast_to(zero & (y == 0), shape), NUMERR, err)
    return out, err


@register("NEG", min_args=1, max_args=1)
def neg(ctx: EvalContext, a: Value) -> Value:
    x, e = numbers(a)
    return num_result(-x, e, check=False)


@register("%", min_args=1, max_args=1)
def percent(ctx: EvalContext, a: Value) -> Value:
    x, e = numbers(a)
    return num_result(x / 100.0, e, check=False)


_concat = np.frompyfunc(operator.add, 2, 1)


@register("&", min_args=2, max_args=2)
def concat(ctx: EvalContext, a: Value, b: Value) -> Value:
    a, b = fit_pair(a, b)  # type: ignore[assignment]
    ta, ea = texts(a)
    tb, eb = texts(b)
    return text_result(_concat(ta, tb), merge_err(ea, eb))


def _lower(s: object) -> str:
    return str(s).lower()


_lower_vec = np.frompyfunc(_lower, 1, 1)


def compare(a: Value, b: Value, op) -> Value:
    """Excel comparison: numbers < text < booleans; text case-insensitive; empty adapts."""
    a, b = fit_pair(a, b)  # type: ignore[assignment]
    err = merge_err(a.err, b.err)
    if a.kind is None and b.kind is None:
        return bool_result(op(a.num, b.num), err)
    shape = np.broadcast_shapes(a.shape, b.shape)
    fa, fb = a.full(), b.full()
    ka = np.broadcast_to(fa.kind, shape).copy()
    kb = np.broadcast_to(fb.kind, shape).copy()
    na = np.broadcast_to(fa.num, shape)
    nb = np.broadcast_to(fb.num, shape)
    ta = np.broadcast_to(fa.text, shape).copy()
    tb = np.broadcast_to(fb.text, shape).copy()
    # an empty cell takes the type of the other side: 0, "" or FALSE
    ea, eb = ka == EMPTY, kb == EMPTY
    ka[ea] = np.where(kb[ea] == EMPTY, NUM, kb[ea])
    kb[eb] = np.where(ka[eb] == EMPTY, NUM, ka[eb])
    ta[ea & (ka == TEXT)] = ""
    tb[eb & (kb == TEXT)] = ""
    rank = {NUM: 0, TEXT: 1, BOOL: 2}
    ra = np.vectorize(rank.get, otypes=[np.int8])(ka) if ka.size else ka
    rb = np.vectorize(rank.get, otypes=[np.int8])(kb) if kb.size else kb
    out = op(ra, rb)
    same_num = (ra == rb) & (ra != 1)
    if same_num.any():
        out = np.where(same_num, op(na, nb), out)
    both_text = (ra == 1) & (rb == 1)
    if both_text.any():
        la = _lower_vec(ta[both_text])
        lb = _lower_vec(tb[both_text])
        c = np.array([(x > y) - (x < y) for x, y in zip(la, lb, strict=True)], dtype=np.int8)
        sub = op(c, np.zeros_like(c))
        out = np.array(out)
        out[both_text] = sub
    return bool_result(np.asarray(out), err)


for _sym, _op in (
    ("=", operator.eq),
    ("<>", operator.ne),
    ("<", operator.lt),
    (">", operator.gt),
    ("<=", operator.le),
    (">=", operator.ge),
):

    def _make(op):
        def cmp(ctx: EvalContext, a: Value, b: Value) -> Value:
            return compare(a, b, op)

        return cmp

    register(_sym, min_args=2, max_args=2)(_make(_op))
