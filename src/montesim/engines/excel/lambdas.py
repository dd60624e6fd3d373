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
from .values import CALC, VALUE, Value, XlError, error, from_py, number

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


def _functions(c: Compiler, node: Node | None) -> list[tuple[list[str], Node]] | None:
    """The LAMBDAs of GROUPBY's function argument: one, or several side by side in an
    HSTACK (``HSTACK(SUM, LAMBDA(x, MAX(x)-MIN(x)))``)."""
    if isinstance(node, Call) and node.name == "HSTACK":
        fns = [_lambda(a) for a in node.args]
        return None if any(f is None for f in fns) else fns  # type: ignore[return-value]
    fn = _lambda(node)
    return None if fn is None else [fn]


def _sort_key(x: object) -> tuple[int, object]:
    """Excel's ascending order: numbers, then text (case-blind), then logical values."""
    if isinstance(x, bool):
        return (2, x)
    if isinstance(x, float):
        return (0, x)
    return (1, str(x).lower())


def special_groupby(c: Compiler, node: Call) -> CNode:
    """GROUPBY(row_fields, values, function, [field_headers], [total_depth], [sort_order],
    [filter_array], [field_relationship]) in the forms models use: no headers, a grand
    total or none, the default ascending sort by the row fields, an optional filter; the
    groups come from fixed data (the values may change between trials). Anything else is
    reported, not guessed."""
    args = list(node.args) + [Missing()] * (8 - len(node.args))
    if len(node.args) < 3 or len(node.args) > 8:
        return c.const(error(VALUE))

    def unsupported(why: str) -> CNode:
        c.unsupported(f"GROUPBY {why}")
        return c.const(error(CALC))

    fns = _functions(c, args[2])
    if fns is None:
        return unsupported("with a function that is not a LAMBDA or a function name")
    keys_node = c.expr(args[0])
    values = c.expr(args[1])
    if keys_node is None or values is None:
        return c.const(error(VALUE))
    if not isinstance(keys_node, Const):
        return unsupported("of row fields that change between trials")
    opts = []
    for a in args[3:8]:
        v = None if isinstance(a, Missing) else c.expr(a)
        if v is not None and not isinstance(v, Const):
            return unsupported("with options that change between trials")
        opts.append(None if v is None else v.value)
    headers, depth, order, filt, relation = opts
    keys = keys_node.value
    n, width = keys.dims
    vrows, vcols = _dims(c, values)
    if vrows != n:
        return c.const(error(VALUE))
    grid = [[keys.to_py(0, r, k) for k in range(width)] for r in range(n)]
    probe = c.probe_of(values)
    if headers is None:
        # Excel guesses headers when the first value is text and the second a number
        first = probe.to_py(0, 0, 0)
        second = probe.to_py(0, 1, 0) if n > 1 else None
        if isinstance(first, str) and isinstance(second, float):
            return unsupported("with field headers")
    elif headers.to_py() != 0.0:
        return unsupported("with field headers")
    total = 1.0 if depth is None else depth.to_py()
    if total not in (0.0, 1.0):
        return unsupported("with subtotals or totals at the top")
    if order is not None or (relation is not None and relation.to_py() != 0.0):
        return unsupported("with a sort order or field relationship")
    if vcols > 1 and len(fns) > 1:
        return unsupported("of several value columns with several functions")
    keep = list(range(n))
    if filt is not None:
        if filt.dims != (n, 1):
            return c.const(error(VALUE))
        flags = [filt.to_py(0, r, 0) for r in range(n)]
        if any(isinstance(f, XlError) for f in flags):
            return c.const(error(VALUE))
        keep = [r for r in keep if flags[r] not in (False, 0.0, None, "")]
    grouped = _group_rows(grid, keep)
    if isinstance(grouped, str):
        return unsupported(f"of row fields {grouped}")
    ordered, groups, shown = grouped
    if (big := _too_many(c, (len(ordered) + 1) * max(vcols, len(fns)))) is not None:
        return big
    columns = [(j, fns[0]) for j in range(vcols)] if vcols > 1 else [(0, f) for f in fns]

    def part(rows: list[int], j: int) -> CNode:
        return _rows_of(c, values, rows, j)

    items: list[tuple[tuple[int, int], CNode]] = []
    out_rows = len(ordered) + (1 if total else 0)
    for i, key in enumerate(ordered):
        for k, x in enumerate(shown[key]):
            items.append(((i, k), c.const(from_py(x))))
        for m, (j, fn) in enumerate(columns):
            out = apply(c, fn, [part(groups[key], j)])
            items.append(((i, width + m), out if _scalar(c, out) else c.const(error(CALC))))
    if total:
        i = len(ordered)
        items.append(((i, 0), c.const(from_py("Total"))))
        for k in range(1, width):
            items.append(((i, k), c.const(from_py(None))))
        for m, (j, fn) in enumerate(columns):
            out = apply(c, fn, [part(keep, j)])
            items.append(((i, width + m), out if _scalar(c, out) else c.const(error(CALC))))
    if not ordered:
        return c.const(error(CALC))  # nothing to group: an empty array
    return _array_of(c, out_rows, width + len(columns), items)


