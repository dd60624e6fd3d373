"""Dynamic-array and matrix functions: SEQUENCE, FILTER, SORT, SORTBY, UNIQUE, TAKE, DROP,
CHOOSECOLS, CHOOSEROWS, VSTACK, HSTACK, TOCOL, TOROW, MMULT, MINVERSE, MDETERM.

Functions whose result shape depends on the data (FILTER, UNIQUE) work trial by trial
and give ``#CALC!`` in a trial whose shape differs from the first trial's: a spill
range cannot change size between trials. The compiler reports them as unsupported
when their arguments are random, so that never happens silently in a simulation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..values import (
    CALC,
    NA,
    NUM,
    NUMERR,
    TEXT,
    VALUE,
    Value,
    XlError,
    error,
    from_grid,
    numbers,
    pick,
)
from .registry import ALL, EvalContext, params, register

# -- helpers ----------------------------------------------------------------------------


def _ints(v: Value | None, default: int) -> list[int]:
    """A number or an array of numbers (first trial) as whole numbers, row by row."""
    if v is None or v.dims == (1, 1):
        return [_int(v, default)]
    rows, cols = v.dims
    return [_int(pick(v, r, c)) for r in range(rows) for c in range(cols)]


def _int(v: Value | None, default: int | None = None) -> int:
    if v is None:
        if default is None:
            raise XlError(VALUE)
        return default
    x = v.to_py()
    if isinstance(x, XlError):
        raise x
    if x is None:
        if default is None:
            raise XlError(VALUE)
        return default
    if isinstance(x, str):
        raise XlError(VALUE)
    return int(np.trunc(float(x)))


def _full(v: Value, t: int) -> Value:
    f = v.full()
    shape = (t, *v.dims)
    return Value(
        np.broadcast_to(f.num, shape),
        np.broadcast_to(f.kind, shape),
        np.broadcast_to(f.err, shape),
        np.broadcast_to(f.text, shape),
    )


def _take(v: Value, rows: Any, cols: Any) -> Value:
    """Elements ``v[:, rows, cols]`` (index arrays or slices), vectorized over trials."""

    def sub(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        b = np.broadcast_to(a, (a.shape[0], *v.dims))
        return b[:, rows, :][:, :, cols]

    return Value(sub(v.num), sub(v.kind), sub(v.err), sub(v.text))


def _per_trial(fn: Callable[[list[list[Any]]], list[list[Any]]], *vals: Value) -> Value:
    """Run a grid -> grid function trial by trial; #CALC! where the shape changes."""
    t = max(v.trials for v in vals)
    grids = [fn(*[v.to_grid(min(i, v.trials - 1)) for v in vals]) for i in range(t)]
    first = grids[0]
    if t == 1:
        return from_grid(first)
    dims = (len(first), len(first[0]) if first else 0)
    out = []
    for g in grids:
        if (len(g), len(g[0]) if g else 0) != dims:
            g = [[XlError(CALC)] * dims[1] for _ in range(dims[0])]
        out.append(g)
    values = [from_grid(g) for g in out]
    return _stack_trials(values)


def _stack_trials(values: list[Value]) -> Value:
    fulls = [_full(v, 1) for v in values]
    return Value(
        np.concatenate([f.num for f in fulls]),
        np.concatenate([f.kind for f in fulls]),
        np.concatenate([f.err for f in fulls]),
        np.concatenate([f.text for f in fulls]),
    )


def _sort_key(x: Any) -> tuple[int, Any]:
    """Excel's sort order: numbers, text (case-insensitive), logicals, errors, blanks."""
    if x is None:
        return (4, 0)
    if isinstance(x, XlError):
        return (3, 0)
    if isinstance(x, bool):
        return (2, x)
    if isinstance(x, str):
        return (1, x.lower())
    return (0, x)


def _same_key(x: Any) -> Any:
    return x.lower() if isinstance(x, str) else ("\0err", x.code) if isinstance(x, XlError) else x


# -- generators and reshaping -------------------------------------------------------------


@register("SEQUENCE", min_args=1, max_args=4)
def sequence(ctx: EvalContext, rows: Value, cols=None, start=None, step=None) -> Value:
    r, c = _int(rows), _int(cols, 1)
    if r < 1 or c < 1:
        return error(CALC)
    if r * c > 1_000_000:
        return error(NUMERR)
    s = 1.0 if start is None or start.to_py() is None else numbers(start)[0]
    d = 1.0 if step is None or step.to_py() is None else numbers(step)[0]
    s = np.asarray(s, dtype=float).reshape(-1, 1, 1)
    d = np.asarray(d, dtype=float).reshape(-1, 1, 1)
    k = np.arange(r * c, dtype=float).reshape(1, r, c)
    return Value(s + d * k)


