"""LAMBDA and the functions that apply one over an array: MAP, BYROW, BYCOL, REDUCE,
SCAN, MAKEARRAY, and workbook names defined as a LAMBDA (``=Tax(B2)``).

The compiler unrolls them: the array's shape is known when compiling (an array whose size
changes from trial to trial is refused elsewhere), so each element's call is compiled
with the LAMBDA's parameters bound to that element, like a LET, and the results are put
back together into an array. Excel's rules: a LAMBDA given the wrong number of arguments
is ``#VALUE!``; MAP, BYROW and BYCOL give ``#CALC!`` where a call returns an array.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .cnodes import Const
from .parser import Call, Missing, Name, Node, ParseError, parse
from .values import CALC, VALUE, Value, error, from_py, number

if TYPE_CHECKING:
    from .cnodes import CNode
    from .compiler import Compiler

MAX_CALLS = 100_000  # elements one formula may unroll (a bound on compile time)


ETA = "*"  # the parameter list of an eta-reduced lambda: as many as the call passes


def _lambda(node: Node | None) -> tuple[list[str], Node] | None:
    """The parameter names and body of a ``LAMBDA(x, y, body)`` node, or of a function
    named in its place (``SCAN(0, A1:A9, SUM)``, saved as ``_xleta.SUM``)."""
    if isinstance(node, Name) and node.sheet is None and node.name.upper().startswith("_XLETA."):
        from .parser import canonical_function

        return [ETA], Call(canonical_function(node.name[7:]), ())
    if not isinstance(node, Call) or node.name != "LAMBDA" or not node.args:
        return None
    params = node.args[:-1]
    if not all(isinstance(p, Name) for p in params):
        return None
    from .specials import let_name

    return [let_name(p.name) for p in params], node.args[-1]  # type: ignore[union-attr]


def apply(c: Compiler, fn: tuple[list[str], Node], values: list[CNode]) -> CNode:
    """One call of a LAMBDA with its parameters bound to ``values``."""
    params, body = fn
    if params == [ETA] and isinstance(body, Call):
        # the named function called with the values: bound like a LAMBDA's parameters
        names = [f"_XLPM._ETA{i}" for i in range(len(values))]
        params = [n[6:] for n in names]
        body = Call(body.name, tuple(Name(n) for n in names))
    if len(values) != len(params):
        return c.const(error(VALUE))
    c.let_scopes.append({p: ("value", v) for p, v in zip(params, values, strict=True)})
    try:
        out = c.expr(body)
    finally:
        c.let_scopes.pop()
    return out if out is not None else c.const(number(0.0))


def _dims(c: Compiler, node: CNode) -> tuple[int, int]:
    return c.probe_of(node).dims


def _scalar(c: Compiler, node: CNode) -> bool:
    return _dims(c, node) == (1, 1)


def _array_of(c: Compiler, rows: int, cols: int, items: list[tuple[tuple[int, int], CNode]]):
    base = Value(np.zeros((1, rows, cols)))
    return c.fill_array(base, items)


def _too_many(c: Compiler, n: int) -> CNode | None:
    if n > MAX_CALLS:
        c.unsupported(f"LAMBDA over more than {MAX_CALLS:,} elements")
        return c.const(error(CALC))
    return None


def special_map(c: Compiler, node: Call) -> CNode:
    fn = _lambda(node.args[-1]) if node.args else None
    if fn is None or len(node.args) < 2:
        return c.const(error(VALUE))
    arrays = [c.expr(a) or c.const(number(0.0)) for a in node.args[:-1]]
    rows, cols = _dims(c, arrays[0])
    if any(_dims(c, a) not in ((rows, cols), (1, 1)) for a in arrays):
        return c.const(error(VALUE))
    if (big := _too_many(c, rows * cols)) is not None:
        return big
    items = []
    for i in range(rows):
        for j in range(cols):
            args = [a if _scalar(c, a) else c._pick(a, i, j) for a in arrays]
            out = apply(c, fn, args)
            items.append(((i, j), out if _scalar(c, out) else c.const(error(CALC))))
    return _array_of(c, rows, cols, items)


def _by(axis: str):
    def special(c: Compiler, node: Call) -> CNode:
        fn = _lambda(node.args[1]) if len(node.args) == 2 else None
        if fn is None:
            return c.const(error(VALUE))
        array = c.expr(node.args[0]) or c.const(number(0.0))
        rows, cols = _dims(c, array)
        n = rows if axis == "row" else cols
        if (big := _too_many(c, rows * cols)) is not None:
            return big
        items = []
        for k in range(n):
            index = [array, c.const(number(k + 1.0)), c.const(number(0.0))]
            if axis == "col":
                index[1], index[2] = index[2], index[1]
            part = c.call("INDEX", index)
            out = apply(c, fn, [part])
            out = out if _scalar(c, out) else c.const(error(CALC))
            items.append(((k, 0) if axis == "row" else (0, k), out))
        return _array_of(c, n, 1, items) if axis == "row" else _array_of(c, 1, n, items)

    return special


def _fold(keep_steps: bool):
    def special(c: Compiler, node: Call) -> CNode:
        if len(node.args) != 3 or (fn := _lambda(node.args[2])) is None:
            return c.const(error(VALUE))
        first = node.args[0]
        acc: CNode = (
            c.const(from_py(None))
            if isinstance(first, Missing)
            else c.expr(first) or c.const(number(0.0))
        )
        array = c.expr(node.args[1]) or c.const(number(0.0))
        rows, cols = _dims(c, array)
        if (big := _too_many(c, rows * cols)) is not None:
            return big
        items = []
        for i in range(rows):
            for j in range(cols):
                element = array if (rows, cols) == (1, 1) else c._pick(array, i, j)
                acc = apply(c, fn, [acc, element])
                if keep_steps:
                    items.append(((i, j), acc if _scalar(c, acc) else c.const(error(CALC))))
        return _array_of(c, rows, cols, items) if keep_steps else acc

    return special


def special_makearray(c: Compiler, node: Call) -> CNode:
    if len(node.args) != 3 or (fn := _lambda(node.args[2])) is None:
        return c.const(error(VALUE))
    size = [c.expr(a) for a in node.args[:2]]
    if not all(isinstance(s, Const) for s in size):
        c.unsupported("MAKEARRAY of a size that changes between trials")
        return c.const(error(VALUE))
    rows, cols = (int(c.probe_of(s).num.flat[0]) for s in size)  # type: ignore[arg-type]
    if rows < 1 or cols < 1:
        return c.const(error(VALUE))
    if (big := _too_many(c, rows * cols)) is not None:
        return big
    items = [
        ((i, j), apply(c, fn, [c.const(number(i + 1.0)), c.const(number(j + 1.0))]))
        for i in range(rows)
        for j in range(cols)
    ]
    return _array_of(c, rows, cols, items)


def named_lambda(c: Compiler, node: Call) -> CNode | None:
    """``=Tax(B2)`` where the workbook defines ``Tax`` as ``=LAMBDA(x, x * 0.2)``; None
    when the name is not a LAMBDA."""
    sheet = c._sheet_name(c._cur[0])
    text = c.book.name(node.name, sheet)
    if text is None:
        return None
    try:
        fn = _lambda(parse(text))
    except ParseError:
        return None
    if fn is None:
        return None
    return apply(c, fn, [c.expr(a) or c.const(number(0.0)) for a in node.args])


SPECIALS = {
    "MAP": special_map,
    "BYROW": _by("row"),
    "BYCOL": _by("col"),
    "REDUCE": _fold(keep_steps=False),
    "SCAN": _fold(keep_steps=True),
    "MAKEARRAY": special_makearray,
}
