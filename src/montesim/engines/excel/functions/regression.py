"""Least-squares regression returning arrays: LINEST and TREND.

Excel's rules: ``known_y`` is a row or a column of ``n`` numbers; ``known_x`` holds one
variable per column (per row when ``known_y`` is a row), or has ``known_y``'s shape
(one variable). Shape mismatches are #REF!, non-numbers #VALUE!. Collinear X columns
are dropped (coefficient 0, standard error 0). Each trial is solved separately.
"""

from __future__ import annotations

import numpy as np

from ..values import (
    NA,
    NUM,
    NUMERR,
    REF,
    VALUE,
    Value,
    XlError,
    error,
    from_grid,
    normalize,
    numbers,
)
from .registry import ALL, EvalContext, register


def _matrix(v: Value, t: int) -> np.ndarray:
    """Trial ``t`` as a float matrix; #VALUE! for anything but error-free numbers."""
    t = min(t, v.trials - 1)
    if v.err is not None and np.broadcast_to(v.err, v.shape)[t].any():
        raise XlError(VALUE)
    if v.kind is not None and (np.broadcast_to(v.kind, v.shape)[t] != NUM).any():
        raise XlError(VALUE)
    return np.array(np.broadcast_to(v.num, v.shape)[t], dtype=float)


def _design(y: Value, x: Value | None) -> tuple[bool, int, int]:
    """(y is a row, n observations, k variables), or #REF! on mismatched shapes."""
    yr, yc = y.dims
    if x is None:
        if yr != 1 and yc != 1:
            return False, yr * yc, 1
        return yr == 1 and yc > 1, yr * yc, 1
    xr, xc = x.dims
    if (xr, xc) == (yr, yc):
        return yr == 1 and yc > 1, yr * yc, 1
    if yc == 1 and xr == yr:
        return False, yr, xc
    if yr == 1 and xc == yc:
        return True, yc, xr
    raise XlError(REF)


def _xmat(y: Value, x: Value | None, t: int, row: bool, n: int, k: int) -> np.ndarray:
    if x is None:
        return np.arange(1.0, n + 1).reshape(n, 1)
    m = _matrix(x, t)
    if k == 1:
        return m.reshape(n, 1)
    return m.T if row else m


def _fit(
    ys: np.ndarray, xs: np.ndarray, const: bool
) -> tuple[np.ndarray, float, np.ndarray, list[int]]:
    """Coefficients (one per X column), intercept, kept-design matrix, kept columns."""
    n, k = xs.shape
    basis: list[np.ndarray] = [np.ones(n) / np.sqrt(n)] if const else []
    kept: list[int] = []
    for j in range(k):
        col = xs[:, j].copy()
        norm = np.linalg.norm(col)
        for b in basis:
            col -= (b @ col) * b
        rn = np.linalg.norm(col)
        if norm == 0 or rn <= 1e-10 * norm:
            continue  # collinear with earlier columns: dropped
        basis.append(col / rn)
        kept.append(j)
    design = xs[:, kept]
    if const:
        design = np.column_stack([design, np.ones(n)])
    coef = np.zeros(k)
    b = 0.0
    if design.shape[1]:
        sol, *_ = np.linalg.lstsq(design, ys, rcond=None)
        coef[kept] = sol[: len(kept)]
        b = float(sol[-1]) if const else 0.0
    return coef, b, design, kept


def _linest_grid(ys, xs, const: bool, stats: bool) -> list[list[object]]:
    n, k = xs.shape
    coef, b, design, kept = _fit(ys, xs, const)
    top = [float(c) for c in coef[::-1]] + [b]
    if not stats:
        return [top]
    fitted = xs @ coef + b
    resid = ys - fitted
    ssresid = float(resid @ resid)
    p = design.shape[1]
    df = n - p
    ssreg = float(((fitted - ys.mean()) ** 2).sum()) if const else float((fitted**2).sum())
    if ssresid <= 1e-24 * max(ssreg, 1e-300):
        ssresid = 0.0  # an exact fit up to rounding
    sstot = ssreg + ssresid
    na = XlError(NA)
    r2: object = ssreg / sstot if sstot else XlError(NUMERR)
    sey: object = float(np.sqrt(ssresid / df)) if df > 0 else XlError(NUMERR)
    fstat: object = XlError(NUMERR)
    if df > 0 and ssresid > 0 and kept:
        fstat = (ssreg / len(kept)) / (ssresid / df)
    se = np.zeros(k)
    se_b: object = na
    if p and df > 0:
        cov = np.linalg.pinv(design.T @ design) * (ssresid / df)
        diag = np.sqrt(np.maximum(np.diag(cov), 0.0))
        se[kept] = diag[: len(kept)]
        if const:
            se_b = float(diag[-1])
    elif const:
        se_b = 0.0
    width = k + 1
    rows = [
        top,
        [float(s) for s in se[::-1]] + [se_b],
        [r2, sey] + [na] * (width - 2),
        [fstat, float(df)] + [na] * (width - 2),
        [ssreg, ssresid] + [na] * (width - 2),
    ]
    return rows