def _take_drop(drop: bool) -> Callable[..., Value]:
    def impl(ctx: EvalContext, v: Value, rows: Value | None, cols: Value | None = None) -> Value:
        nr, nc = v.dims
        r = _int(rows, nr if not drop else 0)
        c = _int(cols, nc if not drop else 0)

        def span(k: int, n: int) -> slice:
            if drop:
                return slice(k, n) if k >= 0 else slice(0, max(0, n + k))
            return slice(0, min(k, n)) if k >= 0 else slice(max(0, n + k), n)

        rs, cs = span(r, nr), span(c, nc)
        if (
            (rs.stop - rs.start) <= 0
            or (cs.stop - cs.start) <= 0
            or (not drop and (r == 0 or c == 0))
        ):
            return error(CALC)
        return _take(v, rs, cs)

    return impl


register("TAKE", min_args=2, max_args=3, arrays=params(0), values=params(1, 2))(_take_drop(False))
register("DROP", min_args=2, max_args=3, arrays=params(0), values=params(1, 2))(_take_drop(True))


def _choose(axis: int) -> Callable[..., Value]:
    def impl(ctx: EvalContext, v: Value, *which: Value | None) -> Value:
        n = v.dims[axis]
        idx = []
        for w in which:
            k = _int(w)
            if k == 0 or abs(k) > n:
                return error(VALUE)
            idx.append(k - 1 if k > 0 else n + k)
        sel = np.array(idx)
        return _take(v, sel, slice(None)) if axis == 0 else _take(v, slice(None), sel)

    return impl


register("CHOOSEROWS", min_args=2, arrays=ALL)(_choose(0))
register("CHOOSECOLS", min_args=2, arrays=ALL)(_choose(1))


def _stack(axis: int) -> Callable[..., Value]:
    def impl(ctx: EvalContext, *vals: Value | None) -> Value:
        parts = [v for v in vals if v is not None]
        t = max(v.trials for v in parts)
        other = max(v.dims[1 - axis] for v in parts)
        pieces = []
        for v in parts:
            f = _full(v, t)
            dims = list(v.dims)
            if dims[1 - axis] < other:  # pad the short side with #N/A
                pad_shape = [t, *dims]
                pad_shape[2 - axis] = other - dims[1 - axis]
                pad = error(NA, tuple(pad_shape))  # type: ignore[arg-type]
                pad = _full(pad, t)
                cat = 2 - axis
                f = Value(
                    *(
                        np.concatenate([getattr(f, a), getattr(pad, a)], axis=cat)
                        for a in ("num", "kind", "err", "text")
                    )
                )
            pieces.append(f)
        cat = 1 + axis
        return Value(
            *(
                np.concatenate([getattr(p, a) for p in pieces], axis=cat)
                for a in ("num", "kind", "err", "text")
            )
        )

    return impl


register("VSTACK", min_args=1, arrays=ALL)(_stack(0))
register("HSTACK", min_args=1, arrays=ALL)(_stack(1))


def _to_line(column: bool) -> Callable[..., Value]:
    def impl(
        ctx: EvalContext, v: Value, ignore: Value | None = None, by_col: Value | None = None
    ) -> Value:
        how = _int(ignore, 0)
        scan_cols = bool(_int(by_col, 0))

        def flat(g: list[list[Any]]) -> list[list[Any]]:
            cells = (
                [x for col in zip(*g, strict=True) for x in col]
                if scan_cols
                else [x for row in g for x in row]
            )
            if how in (1, 3):
                cells = [x for x in cells if x is not None]
            if how in (2, 3):
                cells = [x for x in cells if not isinstance(x, XlError)]
            if not cells:
                return [[XlError(CALC)]]
            return [[x] for x in cells] if column else [cells]

        return _per_trial(flat, v)

    return impl


register(
    "TOCOL", min_args=1, max_args=3, arrays=params(0), values=params(1, 2), sized_by_data=True
)(_to_line(True))
register(
    "TOROW", min_args=1, max_args=3, arrays=params(0), values=params(1, 2), sized_by_data=True
)(_to_line(False))

# -- data-dependent shapes --------------------------------------------------------------------


