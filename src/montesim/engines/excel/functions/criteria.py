"""Criteria matching for SUMIF(S), COUNTIF(S), AVERAGEIF(S), MAXIFS, MINIFS and MATCH wildcards."""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable
from functools import lru_cache
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
    error,
    parse_number,
    pick,
    stack_grid,
)

_OPS = {
    ">=": operator.ge,
    "<=": operator.le,
    "<>": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}


@lru_cache(maxsize=1024)
def wildcard_regex(pattern: str) -> re.Pattern[str]:
    """Excel wildcards: ``*`` any run, ``?`` one character, ``~`` escapes."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "~" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.IGNORECASE | re.DOTALL)


def has_wildcards(s: str) -> bool:
    return any(ch in s for ch in "*?~")


def _parse(criterion: Any) -> tuple[str, str, Any]:
    """(op, type, operand) with type in num, bool, text, empty, error."""
    if isinstance(criterion, XlError):
        return "=", "error", criterion.code
    if criterion is None:
        return "=", "num", 0.0
    if isinstance(criterion, bool):
        return "=", "bool", float(criterion)
    if isinstance(criterion, float | int):
        return "=", "num", float(criterion)
    s = str(criterion)
    op = "="
    for sym in (">=", "<=", "<>", ">", "<", "="):
        if s.startswith(sym):
            op, s = sym, s[len(sym) :]
            break
    if s == "":
        return op, "empty", None
    n = parse_number(s)
    if n is not None:
        return op, "num", n
    if s.upper() in ("TRUE", "FALSE"):
        return op, "bool", float(s.upper() == "TRUE")
    if s.startswith("#"):
        from ..values import ERROR_CODE

        if s.upper() in ERROR_CODE:
            return op, "error", ERROR_CODE[s.upper()]
    return op, "text", s


def ties_at_15_digits(rng: Value, criterion: Any) -> bool:
    """Whether a text criterion's number (``">=-2124.53091896698"``) may have been
    rounded away from zero at its 15th significant digit past a number in ``rng``.

    Such a criterion is usually built by joining a number to an operator (``">="&B3``),
    which writes the number with 15 significant digits. We round them to the nearest;
    Excel does not always (a known, undocumented defect: ``43863.89142``, whose binary
    value is ``43863.8914199999999…``, is written ``43863.8914199999``, its digits cut
    after the 15th). A number of the range between the two readings of the criterion
    (``|c| - 1 unit in the 15th digit <= |v| < |c|``, same sign) is then counted or not
    depending on which one Excel wrote: the compiler reports the cells where that is so.
    """
    if not isinstance(criterion, str):
        return False  # a number criterion is compared exactly
    _, typ, c = _parse(criterion)
    if typ != "num" or c == 0 or not math.isfinite(c):
        return False
    f = rng.full()
    nums = f.num[(f.kind == NUM) & (f.err == 0)]
    unit = 10.0 ** (math.floor(math.log10(abs(c))) - 14)  # one in the 15th digit
    same_sign = np.sign(nums) == np.sign(c)
    return bool(np.any(same_sign & (abs(nums) < abs(c)) & (abs(nums) >= abs(c) - unit)))


def criteria_mask(rng: Value, criterion: Value) -> np.ndarray:
    """Boolean (T, R, C): which elements of ``rng`` meet ``criterion`` (per trial)."""
    if criterion.trials == 1:
        return _mask_one(rng, criterion.to_py())
    t = max(rng.trials, criterion.trials)
    out = []
    for i in range(t):
        r = rng.take_trial(i) if rng.trials > 1 else rng
        out.append(_mask_one(r, criterion.to_py(i)))
    return np.concatenate(out, axis=0)


def _mask_one(rng: Value, criterion: Any) -> np.ndarray:
    op_s, typ, operand = _parse(criterion)
    op = _OPS[op_s]
    f = rng.full()
    shape = rng.shape
    kind = np.broadcast_to(f.kind, shape)
    err = np.broadcast_to(f.err, shape)
    num = np.broadcast_to(f.num, shape)
    ok = err == 0
    if typ == "error":
        m = err == operand
        return ~m if op_s == "<>" else m
    if typ == "num":
        m = ok & (kind == NUM) & op(num, operand)
        if op_s == "<>":
            return ~(ok & (kind == NUM) & (num == operand))
        return m
    if typ == "bool":
        if op_s == "<>":
            return ~(ok & (kind == BOOL) & (num == operand))
        return ok & (kind == BOOL) & op(num, operand)
    if typ == "empty":
        if op_s == "=":
            txt = np.broadcast_to(f.text, shape)
            is_empty_text = (kind == TEXT) & (txt == "")
            return ok & ((kind == EMPTY) | is_empty_text)
        if op_s == "<>":
            return ~(ok & (kind == EMPTY))
        return np.zeros(shape, bool)
    # text criterion
    txt = np.broadcast_to(f.text, shape)
    is_text = ok & (kind == TEXT)
    out = np.zeros(shape, bool)
    idx = np.nonzero(is_text)
    values = txt[idx]
    if op_s in ("=", "<>"):
        if has_wildcards(operand):
            rx = wildcard_regex(operand)
            hits = np.array([bool(rx.match(str(v))) for v in values], dtype=bool)
        else:
            low = operand.lower()
            hits = np.array([str(v).lower() == low for v in values], dtype=bool)
        out[idx] = hits
        return ~out if op_s == "<>" else out
    low = operand.lower()
    out[idx] = np.array([op(str(v).lower(), low) for v in values], dtype=bool)
    return out


def over_criteria(is_criteria: Callable[[int], bool]) -> Callable:
    """Excel lifts the conditional aggregates over an array of criteria:
    ``COUNTIF(A:A, {"x";"y"})`` is the array of both counts. The wrapped function runs once
    per criteria element (at most ``MAX_CRITERIA``) and the results are stacked into the
    criteria's shape."""

    def deco(impl: Callable[..., Value]) -> Callable[..., Value]:
        @functools.wraps(impl)
        def lifted(ctx: Any, *args: Value | None) -> Value:
            arrays = [
                i
                for i, a in enumerate(args)
                if a is not None and is_criteria(i) and a.dims != (1, 1)
            ]
            if not arrays:
                return impl(ctx, *args)
            rows = max(args[i].dims[0] for i in arrays)  # type: ignore[union-attr]
            cols = max(args[i].dims[1] for i in arrays)  # type: ignore[union-attr]
            if rows * cols > MAX_CRITERIA:
                return error(VALUE)
            grid: list[list[Value]] = []
            for r in range(rows):
                grid.append([])
                for c in range(cols):
                    call = list(args)
                    for i in arrays:
                        a = args[i]
                        assert a is not None
                        rr, cc = min(r, a.dims[0] - 1), min(c, a.dims[1] - 1)
                        call[i] = pick(a, rr, cc).with_ref(False)
                    grid[-1].append(impl(ctx, *call))
            return stack_grid(grid).with_ref(False)

        return lifted

    return deco


MAX_CRITERIA = 100_000