def _flag(v: Value | None, default: bool) -> bool:
    if v is None:
        return default
    x = v.to_py()
    if isinstance(x, XlError):
        raise x
    if x is None:
        return default
    if isinstance(x, str):
        if x.upper() in ("TRUE", "FALSE"):
            return x.upper() == "TRUE"
        raise XlError(VALUE)
    return bool(x)


def _per_trial(fn, *vals: Value | None) -> Value:
    """Run ``fn(t) -> grid`` for every trial and stack the grids along the trial axis."""
    t_all = max((v.trials for v in vals if v is not None), default=1)
    out = []
    for t in range(t_all):
        try:
            grid = fn(t)
        except XlError as e:
            grid = [[e]]
        out.append(from_grid(grid).full())
    if t_all == 1:
        return out[0]
    if len({v.dims for v in out}) > 1:
        return error(VALUE)
    num, kind, err, text = (
        np.concatenate([getattr(v, f) for v in out]) for f in ("num", "kind", "err", "text")
    )
    return normalize(num, kind, err, text)


@register("LINEST", min_args=1, max_args=4, arrays=ALL)
def linest(
    ctx: EvalContext,
    y: Value,
    x: Value | None = None,
    const: Value | None = None,
    stats: Value | None = None,
) -> Value:
    try:
        row, n, k = _design(y, x)
        use_const, want_stats = _flag(const, True), _flag(stats, False)
    except XlError as e:
        return error(e.code)

    def one(t: int) -> list[list[object]]:
        ys = _matrix(y, t).reshape(n)
        xs = _xmat(y, x, t, row, n, k)
        return _linest_grid(ys, xs, use_const, want_stats)

    return _per_trial(one, y, x)


@register("TREND", min_args=1, max_args=4, arrays=ALL)
def trend(
    ctx: EvalContext,
    y: Value,
    x: Value | None = None,
    new_x: Value | None = None,
    const: Value | None = None,
) -> Value:
    try:
        row, n, k = _design(y, x)
        use_const = _flag(const, True)
        if new_x is not None:
            nr, nc = new_x.dims
            if k > 1 and (nc if not row else nr) != k:
                raise XlError(REF)
    except XlError as e:
        return error(e.code)

    def one(t: int) -> list[list[object]]:
        ys = _matrix(y, t).reshape(n)
        xs = _xmat(y, x, t, row, n, k)
        coef, b, _, _ = _fit(ys, xs, use_const)
        if new_x is None:
            pred = xs @ coef + b
            shape = y.dims if k == 1 else ((1, n) if row else (n, 1))
            return pred.reshape(shape).tolist()
        nx = _matrix(new_x, t)
        if k == 1:
            return (nx * coef[0] + b).tolist()
        pred = (nx.T if row else nx) @ coef + b
        return (pred.reshape(1, -1) if row else pred.reshape(-1, 1)).tolist()

    return _per_trial(one, y, x, new_x)


def _log_of(y: Value) -> Value | XlError:
    """ln of the known y's, all of which must be positive (#NUM! otherwise)."""
    n, e = numbers(y)
    if e is not None and e.any():
        return XlError(int(e.max()))
    if (n <= 0).any():
        return XlError(NUMERR)
    return Value(np.log(n))


@register("LOGEST", min_args=1, max_args=4, arrays=ALL)
def logest(
    ctx: EvalContext,
    y: Value,
    x: Value | None = None,
    const: Value | None = None,
    stats: Value | None = None,
) -> Value:
    """The exponential curve y = b * m1^x1 * m2^x2 ... fitted as LINEST of ln(y): its
    first row exponentiated (the m's and b), the statistics those of the fit on ln(y)."""
    ly = _log_of(y)
    if isinstance(ly, XlError):
        return error(ly.code)
    fit = linest(ctx, ly, x, const, stats)
    if fit.err is not None and fit.err.all():
        return fit
    num = np.array(np.broadcast_to(fit.num, fit.shape), dtype=float)
    ok = np.ones(fit.shape, bool) if fit.err is None else np.broadcast_to(fit.err, fit.shape) == 0
    num[:, 0, :] = np.where(ok[:, 0, :], np.exp(num[:, 0, :]), num[:, 0, :])
    return Value(num, fit.kind, fit.err, fit.text)


@register("GROWTH", min_args=1, max_args=4, arrays=ALL)
def growth(
    ctx: EvalContext,
    y: Value,
    x: Value | None = None,
    new_x: Value | None = None,
    const: Value | None = None,
) -> Value:
    """The exponential trend: exp(TREND(ln(y), ...))."""
    ly = _log_of(y)
    if isinstance(ly, XlError):
        return error(ly.code)
    t = trend(ctx, ly, x, new_x, const)
    return Value(np.exp(t.num), t.kind, t.err, t.text)
