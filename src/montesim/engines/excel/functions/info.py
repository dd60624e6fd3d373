"""Information functions: IS*, N, NA, TYPE, ERROR.TYPE."""

from __future__ import annotations

import numpy as np

from ..values import (
    BOOL,
    EMPTY,
    NA,
    NUM,
    TEXT,
    VALUE,
    Value,
    bool_result,
    error,
    num_result,
    numbers,
    text_result,
)
from .registry import ALL, EvalContext, register


def _kind(v: Value) -> np.ndarray:
    return np.zeros(v.num.shape, np.int8) if v.kind is None else v.kind


def _err(v: Value) -> np.ndarray:
    return np.zeros(v.num.shape, np.int8) if v.err is None else v.err


def _is(name: str, test) -> None:
    def impl(ctx: EvalContext, x: Value) -> Value:
        f = x.full()
        return bool_result(test(f.kind, f.err, f.num), None)

    register(name, min_args=1, max_args=1, values=ALL)(impl)


_is("ISBLANK", lambda k, e, n: (k == EMPTY) & (e == 0))
_is("ISERROR", lambda k, e, n: e != 0)
_is("ISERR", lambda k, e, n: (e != 0) & (e != NA))
_is("ISNA", lambda k, e, n: e == NA)
_is("ISNUMBER", lambda k, e, n: (k == NUM) & (e == 0))
_is("ISTEXT", lambda k, e, n: (k == TEXT) & (e == 0))
_is("ISNONTEXT", lambda k, e, n: ~((k == TEXT) & (e == 0)))
_is("ISLOGICAL", lambda k, e, n: (k == BOOL) & (e == 0))


def _parity(name: str, rem: int) -> None:
    def impl(ctx: EvalContext, x: Value) -> Value:
        if x.kind is not None and (np.broadcast_to(x.kind, x.shape) == BOOL).any():
            from ..values import VALUE

            return error(VALUE)
        n, e = numbers(x)
        return bool_result(np.trunc(n) % 2 == rem, e)

    register(name, min_args=1, max_args=1, values=ALL)(impl)


_parity("ISEVEN", 0)
_parity("ISODD", 1)


@register("N", min_args=1, max_args=1, values=ALL)
def n_(ctx: EvalContext, x: Value) -> Value:
    f = x.full()
    out = np.where((f.kind == NUM) | (f.kind == BOOL), f.num, 0.0)
    return num_result(out, x.err, check=False)


@register("NA", min_args=0, max_args=0)
def na(ctx: EvalContext) -> Value:
    return error(NA)


@register("TYPE", min_args=1, max_args=1)
def type_(ctx: EvalContext, x: Value) -> Value:
    if x.dims != (1, 1):
        return num_result(np.full((1, 1, 1), 64.0), None)
    f = x.full()
    codes = np.select([f.err != 0, f.kind == TEXT, f.kind == BOOL], [16.0, 2.0, 4.0], 1.0)
    return num_result(codes, None)


@register("ERROR.TYPE", min_args=1, max_args=1, values=ALL)
def error_type(ctx: EvalContext, x: Value) -> Value:
    e = _err(x).astype(float)
    err = np.where(e == 0, np.int8(NA), np.int8(0)).astype(np.int8)
    return num_result(e, err, check=False)


@register("_CELLVALUE", min_args=1, max_args=1)
def cell_value(ctx: EvalContext, x: Value) -> Value:
    """Internal: what a formula cell holds (a reference to an empty cell shows 0)."""
    if x.kind is None or not (x.kind == EMPTY).any():
        return x
    kind = np.where(x.kind == EMPTY, np.int8(NUM), x.kind).astype(np.int8)
    return Value(x.num, kind, x.err, x.text)


@register("CELL", min_args=1, max_args=2)
def cell(ctx: EvalContext, info: Value, ref: Value | None = None) -> Value:
    """CELL("contents"|"type", ref) from the top-left cell's value; other info types
    (which need the reference or formatting) are #VALUE!."""
    what = info.to_py()
    if not isinstance(what, str) or ref is None:
        return error(VALUE)
    first = Value(
        *(None if a is None else a[:, :1, :1] for a in (ref.num, ref.kind, ref.err, ref.text))
    )
    what = what.lower()
    if what == "contents":
        return cell_value(ctx, first)
    if what == "type":
        f = first.full()
        code = np.where(f.kind == EMPTY, "b", np.where(f.kind == TEXT, "l", "v")).astype(object)
        return text_result(code, None)
    return error(VALUE)
