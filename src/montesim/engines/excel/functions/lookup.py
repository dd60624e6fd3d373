"""Lookups vectorized over trials: VLOOKUP, HLOOKUP, LOOKUP, MATCH, XLOOKUP, XMATCH,
INDEX (with per-trial positions), CHOOSE, TRANSPOSE.

Reference-returning forms (INDEX/OFFSET/INDIRECT with fixed arguments) are resolved by
the compiler; these implementations work on values.
"""

from __future__ import annotations

import operator

import numpy as np

from ..values import EMPTY, NA, NUM, REF, TEXT, VALUE, Value, error, merge_err, numbers, where
from .criteria import has_wildcards, wildcard_regex
from .operators import compare
from .registry import ALL, EvalContext, params, register


def _vector(v: Value, axis: str) -> Value:
    """A 1-D lookup array as shape (T, 1, n): a column, a row, or (axis) a table edge."""
    _, rows, cols = v.shape

    def tr(a):
        if a is None:
            return None
        a = np.broadcast_to(a, (a.shape[0], rows, cols))
        if axis == "col" or (axis == "auto" and cols == 1):
            return a[:, :, 0].reshape(a.shape[0], 1, rows)
        return a[:, 0, :].reshape(a.shape[0], 1, cols)

    return Value(tr(v.num), tr(v.kind), tr(v.err), tr(v.text), v.is_ref)


def _kinds(v: Value) -> np.ndarray:
    k = np.zeros((1, 1, 1), np.int8) if v.kind is None else v.kind
    return np.broadcast_to(k, v.shape)


