"""The compiled form of a model: a straight-line list of ops over trial arrays.

A Program is plain data (picklable, no closures): each op names a registered function
or a builtin (``@input``, ``@fill``, ``@pick``) and refers to its arguments as slots
(values computed by earlier ops) or constants.

Iterative calculation (a workbook saved with circular references allowed) is the one
jump: ``@loopvar`` starts a loop cell at its stored value, and ``@loopend`` runs the ops
in between again with the loop cell's new value until it moves by less than the
workbook's maximum change in every trial, or the maximum count is reached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .functions import EvalContext, get_function
from .functions.helpers import accumulate, fast_reduce
from .functions.math import sumif_cells
from .values import Value, normalize, pick

# an argument: ("s", slot) | ("c", const index) | None (omitted)
Arg = tuple[str, int] | None


@dataclass
class Op:
    fn: str
    out: int
    args: tuple[Arg, ...] = ()
    data: Any = None
    caller: tuple[str, int, int] | None = None


@dataclass
class Program:
    ops: list[Op] = field(default_factory=list)
    consts: list[Value] = field(default_factory=list)
    n_slots: int = 0

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickled column by column: a list per field of the ops instead of one call per
        # op, and the one-cell numbers among the constants as one array
        ops = self.ops
        return _program, (
            [op.fn for op in ops],
            [op.out for op in ops],
            [op.args for op in ops],
            [op.data for op in ops],
            [op.caller for op in ops],
            *_pack_consts(self.consts),
            self.n_slots,
        )

    def last_uses(self) -> dict[int, int]:
        """For each slot, the index of the last op that reads it (a loop's body reads its
        slots again until the loop ends)."""
        last: dict[int, int] = {}
        for i, op in enumerate(self.ops):
            for a in op.args:
                if a is not None and a[0] == "s":
                    last[a[1]] = i
            if op.fn == "@fill":
                for a in op.data[1]:
                    if a[0] == "s":
                        last[a[1]] = i
        for end, op in enumerate(self.ops):
            if op.fn == "@loopend":
                start = op.data[0]
                for slot, i in last.items():
                    if start <= i < end:
                        last[slot] = max(i, end)
        return last

    def peak_live(self, keep: set[int]) -> int:
        """The most trial columns held at once while the program runs: every live slot
        counts one column, a range built by ``@fill`` one per cell (other array results
        are not known before they run and count one)."""
        last = self.last_uses()
        size: dict[int, int] = {}
        live = peak = 0
        for i, op in enumerate(self.ops):
            filled = op.fn == "@fill"
            if op.out not in size:
                n = op.data[0].dims[0] * op.data[0].dims[1] if filled else 1
                size[op.out] = n
                live += n
            for args in (op.args, op.data[1]) if filled else (op.args,):
                for a in args:
                    if a is not None and a[0] == "s" and last.get(a[1]) == i and a[1] not in keep:
                        live -= size.pop(a[1], 0)
            if live > peak:
                peak = live
        return peak


def _pack_consts(consts: list[Value]) -> tuple[np.ndarray, list[Value | None]]:
    """The one-cell, one-trial plain numbers among ``consts`` as one float array (NaN
    where another value stands, that value then in the list; None in the list where the
    array holds it)."""
    numbers = np.full(len(consts), np.nan)
    others: list[Value | None] = []
    for i, v in enumerate(consts):
        num = v.num
        if (
            v.kind is None
            and v.err is None
            and not v.is_ref
            and num.shape == (1, 1, 1)
            and num.dtype == np.float64
        ):
            numbers[i] = num.item()
            others.append(None)
        else:
            others.append(v)
    return numbers, others


def _program(
    fns: list[str],
    outs: list[int],
    args: list[tuple[Arg, ...]],
    data: list[Any],
    callers: list[tuple[str, int, int] | None],
    numbers: np.ndarray,
    others: list[Value | None],
    n_slots: int,
) -> Program:
    """A Program from its pickled columns (see ``Program.__reduce__``)."""
    ops = list(map(Op, fns, outs, args, data, callers))
    cells = numbers.reshape(-1, 1, 1, 1)
    consts = [Value(cells[i]) if v is None else v for i, v in enumerate(others)]
    return Program(ops, consts, n_slots)


# How ``run`` treats an op (``Step.how``): a plain call (the hot path), the loop's ends,
# or ``_exec`` (inputs, ranges, picks, and readers of ranges that may be unbuilt)
CALL, LOOPVAR, LOOPEND, EXEC = range(4)


@dataclass(frozen=True)
class Step:
    """An op as ``run`` executes it: what kind of op it is, its function looked up once,
    and the slots to drop after it (those it reads last, unless kept)."""

    op: Op
    how: int
    impl: Callable[..., Value] | None
    frees: tuple[int, ...]


def schedule(program: Program, keep: set[int]) -> list[Step]:
    """``program``'s ops as steps of ``run`` that keep the slots in ``keep``."""
    last = program.last_uses()
    filled = {op.out for op in program.ops if op.fn == "@fill"}  # may be held unbuilt
    builtins = {"@input": EXEC, "@fill": EXEC, "@pick": EXEC}
    builtins |= {"@loopvar": LOOPVAR, "@loopend": LOOPEND}
    steps = []
    for i, op in enumerate(program.ops):
        read = [a[1] for a in op.args if a is not None and a[0] == "s"]
        if op.fn == "@fill":
            read += [a[1] for a in op.data[1] if a[0] == "s"]
        frees = tuple(dict.fromkeys(k for k in read if last.get(k) == i and k not in keep))
        how = builtins.get(op.fn)
        impl = None
        if how is None:
            spec = get_function(op.fn)
            assert spec is not None, op.fn
            impl = spec.impl
            lazy = op.fn in LAZY_READERS or any(k in filled for k in read)
            how = EXEC if lazy else CALL
        steps.append(Step(op, how, impl, frees))
    return steps


