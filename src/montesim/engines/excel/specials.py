"""Functions the compiler evaluates itself because they read the workbook, not values:
LET, ANCHORARRAY (``A1#``), SHEET, SHEETS, FORMULATEXT, CELL, HYPERLINK, and SUBTOTAL /
AGGREGATE (which skip nested subtotals, hidden rows and, for AGGREGATE, errors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .functions import get_function
from .parser import Call, Missing, Name, Node, Num, Str, parse, walk
from .refs import Area, get_column_letter
from .values import EMPTY, NA, REF, VALUE, Value, XlError, error, from_py, number

if TYPE_CHECKING:
    from .cnodes import CNode
    from .compiler import Compiler

_PREFIXES = ("_xlfn._xlws.", "_xlfn.", "_xlws.", "_xlpm.")


def let_name(name: str) -> str:
    up = name.upper()
    return up[6:] if up.startswith("_XLPM.") else up


def special_let(c: Compiler, node: Call) -> CNode:
    args = node.args
    if len(args) < 3 or len(args) % 2 == 0:
        return c.const(error(VALUE))
    scope: dict[str, tuple[str, object]] = {}
    c.let_scopes.append(scope)
    try:
        for i in range(0, len(args) - 1, 2):
            name = args[i]
            if not isinstance(name, Name):
                return c.const(error(VALUE))
            refs = c._ref_of(args[i + 1])
            if isinstance(refs, list):
                scope[let_name(name.name)] = ("ref", refs)
            else:
                value = c.expr(args[i + 1])
                scope[let_name(name.name)] = ("value", value or c.const(number(0.0)))
        out = c.expr(args[-1])
        return out if out is not None else c.const(number(0.0))
    finally:
        c.let_scopes.pop()


def ref_anchorarray(c: Compiler, node: Call) -> list[Area] | XlError | None:
    """``A1#``: the spill range of the dynamic array anchored at A1."""
    if len(node.args) != 1:
        return XlError(VALUE)
    refs = c._ref_of(node.args[0])
    if not isinstance(refs, list) or len(refs) != 1 or not refs[0].is_cell():
        return XlError(REF)
    a = refs[0]
    cd = c.book.cell(a.sheet, a.r1, a.c1)
    if cd is None or cd.formula is None:
        return XlError(REF)
    if cd.array is None:
        return [a]
    return [Area(a.sheet, cd.array.r1, cd.array.c1, cd.array.r2, cd.array.c2)]


def _sheet_list(c: Compiler) -> list[str]:
    return c.book.sheet_names


def special_sheet(c: Compiler, node: Call) -> CNode:
    names = [s.upper() for s in _sheet_list(c)]
    if not node.args or isinstance(node.args[0], Missing):
        sheet = c._cur[0]
    else:
        refs = c._ref_of(node.args[0])
        if isinstance(refs, list):
            sheet = refs[0].sheet.upper()
        else:
            from .cnodes import Const

            v = c.expr(node.args[0])
            if not isinstance(v, Const):
                return c.const(error(VALUE))
            x = v.value.to_py()
            if not isinstance(x, str):
                return c.const(error(NA))
            sheet = x.upper()
    if sheet not in names:
        return c.const(error(NA))
    return c.const(number(float(names.index(sheet) + 1)))


def special_sheets(c: Compiler, node: Call) -> CNode:
    if not node.args or isinstance(node.args[0], Missing):
        return c.const(number(float(len(_sheet_list(c)))))
    refs = c._ref_of(node.args[0])
    if isinstance(refs, list):
        return c.const(number(float(len({a.sheet.upper() for a in refs}))))
    return c.const(error(REF))


def display_formula(text: str) -> str:
    """A formula as Excel shows it (FORMULATEXT): without the file's function prefixes."""
    out = text
    for p in _PREFIXES:
        low = out.lower()
        i = low.find(p)
        while i >= 0:
            out = out[:i] + out[i + len(p) :]
            low = out.lower()
            i = low.find(p)
    return out


def special_formulatext(c: Compiler, node: Call) -> CNode:
    refs = c._ref_of(node.args[0]) if len(node.args) == 1 else None
    if not isinstance(refs, list):
        return c.const(error(NA))
    a = refs[0]
    cd = c.book.cell(a.sheet, a.r1, a.c1)
    if cd is None or cd.formula is None or cd.formula == "=TABLE()":
        return c.const(error(NA))
    text = cd.formula
    return c.const(from_py(display_formula(text)))