def find(
    x: Value, vec: Value, mode: int, *, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per trial, the 0-based position of ``x`` in ``vec`` (T,1,n); -1 if absent.

    mode 0 exact (wildcards in text), 1 largest <= x (ascending data), -1 smallest >= x
    (descending data); 2 next larger (XLOOKUP), -2 next smaller (XLOOKUP), 3 wildcard.
    """
    n = vec.shape[2]
    xkind = None if x.kind is None else x.kind[:, :1, :1]
    if xkind is not None and (xkind == EMPTY).any():
        xkind = np.where(xkind == EMPTY, np.int8(NUM), xkind).astype(np.int8)  # empty looks up 0
    fast = _find_sorted(x, xkind, vec, mode, reverse)
    if fast is not None:
        return fast, None if x.err is None else x.err[:, 0, 0]
    xs = Value(x.num[:, :1, :1], xkind, None, None if x.text is None else x.text[:, :1, :1])
    x_err = None if x.err is None else x.err[:, 0, 0]
    if mode in (0, 3) and vec.trials == 1 and vec.text is not None and xs.kind is not None:
        found = _find_text(xs, vec, reverse)
        if found is not None:
            return found, x_err
    same_type = _kinds(vec) == _kinds(xs)
    valid = same_type if vec.err is None else same_type & (np.broadcast_to(vec.err, vec.shape) == 0)
    if (
        mode in (0, 3)
        and xs.kind is not None
        and (np.broadcast_to(xs.kind, xs.shape) == TEXT).any()
    ):
        hit = _text_match(xs, vec, wildcards=True)
    elif mode in (0, 3):
        hit = (compare(vec, xs, operator.eq).num != 0) & valid
    elif mode in (1, -2):
        hit = (compare(vec, xs, operator.le).num != 0) & valid
    else:
        hit = (compare(vec, xs, operator.ge).num != 0) & valid
    hit = hit.reshape(hit.shape[0], n)
    t = hit.shape[0]
    any_hit = hit.any(axis=1)
    if mode in (0, 3):
        idx = n - 1 - hit[:, ::-1].argmax(axis=1) if reverse else hit.argmax(axis=1)
    elif mode == 1:
        # Excel's binary search, on any data: sorted or not, its probes decide
        idx = excel_bisect(hit, valid.reshape(-1, n))
        any_hit = idx >= 0
    elif mode == -1:
        # MATCH type -1 scans (Excel's cached values on ascending data say so): until a
        # value below x, whose predecessor is the answer; an equal value stops the scan
        eq = ((compare(vec, xs, operator.eq).num != 0) & valid).reshape(t, n)
        below = (valid & ~(compare(vec, xs, operator.ge).num != 0)).reshape(t, n)
        pos = np.arange(n)
        stop = np.where(below.any(axis=1), below.argmax(axis=1), n)
        first_eq = np.where(eq.any(axis=1), eq.argmax(axis=1), n)
        before = hit & (pos[None, :] < stop[:, None])
        last = np.where(before.any(axis=1), n - 1 - before[:, ::-1].argmax(axis=1), -1)
        idx = np.where(first_eq < stop, first_eq, last)
        any_hit = idx >= 0
    else:
        # XLOOKUP next smaller/larger: exact match first, else the closest value (the
        # closest by text order when looking up text); ties go to the first one met in the
        # search direction
        idx = _closest(xs, vec, hit, reverse, larger=mode == 2)
    idx = np.where(any_hit, idx, -1)
    return idx, x_err


def excel_bisect(ok: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per trial, the position an approximate lookup (MATCH type 1, LOOKUP,
    VLOOKUP/HLOOKUP TRUE) finds by Excel's binary search; -1 if none.

    ``ok`` (T, n): the element qualifies (<= the key);
    ``valid`` (T or 1, n): the element can be compared with the key at all (same type,
    no error). The search keeps a low end taken to qualify and a high end taken not to
    (at first the first and last positions) and probes the middle, ``(lo + hi) // 2``;
    a qualifying probe becomes the low end, any other the high end, until the ends are
    next to each other. Then the high end is the answer if it qualifies, else the low end
    if it does, else there is none. A probe on an element that cannot be compared moves
    on to the next one that can before the high end (the skipped ones count with the
    high end when none qualifies), which is how ``LOOKUP(2, 1/(A:A="x"), B:B)`` finds the
    last match among errors. On data sorted the way the type says, this is the last
    position that qualifies; on other data it is wherever the probes lead: the vector
    0, 0, 0, 0, 0.251, 0, 0.978 searched for 0.2 gives position 4 (1-based), as Excel.
    """
    t, n = ok.shape
    if valid.shape[0] > 1 and (valid[1:] == valid[:1]).all():
        valid = valid[:1]  # the same in every trial (the usual case): one row suffices
    # the first comparable position at or after each position (n: none)
    pos = np.where(valid, np.arange(n, dtype=np.int32), np.int32(n))
    nxt = np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(t)
    vrows = rows if nxt.shape[0] == t else np.zeros(t, np.intp)
    lo = np.zeros(t, np.int64)
    hi = np.full(t, n - 1, np.int64)
    while True:
        live = hi - lo > 1
        if not live.any():
            break
        mid = (lo + hi) // 2
        probe = nxt[vrows, mid]
        found = live & (probe < hi)
        good = found & ok[rows, np.minimum(probe, n - 1)]
        lo = np.where(good, probe, lo)
        hi = np.where(live & ~good, mid, hi)
    return np.where(ok[rows, hi], hi, np.where(ok[rows, lo], lo, -1))


def _closest(xs: Value, vec: Value, hit: np.ndarray, reverse: bool, *, larger: bool) -> np.ndarray:
    """Per trial, the position among ``hit`` (T, n) whose value is nearest to ``x``: the
    hits are all >= x (``larger``) or all <= x, so the nearest is the least distance for
    numbers and the least (or greatest) in case-blind text order for text."""
    t, n = hit.shape
    order = np.arange(n)[::-1] if reverse else np.arange(n)
    xk = _kinds(xs).reshape(-1)
    if not (xk == TEXT).any():
        vals = np.broadcast_to(np.broadcast_to(vec.num, vec.shape).reshape(-1, n), (t, n))
        xv = np.broadcast_to(xs.num.reshape(-1, 1), (t, 1))
        dist = np.where(hit, np.abs(vals - xv), np.inf)[:, order]
        return order[dist.argmin(axis=1)]
    out = np.zeros(t, np.int64)
    full = vec.full()
    texts = np.broadcast_to(full.text, vec.shape).reshape(-1, n)
    for i in range(t):
        row = texts[min(i, texts.shape[0] - 1)]
        cands = [j for j in order if hit[i, j]]
        if not cands:
            continue
        key = [str(row[j]).lower() for j in cands]
        best = min(key) if larger else max(key)
        out[i] = cands[key.index(best)]
    return out


SMALL_TABLE = 16  # sorted lookup vectors up to this long are searched by comparisons


def _find_sorted(
    x: Value, xkind: np.ndarray | None, vec: Value, mode: int, reverse: bool
) -> np.ndarray | None:
    """``find`` by binary search: numbers looked up in a constant all-number vector.

    The common case in models (a random value looked up in a fixed table) costs
    O(T log n) instead of comparing every trial with every entry. None: not applicable.
    """
    if mode not in (0, 1) or reverse or vec.trials != 1 or vec.err is not None:
        return None
    if vec.kind is not None and (vec.kind != NUM).any():
        return None
    if xkind is not None and (xkind != NUM).any():
        return None
    vals = vec.num.reshape(-1)
    keys = x.num[:, 0, 0]
    if mode == 1:
        if vals.size > 1 and not (np.diff(vals) >= 0).all():
            return None  # unsorted data: keep Excel's scan semantics below
        if vals.size <= SMALL_TABLE:
            # the position is how many entries are <= the key, less one: a few
            # comparisons cost less than a binary search per trial (searchsorted)
            count = np.zeros(keys.shape, np.uint8)  # one byte a trial: SMALL_TABLE < 256
            hit = np.empty(keys.shape, bool)
            for v in vals:
                count += np.greater_equal(keys, v, out=hit).view(np.uint8)
            pos = count.astype(np.int64)
            pos -= 1
            return pos
        return np.searchsorted(vals, keys, side="right") - 1
    order = np.argsort(vals, kind="stable")  # equal values keep their first position first
    ranked = vals[order]
    pos = np.minimum(np.searchsorted(ranked, keys, side="left"), vals.size - 1)
    return np.where(ranked[pos] == keys, order[pos], -1)


_LOWERED: dict[int, tuple[np.ndarray, np.ndarray]] = {}
_TEXT_INDEX: dict[int, tuple[np.ndarray, dict[str, tuple[int, int]]]] = {}


def _find_text(xs: Value, vec: Value, reverse: bool) -> np.ndarray | None:
    """Exact text keys (no wildcards) in a constant vector through a hash index: the first
    (or, ``reverse``, last) position per trial, -1 if absent. None: not applicable."""
    keys = [xs.to_py(i) for i in range(xs.trials)]
    if not all(isinstance(k, str) and not has_wildcards(k) for k in keys):
        return None
    index = _text_index(vec)
    pick = 1 if reverse else 0
    return np.array([index.get(k.lower(), (-1, -1))[pick] for k in keys], dtype=np.int64)


def _text_index(vec: Value) -> dict[str, tuple[int, int]]:
    """Lower-cased text -> (first, last) position among the vector's error-free text
    elements; cached, as lookups repeat the same table."""
    assert vec.text is not None
    hit = _TEXT_INDEX.get(id(vec.text))
    if hit is not None and hit[0] is vec.text:
        return hit[1]
    low = _lowered(vec)
    err = None if vec.err is None else np.broadcast_to(vec.err, vec.shape)[0, 0]
    index: dict[str, tuple[int, int]] = {}
    for j, text in enumerate(low):
        if text is None or (err is not None and err[j]):
            continue
        first = index.get(text)
        index[text] = (j, j) if first is None else (first[0], j)
    if len(_TEXT_INDEX) > 256:
        _TEXT_INDEX.clear()
    _TEXT_INDEX[id(vec.text)] = (vec.text, index)
    return index


def _lowered(vec: Value) -> np.ndarray:
    """The lower-cased text of a constant lookup vector (None where not text), cached:
    a model looks the same table up from thousands of cells."""
    assert vec.text is not None
    hit = _LOWERED.get(id(vec.text))
    if hit is not None and hit[0] is vec.text:
        return hit[1]
    vk = _kinds(vec)[0, 0]
    vt = np.broadcast_to(vec.text, vec.shape)[0, 0]
    low = np.array(
        [str(x).lower() if k == TEXT else None for x, k in zip(vt, vk, strict=True)], object
    )
    if len(_LOWERED) > 256:
        _LOWERED.clear()
    _LOWERED[id(vec.text)] = (vec.text, low)
    return low


def _text_match(xs: Value, vec: Value, *, wildcards: bool) -> np.ndarray:
    t = max(xs.trials, vec.trials)
    n = vec.shape[2]
    out = np.zeros((t, 1, n), bool)
    vk = _kinds(vec)
    vt = np.broadcast_to(vec.text, vec.shape) if vec.text is not None else None
    for i in range(t):
        key = xs.to_py(min(i, xs.trials - 1))
        if not isinstance(key, str):
            continue
        ti = min(i, vec.trials - 1)
        if vt is None:
            continue
        if vec.trials == 1 and not (wildcards and has_wildcards(key)):
            out[i, 0] = _lowered(vec) == key.lower()
        elif wildcards and has_wildcards(key):
            rx = wildcard_regex(key)
            out[i, 0] = [
                (vk[ti, 0, j] == TEXT) and bool(rx.match(str(vt[ti, 0, j]))) for j in range(n)
            ]
        else:
            low = key.lower()
            out[i, 0] = [
                (vk[ti, 0, j] == TEXT) and str(vt[ti, 0, j]).lower() == low for j in range(n)
            ]
    if vec.err is not None:
        out &= np.broadcast_to(vec.err, vec.shape)[: out.shape[0]] == 0
    return out


def gather(v: Value, rows: np.ndarray, cols: np.ndarray) -> Value:
    """Per trial t, element (rows[t], cols[t]) of ``v`` as a (T,1,1) value."""
    t = max(v.trials, rows.shape[0], cols.shape[0])
    if v.trials == 1 and (rows.shape[0] == 1 or cols.shape[0] == 1):
        # a constant table and one fixed row or column (VLOOKUP's column): one take
        def line(a):
            if a is None:
                return None
            grid = np.broadcast_to(a[0], v.dims)
            if cols.shape[0] == 1:
                vec, idx = grid[:, min(int(cols[0]), grid.shape[1] - 1)], rows
            else:
                vec, idx = grid[min(int(rows[0]), grid.shape[0] - 1)], cols
            return np.broadcast_to(vec.take(idx), (t,)).reshape(t, 1, 1)

        return Value(line(v.num), line(v.kind), line(v.err), line(v.text))
    rows = np.broadcast_to(rows, (t,))
    cols = np.broadcast_to(cols, (t,))

    def g(a):
        if a is None:
            return None
        ti = np.arange(t) if a.shape[0] > 1 else np.zeros(t, int)
        ri = rows if a.shape[1] > 1 else np.zeros(t, int)
        ci = cols if a.shape[2] > 1 else np.zeros(t, int)
        return a[ti, ri, ci].reshape(t, 1, 1)

    return Value(g(v.num), g(v.kind), g(v.err), g(v.text))


def gather_line(v: Value, idx: np.ndarray, axis: int) -> Value:
    """Per trial t, row idx[t] (axis 1: a (T,1,C) value) or column idx[t] (axis 2)."""
    t = max(v.trials, idx.shape[0])
    idx = np.broadcast_to(idx, (t,))

    def g(a):
        if a is None:
            return None
        b = np.broadcast_to(a, (a.shape[0], *v.dims))
        ti = np.arange(t) if b.shape[0] > 1 else np.zeros(t, int)
        if axis == 1:
            return b[ti, idx, :].reshape(t, 1, b.shape[2])
        return b[ti, :, idx].reshape(t, b.shape[1], 1)

    return Value(g(v.num), g(v.kind), g(v.err), g(v.text))


def _fail(idx: np.ndarray, code: int, base: Value, extra_err: np.ndarray | None = None) -> Value:
    if extra_err is None and idx.min(initial=0) >= 0:
        return base  # every trial found its match: nothing to mark
    err = np.where(idx < 0, np.int8(code), np.int8(0)).astype(np.int8).reshape(-1, 1, 1)
    if extra_err is not None:
        err = merge_err(np.asarray(extra_err, np.int8).reshape(-1, 1, 1), err)
    if not err.any():
        return base
    return where(err != 0, Value(np.zeros(err.shape), np.zeros(err.shape, np.int8), err), base)


def _int_arg(v: Value | None, default: float) -> tuple[np.ndarray, np.ndarray | None]:
    if v is None:
        return np.full(1, default), None
    n, e = numbers(v)
    return np.trunc(n.reshape(-1)), None if e is None else e.reshape(-1)


def _approx_flag(v: Value | None) -> np.ndarray:
    if v is None:
        return np.ones(1, bool)
    return (np.broadcast_to(v.num, v.shape) != 0).reshape(-1)


def _table_lookup(
    x: Value, table: Value, index: Value, approx: Value | None, horizontal: bool
) -> Value:
    col, ce = _int_arg(index, 1)
    flag = _approx_flag(approx)
    if flag.size != 1:
        return error(VALUE)
    keys = _vector(table, "row" if horizontal else "col")
    idx, xe = find(x, keys, 1 if flag[0] else 0)
    _, rows, cols = table.shape
    width = rows if horizontal else cols
    bad_ref = col > width
    bad_val = col < 1
    pos = np.clip(col - 1, 0, width - 1).astype(int)
    safe = np.maximum(idx, 0)
    out = gather(table, pos if horizontal else safe, safe if horizontal else pos)
    err = merge_err(xe, ce)
    code = np.where(bad_val, VALUE, np.where(bad_ref, REF, 0)).astype(np.int8)
    err = merge_err(err, np.broadcast_to(code, idx.shape) if code.any() else None)
    return _fail(idx, NA, out, err)


@register("VLOOKUP", min_args=3, max_args=4, values=params(0, 2, 3), ranges=params(1))
def vlookup(
    ctx: EvalContext, x: Value, table: Value, col: Value, approx: Value | None = None
) -> Value:
    return _table_lookup(x, table, col, approx, horizontal=False)


@register("HLOOKUP", min_args=3, max_args=4, values=params(0, 2, 3), ranges=params(1))
def hlookup(
    ctx: EvalContext, x: Value, table: Value, row: Value, approx: Value | None = None
) -> Value:
    return _table_lookup(x, table, row, approx, horizontal=True)


@register("MATCH", min_args=2, max_args=3, values=params(0, 2), ranges=params(1))
def match(ctx: EvalContext, x: Value, arr: Value, kind: Value | None = None) -> Value:
    if arr.dims[0] > 1 and arr.dims[1] > 1:
        return error(NA)
    mt, me = _int_arg(kind, 1)
    if mt.size != 1:
        return error(VALUE)
    mode = int(np.sign(mt[0]))
    idx, xe = find(x, _vector(arr, "auto"), mode)
    out = Value((idx + 1).astype(float).reshape(-1, 1, 1))
    return _fail(idx, NA, out, merge_err(xe, me))


# XLOOKUP/XMATCH match_mode -> find's mode
X_MATCH_MODES = {0: 0, -1: -2, 1: 2, 2: 3}
X_SEARCH_MODES = (1, -1, 2, -2)


def _x_modes(mm: Value | None, sm: Value | None) -> tuple[int, bool] | None:
    """(find mode, search from the end) of XLOOKUP/XMATCH; None (#VALUE!) for a mode Excel
    does not have. Binary search (search_mode 2/-2) finds what a scan finds on sorted data
    without repeated values; the compiler reports it on any other data (see
    ``compiler._binary_search_check``)."""
    mode, me = _int_arg(mm, 0)
    search, se = _int_arg(sm, 1)
    if mode.size != 1 or search.size != 1 or me is not None and me.any():
        return None
    if se is not None and se.any():
        return None
    m = X_MATCH_MODES.get(int(mode[0]))
    if m is None or int(search[0]) not in X_SEARCH_MODES:
        return None
    return m, int(search[0]) == -1


@register(
    "XMATCH",
    min_args=2,
    max_args=4,
    values=params(0, 2, 3),
    ranges=params(1),
    empty_is_omitted=True,
)
def xmatch(
    ctx: EvalContext, x: Value, arr: Value, mm: Value | None = None, sm: Value | None = None
) -> Value:
    modes = _x_modes(mm, sm)
    if modes is None:
        return error(VALUE)
    m, reverse = modes
    idx, xe = find(x, _vector(arr, "auto"), m, reverse=reverse)
    out = Value((idx + 1).astype(float).reshape(-1, 1, 1))
    return _fail(idx, NA, out, xe)


@register(
    "XLOOKUP",
    min_args=3,
    max_args=6,
    values=params(0, 4, 5),
    ranges=params(1, 2),
    empty_is_omitted=True,
)
def xlookup(
    ctx: EvalContext,
    x: Value,
    look: Value,
    ret: Value,
    if_missing: Value | None = None,
    mm: Value | None = None,
    sm: Value | None = None,
) -> Value:
    modes = _x_modes(mm, sm)
    if modes is None:
        return error(VALUE)
    m, reverse = modes
    vec = _vector(look, "auto")
    idx, xe = find(x, vec, m, reverse=reverse)
    safe = np.maximum(idx, 0)
    vertical = look.dims[1] == 1
    if vertical and ret.dims[1] > 1:  # a whole row of the return array spills
        out = gather_line(ret, safe, axis=1)
    elif not vertical and ret.dims[0] > 1:  # a whole column
        out = gather_line(ret, safe, axis=2)
    elif vertical:
        out = gather(ret, safe, np.zeros_like(safe))
    else:
        out = gather(ret, np.zeros_like(safe), safe)
    if if_missing is not None:
        miss = (idx < 0).reshape(-1, 1, 1)
        res = where(miss, if_missing, out)
        return _fail(np.zeros_like(idx), NA, res, xe)
    return _fail(idx, NA, out, xe)


@register("LOOKUP", min_args=2, max_args=3, values=params(0), ranges=params(1, 2))
def lookup(ctx: EvalContext, x: Value, vec: Value, result: Value | None = None) -> Value:
    _, rows, cols = vec.shape
    if result is None:
        if rows >= cols:
            keys, result = _vector(vec, "col"), _last(vec, "col")
        else:
            keys, result = _vector(vec, "row"), _last(vec, "row")
    else:
        if result.dims[0] > 1 and result.dims[1] > 1:
            return error(NA)
        keys = _vector(vec, "col" if rows >= cols else "row")
        result = _vector(result, "auto")
    idx, xe = find(x, keys, 1)
    safe = np.maximum(idx, 0)
    n = result.shape[2]
    out = gather(result, np.zeros_like(safe), np.minimum(safe, n - 1))
    return _fail(idx, NA, out, xe)


def _last(v: Value, axis: str) -> Value:
    def tr(a):
        if a is None:
            return None
        if axis == "col":
            return a[:, :, -1].reshape(a.shape[0], 1, a.shape[1])
        return a[:, -1, :].reshape(a.shape[0], 1, a.shape[2])

    return Value(tr(v.num), tr(v.kind), tr(v.err), tr(v.text))


@register("INDEX", min_args=2, max_args=4, values=params(1, 2, 3), ranges=params(0))
def index(
    ctx: EvalContext,
    arr: Value,
    row: Value | None,
    col: Value | None = None,
    area: Value | None = None,
) -> Value:
    if any(a is not None and a.dims != (1, 1) for a in (row, col)):
        return _index_lifted(arr, row, col)
    fast = _index_vector(arr, row) if col is None else None
    if fast is not None:
        return fast
    _, rows, cols = arr.shape
    r, re_ = _int_arg(row, 0)
    c, ce = _int_arg(col, 0)
    if col is None and rows == 1:
        r, c = np.zeros_like(r), r
    code = np.where((r < 0) | (c < 0), VALUE, np.where((r > rows) | (c > cols), REF, 0))
    if r.size == 1 and c.size == 1 and ((r == 0) | (c == 0)).any():
        if code[0]:
            return error(int(code[0]))
        # a whole row or column (a constant position): slice it
        rs = slice(None) if r[0] == 0 else slice(int(r[0]) - 1, int(r[0]))
        cs = slice(None) if c[0] == 0 else slice(int(c[0]) - 1, int(c[0]))

        def sl(a):
            return None if a is None else np.broadcast_to(a, (a.shape[0], rows, cols))[:, rs, cs]

        out = Value(sl(arr.num), sl(arr.kind), sl(arr.err), sl(arr.text))
        err = merge_err(re_, ce)
        return out if err is None else _fail(np.zeros(1, int), REF, out, err)
    if ((r == 0) | (c == 0)).any() and (rows > 1 and cols > 1):
        return error(VALUE)  # whole row/column at a per-trial position: not supported
    ri = np.clip(np.where(r == 0, 1, r) - 1, 0, rows - 1).astype(int)
    ci = np.clip(np.where(c == 0, 1, c) - 1, 0, cols - 1).astype(int)
    out = gather(arr, ri, ci)
    err = merge_err(re_, ce, code.astype(np.int8) if code.any() else None)
    return _fail(np.zeros(ri.shape, int), REF, out, err)


def _index_lifted(arr: Value, row: Value | None, col: Value | None) -> Value:
    """INDEX over arrays of positions: ``INDEX(data, SEQUENCE(5), {1,2})`` is the 5x2
    array of the elements at each (row, column) pair, the positions broadcast together."""
    _, rows, cols = arr.shape
    zero = np.zeros((1, 1, 1))
    rn, re_ = numbers(row) if row is not None else (zero, None)
    cn, ce = numbers(col) if col is not None else (zero, None)
    if col is None and rows == 1:
        rn, cn, re_, ce = zero, rn, None, re_
    shape = np.broadcast_shapes(rn.shape, cn.shape, (arr.trials, 1, 1))
    r = np.broadcast_to(np.trunc(rn), shape)
    c = np.broadcast_to(np.trunc(cn), shape)
    if (((r == 0) & (rows > 1)) | ((c == 0) & (cols > 1))).any():
        return error(VALUE)  # whole rows or columns at several positions: not an array
    code = np.where((r < 0) | (c < 0), VALUE, np.where((r > rows) | (c > cols), REF, 0))
    ri = np.clip(np.where(r == 0, 1, r) - 1, 0, rows - 1).astype(np.intp)
    ci = np.clip(np.where(c == 0, 1, c) - 1, 0, cols - 1).astype(np.intp)
    ti = np.broadcast_to(np.arange(shape[0]).reshape(-1, 1, 1), shape)

    def g(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        b = np.broadcast_to(a, (a.shape[0], rows, cols))
        return b[np.minimum(ti, b.shape[0] - 1), ri, ci]

    out = Value(g(arr.num), g(arr.kind), g(arr.err), g(arr.text))
    err = merge_err(
        None if re_ is None else np.broadcast_to(re_, shape),
        None if ce is None else np.broadcast_to(ce, shape),
        code.astype(np.int8) if code.any() else None,
    )
    if err is None or not err.any():
        return out
    return where(err != 0, Value(np.zeros(shape), np.zeros(shape, np.int8), err), out)


def _index_vector(arr: Value, row: Value | None) -> Value | None:
    """INDEX(constant number vector, per-trial position): one take. None if not that case."""
    if row is None or arr.trials != 1 or arr.kind is not None or arr.err is not None:
        return None
    if row.kind is not None or row.err is not None:
        return None
    _, rows, cols = arr.shape
    if rows != 1 and cols != 1:
        return None
    k = np.trunc(row.num.reshape(-1))
    if not ((k >= 1) & (k <= rows * cols)).all():
        return None  # out of range somewhere: the general path reports #REF!/#VALUE!
    return Value(arr.num.reshape(-1)[(k - 1).astype(np.intp)].reshape(-1, 1, 1))


@register("CHOOSE", min_args=2, values=params(0), passes=params(every=(1, 1)))
def choose(ctx: EvalContext, idx: Value, *opts: Value | None) -> Value:
    k, ke = numbers(idx)
    k = np.trunc(k)
    res: Value = error(VALUE)
    for i in range(len(opts) - 1, -1, -1):
        opt = opts[i]
        if opt is None:
            continue
        res = where(k == i + 1, opt, res)
    if ke is not None and ke.any():
        res = where(ke != 0, Value(np.zeros(ke.shape), np.zeros(ke.shape, np.int8), ke), res)
    return res


@register("TRANSPOSE", min_args=1, max_args=1, arrays=ALL)
def transpose(ctx: EvalContext, v: Value) -> Value:
    def tr(a):
        return None if a is None else np.swapaxes(np.broadcast_to(a, (a.shape[0], *v.dims)), 1, 2)

    return Value(tr(v.num), tr(v.kind), tr(v.err), tr(v.text))


__all__ = ["find", "gather", "NUM"]