def run(
    program: Program,
    samples: np.ndarray,
    ctx: EvalContext,
    keep: set[int],
    steps: list[Step] | None = None,
) -> dict[int, Value]:
    """Execute every op for the trials in ``samples`` (T, k); return the slots in ``keep``.
    ``steps``: ``schedule(program, keep)``, made once for many runs."""
    slots: dict[int, Value] = {}
    samples = np.ascontiguousarray(samples.T)  # one row per input: contiguous trial arrays
    if steps is None:
        steps = schedule(program, keep)
    consts = program.consts
    passes: dict[int, int] = {}  # loop start -> passes done
    n_steps = len(steps)
    i = 0
    with np.errstate(all="ignore"):  # once here rather than in every function
        while i < n_steps:
            op, how, impl, frees = steps[i].op, steps[i].how, steps[i].impl, steps[i].frees
            if how == CALL:  # the hot path: every argument a value held as it is read
                args = [
                    None if a is None else consts[a[1]] if a[0] == "c" else slots[a[1]]
                    for a in op.args
                ]
                c = ctx
                if op.caller is not None and op.caller != ctx.caller:
                    c = EvalContext(ctx.trials, ctx.today, ctx.now, op.caller)
                slots[op.out] = impl(c, *args)  # type: ignore[misc]
            elif how == LOOPVAR:
                passes[i] = 0
                slots[op.out] = op.data
            elif how == LOOPEND:
                again = _loop_step(op, slots, consts, passes)
                if again is not None:
                    i = again  # the body's slots are computed again; nothing to free yet
                    continue
            else:
                slots[op.out] = _exec(op, slots, consts, samples, ctx)
            for k in frees:
                slots.pop(k, None)
            i += 1
    return {k: _get(("s", k), slots, consts) for k in keep if k in slots}  # type: ignore[misc]


def _loop_step(
    op: Op, slots: dict[int, Value], consts: list[Value], passes: dict[int, int]
) -> int | None:
    """End of one pass over a loop's body: the op to go back to, or None when done (the
    converged value is then in ``op.out``)."""
    start, count, delta = op.data
    var, new = op.args
    assert var is not None and var[0] == "s"
    old = slots[var[1]]
    value = _get(new, slots, consts)
    assert value is not None
    passes[start] += 1
    if passes[start] >= count or _moved_less(old, value, delta):
        slots[op.out] = value
        return None
    slots[var[1]] = value
    return start + 1


def _moved_less(old: Value, new: Value, delta: float) -> bool:
    """Excel's test: every trial's loop cell changed by less than the maximum change (a
    change of kind, such as a number becoming an error, is a change)."""
    if not (old.plain() and new.plain()):
        a, b = old.full(), new.full()
        if not (np.array_equal(a.kind, b.kind) and np.array_equal(a.err, b.err)):
            return False
    with np.errstate(invalid="ignore"):
        moved = np.abs(np.asarray(new.num, float) - np.asarray(old.num, float))
    return bool(np.all(moved < delta))


def _get(a: Arg, slots: dict[int, Value], consts: list[Value]) -> Value | None:
    if a is None:
        return None
    if a[0] == "c":
        return consts[a[1]]
    v = slots[a[1]]
    if isinstance(v, _LazyCells):  # built once, for this reader and any later one
        v = slots[a[1]] = v.build()
    return v


def _peek(a: Arg, slots: dict[int, Value], consts: list[Value]) -> Value | _LazyCells | None:
    """An argument as it is held: a range of cells may not be built yet."""
    if a is None:
        return None
    return slots[a[1]] if a[0] == "s" else consts[a[1]]


