"""Math and rounding (Excel rules: ROUND half away from zero, INT floors, MOD takes the
divisor's sign), sums and products."""

from __future__ import annotations

import math as pymath
from types import ModuleType

import numpy as np

from ..values import DIV0, NUMERR, VALUE, Value, merge_err, num_result, numbers
from .criteria import criteria_mask, over_criteria
from .helpers import accumulate, agg_result, collect, err_where, fast_reduce, numeric
from .registry import ALL, EvalContext, params, register


def _special() -> ModuleType:
    """scipy.special, imported where used (a third of a second at start-up)."""
    from scipy import special

    return special


def round15(x: np.ndarray) -> np.ndarray:
    """Round to 15 significant digits, as Excel does before rounding decisions."""
    with np.errstate(all="ignore"):
        ax = np.abs(x)
        mag = np.where(ax > 0, np.floor(np.log10(np.where(ax > 0, ax, 1.0))), 0.0)
        scale = 10.0 ** (14 - mag)
        out = np.where(np.isfinite(scale) & (scale < 1e300), np.round(x * scale) / scale, x)
    return np.where(np.isfinite(out), out, x)


def _scaled(x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.trunc(d)
    m = np.power(10.0, d)
    return round15(np.abs(x) * m), m


def excel_round(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    y, m = _scaled(x, d)
    return np.sign(x) * np.floor(y + 0.5) / m


@register("ROUND", min_args=2, max_args=2, values=ALL)
def round_(ctx: EvalContext, x: Value, d: Value) -> Value:
    return numeric(excel_round, x, d)


def _round_magnitude(step):
    """ROUNDUP (step=ceil: away from zero) or ROUNDDOWN (step=floor: toward zero)."""

    def f(x, d):
        y, m = _scaled(x, d)
        return np.sign(x) * step(y) / m

    return f


@register("ROUNDUP", min_args=2, max_args=2, values=ALL)
def roundup(ctx: EvalContext, x: Value, d: Value) -> Value:
    return numeric(_round_magnitude(np.ceil), x, d)


@register("ROUNDDOWN", min_args=2, max_args=2, values=ALL)
def rounddown(ctx: EvalContext, x: Value, d: Value) -> Value:
    return numeric(_round_magnitude(np.floor), x, d)


@register("TRUNC", min_args=1, max_args=2, values=ALL)
def trunc(ctx: EvalContext, x: Value, d: Value | None = None) -> Value:
    def f(x, d):
        y, m = _scaled(x, d)
        return np.sign(x) * np.floor(y) / m

    return numeric(f, x, d, defaults=(0.0,))


@register("INT", min_args=1, max_args=1, values=ALL)
def int_(ctx: EvalContext, x: Value) -> Value:
    return numeric(lambda a: np.floor(round15(a)), x)


@register("MROUND", min_args=2, max_args=2, values=ALL)
def mround(ctx: EvalContext, x: Value, m: Value) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(m)
    with np.errstate(all="ignore"):
        out = np.where(b == 0, 0.0, np.sign(a) * np.floor(round15(np.abs(a / b)) + 0.5) * np.abs(b))
    err = err_where((a * b) < 0, NUMERR, merge_err(ea, eb))
    return num_result(out, err)


@register("MOD", min_args=2, max_args=2, values=ALL)
def mod(ctx: EvalContext, x: Value, y: Value) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(y)
    with np.errstate(all="ignore"):
        out = a - b * np.floor(round15(a / b))
    err = err_where(np.broadcast_to(b == 0, out.shape), DIV0, merge_err(ea, eb))
    return num_result(np.where(b == 0, 0.0, out), err)


@register("QUOTIENT", min_args=2, max_args=2, values=ALL)
def quotient(ctx: EvalContext, x: Value, y: Value) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(y)
    with np.errstate(all="ignore"):
        out = np.trunc(a / b)
    err = err_where(np.broadcast_to(b == 0, out.shape), DIV0, merge_err(ea, eb))
    return num_result(np.where(b == 0, 0.0, out), err)


def _ceiling(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(s == 0, 0.0, np.ceil(round15(x / s)) * s)


def _floor(x: np.ndarray, s: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where(s == 0, 0.0, np.floor(round15(x / s)) * s)


@register("CEILING", min_args=1, max_args=2, values=ALL)
def ceiling(ctx: EvalContext, x: Value, s: Value | None = None) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(s) if s is not None else (np.ones((1, 1, 1)), None)
    out = np.where(
        (a < 0) & (b < 0),
        -_ceiling(-a, -b),
        _ceiling(a, np.abs(b) * np.sign(np.where(b == 0, 1, b))),
    )
    out = np.where((a < 0) & (b > 0), -_floor(-a, b), out)
    err = err_where(np.broadcast_to((a > 0) & (b < 0), out.shape), NUMERR, merge_err(ea, eb))
    return num_result(out, err)


@register(
    "CEILING.MATH",
    "CEILING.PRECISE",
    "ISO.CEILING",
    min_args=1,
    max_args=3,
    values=ALL,
    empty_is_omitted=True,
)
def ceiling_math(
    ctx: EvalContext, x: Value, s: Value | None = None, mode: Value | None = None
) -> Value:
    def f(a, b, m):
        b = np.abs(b)
        up = _ceiling(a, b)
        away = -_ceiling(-a, b)
        return np.where((a < 0) & (m != 0), away, up)

    return numeric(f, x, s, mode, defaults=(1.0, 0.0))


@register("FLOOR", min_args=1, max_args=2, values=ALL)
def floor(ctx: EvalContext, x: Value, s: Value | None = None) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(s) if s is not None else (np.ones((1, 1, 1)), None)
    out = np.where((a < 0) & (b < 0), -_floor(-a, -b), _floor(a, b))
    out = np.where((a < 0) & (b > 0), -_ceiling(-a, b), out)
    err = merge_err(ea, eb)
    err = err_where(np.broadcast_to((a > 0) & (b < 0), out.shape), NUMERR, err)
    err = err_where(np.broadcast_to((b == 0) & (a != 0), out.shape), DIV0, err)
    return num_result(out, err)


@register("FLOOR.MATH", "FLOOR.PRECISE", min_args=1, max_args=3, values=ALL, empty_is_omitted=True)
def floor_math(
    ctx: EvalContext, x: Value, s: Value | None = None, mode: Value | None = None
) -> Value:
    def f(a, b, m):
        b = np.abs(b)
        down = _floor(a, b)
        toward = -_floor(-a, b)
        return np.where((a < 0) & (m != 0), toward, down)

    return numeric(f, x, s, mode, defaults=(1.0, 0.0))


@register("EVEN", min_args=1, max_args=1, values=ALL)
def even(ctx: EvalContext, x: Value) -> Value:
    return numeric(lambda a: np.sign(a) * np.ceil(round15(np.abs(a)) / 2) * 2, x)


@register("ODD", min_args=1, max_args=1, values=ALL)
def odd(ctx: EvalContext, x: Value) -> Value:
    def f(a):
        y = np.ceil(round15(np.abs(a)))
        y = np.where(y % 2 == 0, y + 1, y)
        return np.where(a < 0, -y, y)

    return numeric(f, x)


def _simple(name: str, fn, domain=None) -> None:
    def impl(ctx: EvalContext, x: Value) -> Value:
        a, e = numbers(x)
        if domain is not None:
            e = err_where(np.broadcast_to(~domain(a), a.shape), NUMERR, e)
        with np.errstate(all="ignore"):
            out = fn(a)
        return num_result(np.where(np.isfinite(out), out, 0.0) if domain is not None else out, e)

    register(name, min_args=1, max_args=1, values=ALL)(impl)


_simple("ABS", np.abs)
_simple("SIGN", np.sign)
_simple("SQRT", np.sqrt, lambda a: a >= 0)
_simple("EXP", np.exp)
_simple("LN", np.log, lambda a: a > 0)
_simple("LOG10", np.log10, lambda a: a > 0)
_simple("SIN", np.sin)
_simple("COS", np.cos)
_simple("TAN", np.tan)
_simple("ASIN", np.arcsin, lambda a: np.abs(a) <= 1)
_simple("ACOS", np.arccos, lambda a: np.abs(a) <= 1)
_simple("ATAN", np.arctan)
_simple("SINH", np.sinh)
_simple("COSH", np.cosh)
_simple("TANH", np.tanh)
_simple("ASINH", np.arcsinh)
_simple("ACOSH", np.arccosh, lambda a: a >= 1)
_simple("ATANH", np.arctanh, lambda a: np.abs(a) < 1)
_simple("DEGREES", np.degrees)
_simple("RADIANS", np.radians)
_simple("SQRTPI", lambda a: np.sqrt(a * np.pi), lambda a: a >= 0)
_simple("COT", lambda a: 1 / np.tan(a), lambda a: a != 0)
_simple("CSC", lambda a: 1 / np.sin(a), lambda a: a != 0)
_simple("SEC", lambda a: 1 / np.cos(a))
_simple("GAMMALN", lambda a: _special().gammaln(a), lambda a: a > 0)
_simple("GAMMALN.PRECISE", lambda a: _special().gammaln(a), lambda a: a > 0)
_simple("FACT", lambda a: _special().gamma(np.floor(a) + 1), lambda a: a >= 0)
_simple(
    "FACTDOUBLE",
    lambda a: _special().factorial2(np.floor(a).astype(int), exact=False),
    lambda a: a >= -1,
)


@register("ATAN2", min_args=2, max_args=2, values=ALL)
def atan2(ctx: EvalContext, x: Value, y: Value) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(y)
    err = err_where(
        np.broadcast_to((a == 0) & (b == 0), np.broadcast_shapes(a.shape, b.shape)),
        DIV0,
        merge_err(ea, eb),
    )
    return num_result(np.arctan2(b, a), err)


@register("LOG", min_args=1, max_args=2, values=ALL)
def log(ctx: EvalContext, x: Value, base: Value | None = None) -> Value:
    a, ea = numbers(x)
    b, eb = numbers(base) if base is not None else (np.full((1, 1, 1), 10.0), None)
    with np.errstate(all="ignore"):
        out = np.log(a) / np.log(b)
    shape = out.shape
    err = err_where(np.broadcast_to((a <= 0) | (b <= 0), shape), NUMERR, merge_err(ea, eb))
    err = err_where(np.broadcast_to(b == 1, shape), DIV0, err)
    return num_result(np.where(np.isfinite(out), out, 0.0), err)


@register("POWER", min_args=2, max_args=2, values=ALL)
def power(ctx: EvalContext, x: Value, y: Value) -> Value:
    from .operators import excel_power

    a, ea = numbers(x)
    b, eb = numbers(y)
    return num_result(*excel_power(a, b, merge_err(ea, eb)))


@register("PI", min_args=0, max_args=0)
def pi(ctx: EvalContext) -> Value:
    return num_result(np.full((1, 1, 1), np.pi), None)


@register("COMBIN", min_args=2, max_args=2, values=ALL)
def combin(ctx: EvalContext, n: Value, k: Value) -> Value:
    a, ea = numbers(n)
    b, eb = numbers(k)
    a, b = np.trunc(a), np.trunc(b)
    err = err_where(
        np.broadcast_to((a < 0) | (b < 0) | (b > a), np.broadcast_shapes(a.shape, b.shape)),
        NUMERR,
        merge_err(ea, eb),
    )
    return num_result(np.round(_special().comb(a, b)), err)


@register("PERMUT", min_args=2, max_args=2, values=ALL)
def permut(ctx: EvalContext, n: Value, k: Value) -> Value:
    a, ea = numbers(n)
    b, eb = numbers(k)
    a, b = np.trunc(a), np.trunc(b)
    err = err_where(
        np.broadcast_to((a < 0) | (b < 0) | (b > a), np.broadcast_shapes(a.shape, b.shape)),
        NUMERR,
        merge_err(ea, eb),
    )
    with np.errstate(all="ignore"):
        out = np.round(_special().poch(a - b + 1, b))
    return num_result(out, err)


# -- aggregates ---------------------------------------------------------------------


@register("SUM", min_args=1)
def sum_(ctx: EvalContext, *args: Value | None) -> Value:
    fast = fast_reduce(args, np.add)
    if fast is not None:
        return fast
    vals, mask, err = collect(args)
    if mask.all():
        return agg_result(vals.sum(axis=1), err)
    return agg_result(np.where(mask, vals, 0.0).sum(axis=1), err)


@register("SUMSQ", min_args=1)
def sumsq(ctx: EvalContext, *args: Value | None) -> Value:
    vals, mask, err = collect(args)
    return agg_result(np.where(mask, vals * vals, 0.0).sum(axis=1), err)


@register("PRODUCT", min_args=1)
def product(ctx: EvalContext, *args: Value | None) -> Value:
    vals, mask, err = collect(args)
    return agg_result(np.where(mask, vals, 1.0).prod(axis=1), err)


def _int_list_agg(args, fn) -> Value:
    vals, mask, err = collect(args)
    out = np.empty(vals.shape[0])
    bad = np.zeros(vals.shape[0], bool)
    for t in range(vals.shape[0]):
        xs = [int(np.floor(v)) for v, m in zip(vals[t], mask[t], strict=True) if m]
        if any(x < 0 for x in xs):
            bad[t] = True
            out[t] = 0
            continue
        out[t] = fn(xs) if xs else 0
    err = merge_err(err, np.where(bad, np.int8(NUMERR), np.int8(0)).astype(np.int8))
    return agg_result(out, err)


@register("GCD", min_args=1)
def gcd(ctx: EvalContext, *args: Value | None) -> Value:
    return _int_list_agg(args, lambda xs: pymath.gcd(*xs))


@register("LCM", min_args=1)
def lcm(ctx: EvalContext, *args: Value | None) -> Value:
    return _int_list_agg(args, lambda xs: pymath.lcm(*xs))


def _array_numbers(v: Value) -> tuple[np.ndarray, np.ndarray | None]:
    """SUMPRODUCT's view of an array: non-numbers count as 0; errors propagate."""
    from ..values import NUM

    num = np.broadcast_to(v.num, v.shape)
    if v.kind is not None:
        num = np.where(np.broadcast_to(v.kind, v.shape) == NUM, num, 0.0)
    return num, v.err


@register("SUMPRODUCT", min_args=1, arrays=ALL)
def sumproduct(ctx: EvalContext, *args: Value | None) -> Value:
    present = [a for a in args if a is not None]
    dims = {a.dims for a in present}
    if len(dims) != 1:
        return num_result(np.zeros((1, 1, 1)), np.full((1, 1, 1), VALUE, np.int8))
    prod = None
    errs = []
    for a in present:
        n, e = _array_numbers(a)
        prod = n if prod is None else prod * n
        if e is not None:
            errs.append(e)
    total = prod.reshape(prod.shape[0], -1).sum(axis=1)  # type: ignore[union-attr]
    err = None
    if errs:
        from ..values import first_error

        e = merge_err(
            *[np.broadcast_to(x, np.broadcast_shapes(*(y.shape for y in errs))) for x in errs]
        )
        err = first_error(e)  # type: ignore[arg-type]
    return agg_result(total, err)


def _if_mask(pairs: list[tuple[Value, Value]]) -> np.ndarray | None:
    """AND of criteria masks over (range, criterion) pairs; None if shapes differ."""
    mask = None
    dims = None
    for rng, crit in pairs:
        if dims is None:
            dims = rng.dims
        elif rng.dims != dims:
            return None
        m = criteria_mask(rng, crit)
        mask = m if mask is None else mask & m
    return mask


def _sum_if(sum_range: Value, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Per trial: (sum, count) of the numeric cells of ``sum_range`` under ``mask``."""
    from ..values import NUM

    shape = np.broadcast_shapes(sum_range.shape, mask.shape)
    num = np.broadcast_to(sum_range.num, shape)
    m = np.broadcast_to(mask, shape)
    if sum_range.kind is not None:
        m = m & (np.broadcast_to(sum_range.kind, shape) == NUM)
    err = None
    if sum_range.err is not None:
        e = np.broadcast_to(sum_range.err, shape)
        hit = np.where(np.broadcast_to(mask, shape), e, 0).astype(np.int8)
        from ..values import first_error

        err = first_error(hit)
        m = m & (e == 0)
    s = np.where(m, num, 0.0).reshape(shape[0], -1).sum(axis=1)
    c = m.reshape(shape[0], -1).sum(axis=1).astype(float)
    return s, c, err


def _resize(sum_range: Value, dims: tuple[int, int]) -> Value:
    """SUMIF's sum_range takes the shape of the criteria range (from its top-left)."""
    if sum_range.dims == dims:
        return sum_range
    r, c = dims
    _, R, C = sum_range.shape
    if r <= R and c <= C:

        def cut(a):
            return None if a is None else a[:, :r, :c]

        return Value(
            cut(sum_range.num), cut(sum_range.kind), cut(sum_range.err), cut(sum_range.text), True
        )
    return sum_range


@register(
    "SUMIF", min_args=2, max_args=3, values=params(1), ranges=params(0, 2), criteria=(0, False)
)
@over_criteria(lambda i: i == 1)
def sumif(ctx: EvalContext, rng: Value, crit: Value, sum_range: Value | None = None) -> Value:
    mask = criteria_mask(rng, crit)
    target = rng if sum_range is None else _resize(sum_range, rng.dims)
    if target.dims != rng.dims:
        return num_result(np.zeros((1, 1, 1)), np.full((1, 1, 1), VALUE, np.int8))
    s, _, err = _sum_if(target, mask)
    return agg_result(s, err)


def sumif_cells(
    rng: Value, crit: Value, dims: tuple[int, int], cells: list[np.ndarray]
) -> Value | None:
    """SUMIF over per-trial number cells (row by row, ``dims``) not built into a range,
    when the criteria range and the criterion are the same in every trial; None otherwise.

    The built range's SUMIF adds every cell in order, +0.0 for those out of the criteria:
    adding only the cells in it, in order, gives the same numbers (a +0.0 at the end keeps
    the sign of a zero sum the same too)."""
    if rng.trials != 1 or crit.trials != 1 or crit.dims != (1, 1) or rng.dims != dims:
        return None
    if not (rng.err is None and crit.err is None):
        return None
    mask = criteria_mask(rng, crit)
    if mask.shape[0] != 1:
        return None
    hit = np.broadcast_to(mask, (1, *dims)).reshape(-1)
    picked = [c for c, m in zip(cells, hit, strict=True) if m]
    if not picked:
        t = max(c.shape[0] for c in cells)
        return num_result(np.zeros((t, 1, 1)), None)
    acc = accumulate(picked, np.add)
    if not hit.all():
        acc = acc + 0.0
    return num_result(acc, None)


@register(
    "SUMIFS",
    min_args=3,
    values=params(every=(2, 2)),
    ranges=params(0, every=(1, 2)),
    criteria=(1, True),
)
@over_criteria(lambda i: i >= 2 and i % 2 == 0)
def sumifs(ctx: EvalContext, sum_range: Value, *pairs: Value | None) -> Value:
    if len(pairs) % 2:
        return num_result(np.zeros((1, 1, 1)), np.full((1, 1, 1), VALUE, np.int8))
    plist = [(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)]
    mask = _if_mask(plist)  # type: ignore[arg-type]
    if mask is None or plist[0][0].dims != sum_range.dims:  # type: ignore[union-attr]
        return num_result(np.zeros((1, 1, 1)), np.full((1, 1, 1), VALUE, np.int8))
    s, _, err = _sum_if(sum_range, mask)
    return agg_result(s, err)


__all__ = ["excel_round", "round15", "_if_mask", "_sum_if", "_resize", "sumif_cells"]


@register("PERCENTOF", min_args=2, max_args=2)
def percentof(ctx: EvalContext, part: Value, whole: Value) -> Value:
    """SUM(part) / SUM(whole): the share a subset is of all."""
    from .registry import get_function

    total = get_function("SUM")
    assert total is not None
    a, b = total.impl(ctx, part), total.impl(ctx, whole)
    x, ea = numbers(a)
    y, eb = numbers(b)
    with np.errstate(all="ignore"):
        out = x / np.where(y == 0, 1.0, y)
    return num_result(out, err_where(np.broadcast_to(y == 0, out.shape), DIV0, merge_err(ea, eb)))
