"""Shared machinery for function implementations: lifting scalars, coercion, aggregation."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..values import (
    BOOL,
    EMPTY,
    NUM,
    TEXT,
    VALUE,
    Value,
    XlError,
    format_general,
    from_objects,
    merge_err,
    num_result,
    numbers,
    parse_number,
)


def bshape(*vals: Value | None) -> tuple[int, int, int]:
    return tuple(np.broadcast_shapes(*(v.shape for v in vals if v is not None)))  # type: ignore[return-value]


def numeric(
    fn: Callable[..., np.ndarray], *args: Value | None, defaults: Sequence[float] = ()
) -> Value:
    """Apply a NumPy function to Excel-coerced numbers; missing args take ``defaults``."""
    nums = []
    errs = []
    for i, a in enumerate(args):
        if a is None:
            nums.append(np.float64(defaults[i - (len(args) - len(defaults))]))
            continue
        n, e = numbers(a)
        nums.append(n)
        errs.append(e)
    with np.errstate(all="ignore"):
        out = np.asarray(fn(*nums), dtype=np.float64)
    err = merge_err(*errs)
    if out.ndim == 0:
        out = out.reshape(1, 1, 1)
    return num_result(out, err)


def err_where(cond: np.ndarray, code: int, err: np.ndarray | None) -> np.ndarray | None:
    """Add error ``code`` where ``cond`` holds (keeping earlier errors)."""
    if not np.any(cond):
        return err
    new = np.where(cond, np.int8(code), np.int8(0)).astype(np.int8)
    return merge_err(err, new)


# -- scalar lifting -----------------------------------------------------------------


def py_scalar(v: Value, idx: tuple[int, int, int]) -> Any:
    return v.to_py(*idx)


def coerce(x: Any, how: str) -> Any:
    """Coerce a Python scalar for a lifted function: n number, s text, b bool, a any,
    x any including an error value (the function decides which error wins)."""
    if how == "x":
        return x
    if isinstance(x, XlError):
        raise x
    if how == "a":
        return x
    if how == "n":
        if x is None:
            return 0.0
        if isinstance(x, bool):
            return float(x)
        if isinstance(x, float):
            return x
        v = parse_number(str(x))
        if v is None:
            raise XlError(VALUE)
        return v
    if how == "s":
        if x is None:
            return ""
        if isinstance(x, bool):
            return "TRUE" if x else "FALSE"
        if isinstance(x, float):
            return format_general(x)
        return str(x)
    if how == "b":
        if x is None:
            return False
        if isinstance(x, str):
            if x.upper() in ("TRUE", "FALSE"):
                return x.upper() == "TRUE"
            raise XlError(VALUE)
        return bool(x)
    raise ValueError(how)


def lift(fn: Callable[..., Any], args: Sequence[Value | None], how: str) -> Value:
    """Run a scalar Python ``fn`` element by element over broadcast arguments.

    ``how`` has one letter per argument (n, s, b, a); a ``None`` argument is passed as
    None. ``fn`` returns a Python scalar or raises/returns XlError.
    """
    present = [a for a in args if a is not None]
    shape = bshape(*present) if present else (1, 1, 1)
    out = np.empty(shape, dtype=object)
    # constants and per-trial values share work: cache by argument tuple
    cache: dict[tuple, Any] = {}
    for idx in np.ndindex(*shape):
        try:
            vals = tuple(None if a is None else _at(a, idx) for a in args)
        except XlError as e:
            out[idx] = e
            continue
        key = vals
        try:
            hit = cache.get(key, _MISS)
        except TypeError:
            hit = _MISS
        if hit is _MISS:
            try:
                conv = [
                    None if a is None else coerce(v, h)
                    for a, v, h in zip(args, vals, how, strict=False)
                ]
                hit = fn(*conv)
            except XlError as e:
                hit = e
            except (ValueError, OverflowError, ZeroDivisionError, ArithmeticError):
                hit = XlError(VALUE)
            with contextlib.suppress(TypeError):  # unhashable arguments are not cached
                cache[key] = hit
        out[idx] = hit
    return from_objects(out)


_MISS = object()


def _at(v: Value, idx: tuple[int, int, int]) -> Any:
    t, r, c = idx
    s = v.shape
    return v.to_py(t if s[0] > 1 else 0, r if s[1] > 1 else 0, c if s[2] > 1 else 0)


# -- aggregation ----------------------------------------------------------------------


def collect(
    args: Sequence[Value | None],
    *,
    count_text: bool = False,
    count_bool_in_refs: bool = False,
    logical: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Numbers of aggregate arguments per trial: ``(values (T,K), mask (T,K), err (T,))``.

    References and arrays contribute their numbers only (text, booleans, empty skipped,
    unless ``count_bool_in_refs``/``count_text`` -- the *A variants, where text is 0);
    a scalar typed directly (not a reference) is coerced: ``TRUE`` is 1, ``"3"`` is 3,
    other text is #VALUE!. Errors anywhere propagate per trial.

    ``logical`` (AND, OR, XOR): a scalar typed directly counts when it is a number, a
    boolean or the text "TRUE"/"FALSE"; other text is ignored like text in a range (so
    ``AND(x>0, ">"&A1)`` is ``x>0``; with nothing left to count the caller gives #VALUE!).
    """
    present = [a for a in args if a is not None]
    t = max((a.trials for a in present), default=1)
    cols_v: list[np.ndarray] = []
    cols_m: list[np.ndarray] = []
    err: np.ndarray | None = None
    for a in present:
        n = a.shape[1] * a.shape[2]
        num = np.broadcast_to(a.num, (a.num.shape[0], a.shape[1], a.shape[2])).reshape(
            a.num.shape[0], n
        )
        direct = not a.is_ref and n == 1
        if direct and logical:
            vals, mask, e = _direct_logical(a)
        elif direct:
            vals, e = numbers(a)
            vals = np.broadcast_to(vals, a.shape).reshape(a.shape[0], 1)
            mask = np.ones((1, 1), bool)
            if a.kind is not None:
                # direct empty args (f(1,,2)) do not count; they arrive as None anyway
                pass
        else:
            vals = num
            if a.kind is None:
                mask = np.ones((1, n), bool)
            else:
                kind = np.broadcast_to(a.kind, a.shape).reshape(a.shape[0], n)
                ok = kind == NUM
                if count_bool_in_refs:
                    ok = ok | (kind == BOOL)
                if count_text:
                    ok = ok | (kind == TEXT)
                    vals = np.where(kind == TEXT, 0.0, vals)
                mask = ok
            e = a.err
        if e is not None:
            e2 = np.broadcast_to(e, a.shape).reshape(a.shape[0], -1)
            flat_first = e2[np.arange(e2.shape[0]), (e2 != 0).argmax(axis=1)]
            err = merge_err(err, flat_first)
        cols_v.append(np.broadcast_to(vals, (t, vals.shape[1])) if vals.shape[0] != t else vals)
        cols_m.append(np.broadcast_to(mask, (t, mask.shape[1])) if mask.shape[0] != t else mask)
    if not cols_v:
        return np.zeros((t, 0)), np.zeros((t, 0), bool), err
    values = np.concatenate(cols_v, axis=1) if len(cols_v) > 1 else cols_v[0]
    mask = np.concatenate(cols_m, axis=1) if len(cols_m) > 1 else cols_m[0]
    if err is not None:
        err = np.broadcast_to(err, (t,)) if err.shape[0] != t else err
    return values, mask, err