def special_cell(c: Compiler, node: Call) -> CNode:
    if not node.args:
        return c.const(error(VALUE))
    what = c.expr(node.args[0])
    from .cnodes import Const

    if not isinstance(what, Const):
        return c.const(error(VALUE))
    info = what.value.to_py()
    if not isinstance(info, str):
        return c.const(error(VALUE))
    info = info.lower()
    if len(node.args) > 1 and not isinstance(node.args[1], Missing):
        refs = c._ref_of(node.args[1])
        if not isinstance(refs, list):
            return c.const(error(VALUE))
        area = refs[0]
    else:
        s, r, col = c._cur
        area = Area(c._sheet_name(s), r, col, r, col)
    if info == "filename":
        return c.const(from_py(f"[{c.book.source}]{area.sheet}"))
    if info == "address":
        return c.const(from_py(f"${get_column_letter(area.c1)}${area.r1}"))
    if info == "row":
        return c.const(number(float(area.r1)))
    if info == "col":
        return c.const(number(float(area.c1)))
    if info == "sheet":
        return special_sheet(c, Call("SHEET", (Str(area.sheet),)))
    if info == "contents":
        return c.load_area(Area(area.sheet, area.r1, area.c1, area.r1, area.c1))
    if info == "type":
        node_v = c.load_area(Area(area.sheet, area.r1, area.c1, area.r1, area.c1))
        if not isinstance(node_v, Const):
            return c.const(from_py("v"))
        x = node_v.value.to_py()
        return c.const(from_py("b" if x is None else "l" if isinstance(x, str) else "v"))
    c.unsupported(f'CELL("{info}")')
    return c.const(error(VALUE))


def special_hyperlink(c: Compiler, node: Call) -> CNode:
    if not node.args:
        return c.const(error(VALUE))
    shown = node.args[1] if len(node.args) > 1 and not isinstance(node.args[1], Missing) else None
    out = c.expr(shown if shown is not None else node.args[0])
    return out if out is not None else c.const(number(0.0))


# -- SUBTOTAL and AGGREGATE --------------------------------------------------------------

_SUBTOTAL = {
    1: "AVERAGE",
    2: "COUNT",
    3: "COUNTA",
    4: "MAX",
    5: "MIN",
    6: "PRODUCT",
    7: "STDEV.S",
    8: "STDEV.P",
    9: "SUM",
    10: "VAR.S",
    11: "VAR.P",
}
_AGGREGATE = {
    **_SUBTOTAL,
    3: "COUNTA",
    12: "MEDIAN",
    13: "MODE.SNGL",
    14: "LARGE",
    15: "SMALL",
    16: "PERCENTILE.INC",
    17: "QUARTILE.INC",
    18: "PERCENTILE.EXC",
    19: "QUARTILE.EXC",
}


def _const_int(c: Compiler, node: Node) -> int | None:
    from .cnodes import Const

    v = c.expr(node)
    if not isinstance(v, Const):
        return None
    x = v.value.to_py()
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return int(x)


def _is_subtotal_cell(c: Compiler, sheet: str, r: int, col: int) -> bool:
    cd = c.book.cell(sheet, r, col)
    if cd is None or cd.formula is None:
        return False
    up = cd.formula.upper()
    if "SUBTOTAL" not in up and "AGGREGATE" not in up:
        return False
    try:
        ast = parse(cd.formula)
    except Exception:  # noqa: BLE001 - an unparsable cell is simply not a subtotal
        return False
    return any(isinstance(n, Call) and n.name in ("SUBTOTAL", "AGGREGATE") for n in walk(ast))


def _masked_area(c: Compiler, area: Area, hidden: bool, errors: bool, nested: bool) -> CNode:
    node = c.load_area(area)
    probe = c.probe_of(node)
    rows, cols = probe.dims
    sheet = c.book.sheet(area.sheet)
    hidden_rows = sheet.hidden_rows if sheet is not None else set()
    mask = np.zeros((1, rows, cols), bool)
    for i in range(rows):
        r = area.r1 + i
        if hidden and r in hidden_rows:
            mask[0, i, :] = True
            continue
        if nested:
            for j in range(cols):
                if (r, area.c1 + j) in c.formula_cells_of(area.sheet) and _is_subtotal_cell(
                    c, area.sheet, r, area.c1 + j
                ):
                    mask[0, i, j] = True
    if not mask.any() and not errors:
        return node
    return c.call(
        "_BLANK_WHERE", [node, c.const(Value(mask.astype(float))), c.const(number(float(errors)))]
    )