@register(
    "FILTER", min_args=2, max_args=3, arrays=params(0, 1), values=params(2), sized_by_data=True
)
def filter_(ctx: EvalContext, v: Value, include: Value, if_empty: Value | None = None) -> Value:
    def run(g: list[list[Any]], inc: list[list[Any]], *rest: list[list[Any]]) -> list[list[Any]]:
        rows, cols = len(g), len(g[0])
        if len(inc) == rows and len(inc[0]) == 1:
            keep = [_truthy(inc[i][0]) for i in range(rows)]
            out = [g[i] for i in range(rows) if keep[i] is True]
            err = next((k for k in keep if isinstance(k, XlError)), None)
        elif len(inc) == 1 and len(inc[0]) == cols:
            keep = [_truthy(inc[0][j]) for j in range(cols)]
            out = [[row[j] for j in range(cols) if keep[j] is True] for row in g]
            err = next((k for k in keep if isinstance(k, XlError)), None)
            if out and not out[0]:
                out = []
        else:
            return [[XlError(VALUE)]]
        if err is not None:
            return [[err]]
        if not out:
            return rest[0] if rest else [[XlError(CALC)]]
        return out

    fast = _filter_const(v, include)
    if fast is not None:
        return fast if fast.dims[0] and fast.dims[1] else (if_empty or error(CALC))
    args = [v, include] + ([if_empty] if if_empty is not None else [])
    return _per_trial(run, *args)


def _filter_const(v: Value, include: Value) -> Value | None:
    """FILTER of one trial with a numeric/boolean include vector, without Python loops."""
    if v.trials != 1 or include.trials != 1 or include.err is not None:
        return None
    if include.kind is not None and (include.kind == TEXT).any():
        return None
    rows, cols = v.dims
    keep = np.broadcast_to(include.num, include.shape)[0] != 0
    if include.dims == (rows, 1):
        return _take(v, np.flatnonzero(keep[:, 0]), slice(None))
    if include.dims == (1, cols):
        return _take(v, slice(None), np.flatnonzero(keep[0]))
    return None


def _truthy(x: Any) -> bool | XlError:
    if isinstance(x, XlError):
        return x
    if x is None:
        return False
    if isinstance(x, str):
        up = x.upper()
        if up in ("TRUE", "FALSE"):
            return up == "TRUE"
        return XlError(VALUE)
    return bool(x)


@register(
    "UNIQUE", min_args=1, max_args=3, arrays=params(0), values=params(1, 2), sized_by_data=True
)
def unique(
    ctx: EvalContext, v: Value, by_col: Value | None = None, once: Value | None = None
) -> Value:
    cols = bool(_int(by_col, 0))
    exactly_once = bool(_int(once, 0))

    def run(g: list[list[Any]]) -> list[list[Any]]:
        items = [list(c) for c in zip(*g, strict=True)] if cols else g
        counts: dict[tuple, int] = {}
        first: dict[tuple, list[Any]] = {}
        for it in items:
            key = tuple(_same_key(x) for x in it)
            counts[key] = counts.get(key, 0) + 1
            first.setdefault(key, it)
        out = [first[k] for k in first if not exactly_once or counts[k] == 1]
        if not out:
            return [[XlError(CALC)]]
        return [list(r) for r in zip(*out, strict=True)] if cols else out

    return _per_trial(run, v)


@register("SORT", min_args=1, max_args=4, arrays=params(0, 1), values=params(2, 3))
def sort(ctx: EvalContext, v: Value, index=None, order=None, by_col=None) -> Value:
    # sort_index and sort_order may be arrays: {2,1} sorts by the 2nd, then the 1st
    keys = _ints(index, 1)
    orders = _ints(order, 1)
    if len(orders) == 1:
        orders = orders * len(keys)
    if len(orders) != len(keys) or any(o not in (1, -1) for o in orders):
        return error(VALUE)
    cols = bool(_int(by_col, 0))

    def run(g: list[list[Any]]) -> list[list[Any]]:
        items = [list(c) for c in zip(*g, strict=True)] if cols else g
        if not all(1 <= k <= len(items[0]) for k in keys):
            return [[XlError(VALUE)]]
        by = [[it[k - 1] for it in items] for k in keys]
        out = _ordered(items, by, [o == -1 for o in orders])
        return [list(r) for r in zip(*out, strict=True)] if cols else out

    return _per_trial(run, v)


