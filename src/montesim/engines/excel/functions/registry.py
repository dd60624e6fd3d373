"""The function registry: Excel name -> vectorized implementation, with the rules Excel
applies to each function's parameters declared where the function is registered."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..values import Value, where


@dataclass
class EvalContext:
    """What a function may know besides its arguments (never changed once made: not
    frozen only because the compiler makes one per call, three times faster so)."""

    trials: int = 1
    today: float = 45000.0  # serial of TODAY(), fixed per job
    now: float = 45000.5  # serial of NOW(), fixed per job
    caller: tuple[str, int, int] | None = None  # (sheet, row, col) of the formula's cell


@dataclass(frozen=True)
class Params:
    """A set of parameter positions (0-based): some listed ones, and from ``every[0]`` on
    every ``every[1]``-th one (the repeated pairs of SUMIFS, say)."""

    at: frozenset[int] = frozenset()
    every: tuple[int, int] | None = None

    def __contains__(self, i: object) -> bool:
        if not isinstance(i, int):
            return False
        if i in self.at:
            return True
        if self.every is None:
            return False
        start, step = self.every
        return i >= start and (i - start) % step == 0

    def __bool__(self) -> bool:
        return bool(self.at) or self.every is not None

    def __or__(self, other: Params) -> Params:
        if not other:
            return self
        if not self:
            return other
        if self.every is not None and other.every is not None and self.every != other.every:
            raise ValueError("two repeated parameter patterns cannot be joined")
        return Params(self.at | other.at, self.every or other.every)


def params(*at: int, every: tuple[int, int] | None = None) -> Params:
    return Params(frozenset(at), every)


NONE = Params()
ALL = Params(every=(0, 1))


@dataclass(frozen=True)
class FunctionSpec:
    """A worksheet function and Excel's rules for its parameters:

    ``values``: parameters that take one value (Excel's value type). In a formula saved
    without array semantics, a multi-cell reference given there is intersected with the
    formula's row or column (legacy implicit intersection), and only the intersected cell
    is a dependency.
    ``ranges``: parameters that must be given a range or an array, which the function
    searches or filters (a lookup's table, a criteria range, INDEX's array). An error
    given there instead (``INDIRECT`` of a missing sheet, ``1/0``) is the function's
    result, whatever the other arguments: ``MATCH(x, #REF!)`` is ``#REF!``, not
    ``#N/A``, ``SUMIF(#REF!, ...)`` is ``#REF!``, not 0. (The aggregates' arguments,
    ``SUM``'s, ``COUNT``'s, take values or references alike and are in none of these:
    ``COUNT`` skips an error argument, ``SUM`` gives the first error it meets.)
    ``arrays``: parameters evaluated as arrays even in such a formula (``SUMPRODUCT``'s,
    ``FILTER``'s): no implicit intersection anywhere inside them. ``ranges`` are evaluated
    so too (``MATCH(1, (A:A="x")*(B:B>0), 0)`` needs no array entry); an error given for an
    array parameter is an element like any other (``VSTACK(1/0, 2)`` is ``{#DIV/0!; 2}``).
    A parameter in none of them (``IF``'s branches, ``CHOOSE``'s choices) passes on what
    it is given, reference or value.
    ``passes``: parameters whose argument is the result as it is (``IF``'s branches,
    ``CHOOSE``'s choices): a reference given there is returned as a reference, so where
    the call stands for one value, Excel intersects it as it would the reference itself
    (``=IF(x, Costs, Prices)`` in row 7 is row 7's cost or price).
    ``criteria``: where the (range, criterion) pairs of a conditional aggregate start,
    and whether more than one may follow (``SUMIFS``: (1, True)); the compiler reports a
    criterion built as text whose number ties a value of its range to 15 digits.
    ``sized_by_data``: the result's size follows the values (``FILTER``, ``UNIQUE``), so
    arguments that change between trials are reported, not computed.
    ``formats``: number-format parameters (``TEXT``'s): a format that only makes sense
    with a decimal comma is reported, as the file does not say which locale wrote it.
    ``empty_is_omitted``: an argument left empty (``f(a,,b)``) counts as not given, as
    the functions Excel added since 2010 read it (``XLOOKUP(x, r, v, , , 2)``). Older
    functions read an empty value parameter as an empty cell, 0 or "" or FALSE, not as
    the default: ``LEFT(x,)`` is "", ``MATCH(x, r,)`` an exact match.
    """

    name: str
    impl: Callable[..., Value]
    min_args: int
    max_args: int | None  # None: any number
    values: Params = NONE
    ranges: Params = NONE
    arrays: Params = NONE
    empty_is_omitted: bool = False
    passes: Params = NONE
    criteria: tuple[int, bool] | None = None
    sized_by_data: bool = False
    formats: Params = NONE


REGISTRY: dict[str, FunctionSpec] = {}


def register(
    *names: str,
    min_args: int = 0,
    max_args: int | None = None,
    values: Params = NONE,
    ranges: Params = NONE,
    arrays: Params = NONE,
    empty_is_omitted: bool = False,
    passes: Params = NONE,
    criteria: tuple[int, bool] | None = None,
    sized_by_data: bool = False,
    formats: Params = NONE,
) -> Callable:
    """Register ``impl(ctx, *args)`` under each of ``names`` (upper case), with Excel's
    rules for its parameters (see ``FunctionSpec``)."""

    def deco(impl: Callable[..., Value]) -> Callable[..., Value]:
        run = _errors_as_ranges(impl, ranges) if ranges else impl
        for name in names:
            key = name.upper()
            if key in REGISTRY:
                raise RuntimeError(f"Excel function {key} registered twice")
            REGISTRY[key] = FunctionSpec(
                key,
                run,
                min_args,
                max_args,
                values,
                ranges,
                arrays,
                empty_is_omitted,
                passes,
                criteria,
                sized_by_data,
                formats,
            )
        return impl

    return deco


def _errors_as_ranges(impl: Callable[..., Value], ranges: Params) -> Callable[..., Value]:
    """``impl`` whose result is the error given where a range is expected: a single error
    value that is not a cell's (a reference to a cell holding an error is a range of one
    cell, searched or skipped as the function does with any cell). The first such
    argument's error wins, trial by trial."""

    @functools.wraps(impl)
    def call(ctx: EvalContext, *args: Value | None) -> Value:
        out = impl(ctx, *args)
        for i in range(len(args) - 1, -1, -1):
            a = args[i]
            if a is None or a.err is None or a.is_ref or a.dims != (1, 1) or i not in ranges:
                continue
            e = a.err
            if e.any():
                bad = Value(np.zeros(e.shape), np.zeros(e.shape, np.int8), e)
                out = where(e != 0, bad, out)
        return out

    return call


def get_function(name: str) -> FunctionSpec | None:
    return REGISTRY.get(name.upper())