def _group_rows(
    grid: list[list], keep: list[int]
) -> tuple[list[tuple], dict[tuple, list[int]], dict[tuple, list]] | str:
    """The groups of the kept rows of ``grid`` in Excel's ascending order: (keys, rows of
    each key, the key as shown); or why they cannot be grouped faithfully."""
    groups: dict[tuple, list[int]] = {}
    shown: dict[tuple, list] = {}
    for r in keep:
        row = grid[r]
        if any(isinstance(x, XlError) for x in row):
            return "holding errors"
        key = tuple(_sort_key("" if x is None else x) for x in row)
        if key in shown and shown[key] != row:
            return "differing only in case"
        shown.setdefault(key, row)
        groups.setdefault(key, []).append(r)
    return sorted(groups), groups, shown


def _rows_of(c: Compiler, values: CNode, rows: list[int], j: int) -> CNode:
    """Rows ``rows`` of column ``j`` of ``values``: what a group's function is given."""
    if isinstance(values, Const):
        v = values.value
        from .values import from_grid

        return c.const(from_grid([[v.to_py(0, r, j)] for r in rows]).with_ref(True))
    at = Value(np.array([r + 1.0 for r in rows]).reshape(1, -1, 1))
    return c.call("INDEX", [values, c.const(at), c.const(number(j + 1.0))])