@register("SORTBY", min_args=2, arrays=params(0, every=(1, 2)), values=params(every=(2, 2)))
def sortby(ctx: EvalContext, v: Value, *rest: Value | None) -> Value:
    bys: list[Value] = []
    orders: list[bool] = []
    for i in range(0, len(rest), 2):
        by = rest[i]
        if by is None:
            return error(VALUE)
        bys.append(by)
        o = _int(rest[i + 1], 1) if i + 1 < len(rest) else 1
        if o not in (1, -1):
            return error(VALUE)
        orders.append(o == -1)

    def run(g: list[list[Any]], *keys: list[list[Any]]) -> list[list[Any]]:
        rows, cols = len(g), len(g[0])
        vectors = []
        by_rows = None
        for kg in keys:
            if len(kg) == rows and len(kg[0]) == 1 and by_rows is not False:
                vectors.append([r[0] for r in kg])
                by_rows = True
            elif len(kg) == 1 and len(kg[0]) == cols and by_rows is not True:
                vectors.append(list(kg[0]))
                by_rows = False
            else:
                return [[XlError(VALUE)]]
        if by_rows is False:
            t = [list(c) for c in zip(*g, strict=True)]
            return [list(r) for r in zip(*_ordered(t, vectors, orders), strict=True)]
        return _ordered(g, vectors, orders)

    return _per_trial(run, v, *bys)


def _ordered(items: list[list[Any]], keys: list[list[Any]], desc: list[bool]) -> list[list[Any]]:
    order = list(range(len(items)))
    for vec, d in reversed(list(zip(keys, desc, strict=True))):  # stable: last key first
        if d:
            # descending keeps blanks and errors last, as Excel does
            order.sort(key=lambda i: _desc_key(vec[i]))
        else:
            order.sort(key=lambda i: _sort_key(vec[i]))
    return [items[i] for i in order]


def _desc_key(x: Any) -> tuple[int, Any]:
    rank, val = _sort_key(x)
    if rank >= 3:
        return (rank, 0)
    if isinstance(val, str):
        return (-rank, _Reverse(val))
    return (-rank, -val if not isinstance(val, bool) else -int(val))


class _Reverse:
    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def __lt__(self, other: _Reverse) -> bool:
        return self.s > other.s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reverse) and self.s == other.s


# -- matrices --------------------------------------------------------------------------------


def _matrix(v: Value) -> tuple[np.ndarray, np.ndarray | None]:
    """(T, R, C) floats; error code where an element is not a number (text, blank)."""
    num = np.broadcast_to(v.num, v.shape)
    bad = None
    if v.kind is not None:
        bad = np.broadcast_to(v.kind != NUM, v.shape)
    if v.err is not None:
        e = np.broadcast_to(v.err != 0, v.shape)
        bad = e if bad is None else bad | e
    return num, bad


def _result(x: np.ndarray, bad: np.ndarray | None) -> Value:
    """A matrix result; #VALUE! everywhere in a trial that had a non-number."""
    err = None
    if bad is not None and bad.any():
        trial_bad = bad.reshape(bad.shape[0], -1).any(axis=1)
        err = np.zeros(x.shape, np.int8)
        err[trial_bad] = VALUE
    fin = np.isfinite(x)
    if not fin.all():
        err = np.zeros(x.shape, np.int8) if err is None else err
        err[~fin & (err == 0)] = NUMERR
        x = np.where(fin, x, 0.0)
    return Value(x, None if err is None else np.zeros(x.shape, np.int8), err)


@register("MMULT", min_args=2, max_args=2, arrays=ALL)
def mmult(ctx: EvalContext, a: Value, b: Value) -> Value:
    if a.dims[1] != b.dims[0]:
        return error(VALUE)
    x, bx = _matrix(a)
    y, by = _matrix(b)
    bad = None
    if bx is not None or by is not None:
        t = max(x.shape[0], y.shape[0])
        bad = np.zeros((t, 1, 1), bool)
        for m in (bx, by):
            if m is not None:
                bad = bad | m.reshape(m.shape[0], -1).any(axis=1).reshape(-1, 1, 1)
        bad = np.broadcast_to(bad, (t, a.dims[0], b.dims[1]))
    with np.errstate(all="ignore"):
        return _result(
            np.matmul(
                np.where(bx, 0, x) if bx is not None else x,
                np.where(by, 0, y) if by is not None else y,
            ),
            bad,
        )


@register("MINVERSE", min_args=1, max_args=1, arrays=ALL)
def minverse(ctx: EvalContext, a: Value) -> Value:
    r, c = a.dims
    if r != c:
        return error(VALUE)
    x, bad = _matrix(a)
    x = np.where(bad, 0.0, x) if bad is not None else np.array(x)
    det = np.linalg.det(x)
    singular = np.abs(det) < 1e-300
    safe = np.where(singular[:, None, None], np.eye(r), x)
    inv = np.linalg.inv(safe)
    out = _result(inv, bad)
    if singular.any():
        err = np.zeros(inv.shape, np.int8) if out.err is None else np.array(out.err)
        err[singular] = NUMERR
        out = Value(out.num, np.zeros(inv.shape, np.int8), err)
    return out