class _LazyCells:
    """A range whose every cell is a per-trial plain number, not built into a (T, R, C)
    array until a reader needs one. Built, it is cell-major (each cell's trials
    contiguous), and NumPy reduces such an array cell after cell, in order: SUM, MAX and
    MIN of it are the same numbers accumulated straight from the cells (``LAZY_READERS``),
    without writing and reading a copy of every cell (the DCF's 60-month windows)."""

    __slots__ = ("base", "cells")

    def __init__(self, base: Value, cells: list[tuple[tuple[int, int], Value | None]]) -> None:
        self.base = base
        self.cells = cells

    @staticmethod
    def applies(base: Value, cells: list[tuple[tuple[int, int], Value | None]]) -> bool:
        _, rows, cols = base.shape
        return len(cells) == rows * cols and all(v is not None and v.plain() for _, v in cells)

    def build(self) -> Value:
        return fill(self.base, self.cells)

    def ordered(self) -> list[np.ndarray]:
        """The cells' numbers in the built array's order (row by row)."""
        cols = self.base.shape[2]
        return [v.num for _, v in sorted(self.cells, key=lambda c: c[0][0] * cols + c[0][1])]  # type: ignore[union-attr]


Held = Value | _LazyCells | None


def _reduce_cells(ufunc: np.ufunc, args: list[Held]) -> Value | None:
    """SUM/MAX/MIN: each unbuilt range accumulated from its cells, then the function's own
    fast path for plain numbers (``helpers.fast_reduce``) over the arguments."""
    return fast_reduce(
        [Value(accumulate(a.ordered(), ufunc)) if isinstance(a, _LazyCells) else a for a in args],
        ufunc,
    )


def _sumif_cells(args: list[Held]) -> Value | None:
    """SUMIF(criteria range, criterion, unbuilt range) with both criteria fixed."""
    if len(args) != 3 or not isinstance(args[2], _LazyCells):
        return None
    rng, crit, target = args
    if not isinstance(rng, Value) or not isinstance(crit, Value):
        return None
    return sumif_cells(rng, crit, target.base.dims, target.ordered())


# Functions that read an unbuilt range cell by cell (None from one: it runs as usual)
LAZY_READERS: dict[str, Callable[[list[Held]], Value | None]] = {
    "SUM": functools.partial(_reduce_cells, np.add),
    "MAX": functools.partial(_reduce_cells, np.maximum),
    "MIN": functools.partial(_reduce_cells, np.minimum),
    "SUMIF": _sumif_cells,
}


def _exec(
    op: Op, slots: dict[int, Value], consts: list[Value], samples: np.ndarray, ctx: EvalContext
) -> Value:
    if op.fn == "@input":
        return Value(samples[op.data].reshape(-1, 1, 1))
    if op.fn == "@fill":
        base, items, positions = op.data
        cells = [(pos, _get(a, slots, consts)) for pos, a in zip(positions, items, strict=True)]
        if _LazyCells.applies(base, cells):
            return _LazyCells(base, cells)  # type: ignore[return-value]
        return fill(base, cells)
    reader = LAZY_READERS.get(op.fn)
    if reader is not None:
        held = [_peek(a, slots, consts) for a in op.args]
        if any(isinstance(h, _LazyCells) for h in held):
            done = reader(held)
            if done is not None:
                return done
    args = [_get(a, slots, consts) for a in op.args]
    if op.fn == "@pick":
        return pick(args[0], *op.data)  # type: ignore[arg-type]
    spec = get_function(op.fn)
    assert spec is not None, op.fn
    if op.caller is not None and op.caller != ctx.caller:
        ctx = EvalContext(ctx.trials, ctx.today, ctx.now, op.caller)
    return spec.impl(ctx, *args)


def fill(base: Value, items: list[tuple[tuple[int, int], Value | None]]) -> Value:
    """A range value: the constant ``base`` grid with per-trial cell values written in."""
    t = max((v.trials for _, v in items if v is not None), default=1)
    _, rows, cols = base.shape
    shape = (t, rows, cols)
    if len(items) == rows * cols and all(v is not None and v.plain() for _, v in items):
        # cell-major rows are contiguous copies; the (T, rows, cols) view over them is free
        cells = np.empty((rows * cols, t))
        for (i, j), v in items:
            cells[i * cols + j] = v.num[:, 0, 0]  # type: ignore[union-attr]
        return Value(cells.T.reshape(shape), is_ref=True)
    full = base.full()
    num = np.array(np.broadcast_to(full.num, shape))
    kind = np.array(np.broadcast_to(full.kind, shape))
    err = np.array(np.broadcast_to(full.err, shape))
    text = np.array(np.broadcast_to(full.text, shape))
    for (i, j), v in items:
        if v is None:
            continue
        num[:, i, j] = v.num[:, 0, 0]
        kind[:, i, j] = 0 if v.kind is None else v.kind[:, 0, 0]
        err[:, i, j] = 0 if v.err is None else v.err[:, 0, 0]
        if v.text is not None:
            text[:, i, j] = v.text[:, 0, 0]
    return normalize(num, kind, err, text, is_ref=True)
