"""IF, IFS, IFERROR, IFNA, AND, OR, NOT, XOR, SWITCH: per-trial selection, so an error in
a branch a trial does not take never reaches that trial's result."""

from __future__ import annotations

import operator

import numpy as np

from ..values import (
    EMPTY,
    NA,
    NUM,
    VALUE,
    Value,
    bool_result,
    error,
    from_py,
    merge_err,
    truth,
    where,
)
from .helpers import collect
from .operators import compare
from .registry import ALL, EvalContext, params, register


def _with_error(v: Value, err: np.ndarray | None) -> Value:
    """``v`` with ``err`` (where non-zero) taking precedence."""
    if err is None or not err.any():
        return v
    return where(err != 0, _err_value(err), v)


def _err_value(err: np.ndarray) -> Value:
    return Value(np.zeros(err.shape), np.zeros(err.shape, np.int8), err.astype(np.int8))


@register("IF", min_args=1, max_args=3, values=params(0), passes=params(1, 2))
def if_(ctx: EvalContext, cond: Value, a: Value | None = None, b: Value | None = None) -> Value:
    c, ce = truth(cond)
    a = from_py(0.0) if a is None else a
    b = from_py(False) if b is None else b
    if c.size == 1 and ce is None:
        return a if bool(c.reshape(-1)[0]) else b
    return _with_error(where(c, a, b), ce)


@register("IFS", min_args=2, values=params(every=(0, 2)), passes=params(every=(1, 2)))
def ifs(ctx: EvalContext, *args: Value | None) -> Value:
    if len(args) % 2:
        return error(VALUE)
    res: Value = error(NA)
    for i in range(len(args) - 2, -1, -2):
        cond, val = args[i], args[i + 1]
        if cond is None:
            continue
        c, ce = truth(cond)
        res = _with_error(where(c, val if val is not None else from_py(0.0), res), ce)
    return res


@register("IFERROR", min_args=2, max_args=2, passes=params(0, 1))
def iferror(ctx: EvalContext, v: Value, alt: Value | None) -> Value:
    alt = from_py(0.0) if alt is None else alt
    if v.err is None:
        return v
    return where(v.err != 0, alt, v)


@register("IFNA", min_args=2, max_args=2, passes=params(0, 1))
def ifna(ctx: EvalContext, v: Value, alt: Value | None) -> Value:
    alt = from_py(0.0) if alt is None else alt
    if v.err is None:
        return v
    return where(v.err == NA, alt, v)


def _logical_agg(args, fn) -> Value:
    # an empty argument counts as FALSE (AND(TRUE,) is FALSE); text typed directly that is
    # not "TRUE"/"FALSE" is skipped like text in a range
    args = [from_py(False) if a is None else a for a in args]
    vals, mask, err = collect(args, count_bool_in_refs=True, logical=True)
    count = mask.sum(axis=1)
    out = fn(np.where(mask, vals != 0, False), count)
    err = merge_err(err, np.where(count == 0, np.int8(VALUE), np.int8(0)).astype(np.int8))
    return bool_result(out.reshape(-1, 1, 1), None if err is None else err.reshape(-1, 1, 1))


@register("AND", min_args=1)
def and_(ctx: EvalContext, *args: Value | None) -> Value:
    return _logical_agg(args, lambda b, n: b.sum(axis=1) == n)


@register("OR", min_args=1)
def or_(ctx: EvalContext, *args: Value | None) -> Value:
    return _logical_agg(args, lambda b, n: b.any(axis=1))


@register("XOR", min_args=1)
def xor(ctx: EvalContext, *args: Value | None) -> Value:
    return _logical_agg(args, lambda b, n: b.sum(axis=1) % 2 == 1)


@register("NOT", min_args=1, max_args=1, values=ALL)
def not_(ctx: EvalContext, x: Value) -> Value:
    c, e = truth(x)
    return bool_result(~c, e)


@register("TRUE", min_args=0, max_args=0)
def true_(ctx: EvalContext) -> Value:
    return from_py(True)


@register("FALSE", min_args=0, max_args=0)
def false_(ctx: EvalContext) -> Value:
    return from_py(False)


@register("SWITCH", min_args=3)
def switch(ctx: EvalContext, expr: Value, *args: Value | None) -> Value:
    pairs = list(args)
    default = pairs.pop() if len(pairs) % 2 else None
    res: Value = error(NA) if default is None else default
    for i in range(len(pairs) - 2, -1, -2):
        key, val = pairs[i], pairs[i + 1]
        if key is None:
            continue
        eq = compare(expr, key, operator.eq)
        # SWITCH matches values of the same type only (empty is not FALSE or "")
        same = _kind_of(expr) == _kind_of(key)
        res = where((eq.num != 0) & same, val if val is not None else from_py(0.0), res)
        res = _with_error(res, eq.err)
    return res


def _kind_of(v: Value) -> np.ndarray:
    """Element kinds with empty counted as a number."""
    if v.kind is None:
        return np.zeros((1, 1, 1), np.int8)
    return np.where(v.kind == EMPTY, np.int8(NUM), v.kind)