@register("MDETERM", min_args=1, max_args=1, arrays=ALL)
def mdeterm(ctx: EvalContext, a: Value) -> Value:
    r, c = a.dims
    if r != c:
        return error(VALUE)
    x, bad = _matrix(a)
    det = np.linalg.det(np.where(bad, 0.0, x) if bad is not None else x).reshape(-1, 1, 1)
    trial_bad = None if bad is None else bad.reshape(bad.shape[0], -1).any(axis=1).reshape(-1, 1, 1)
    return _result(det, trial_bad)


@register("MUNIT", min_args=1, max_args=1)
def munit(ctx: EvalContext, n: Value) -> Value:
    k = _int(n)
    if k < 1:
        return error(VALUE)
    return Value(np.eye(k).reshape(1, k, k))


@register("FREQUENCY", min_args=2, max_args=2, arrays=ALL)
def frequency(ctx: EvalContext, data: Value, bins: Value) -> Value:
    """Counts of ``data`` per bin, as a column one longer than ``bins`` (numbers only)."""

    def run(d: list[list[Any]], b: list[list[Any]]) -> list[list[Any]]:
        xs = [x for row in d for x in row if _is_number(x)]
        edges = [x for row in b for x in row if _is_number(x)]
        order = sorted(range(len(edges)), key=lambda i: edges[i])
        counts = [0] * (len(edges) + 1)
        for x in xs:
            for i in order:
                if x <= edges[i]:
                    counts[i] += 1
                    break
            else:
                counts[-1] += 1
        return [[float(c)] for c in counts]

    return _per_trial(run, data, bins)


@register("MODE.MULT", min_args=1)
def mode_mult(ctx: EvalContext, *vals: Value | None) -> Value:
    """Every most frequent number (appearing at least twice), in first-seen order."""
    parts = [v for v in vals if v is not None]

    def run(*grids: list[list[Any]]) -> list[list[Any]]:
        xs = [x for g in grids for row in g for x in row if _is_number(x)]
        counts: dict[float, int] = {}
        for x in xs:
            counts[x] = counts.get(x, 0) + 1
        top = max(counts.values(), default=0)
        if top < 2:
            return [[XlError(NA)]]
        seen: list[float] = []
        for x in xs:
            if counts[x] == top and x not in seen:
                seen.append(x)
        return [[x] for x in seen]

    return _per_trial(run, *parts)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


# -- wrapping and expanding -------------------------------------------------------------------


def _wrap(by_rows: bool) -> Callable[..., Value]:
    def impl(ctx: EvalContext, v: Value, count: Value, pad: Value | None = None) -> Value:
        """A row or column of values laid out ``count`` to a row (WRAPROWS) or to a
        column (WRAPCOLS), the last one padded with ``pad`` (#N/A by default)."""
        if v.dims[0] > 1 and v.dims[1] > 1:
            return error(VALUE)
        try:
            n = _int(count)
        except XlError as e:
            return error(e.code)
        if n < 1:
            return error(NUMERR)
        fill = XlError(NA) if pad is None else pad.to_py()

        def lay(g: list[list[Any]]) -> list[list[Any]]:
            cells = [x for row in g for x in row]
            lines = [cells[i : i + n] for i in range(0, len(cells), n)]
            lines[-1] = lines[-1] + [fill] * (n - len(lines[-1]))
            return lines if by_rows else [list(col) for col in zip(*lines, strict=True)]

        return _per_trial(lay, v)

    return impl


register("WRAPROWS", min_args=2, max_args=3)(_wrap(True))
register("WRAPCOLS", min_args=2, max_args=3)(_wrap(False))


@register("EXPAND", min_args=2, max_args=4, empty_is_omitted=True)
def expand(
    ctx: EvalContext,
    v: Value,
    rows: Value | None,
    cols: Value | None = None,
    pad: Value | None = None,
) -> Value:
    """The array grown to ``rows`` x ``cols`` (omitted: as it is), padded with ``pad``."""
    try:
        r = _int(rows, v.dims[0])
        c = _int(cols, v.dims[1])
    except XlError as e:
        return error(e.code)
    if r < v.dims[0] or c < v.dims[1]:
        return error(VALUE)
    fill = XlError(NA) if pad is None else pad.to_py()

    def grow(g: list[list[Any]]) -> list[list[Any]]:
        out = [row + [fill] * (c - len(row)) for row in g]
        return out + [[fill] * c for _ in range(r - len(out))]

    return _per_trial(grow, v)