def special_subtotal(c: Compiler, node: Call) -> CNode:
    if len(node.args) < 2:
        return c.const(error(VALUE))
    code = _const_int(c, node.args[0])
    if code is None or code % 100 not in _SUBTOTAL or code // 100 not in (0, 1):
        return c.const(error(VALUE))
    fn = _SUBTOTAL[code % 100]
    args = _masked_args(c, node.args[1:], hidden=code >= 100, errors=False, nested=True)
    if args is None:
        return c.const(error(VALUE))
    return c.call(fn, args)


def special_aggregate(c: Compiler, node: Call) -> CNode:
    if len(node.args) < 3:
        return c.const(error(VALUE))
    code = _const_int(c, node.args[0])
    opt = 0 if isinstance(node.args[1], Missing) else _const_int(c, node.args[1])
    if code not in _AGGREGATE or opt is None or not 0 <= opt <= 7:
        return c.const(error(VALUE))
    nested = opt in (0, 1, 2, 3)
    hidden = opt in (1, 3, 5, 7)
    errors = opt in (2, 3, 6, 7)
    rest = node.args[2:]
    if code >= 14:  # LARGE, SMALL, PERCENTILE...: one array and k
        if len(rest) != 2:
            return c.const(error(VALUE))
        arr = _masked_args(c, rest[:1], hidden, errors, nested)
        if arr is None:
            return c.const(error(VALUE))
        return c.call(_AGGREGATE[code], [arr[0], c.expr(rest[1])])
    args = _masked_args(c, rest, hidden, errors, nested)
    if args is None:
        return c.const(error(VALUE))
    return c.call(_AGGREGATE[code], args)


def _masked_args(
    c: Compiler, nodes: tuple[Node, ...], hidden: bool, errors: bool, nested: bool
) -> list[CNode | None] | None:
    out: list[CNode | None] = []
    for n in nodes:
        refs = c._ref_of(n)
        if isinstance(refs, list):
            out.extend(_masked_area(c, a, hidden, errors, nested) for a in refs)
        elif isinstance(refs, XlError):
            out.append(c.const(error(refs.code)))
        else:
            v = c.expr(n)
            if v is not None and errors:
                v = c.call("_BLANK_WHERE", [v, c.const(number(0.0)), c.const(number(1.0))])
            out.append(v)
    return out


def _blank_where(ctx, v: Value, mask: Value, errors: Value) -> Value:  # noqa: ANN001
    """``v`` with the masked cells (and, if asked, error cells) made empty."""
    full = v.full()
    shape = v.shape
    m = (
        np.broadcast_to(mask.num.astype(bool), (1, *v.dims))
        if mask.dims == v.dims
        else np.zeros((1, *v.dims), bool)
    )
    m = np.broadcast_to(m, shape)
    if errors.to_py():
        m = m | (np.broadcast_to(full.err, shape) != 0)
    kind = np.where(m, EMPTY, full.kind).astype(np.int8)
    err = np.where(m, 0, full.err).astype(np.int8)
    num = np.where(m, 0.0, full.num)
    text = np.where(m, None, full.text)
    from .values import normalize

    return normalize(num, kind, err, text, is_ref=v.is_ref)


def register_helpers() -> None:
    from .functions.registry import REGISTRY, register

    if "_BLANK_WHERE" not in REGISTRY:
        register("_BLANK_WHERE", min_args=3, max_args=3)(_blank_where)


register_helpers()


def special_isformula(c: Compiler, node: Call) -> CNode:
    """ISFORMULA(reference): whether the cell holds a formula (its value is not read)."""
    refs = c._ref_of(node.args[0]) if len(node.args) == 1 else None
    if isinstance(refs, XlError):
        return c.const(error(refs.code))
    if not isinstance(refs, list) or len(refs) != 1:
        return c.const(error(VALUE))
    a = refs[0]
    sheet = c.book.sheet(a.sheet)
    if sheet is None:
        return c.const(error(REF))
    cd = sheet.cells.get((a.r1, a.c1))
    has = (cd is not None and cd.formula is not None) or (a.r1, a.c1) in sheet.array_members
    return c.const(from_py(has))


SPECIALS = {
    "ISFORMULA": special_isformula,
    "LET": special_let,
    "SHEET": special_sheet,
    "SHEETS": special_sheets,
    "FORMULATEXT": special_formulatext,
    "CELL": special_cell,
    "HYPERLINK": special_hyperlink,
    "SUBTOTAL": special_subtotal,
    "AGGREGATE": special_aggregate,
}
REF_SPECIALS = {"ANCHORARRAY": ref_anchorarray}

__all__ = ["SPECIALS", "REF_SPECIALS", "let_name", "get_function", "Num"]