def special_pivotby(c: Compiler, node: Call) -> CNode:
    """PIVOTBY(row_fields, col_fields, values, function, [field_headers],
    [row_total_depth], [row_sort_order], [col_total_depth], [col_sort_order],
    [filter_array], [relative_to]) with one row field, one column field, one value column
    and one function, no headers, grand totals or none, the default sorts and an optional
    filter. The result: a first row of the column keys (then "Total"), one row per row key
    (blank where a pair has no data), then the "Total" row. Anything else is reported."""
    if len(node.args) < 4 or len(node.args) > 11:
        return c.const(error(VALUE))
    args = list(node.args) + [Missing()] * (11 - len(node.args))

    def unsupported(why: str) -> CNode:
        c.unsupported(f"PIVOTBY {why}")
        return c.const(error(CALC))

    fns = _functions(c, args[3])
    if fns is None or len(fns) != 1:
        return unsupported("with other than one LAMBDA or function name")
    fn = fns[0]
    rk, ck, values = c.expr(args[0]), c.expr(args[1]), c.expr(args[2])
    if rk is None or ck is None or values is None:
        return c.const(error(VALUE))
    if not isinstance(rk, Const) or not isinstance(ck, Const):
        return unsupported("of fields that change between trials")
    opts = []
    for a in args[4:11]:
        v = None if isinstance(a, Missing) else c.expr(a)
        if v is not None and not isinstance(v, Const):
            return unsupported("with options that change between trials")
        opts.append(None if v is None else v.value)
    headers, row_depth, row_order, col_depth, col_order, filt, relative = opts
    n = rk.value.dims[0]
    if rk.value.dims[1] != 1 or ck.value.dims != (n, 1) or _dims(c, values) != (n, 1):
        if rk.value.dims[1] == 1 and ck.value.dims[1] == 1 and _dims(c, values)[1] == 1:
            return c.const(error(VALUE))
        return unsupported("of several row fields, column fields or value columns")
    probe = c.probe_of(values)
    if headers is None:
        first, second = probe.to_py(0, 0, 0), probe.to_py(0, 1, 0) if n > 1 else None
        if isinstance(first, str) and isinstance(second, float):
            return unsupported("with field headers")
    elif headers.to_py() != 0.0:
        return unsupported("with field headers")
    totals = []
    for depth in (row_depth, col_depth):
        t = 1.0 if depth is None else depth.to_py()
        if t not in (0.0, 1.0):
            return unsupported("with subtotals or totals at the top")
        totals.append(bool(t))
    if row_order is not None or col_order is not None or relative is not None:
        return unsupported("with a sort order or relative_to")
    keep = list(range(n))
    if filt is not None:
        if filt.dims != (n, 1):
            return c.const(error(VALUE))
        flags = [filt.to_py(0, r, 0) for r in range(n)]
        if any(isinstance(f, XlError) for f in flags):
            return c.const(error(VALUE))
        keep = [r for r in keep if flags[r] not in (False, 0.0, None, "")]
    by_row = _group_rows([[rk.value.to_py(0, r, 0)] for r in range(n)], keep)
    by_col = _group_rows([[ck.value.to_py(0, r, 0)] for r in range(n)], keep)
    if isinstance(by_row, str) or isinstance(by_col, str):
        return unsupported(f"of fields {by_row if isinstance(by_row, str) else by_col}")
    rkeys, rgroups, rshown = by_row
    ckeys, cgroups, cshown = by_col
    if not rkeys:
        return c.const(error(CALC))
    rows = 1 + len(rkeys) + totals[0]
    cols = 1 + len(ckeys) + totals[1]
    if (big := _too_many(c, rows * cols)) is not None:
        return big

    def cell(members: list[int]) -> CNode:
        if not members:
            return c.const(from_py(None))
        out = apply(c, fn, [_rows_of(c, values, members, 0)])
        return out if _scalar(c, out) else c.const(error(CALC))

    items: list[tuple[tuple[int, int], CNode]] = [((0, 0), c.const(from_py(None)))]
    col_sets = [set(cgroups[k]) for k in ckeys]
    for j, k in enumerate(ckeys):
        items.append(((0, 1 + j), c.const(from_py(cshown[k][0]))))
    if totals[1]:
        items.append(((0, cols - 1), c.const(from_py("Total"))))
    for i, k in enumerate(rkeys):
        members = rgroups[k]
        items.append(((1 + i, 0), c.const(from_py(rshown[k][0]))))
        for j, cs in enumerate(col_sets):
            items.append(((1 + i, 1 + j), cell([r for r in members if r in cs])))
        if totals[1]:
            items.append(((1 + i, cols - 1), cell(members)))
    if totals[0]:
        items.append(((rows - 1, 0), c.const(from_py("Total"))))
        for j, k in enumerate(ckeys):
            items.append(((rows - 1, 1 + j), cell(cgroups[k])))
        if totals[1]:
            items.append(((rows - 1, cols - 1), cell(keep)))
    return _array_of(c, rows, cols, items)


SPECIALS = {
    "GROUPBY": special_groupby,
    "PIVOTBY": special_pivotby,
    "MAP": special_map,
    "BYROW": _by("row"),
    "BYCOL": _by("col"),
    "REDUCE": _fold(keep_steps=False),
    "SCAN": _fold(keep_steps=True),
    "MAKEARRAY": special_makearray,
}