def _direct_logical(a: Value) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A scalar argument of AND/OR/XOR per trial: ``(values (T,1), counted (T,1), err)``."""
    t = a.shape[0]
    num = np.broadcast_to(a.num, a.shape).reshape(t, 1)
    if a.kind is None:
        return num, np.ones((1, 1), bool), a.err
    kind = np.broadcast_to(a.kind, a.shape).reshape(t, 1)
    mask = (kind == NUM) | (kind == BOOL)
    vals = num
    is_text = kind == TEXT
    if is_text.any() and a.text is not None:
        txt = np.broadcast_to(a.text, a.shape).reshape(t, 1)
        up = np.array(
            [
                [str(x).upper() if k else "" for x, k in zip(row_t, row_k, strict=True)]
                for row_t, row_k in zip(txt, is_text, strict=True)
            ],
            dtype=object,
        )
        word = is_text & ((up == "TRUE") | (up == "FALSE"))
        mask = mask | word
        vals = np.where(word, (up == "TRUE").astype(np.float64), num)
    return vals, mask, a.err


def accumulate(nums: Sequence[np.ndarray], ufunc: np.ufunc) -> np.ndarray:
    """``ufunc(...ufunc(ufunc(n0, n1), n2)..., nk)``, in order, in one accumulator: what
    NumPy's reduction of a range built cell-major (each cell's trials contiguous)
    computes, without building it."""
    acc = nums[0]
    for i, x in enumerate(nums[1:]):
        if i and (x.shape == acc.shape or acc.shape == np.broadcast_shapes(acc.shape, x.shape)):
            ufunc(acc, x, out=acc)  # our own array since the first step
        else:
            acc = ufunc(acc, x)
    return acc


def fast_reduce(args: Sequence[Value | None], ufunc: np.ufunc) -> Value | None:
    """SUM/MAX/MIN of arguments that are all plain numbers, without a (T, K) matrix.

    The common case in models (``MAX(0, B5)``, ``SUM(C2:C13)``); None when any argument
    has text, booleans, empties or errors, so the general path handles Excel's rules.
    """
    acc: np.ndarray | None = None
    for a in args:
        if a is None or a.kind is not None or a.err is not None:
            return None
        x = a.num
        if x.shape[1] * x.shape[2] != 1:
            x = ufunc.reduce(x.reshape(x.shape[0], -1), axis=1).reshape(-1, 1, 1)
        acc = x if acc is None else ufunc(acc, x)
    return None if acc is None else num_result(acc, None)


def agg_result(out: np.ndarray, err: np.ndarray | None) -> Value:
    """A (T,) aggregate as a (T,1,1) numeric value."""
    out = np.asarray(out, dtype=np.float64).reshape(-1, 1, 1)
    if err is not None:
        err = np.asarray(err, np.int8).reshape(-1, 1, 1)
    return num_result(out, err)


def flat_py(v: Value, t: int = 0) -> list[Any]:
    """All elements of trial ``t`` as Python scalars, row by row."""
    _, rows, cols = v.shape
    return [v.to_py(t, r, c) for r in range(rows) for c in range(cols)]


def const_number(v: Value | None, default: float | None = None) -> float:
    """A scalar argument that must be the same for every trial, as a float."""
    if v is None:
        if default is None:
            raise XlError(VALUE)
        return default
    x = v.to_py()
    return coerce(x, "n")


__all__ = ["EMPTY", "NUM", "TEXT", "BOOL"]
