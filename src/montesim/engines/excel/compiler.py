"""Workbook + outputs -> Program: dependency walk, constant folding, op emission.

Only cells upstream of the requested roots are compiled. A node that does not depend
on a random input is folded to a constant at compile time (evaluated once, T=1); the
rest become ops of a straight-line Program over trial arrays. Every emitted op is also
evaluated once on a "probe" (inputs at their static value) so the compiler knows result
shapes, and so `verify` can read every cell's static value.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...heap import gc_paused
from ...sampling.seeding import stable_id
from ..base import InputError
from .cnodes import CNode, Const, Slot  # also imported from here by other modules
from .cycles import WalkPath
from .functions import EvalContext, get_function
from .functions.criteria import ties_at_15_digits
from .functions.numfmt import comma_decimal_format
from .inputs import IGNORED_PROPERTIES, RISK_PROPERTIES, InputDef, risk_family
from .lambdas import SPECIALS as LAMBDA_SPECIALS
from .lambdas import named_lambda
from .parser import (
    ArrayLit,
    Binary,
    Bool,
    Call,
    Err,
    Missing,
    Name,
    Node,
    Num,
    ParseError,
    Postfix,
    RefText,
    Str,
    Unary,
    parse,
    walk,
)
from .program import Op, Program, fill, pick
from .randoms import (
    INVERSE_FAMILIES,
    RANDOM_FUNCTIONS,
    compile_random,
    inverse_of_rand,
    is_random_formula,
    is_volatile_formula,
)
from .reader import Workbook
from .refs import MAX_COL, MAX_ROW, Area, address, parse_area
from .specials import REF_SPECIALS, SPECIALS, let_name
from .tables import is_structured
from .tables import resolve as resolve_table_ref
from .values import (
    EMPTY,
    NA,
    NAME,
    NULL,
    REF,
    TEXT,
    VALUE,
    Value,
    XlError,
    error,
    from_grid,
    from_py,
    number,
    stack_grid,
)

CellKey = tuple[str, int, int]  # (SHEET NAME UPPER, row, col)


class NeedCells(Exception):
    """Compiling a cell reached formula cells not compiled yet (OFFSET, INDIRECT...)."""

    def __init__(self, keys: list[CellKey]) -> None:
        super().__init__(keys)
        self.keys = keys


@dataclass
class SpecInput:
    family: str
    args: tuple[Any, ...]
    truncate: tuple[float | None, float | None] | None = None
    name: str | None = None


@dataclass
class CompileIssues:
    unsupported: dict[str, set[str]] = field(default_factory=dict)  # FUNCTION -> cells
    cycles: list[list[str]] = field(default_factory=list)
    parse_errors: dict[str, str] = field(default_factory=dict)  # cell -> message
    # cell -> what went wrong compiling its formula (a bug or an input error under verify)
    errors: dict[str, str] = field(default_factory=dict)
    # cell -> a TEXT format read with a decimal comma (see numfmt.comma_decimal_format)
    comma_decimal_formats: dict[str, str] = field(default_factory=dict)
    # cell -> a criterion built as text whose number ties values to 15 digits
    criteria_ties: dict[str, str] = field(default_factory=dict)


class FormulaCrash(Exception):
    """A function implementation failed on arguments it should have handled."""


_DYNAMIC_REF_FUNCS = {"OFFSET", "INDIRECT"}
_REF_OPS = (":", " ", ",")  # range, intersection and union: operators on references
_UNKNOWN: Any = object()  # ``expr``'s references, not looked up yet
EMPTY_VALUE = from_py(None)  # an argument left empty
# the compiler's own functions whose arguments are evaluated as arrays even in a non-array
# cell (a registered function declares it: ``register(..., arrays=, ranges=)``)
_ARRAY_ARG_SPECIALS = {"GROUPBY", "PIVOTBY"}


class Compiler:
    def __init__(
        self,
        book: Workbook,
        *,
        spec_inputs: dict[CellKey, SpecInput] | None = None,
        fixed: dict[CellKey, Any] | None = None,
        static: bool = False,
        today: float = 45000.0,
        now: float | None = None,
        simulation: int = 1,
    ) -> None:
        self.book = book
        self.simulation = simulation  # which value RiskSimtable cells take (1-based)
        self.simtables: set[str] = set()  # cells that called RiskSimtable
        self.spec_inputs = spec_inputs or {}
        self.fixed = fixed or {}
        self.static = static
        self.today = today
        self.now = today + 0.5 if now is None else now
        self.program = Program()
        self.cells: dict[CellKey, CNode] = {}
        self.arrays: dict[CellKey, CNode] = {}
        self.range_cache: dict[Area, CNode] = {}
        self.inputs: list[InputDef] = []
        self.input_slots: list[int] = []
        self.corrmats: dict[str, list[list[Any]]] = {}  # RiskCorrmat matrix address -> values
        self.issues = CompileIssues()
        self.circular: set[CellKey] = set()
        # cells that draw random numbers (RAND...); under ``static`` they hold their cached value
        self.random_cells: set[CellKey] = set()
        self.let_scopes: list[dict[str, tuple[str, Any]]] = []  # LET names, innermost last
        self._final: Node | None = None
        self.iterative: set[CellKey] = set()  # loop cells held at Excel's converged value
        # Iterative calculation when simulating: a loop cell reads a ``@loopvar`` slot until
        # its own formula is compiled; then ``@loopend`` repeats the ops in between.
        self._open_loops: dict[CellKey, tuple[int, Slot]] = {}  # cell -> (op index, var)
        self.loops: list[str] = []  # the loop cells, as addresses
        self.data_table_cells: set[CellKey] = set()
        self._name_cache: dict[tuple[str, str], Const] = {}
        self._literals: dict[tuple[type, Any], Value] = {}  # see ``_literal``
        # verify holds TODAY()/NOW() cells at Excel's values (the day the file was saved)
        self.hold_volatile = static
        self.volatile_cells: set[CellKey] = set()
        self._const_ids: dict[int, int] = {}
        self._cur: CellKey = ("", 0, 0)
        self._nested = 0
        self._name_depth = 0
        self._scalar_ctx = False  # legacy implicit intersection of operator operands
        # the call compiled next stands for one value (an operand, a value parameter, the
        # formula itself): its pass-through arguments are intersected (``FunctionSpec``)
        self._one = False
        self._active: dict[str, set[tuple[int, int]]] = {}
        # per sheet: the rows with active cells in order, and each row's columns in order
        self._active_rows: dict[str, tuple[list[int], dict[int, list[int]]]] = {}
        self._extents: dict[str, tuple[int, int]] = {}
        for sheet in book.sheets.values():
            act = {rc for rc, cd in sheet.cells.items() if cd.formula is not None}
            act |= set(sheet.array_members)
            act |= set(sheet.data_tables)
            self._active[sheet.name.upper()] = act
        for s, r, c in list(self.spec_inputs) + list(self.fixed):
            self._active.setdefault(s, set()).add((r, c))

    # -- public ---------------------------------------------------------------------
    def compile(self, roots: Iterable[CellKey], *, on_cycle: str = "raise") -> None:
        """Compile ``roots`` and everything upstream (iterative DFS, cycle detection)."""
        # NumPy's floating-point warnings are off once here: the functions evaluated on
        # the way (constants, probes) rely on it, as they do on ``program.run``'s; the
        # cycle collector is paused (see montesim.heap)
        with np.errstate(all="ignore"), gc_paused():
            self._compile(roots, on_cycle)

    def _compile(self, roots: Iterable[CellKey], on_cycle: str) -> None:
        for root in roots:
            if root in self.cells:
                continue
            stack: list[CellKey] = [root]
            path: WalkPath[CellKey] = WalkPath()
            while stack:
                key = stack[-1]
                if key in self.cells and key not in self._open_loops:
                    stack.pop()
                    if key in path:
                        path.leave(key)
                    continue
                if key not in path:
                    path.enter(key)
                    pending = [d for d in self._deps(key) if d not in self.cells]
                    for d in reversed(pending):
                        if d in path:
                            self._cycle(path.cycle(d, key), d, on_cycle)
                        else:
                            stack.append(d)
                    continue
                try:
                    node = self._compile_cell_tx(key)
                except NeedCells as need:
                    for d in need.keys:
                        if d in path:
                            self._cycle(path.cycle(d, key), d, on_cycle)
                        elif d not in self.cells:
                            stack.append(d)
                    continue
                if key in self._open_loops:
                    node = self._close_loop(key, node)
                self.cells[key] = node
                stack.pop()
                path.leave(key)

    def node(self, key: CellKey) -> CNode:
        return self.cells[key]

    def value_of(self, key: CellKey) -> Value:
        n = self.cells[key]
        return n.value if isinstance(n, Const) else n.probe

    # -- cycles ----------------------------------------------------------------------
    def _cycle(self, cyc: list[CellKey], dep: CellKey, on_cycle: str) -> None:
        """A circular reference ``cyc`` (from ``dep`` to the cell that reads it)."""
        names = [self._addr(k) for k in cyc]
        cd = self.book.cell(dep[0], dep[1], dep[2])
        if self.book.iterate and not self.static and cd is not None and cd.array is None:
            if dep not in self._open_loops:
                self._open_loop(dep, cd)
            return
        if on_cycle == "raise":
            iterative = (
                " (iterative calculation covers single cells, not array formulas)"
                if self.book.iterate
                else ""
            )
            raise InputError(
                "Circular reference: " + " -> ".join([*names, names[0]]) + iterative,
                code="circular_reference",
                location=names[0],
                detail={"cycle": names},
            )
        self.issues.cycles.append(names)
        if self.book.iterate and self.static and cd is not None and cd.array is None:
            # Excel iterated this loop to convergence: start from its value and check the
            # rest of the loop against it (one Gauss-Seidel sweep from the fixed point)
            self.iterative.add(dep)
            self.cells[dep] = Const(from_py(cd.cached))
            return
        self.circular.update(cyc)
        self.cells[dep] = Const(error(VALUE))
        if cd is not None and cd.array is not None:  # members of the array read its anchor
            self.arrays[dep] = self.cells[dep]

    def _simtable(self, node: Call) -> CNode:
        """@RISK's RiskSimtable({v1, v2, ...}): the value of the job's simulation number;
        a table that is not fixed, or too short, is an error on the cell (never a guess)."""
        arg = self.expr(node.args[0]) if len(node.args) == 1 else None
        if not isinstance(arg, Const):
            self.unsupported("RISKSIMTABLE of values that change between iterations")
            return Const(error(VALUE))
        rows, cols = arg.value.dims
        k = self.simulation - 1
        if k >= rows * cols:
            return Const(error(REF))
        self.simtables.add(self._addr(self._cur))
        return Const(pick(arg.value, k // cols, k % cols))

    def _open_loop(self, key: CellKey, cd: Any) -> None:
        """Excel's iterative calculation: the loop's cells start from their current values
        (the ones the file holds) and are recomputed in order until no loop cell moves by
        more than ``iterate_delta``, at most ``iterate_count`` times."""
        start = len(self.program.ops)
        init = from_py(cd.cached)
        var = self._emit("@loopvar", [], data=init, probe=init)
        self._open_loops[key] = (start, var)
        self.cells[key] = var
        self.loops.append(self._addr(key))

    def _close_loop(self, key: CellKey, node: CNode) -> CNode:
        start, var = self._open_loops.pop(key)
        probe = node.value if isinstance(node, Const) else node.probe
        data = (start, self.book.iterate_count, self.book.iterate_delta)
        return self._emit("@loopend", [var, node], data=data, probe=probe)

    # -- dependencies ----------------------------------------------------------------
    def _sheet_name(self, upper: str) -> str:
        s = self.book.sheets.get(upper)
        return s.name if s is not None else upper

    def _addr(self, key: CellKey) -> str:
        return address(self._sheet_name(key[0]), key[1], key[2])

    def _deps(self, key: CellKey) -> list[CellKey]:
        if key in self.fixed or key in self.spec_inputs:
            return []
        sheet = self.book.sheets.get(key[0])
        if sheet is None:
            return []
        rc = (key[1], key[2])
        cd = sheet.cells.get(rc)
        anchor = sheet.array_members.get(rc)
        if anchor is not None and anchor != rc:
            return [(key[0], *anchor)]
        if cd is None or cd.formula is None:
            return []
        try:
            ast = parse(cd.formula)
        except ParseError:
            return []
        out: list[CellKey] = []
        areas: list[Area] = []
        legacy = cd.array is None  # a formula saved without array semantics
        self._dep_areas(ast, sheet.name, key, legacy, legacy, 0, areas)
        for area in areas:
            out.extend(self._active_in(area))
        return out

    def _dep_areas(
        self,
        node: Node,
        sheet: str,
        key: CellKey,
        legacy: bool,
        one: bool,
        depth: int,
        out: list[Area],
    ) -> None:
        """The areas ``node`` reads, for the dependency walk. ``legacy``: evaluated without
        array semantics; ``one``: where one value is taken (an operator's operand, a
        function's value parameter), so a reference there is intersected with the
        formula's row or column and only the intersected cell is read. What a formula
        reads beyond these (through INDEX, OFFSET, INDIRECT) is asked for when compiled
        (``NeedCells``)."""
        if isinstance(node, RefText):
            a = parse_area(node.text, sheet)
            if a is not None:
                self._dep_area(a, key, legacy and one, out)
        elif isinstance(node, Name) and node.sheet is None and is_structured(node.name):
            hit = resolve_table_ref(node.name, self.book.tables, (sheet, key[1], key[2]))
            if isinstance(hit, Area):
                self._dep_area(hit, key, legacy and one, out)
        elif isinstance(node, Name):
            if depth >= 10:
                return
            text = self.book.name(node.name, node.sheet or sheet)
            if text is None:
                return
            try:
                sub = parse(text)
            except ParseError:
                return
            if not _is_reference_expr(sub):
                legacy = one = False  # a named formula is evaluated as an array formula
            self._dep_areas(sub, node.sheet or sheet, key, legacy, one, depth + 1, out)
        elif isinstance(node, Binary):
            one = node.op not in _REF_OPS  # the operands of a reference operator are areas
            self._dep_areas(node.left, sheet, key, legacy, one, depth, out)
            self._dep_areas(node.right, sheet, key, legacy, one, depth, out)
        elif isinstance(node, Unary | Postfix):
            self._dep_areas(node.operand, sheet, key, legacy, True, depth, out)
        elif isinstance(node, ArrayLit):
            for row in node.rows:
                for item in row:
                    self._dep_areas(item, sheet, key, legacy, True, depth, out)
        elif isinstance(node, Call):
            args = node.args
            name = node.name
            if name in _NOT_READ_FIRST:  # where the reference is, not its cells' values
                args = args[1:]
            elif name in _ADDRESS_ONLY:
                args = tuple(a for a in args if not isinstance(a, RefText | Name))
            elif name == "CELL":  # CELL(info, ref): its contents only for "contents"/"type"
                args = args[:1]
            offset = len(node.args) - len(args)
            spec = get_function(name) if name not in _SPECIAL else None
            for i, a in enumerate(args, offset):
                if name == "SINGLE":
                    self._dep_areas(a, sheet, key, True, True, depth, out)
                elif spec is None:
                    self._dep_areas(a, sheet, key, legacy, False, depth, out)
                elif i in spec.values:
                    self._dep_areas(a, sheet, key, legacy, True, depth, out)
                elif i in spec.passes:  # the call's result is this argument, as it is
                    self._dep_areas(a, sheet, key, legacy, one, depth, out)
                elif i in spec.arrays or i in spec.ranges:
                    self._dep_areas(a, sheet, key, False, False, depth, out)
                else:
                    self._dep_areas(a, sheet, key, legacy, False, depth, out)

    def _dep_area(self, a: Area, key: CellKey, one: bool, out: list[Area]) -> None:
        if one:
            hit = _intersect_cell(a, key[1], key[2])
            if hit is not None:
                out.append(hit)
        else:
            out.append(a)

    def _active_in(self, area: Area) -> list[CellKey]:
        """The formula (and input) cells of ``area``, row by row."""
        s = area.sheet.upper()
        act = self._active.get(s)
        if not act:
            return []
        r1, c1, r2, c2 = area.r1, area.c1, area.r2, area.c2
        if r1 == r2 and c1 == c2:
            return [(s, r1, c1)] if (r1, c1) in act else []
        rows = self._active_rows.get(s)
        if rows is None:  # per row, the columns of its active cells in order
            by_row: dict[int, list[int]] = {}
            for r, c in act:
                by_row.setdefault(r, []).append(c)
            rows = self._active_rows[s] = (
                sorted(by_row),
                {r: sorted(cs) for r, cs in by_row.items()},
            )
        ordered, cols = rows
        if r2 - r1 + 1 <= len(ordered):
            found = [r for r in range(r1, r2 + 1) if r in cols]
        else:  # a tall area (whole columns): only the rows that hold active cells
            found = ordered[bisect.bisect_left(ordered, r1) : bisect.bisect_right(ordered, r2)]
        out: list[CellKey] = []
        for r in found:
            cs = cols[r]
            lo = bisect.bisect_left(cs, c1)
            hi = bisect.bisect_right(cs, c2, lo)
            out.extend((s, r, c) for c in cs[lo:hi])
        return out

    # -- cells -----------------------------------------------------------------------
    def _compile_cell_tx(self, key: CellKey) -> CNode:
        """Compile one cell; on NeedCells undo whatever it emitted so far.

        Whatever else goes wrong in one formula becomes an error on that cell (recorded
        in ``issues.errors``), so one odd formula never aborts a whole workbook; under
        ``validate`` an InputError (a user mistake) still propagates.
        """
        marks = (len(self.program.ops), self.program.n_slots, len(self.inputs))
        try:
            return self._compile_cell(key)
        except NeedCells:
            self._rollback(marks)
            raise
        except InputError as exc:
            if not self.static:
                raise
            self._rollback(marks)
            self.issues.errors[self._addr(key)] = exc.message
            return Const(error(VALUE))
        except (RecursionError, MemoryError) as exc:
            self._rollback(marks)
            self.issues.errors[self._addr(key)] = f"formula too deep or too large ({exc})"
            return Const(error(VALUE))
        except Exception as exc:  # noqa: BLE001 - one formula must not abort the workbook
            self._rollback(marks)
            self.issues.errors[self._addr(key)] = f"internal error: {type(exc).__name__}: {exc}"
            return Const(error(VALUE))

    def _rollback(self, marks: tuple[int, int, int]) -> None:
        """Undo the ops, slots and inputs emitted after ``marks``."""
        ops, slots, ninputs = marks
        del self.program.ops[ops:]
        self.program.n_slots = slots
        del self.inputs[ninputs:]
        del self.input_slots[ninputs:]
        for k in [
            k for k, v in self.range_cache.items() if isinstance(v, Slot) and v.index >= slots
        ]:
            del self.range_cache[k]
        for k in [k for k, v in self.arrays.items() if isinstance(v, Slot) and v.index >= slots]:
            del self.arrays[k]

    def _expr_marks(self) -> tuple[int, int, int, int]:
        return (
            len(self.program.ops),
            self.program.n_slots,
            len(self.inputs),
            len(self.range_cache),
        )

    def _undo_expr(self, marks: tuple[int, int, int, int]) -> None:
        """Undo what compiling an expression emitted after ``marks``. The range cache only
        gains keys while an expression compiles, so the newest ones go: no scan of it all."""
        ops, slots, ninputs, ranges = marks
        del self.program.ops[ops:]
        self.program.n_slots = slots
        del self.inputs[ninputs:]
        del self.input_slots[ninputs:]
        added = len(self.range_cache) - ranges
        for k in list(itertools.islice(reversed(self.range_cache), added)):
            del self.range_cache[k]

    def _compile_cell(self, key: CellKey) -> CNode:
        self._cur = key
        self._nested = 0
        sheet_u, r, c = key
        if key in self.fixed:
            return Const(from_py(self.fixed[key]))
        if key in self.spec_inputs:
            si = self.spec_inputs[key]
            return self._make_input(si.family, si.args, si.truncate, si.name, None, 0.0, "spec")
        sheet = self.book.sheets.get(sheet_u)
        if sheet is None:
            return Const(error(REF))
        cd = sheet.cells.get((r, c))
        table = sheet.data_tables.get((r, c))
        if table is not None:
            return self._data_table_cell(key, table, cd)
        anchor = sheet.array_members.get((r, c))
        if anchor is not None and anchor != (r, c):
            arr = self.arrays.get((sheet_u, *anchor))
            if arr is None:
                raise NeedCells([(sheet_u, *anchor)])
            return self._cell_value(self._pick(arr, r - anchor[0], c - anchor[1]))
        if cd is None or cd.formula is None:
            return Const(from_py(None if cd is None else cd.value))
        try:
            ast = parse(cd.formula)
        except ParseError as exc:
            self.issues.parse_errors[self._addr(key)] = str(exc)
            return Const(error(NAME))
        if self.static and is_random_formula(ast):
            return self._held_random(key, cd)
        if self.static and self.hold_volatile and is_volatile_formula(ast):
            self.volatile_cells.add(key)
            return Const(from_py(cd.cached))
        if cd.array is not None:
            arr = self.expr(ast)
            arr = Const(error(VALUE)) if arr is None else arr
            self.arrays[key] = arr
            return self._cell_value(self._pick(arr, 0, 0))
        self._scalar_ctx = True
        self._final = ast  # the formula's last operation (Excel snaps +/- residues to 0)
        try:
            node = self._operand(ast) if isinstance(ast, Call) else self.expr(ast)
        finally:
            self._scalar_ctx = False
            self._final = None
        if node is None:
            return Const(number(0.0))
        return self._cell_value(self._implicit(node, ast))

    def _data_table_cell(self, key: CellKey, table: Area, cd: Any) -> CNode:
        """A what-if data table's result: not evaluated (each cell would be a whole
        recalculation), so it is listed as unsupported with the table's range, and
        ``verify`` holds it at Excel's value without comparing it."""
        if self.static:
            self.data_table_cells.add(key)
            return Const(from_py(None if cd is None else cd.cached))
        self.issues.unsupported.setdefault("TABLE (what-if data table)", set()).add(str(table))
        return Const(error(NAME))

    def _held_random(self, key: CellKey, cd: Any) -> CNode:
        """A random cell under ``static``: Excel's cached draw, so dependents can be verified."""
        self.random_cells.add(key)
        if cd.array is None:
            return Const(from_py(cd.cached))
        sheet = self.book.sheets[key[0]]
        grid = []
        for r in range(cd.array.r1, cd.array.r2 + 1):
            row = []
            for c in range(cd.array.c1, cd.array.c2 + 1):
                member = sheet.cells.get((r, c))
                row.append(None if member is None else member.cached)
            grid.append(row)
        self.arrays[key] = Const(from_grid(grid))
        for r, c in cd.array.cells():
            self.random_cells.add((key[0], r, c))
        return Const(from_py(cd.cached))

    # -- helpers for the function modules (randoms, specials) ---------------------------
    def const(self, value: Value) -> Const:
        return Const(value)

    def probe_of(self, node: CNode) -> Value:
        return node.value if isinstance(node, Const) else node.probe

    def formula_cells_of(self, sheet: str) -> set[tuple[int, int]]:
        return self._active.get(sheet.upper(), set())

    def unsupported(self, what: str) -> None:
        self.issues.unsupported.setdefault(what, set()).add(self._addr(self._cur))

    def random_input(self, family: str, params: tuple[float, ...]) -> CNode:
        """One random input drawn by the formula of the current cell (RAND and friends)."""
        if self.static:
            self.random_cells.add(self._cur)
        return self._make_input(family, params, None, None, None, 0.0, "formula")

    def fill_array(self, base: Value, items: list[tuple[tuple[int, int], CNode]]) -> CNode:
        """An array value: ``base`` with the given nodes written at their positions."""
        if all(isinstance(n, Const) for _, n in items):
            return Const(fill(base, [(pos, n.value) for pos, n in items]).with_ref(False))  # type: ignore[union-attr]
        probe = fill(
            base, [(pos, n.value if isinstance(n, Const) else n.probe) for pos, n in items]
        )
        idx = self.program.n_slots
        self.program.n_slots += 1
        data = (base, [self._arg(n) for _, n in items], [pos for pos, _ in items])
        self.program.ops.append(Op("@fill", idx, (), data))
        return Slot(idx, probe.with_ref(False))

    def _cell_value(self, node: CNode) -> CNode:
        """A formula cell never holds "empty": a reference to an empty cell shows 0."""
        probe = node.value if isinstance(node, Const) else node.probe
        if probe.kind is None and isinstance(node, Slot):
            return node
        return self.call("_CELLVALUE", [node])

    def _implicit(self, node: CNode, ast: Node) -> CNode:
        """A multi-cell result in a single (non-array) cell: implicit intersection."""
        probe = node.value if isinstance(node, Const) else node.probe
        if probe.dims == (1, 1):
            return node
        refs = self._ref_of(ast)
        if isinstance(refs, list) and len(refs) == 1:
            a = refs[0]
            _, r, c = self._cur
            if a.cols == 1 and a.r1 <= r <= a.r2:
                return self._pick(node, r - a.r1, 0)
            if a.rows == 1 and a.c1 <= c <= a.c2:
                return self._pick(node, 0, c - a.c1)
            return Const(error(VALUE))
        return self._pick(node, 0, 0)

    def _pick(self, node: CNode, r: int, c: int) -> CNode:
        if isinstance(node, Const):
            return Const(pick(node.value, r, c))
        if node.probe.dims == (1, 1):
            return node
        return self._emit("@pick", [node], data=(r, c), probe=pick(node.probe, r, c))

    # -- emission ---------------------------------------------------------------------
    def _ctx(self) -> EvalContext:
        sheet_u, r, c = self._cur
        return EvalContext(1, self.today, self.now, (self._sheet_name(sheet_u), r, c))

    def _arg(self, node: CNode | None) -> tuple[str, int] | None:
        if node is None:
            return None
        if isinstance(node, Slot):
            return ("s", node.index)
        key = id(node.value)
        idx = self._const_ids.get(key)
        if idx is None or self.program.consts[idx] is not node.value:
            idx = len(self.program.consts)
            self.program.consts.append(node.value)
            self._const_ids[key] = idx
        return ("c", idx)

    def _emit(self, fn: str, args: list[CNode | None], *, data: Any = None, probe: Value) -> Slot:
        idx = self.program.n_slots
        self.program.n_slots += 1
        caller = self._ctx().caller if fn in _CALLER_FUNCS else None
        self.program.ops.append(Op(fn, idx, tuple(self._arg(a) for a in args), data, caller))
        return Slot(idx, probe)

    def call(self, fn: str, args: list[CNode | None]) -> CNode:
        spec = get_function(fn)
        if spec is None:
            raise KeyError(fn)
        ctx = self._ctx()
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            return Const(error(VALUE))
        vals = [None if a is None else (a.value if isinstance(a, Const) else a.probe) for a in args]
        if spec.formats:
            for i, v in enumerate(vals):
                if v is not None and i in spec.formats:
                    self._note_comma_decimal(v)
        result = _safe_call(spec.impl, ctx, vals)
        if all(a is None or isinstance(a, Const) for a in args):
            return Const(result)
        return self._emit(fn, args, probe=result)

    def _note_comma_decimal(self, fmt: Value) -> None:
        """Report a TEXT format that is read with a decimal comma: the workbook was
        written in a locale the file does not record, and Excel in en-US shows it
        differently."""
        for text in _texts_in(fmt):
            if comma_decimal_format(text):
                self.issues.comma_decimal_formats[self._addr(self._cur)] = text

    # -- expressions --------------------------------------------------------------------
    def expr(self, node: Node, refs: Any = _UNKNOWN) -> CNode | None:
        """Compile ``node``; ``refs``, when given, is ``_ref_of(node)`` already found."""
        if isinstance(node, Missing):
            return None
        if isinstance(node, Num | Str | Bool):
            return Const(self._literal(node.value))
        if isinstance(node, Err):
            return Const(error(node.code))
        if isinstance(node, ArrayLit):
            return self._array_literal(node)
        if refs is _UNKNOWN:
            # INDEX's own special (``_special_index``) looks for the area it returns
            # first: asking here too would compile its positions once more
            is_index = isinstance(node, Call) and node.name == "INDEX"
            refs = None if is_index else self._ref_of(node)
        if isinstance(refs, XlError):
            return Const(error(refs.code))
        if isinstance(refs, list):
            if len(refs) == 1:
                return self.load_area(refs[0])
            return Const(error(VALUE))
        if isinstance(node, Name):
            return self._name_value(node)
        if isinstance(node, Unary):
            x = self._operand(node.operand)
            if node.op == "+":
                return Const(number(0.0)) if x is None else x
            return self.call("NEG", [x])
        if isinstance(node, Postfix):
            return self.call("%", [self._operand(node.operand)])
        if isinstance(node, Binary):
            if node.op in (":", " ", ","):
                return Const(error(VALUE if node.op != " " else NULL))
            op = node.op
            if node is self._final and op in ("+", "-"):
                op = "_ADD_FINAL" if op == "+" else "_SUB_FINAL"
            return self.call(op, [self._operand(node.left), self._operand(node.right)])
        if isinstance(node, Call):
            return self._call(node)
        return Const(error(VALUE))

    def _literal(self, x: float | str | bool) -> Value:
        """The value of a number, text or TRUE/FALSE written in a formula: one per
        literal for the whole workbook (a copied formula repeats its literals; values
        are never changed). A zero is made each time: 0 and -0.0 are equal keys."""
        key = (type(x), x)
        hit = self._literals.get(key)
        if hit is None:
            hit = from_py(x)
            if x != 0:
                self._literals[key] = hit
        return hit

    def _operand(self, node: Node) -> CNode | None:
        """An operator's operand; in a non-array cell a range operand is implicitly
        intersected with the formula's row or column (Excel's legacy evaluation)."""
        if self._scalar_ctx and isinstance(node, RefText | Name | Binary | Call):
            refs = self._ref_of(node)
            if isinstance(refs, list) and len(refs) == 1:
                _, r, c = self._cur
                hit = _intersect_cell(refs[0], r, c)
                return Const(error(VALUE)) if hit is None else self.load_area(hit)
            if not (isinstance(node, Call) and node.name == "INDEX"):
                self._one = refs is None and isinstance(node, Call)
                return self.expr(node, refs)  # the references are not looked up twice
        return self.expr(node)

    def _array_literal(self, node: ArrayLit) -> CNode:
        grid: list[list[Any]] = []
        for row in node.rows:
            out = []
            for el in row:
                v = self.expr(el)
                if not isinstance(v, Const):
                    return Const(error(VALUE))
                out.append(v.value.to_py())
            grid.append(out)
        return Const(from_grid(grid))

    def _let_binding(self, node: Name) -> tuple[str, Any] | None:
        if node.sheet is not None or not self.let_scopes:
            return None
        key = let_name(node.name)
        for scope in reversed(self.let_scopes):
            if key in scope:
                return scope[key]
        return None

    def _name_value(self, node: Name) -> CNode:
        bound = self._let_binding(node)
        if bound is not None:
            kind, what = bound
            if kind == "value":
                return what
            return self.load_area(what[0]) if len(what) == 1 else Const(error(VALUE))
        sheet = node.sheet or self._sheet_name(self._cur[0])
        text = self.book.name(node.name, sheet)
        if text is None or self._name_depth > 10:
            return Const(error(NAME))
        try:
            ast = parse(text)
        except ParseError:
            return Const(error(NAME))
        cache_key = (sheet.upper(), node.name.upper())
        hit = self._name_cache.get(cache_key)
        if hit is not None:
            return hit
        self._name_depth += 1
        # a named formula is evaluated as an array formula: no implicit intersection inside
        # it (COUNT(Outliers) with Outliers = IF(ABS(Sales-..)>3, Sales, NA()) counts them)
        saved, self._scalar_ctx = self._scalar_ctx, False
        try:
            v = self.expr(ast)
        finally:
            self._name_depth -= 1
            self._scalar_ctx = saved
        v = Const(number(0.0)) if v is None else v
        if isinstance(v, Const) and _same_everywhere(ast):
            # a named formula with fixed references: one value, whichever cell reads it
            self._name_cache[cache_key] = v
        return v

    def _args(self, nodes: Iterable[Node]) -> list[CNode | None]:
        """Compile function arguments; a union of areas becomes one argument per area."""
        out: list[CNode | None] = []
        for a in nodes:
            if isinstance(a, Binary) and a.op == ",":
                refs = self._ref_of(a)
                if isinstance(refs, list):
                    out.extend(self.load_area(x) for x in refs)
                    continue
            out.append(self.expr(a))
        return out

    def _rule_args(
        self, name: str, nodes: tuple[Node, ...], one: bool = False
    ) -> list[CNode | None]:
        """A function's arguments compiled by its parameters' rules (``FunctionSpec``): in
        a formula without array semantics, a reference given for a value parameter (or,
        when the call stands for ``one`` value, for a parameter passed through as the
        result) is intersected with the formula's row or column; array parameters are
        evaluated as arrays (no intersection inside them)."""
        legacy = self._scalar_ctx
        spec = get_function(name)
        whole = name in _ARRAY_ARG_SPECIALS
        if spec is None or any(isinstance(a, Binary) and a.op == "," for a in nodes):
            self._scalar_ctx = legacy and not whole
            return self._args(nodes)  # a union of areas: one argument per area
        out: list[CNode | None] = []
        for i, a in enumerate(nodes):
            if isinstance(a, Missing) and i in spec.values and not spec.empty_is_omitted:
                out.append(Const(EMPTY_VALUE))  # ``LEFT(x,)``: an empty cell, not the default
            elif legacy and (i in spec.values or (one and i in spec.passes)):
                self._scalar_ctx = True
                out.append(self._operand(a))
            else:
                arrays = whole or i in spec.arrays or i in spec.ranges
                self._scalar_ctx = legacy and not arrays
                out.append(self.expr(a))
        return out

    def _call(self, node: Call) -> CNode:
        name = node.name
        one, self._one = self._one, False  # for this call only, not those inside it
        if name in _MAC_CHARSET and self.book.mac:
            name = _MAC_CHARSET[name]  # CHAR/CODE in the Macintosh character set
        family = risk_family(name)
        if family is not None:
            return self._risk_input(node, family)
        if name == "RISKOUTPUT":
            return Const(number(0.0))
        if name == "RISKSIMTABLE" and not self.static:
            return self._simtable(node)
        if name in RANDOM_FUNCTIONS:
            return compile_random(self, node)
        if name in INVERSE_FAMILIES:
            drawn = inverse_of_rand(self, node)
            if drawn is not None:
                return drawn
        special = _SPECIAL.get(name)
        if special is not None:
            saved = self._scalar_ctx
            self._scalar_ctx = saved and name not in _ARRAY_ARG_SPECIALS
            try:
                return special(self, node)
            finally:
                self._scalar_ctx = saved
        if get_function(name) is None:
            applied = named_lambda(self, node)  # a workbook name defined as a LAMBDA
            if applied is not None:
                return applied
            self.issues.unsupported.setdefault(name, set()).add(self._addr(self._cur))
            return Const(error(NAME))
        saved = self._scalar_ctx
        try:
            args = self._rule_args(name, node.args, one)
        finally:
            self._scalar_ctx = saved
        spec = get_function(name)
        assert spec is not None
        if spec.sized_by_data and any(isinstance(a, Slot) for a in args):
            # the spill size would change from trial to trial: not something we compute
            self.unsupported(f"{name} of values that change between trials")
        if name in _BINARY_SEARCH_ARGS:
            why = _binary_search_check(args, *_BINARY_SEARCH_ARGS[name])
            if why:
                self.unsupported(f"{name} binary search ({why})")
        if spec.criteria is not None:
            self._note_criteria_ties(name, spec.criteria, node.args, args)
        return self.call(name, args)

    def _note_criteria_ties(
        self,
        name: str,
        pairs: tuple[int, bool],
        nodes: tuple[Node, ...],
        args: list[CNode | None],
    ) -> None:
        """Report a criterion computed as text (``">="&B3``) whose number agrees with a
        value of its range to 15 significant digits without being equal: the result then
        depends on how Excel rounds the number to text (see ``ties_at_15_digits``)."""
        if len(nodes) != len(args):
            return  # a union of areas among the arguments: not a criteria function's call
        first, many = pairs
        stop = len(args) if many else min(len(args), first + 2)
        for i in range(first, stop - 1, 2):
            rng, crit = args[i], args[i + 1]
            if rng is None or crit is None or isinstance(nodes[i + 1], Str):
                continue  # a criterion typed as text is read exactly
            for text in _texts_in(crit.value if isinstance(crit, Const) else crit.probe):
                if ties_at_15_digits(rng.value if isinstance(rng, Const) else rng.probe, text):
                    self.issues.criteria_ties[self._addr(self._cur)] = f"{name} {text!r}"
                    return

    # -- references ----------------------------------------------------------------------
    def _ref_of(self, node: Node) -> list[Area] | XlError | None:
        """The areas a reference expression stands for, an error, or None if not a reference."""
        if isinstance(node, Binary) and node.op not in _REF_OPS:
            return None  # the usual operator: + - * / ...
        cur_sheet = self._sheet_name(self._cur[0])
        if isinstance(node, RefText):
            a = parse_area(node.text, cur_sheet)
            if a is None:
                return XlError(REF)
            sheet = self.book.sheet(a.sheet)
            if sheet is None:
                return XlError(REF)
            return [Area(sheet.name, a.r1, a.c1, a.r2, a.c2)]
        if isinstance(node, Name) and self.let_scopes:
            bound = self._let_binding(node)
            if bound is not None:
                return bound[1] if bound[0] == "ref" else None
        if isinstance(node, Name) and node.sheet is None and is_structured(node.name):
            _, r, c = self._cur
            hit = resolve_table_ref(node.name, self.book.tables, (cur_sheet, r, c))
            if hit is None:
                return XlError(REF)
            return hit if isinstance(hit, XlError) else [hit]
        if isinstance(node, Name):
            text = self.book.name(node.name, node.sheet or cur_sheet)
            if text is None or self._name_depth > 10:
                return None
            try:
                ast = parse(text)
            except ParseError:
                return None
            self._name_depth += 1
            try:
                return self._ref_of(ast)
            finally:
                self._name_depth -= 1
        if isinstance(node, Binary) and node.op in (":", " ", ","):
            left, right = self._ref_of(node.left), self._ref_of(node.right)
            if isinstance(left, XlError):
                return left
            if isinstance(right, XlError):
                return right
            if left is None or right is None:
                for side, got in ((node.left, left), (node.right, right)):
                    if got is None and isinstance(side, Call) and side.name in _REF_RETURNING:
                        # Excel joins the references these return; ours is a value here
                        self.unsupported(f"{side.name} result used as a reference ({node.op})")
                return XlError(VALUE)
            if node.op == ",":
                return left + right
            if len(left) != 1 or len(right) != 1:
                return XlError(VALUE)
            if node.op == ":":
                if left[0].sheet.upper() != right[0].sheet.upper():
                    return XlError(REF)
                return [left[0].bounding(right[0])]
            hit = left[0].intersect(right[0])
            return XlError(NULL) if hit is None else [hit]
        if isinstance(node, Call) and node.name in _REF_FUNCS:
            return _REF_FUNCS[node.name](self, node)
        return None

    def load_area(self, area: Area) -> CNode:
        hit = self.range_cache.get(area)
        if hit is not None:  # the cache holds clipped areas, which clipping leaves as they are
            return hit
        sheet = self.book.sheet(area.sheet)
        if sheet is None:
            return Const(error(REF))
        s = sheet.name.upper()
        ext_r, ext_c = self._extent(s, sheet.max_row, sheet.max_col)
        max_r = max(ext_r, area.r1)
        max_c = max(ext_c, area.c1)
        clipped = Area(sheet.name, area.r1, area.c1, min(area.r2, max_r), min(area.c2, max_c))
        hit = self.range_cache.get(clipped)
        if hit is not None:
            return hit
        if clipped.is_cell():
            node = self._cell_node((s, clipped.r1, clipped.c1))
            if isinstance(node, Const):
                node = Const(node.value.with_ref(True))
            else:
                node = Slot(node.index, node.probe.with_ref(True))
            self.range_cache[clipped] = node
            return node
        missing = [k for k in self._active_in(clipped) if k not in self.cells]
        if missing:
            raise NeedCells(missing)
        rows, cols = clipped.rows, clipped.cols
        grid: list[list[Value]] = []
        dyn: list[tuple[tuple[int, int], Slot]] = []
        empty = from_py(None)
        for i in range(rows):
            row_vals = []
            for j in range(cols):
                key = (s, clipped.r1 + i, clipped.c1 + j)
                node = self.cells.get(key)
                if node is None:
                    cd = sheet.cells.get((key[1], key[2]))
                    row_vals.append(empty if cd is None or cd.value is None else from_py(cd.value))
                elif isinstance(node, Const):
                    row_vals.append(node.value)
                else:
                    row_vals.append(empty)
                    dyn.append(((i, j), node))
            grid.append(row_vals)
        base = stack_grid(grid) if grid else from_grid([[None]])
        if not dyn:
            result: CNode = Const(base)
        else:
            probe = fill(base, [(pos, n.probe) for pos, n in dyn])
            idx = self.program.n_slots
            self.program.n_slots += 1
            data = (base, [self._arg(n) for _, n in dyn], [pos for pos, _ in dyn])
            self.program.ops.append(Op("@fill", idx, (), data))
            result = Slot(idx, probe)
        self.range_cache[clipped] = result
        return result

    def _extent(self, s: str, max_row: int, max_col: int) -> tuple[int, int]:
        """The last row and column a range on sheet ``s`` can reach (cells and formulas)."""
        hit = self._extents.get(s)
        if hit is None:
            act = self._active.get(s, set())
            hit = (
                max(max_row, max((r for r, _ in act), default=0)),
                max(max_col, max((c for _, c in act), default=0)),
            )
            self._extents[s] = hit
        return hit

    def _cell_node(self, key: CellKey) -> CNode:
        node = self.cells.get(key)
        if node is not None:
            return node
        if (key[1], key[2]) in self._active.get(key[0], ()):
            raise NeedCells([key])
        sheet = self.book.sheets.get(key[0])
        cd = None if sheet is None else sheet.cells.get((key[1], key[2]))
        return Const(from_py(None if cd is None else cd.value))

    # -- @RISK inputs -------------------------------------------------------------------
    def _risk_input(self, node: Call, family: str) -> CNode:
        where = self._addr(self._cur)
        positional: list[Node] = []
        props: dict[str, tuple[Node, ...]] = {}
        for a in node.args:
            if isinstance(a, Call) and a.name in RISK_PROPERTIES:
                props[a.name] = a.args
            elif isinstance(a, Call) and a.name.startswith("RISK") and risk_family(a.name) is None:
                raise InputError(
                    f"{where}: unsupported @RISK property function {a.name} in {node.name}",
                    code="unsupported_function",
                    location=where,
                )
            else:
                positional.append(a)
        args: list[Any] = []
        for i, a in enumerate(positional):
            v = self.expr(a)
            if v is None:
                raise InputError(
                    f"{where}: argument {i + 1} of {node.name} is missing", location=where
                )
            if not isinstance(v, Const):
                raise InputError(
                    f"{where}: argument {i + 1} of {node.name} depends on random inputs; "
                    "distribution parameters must be fixed",
                    location=where,
                    code="random_parameter",
                )
            args.append(_const_param(v.value, where, node.name, i))
        name = self._const_text(props.get("RISKNAME"), where)
        trunc = props.get("RISKTRUNCATE")
        truncate = None
        if trunc is not None:
            lo = self._const_float(trunc[0], where) if len(trunc) > 0 else None
            hi = self._const_float(trunc[1], where) if len(trunc) > 1 else None
            truncate = (lo, hi)
        static = (
            self._const_float(props["RISKSTATIC"][0], where) if props.get("RISKSTATIC") else None
        )
        shift = self._const_float(props["RISKSHIFT"][0], where) if props.get("RISKSHIFT") else None
        corrmat = self._corrmat(props["RISKCORRMAT"], where) if "RISKCORRMAT" in props else None
        for p in props:
            if p not in IGNORED_PROPERTIES and p not in (
                "RISKNAME",
                "RISKTRUNCATE",
                "RISKSTATIC",
                "RISKSHIFT",
                "RISKCORRMAT",
            ):
                raise InputError(f"{where}: unsupported property {p}", location=where)
        return self._make_input(
            family, tuple(args), truncate, name, static, shift or 0.0, "workbook", corrmat
        )

    def _corrmat(self, args: tuple[Node, ...], where: str) -> tuple[str, int]:
        """RiskCorrmat(matrix range, position): the matrix's address and this input's place."""
        refs = self._ref_of(args[0]) if args else None
        if not isinstance(refs, list) or len(refs) != 1 or len(args) < 2:
            raise InputError(
                f"{where}: RiskCorrmat needs a matrix range and a position, "
                "like RiskCorrmat(Corr!B2:D4, 1)",
                code="invalid_correlation",
                location=where,
            )
        area = refs[0]
        if area.rows != area.cols:
            raise InputError(
                f"{where}: the RiskCorrmat matrix {area} is {area.rows}x{area.cols}, not square",
                code="invalid_correlation",
                location=where,
            )
        pos = self._const_float(args[1], where)
        if pos is None or pos != int(pos) or not 1 <= pos <= area.rows:
            raise InputError(
                f"{where}: RiskCorrmat position must be a whole number from 1 to {area.rows}",
                code="invalid_correlation",
                location=where,
            )
        matrix = self.expr(args[0])
        if not isinstance(matrix, Const):
            raise InputError(
                f"{where}: the RiskCorrmat matrix must hold fixed values",
                code="invalid_correlation",
                location=where,
            )
        label = (
            address(area.sheet, area.r1, area.c1)
            + ":"
            + address(area.sheet, area.r2, area.c2).split("!")[-1]
        )
        self.corrmats[label] = matrix.value.to_grid()
        return label, int(pos)

    def _formula_of(self, key: CellKey) -> str | None:
        cd = self.book.cell(key[0], key[1], key[2])
        return None if cd is None else cd.formula

    def _make_input(
        self,
        family: str,
        args: tuple[Any, ...],
        truncate: tuple[float | None, float | None] | None,
        name: str | None,
        static: float | None,
        shift: float,
        source: str,
        corrmat: tuple[str, int] | None = None,
    ) -> CNode:
        cell = self._addr(self._cur)
        if self._nested:
            cell = f"{cell}#{self._nested}"
        self._nested += 1
        idef = InputDef(
            name=name or cell,
            cell=cell,
            family=family,
            args=args,
            truncate=truncate,
            shift=shift,
            static=static,
            stream_id=stable_id(cell),
            source=source,
            corrmat=corrmat,
            formula=self._formula_of(self._cur),
        )
        value = idef.static_value()  # also validates the parameters (InputError)
        if self.static:
            self.inputs.append(idef)
            self.input_slots.append(-1)
            return Const(number(value))
        slot = self._emit("@input", [], data=len(self.inputs), probe=number(value))
        self.inputs.append(idef)
        self.input_slots.append(slot.index)
        return slot

    def _const_value(self, node: Node, where: str) -> Value:
        v = self.expr(node)
        if not isinstance(v, Const):
            raise InputError(
                f"{where}: @RISK property arguments must be fixed values", location=where
            )
        return v.value

    def _const_text(self, args: tuple[Node, ...] | None, where: str) -> str | None:
        if not args:
            return None
        x = self._const_value(args[0], where).to_py()
        return None if x is None else str(x)

    def _const_float(self, node: Node, where: str) -> float | None:
        if isinstance(node, Missing):
            return None
        x = self._const_value(node, where).to_py()
        if x is None:
            return None
        if isinstance(x, bool | float | int):
            return float(x)
        raise InputError(f"{where}: expected a number, got {x!r}", location=where)


def _const_param(v: Value, where: str, fn: str, i: int) -> Any:
    if v.dims == (1, 1):
        x = v.to_py()
        if isinstance(x, XlError):
            raise InputError(f"{where}: argument {i + 1} of {fn} is the error {x}", location=where)
        if isinstance(x, bool | int | float):
            return float(x)
        raise InputError(
            f"{where}: argument {i + 1} of {fn} must be a number, got {x!r}", location=where
        )
    out = []
    for row in v.to_grid():
        for x in row:
            if x is None:
                continue
            if not isinstance(x, bool | int | float):
                raise InputError(
                    f"{where}: argument {i + 1} of {fn} must hold numbers, got {x!r}",
                    location=where,
                )
            out.append(float(x))
    return tuple(out)


_ABSOLUTE = re.compile(r"^(?:'[^']*'!|[^!]*!)?\$[A-Za-z]{1,3}\$\d+(?::\$[A-Za-z]{1,3}\$\d+)?$")
_WHERE_DEPENDENT = {"ROW", "COLUMN", "CELL", "INDIRECT", "OFFSET", "SHEET", "FORMULATEXT"}


def _intersect_cell(a: Area, r: int, c: int) -> Area | None:
    """Legacy implicit intersection: the cell of ``a`` in row ``r`` (a column) or column
    ``c`` (a row) of the formula's cell; None (``#VALUE!``) when there is none."""
    if a.r1 == a.r2 and a.c1 == a.c2:
        return a
    if a.cols == 1 and a.r1 <= r <= a.r2:
        return Area(a.sheet, r, a.c1, r, a.c1)
    if a.rows == 1 and a.c1 <= c <= a.c2:
        return Area(a.sheet, a.r1, c, a.r1, c)
    return None


def _is_reference_expr(node: Node) -> bool:
    """Whether a name's formula is a plain reference (``Sheet1!$A$1:$A$9``, a union or
    intersection of them), as opposed to a named formula computed as an array."""
    if isinstance(node, RefText | Name):
        return True
    if isinstance(node, Binary) and node.op in _REF_OPS:
        return _is_reference_expr(node.left) and _is_reference_expr(node.right)
    return False


# what CHAR and CODE are in a workbook Excel for Mac saved (its character set)
_MAC_CHARSET = {"CHAR": "_CHAR_MAC", "CODE": "_CODE_MAC"}

# functions whose first argument says where, not what (its cells are read when the
# compiled function asks for them); functions that read only where their references are
_NOT_READ_FIRST = {"INDEX", "OFFSET"}
_ADDRESS_ONLY = {"ROW", "COLUMN", "ROWS", "COLUMNS", "ISREF", "AREAS", "ISFORMULA"}


def _texts_in(v: Value) -> set[str]:
    """The distinct text elements of a value."""
    f = v.full()
    assert f.kind is not None and f.text is not None
    return {str(t) for t in f.text[f.kind == TEXT].tolist()}


def _same_everywhere(ast: Node) -> bool:
    """Whether a named formula means the same in every cell: absolute references only,
    nothing that asks where it is evaluated."""
    for n in walk(ast):
        if isinstance(n, RefText) and not _ABSOLUTE.match(n.text):
            return False
        if isinstance(n, Name) and ("[" in n.name or n.name.startswith("_xlpm.")):
            return False
        if isinstance(n, Call) and n.name in _WHERE_DEPENDENT:
            return False
        if isinstance(n, Name):
            return False  # a name inside a name: keep it simple, do not cache
    return True


def _safe_call(impl: Any, ctx: EvalContext, vals: list[Value | None]) -> Value:
    try:
        return impl(ctx, *vals)
    except XlError as e:
        return error(e.code)
    except (ValueError, ZeroDivisionError, OverflowError):
        # a function implementation hit an unexpected input shape; the cell shows #VALUE!
        return error(VALUE)
    except AttributeError as exc:
        if any(v is None for v in vals):
            # an omitted argument the function does not expect: Excel reads it as empty
            # (``=IF(,1,2)`` is 2), so call again with empty values in those places
            return _safe_call(impl, ctx, [from_py(None) if v is None else v for v in vals])
        raise FormulaCrash(f"{exc}") from exc


# -- XLOOKUP / XMATCH binary search -------------------------------------------------------------

# function -> argument positions of (lookup array, match_mode, search_mode)
_BINARY_SEARCH_ARGS = {"XLOOKUP": (1, 4, 5), "XMATCH": (1, 2, 3)}


def _binary_search_check(args: list[CNode | None], look: int, mm: int, sm: int) -> str | None:
    """Why a binary search (search_mode 2/-2) cannot be computed faithfully, or None.

    On data sorted the way the mode says, with no value repeated, Excel's binary search
    finds what a scan finds, which is what XLOOKUP computes. On other data the answer
    depends on the probes Excel's search happens to make, so it is reported, not guessed.
    """
    mode_node = args[sm] if len(args) > sm else None
    if mode_node is None:
        return None
    if not isinstance(mode_node, Const):
        return "a search mode that changes between trials"
    mode = mode_node.value.to_py()
    if not isinstance(mode, float) or int(mode) not in (2, -2):
        return None
    match_node = args[mm] if len(args) > mm else None
    if match_node is not None:
        if not isinstance(match_node, Const):
            return "a match mode that changes between trials"
        if match_node.value.to_py() == 2.0:
            return "with wildcards"
    vec = args[look] if len(args) > look else None
    if not isinstance(vec, Const):
        return "over values that change between trials"
    v = vec.value
    if v.dims[0] > 1 and v.dims[1] > 1:
        return None  # not a vector: XLOOKUP gives #VALUE!
    items = [v.to_py(0, r, c) for r in range(v.dims[0]) for c in range(v.dims[1])]
    if all(isinstance(x, float) and not isinstance(x, bool) for x in items):
        keys: list[Any] = items
    elif all(isinstance(x, str) for x in items):
        keys = [x.lower() for x in items]
    else:
        return "over data mixing numbers, text, logical values, blanks or errors"
    pairs = zip(keys, keys[1:], strict=False)
    ordered = all(a < b for a, b in pairs) if int(mode) == 2 else all(a > b for a, b in pairs)
    if not ordered:
        order = "ascending" if int(mode) == 2 else "descending"
        return f"over data not sorted {order} without repeated values"
    return None


# -- reference-level functions ----------------------------------------------------------------


def _const_num(
    c: Compiler, node: Node | None, what: str, default: float | None = None
) -> float | None:
    if node is None or isinstance(node, Missing):
        return default
    return _num_of(c, c.expr(node), what, default)


def _num_of(c: Compiler, v: CNode | None, what: str, default: float | None) -> float | None:
    """The number a compiled argument stands for (``_const_num`` once compiled)."""
    if v is None:
        return default
    if not isinstance(v, Const):
        where = c._addr(c._cur)
        raise InputError(
            f"{where}: {what} depends on random inputs, which is not supported",
            code="unsupported_dynamic_reference",
            location=where,
        )
    x = v.value.to_py()
    if isinstance(x, XlError):
        raise x
    if x is None:
        return 0.0
    if isinstance(x, str):
        from .values import parse_number

        p = parse_number(x)
        if p is None:
            raise XlError(VALUE)
        return p
    return float(x)


def _ref_offset(c: Compiler, node: Call) -> list[Area] | XlError | None:
    if len(node.args) < 3:
        return XlError(VALUE)
    base = c._ref_of(node.args[0])
    if not isinstance(base, list):
        return base if isinstance(base, XlError) else XlError(VALUE)
    if len(base) != 1:
        return XlError(VALUE)
    a = base[0]
    try:
        dr = int(np.floor(_const_num(c, node.args[1], "OFFSET rows", 0.0)))  # type: ignore[arg-type]
        dc = int(np.floor(_const_num(c, node.args[2], "OFFSET cols", 0.0)))  # type: ignore[arg-type]
        h = int(
            np.floor(
                _const_num(c, node.args[3] if len(node.args) > 3 else None, "OFFSET height", a.rows)
            )
        )  # type: ignore[arg-type]
        w = int(
            np.floor(
                _const_num(c, node.args[4] if len(node.args) > 4 else None, "OFFSET width", a.cols)
            )
        )  # type: ignore[arg-type]
    except XlError as e:
        return e
    if h == 0 or w == 0:
        return XlError(REF)
    r1, c1 = a.r1 + dr, a.c1 + dc
    r2, c2 = r1 + abs(h) - 1, c1 + abs(w) - 1
    if h < 0:
        r1, r2 = r1 + h + 1, r1
    if w < 0:
        c1, c2 = c1 + w + 1, c1
    if r1 < 1 or c1 < 1 or r2 > MAX_ROW or c2 > MAX_COL:
        return XlError(REF)
    return [Area(a.sheet, r1, c1, r2, c2)]


def _ref_indirect(c: Compiler, node: Call) -> list[Area] | XlError | None:
    if not node.args:
        return XlError(VALUE)
    v = c.expr(node.args[0])
    if not isinstance(v, Const):
        where = c._addr(c._cur)
        raise InputError(
            f"{where}: INDIRECT of a text depending on random inputs is not supported",
            code="unsupported_dynamic_reference",
            location=where,
        )
    if len(node.args) > 1 and not isinstance(node.args[1], Missing):
        a1 = c.expr(node.args[1])
        if isinstance(a1, Const) and a1.value.to_py() is False:
            return XlError(REF)  # R1C1 style is not supported
    text = v.value.to_py()
    if not isinstance(text, str):
        return XlError(REF)
    try:
        ast = parse(text)
    except ParseError:
        return XlError(REF)
    refs = c._ref_of(ast)
    return refs if refs is not None else XlError(REF)


def _ref_index(
    c: Compiler, node: Call, positions: list[CNode | None] | None = None
) -> list[Area] | XlError | None:
    """The area INDEX returns when its positions are fixed. ``positions``, when given,
    receives the positions compiled (each argument after the first) if the answer is None
    because one of them changes between trials: the caller reuses them (else they are
    undone, as nothing will read them)."""
    if not node.args:
        return None
    base = c._ref_of(node.args[0])
    if not isinstance(base, list):
        return None
    rest = node.args[1:]
    marks = c._expr_marks()
    compiled: list[CNode | None] = []
    for i, a in enumerate(rest):
        v = None if isinstance(a, Missing) else c.expr(a)
        compiled.append(v)
        if v is not None and not isinstance(v, Const):
            # a random index: evaluated as a value by INDEX in lookup.py
            if positions is None:
                c._undo_expr(marks)
                return None
            positions.extend(compiled)
            positions.extend(c.expr(later) for later in rest[i + 1 :])
            return None
        if v is not None and v.value.dims != (1, 1):
            return None  # positions in an array: INDEX gives an array of values
    # every position is fixed: read the numbers of those compiled (not compiled again)
    compiled += [None] * (3 - len(compiled))
    try:
        row = _num_of(c, compiled[0], "INDEX row", 0.0)
        col = _num_of(c, compiled[1], "INDEX column", None)
        area_n = _num_of(c, compiled[2], "INDEX area", 1.0)
    except XlError as e:
        return e
    k = int(area_n or 1)
    if k < 1 or k > len(base):
        return XlError(REF)
    a = base[k - 1]
    r = int(row or 0)
    if col is None:
        if a.rows == 1 and a.cols > 1:
            r, cc = 0, r
        elif a.cols == 1:
            cc = 0
        else:
            cc = 0
    else:
        cc = int(col)
    if r < 0 or cc < 0:
        return XlError(VALUE)
    if r > a.rows or cc > a.cols:
        return XlError(REF)
    r1, r2 = (a.r1, a.r2) if r == 0 else (a.r1 + r - 1, a.r1 + r - 1)
    c1, c2 = (a.c1, a.c2) if cc == 0 else (a.c1 + cc - 1, a.c1 + cc - 1)
    return [Area(a.sheet, r1, c1, r2, c2)]


def _ref_xlookup(c: Compiler, node: Call) -> list[Area] | XlError | None:
    """XLOOKUP returns a reference into its return array (``SUM(XLOOKUP(..):XLOOKUP(..))``)
    when what it looks up is fixed; None (a value, computed in lookup.py) otherwise."""
    # asked more than once per formula (as a reference, then as an operand): answer once,
    # so arguments that change between trials are not compiled twice over
    memo = c.__dict__.setdefault("_xlookup_refs", {})
    key = (id(node), c._cur)
    if key in memo and memo[key][0] is node:
        return memo[key][1]
    found = _xlookup_area(c, node)
    memo[key] = (node, found)
    return found


def _xlookup_area(c: Compiler, node: Call) -> list[Area] | XlError | None:
    from .functions.lookup import _vector, _x_modes, find

    if len(node.args) < 3:
        return None
    ret = c._ref_of(node.args[2])
    if not isinstance(ret, list) or len(ret) != 1:
        return None
    vals: list[Value | None] = []
    for i, a in enumerate(node.args):
        if i in (2, 3):  # the return array (a reference) and if_not_found (not looked at)
            continue
        v = None if isinstance(a, Missing) else c.expr(a)
        if v is not None and not isinstance(v, Const):
            return None  # changes between trials: a value, not a fixed reference
        vals.append(None if v is None else v.value)
    x, look = vals[0], vals[1]
    if x is None or look is None or (look.dims == (1, 1) and look.err is not None):
        return None  # an error for the lookup array: XLOOKUP's own rules give it
    modes = _x_modes(vals[2] if len(vals) > 2 else None, vals[3] if len(vals) > 3 else None)
    if modes is None:
        return XlError(VALUE)
    if look.dims[0] > 1 and look.dims[1] > 1:
        return XlError(VALUE)
    idx, xe = find(x, _vector(look, "auto"), modes[0], reverse=modes[1])
    if xe is not None and xe[0]:
        return XlError(int(xe[0]))
    i = int(idx[0])
    if i < 0:
        has_default = len(node.args) > 3 and not isinstance(node.args[3], Missing)
        return None if has_default else XlError(NA)
    a = ret[0]
    if look.dims[1] == 1:  # a column: the row of the return array
        if i >= a.rows:
            return XlError(VALUE)
        return [Area(a.sheet, a.r1 + i, a.c1, a.r1 + i, a.c2)]
    if i >= a.cols:
        return XlError(VALUE)
    return [Area(a.sheet, a.r1, a.c1 + i, a.r2, a.c1 + i)]


def _ref_single(c: Compiler, node: Call) -> list[Area] | XlError | None:
    """``@ref`` (``_xlfn.SINGLE``): the cell of the reference in the formula's row or
    column, a reference itself; None when the argument is not a reference."""
    if len(node.args) != 1:
        return XlError(VALUE)
    refs = c._ref_of(node.args[0])
    if not isinstance(refs, list):
        return refs
    if len(refs) != 1:
        return XlError(VALUE)
    _, r, col = c._cur
    hit = _intersect_cell(refs[0], r, col)
    return XlError(VALUE) if hit is None else [hit]


def _special_single(c: Compiler, node: Call) -> CNode:
    """``@x`` of a value: its one value, the first element of an array (the reference
    form is ``_ref_single``'s)."""
    refs = _ref_single(c, node)
    if isinstance(refs, XlError):
        return Const(error(refs.code))
    if isinstance(refs, list):
        return c.load_area(refs[0])
    saved, c._scalar_ctx = c._scalar_ctx, True
    try:
        v = c.expr(node.args[0])
    finally:
        c._scalar_ctx = saved
    return Const(number(0.0)) if v is None else c._pick(v, 0, 0)


# functions whose result is a reference in Excel when their chosen argument is one
_REF_RETURNING = {"XLOOKUP", "INDEX", "OFFSET", "INDIRECT", "IF", "IFS", "CHOOSE", "SWITCH"}

_REF_FUNCS = {
    "OFFSET": _ref_offset,
    "XLOOKUP": _ref_xlookup,
    "INDIRECT": _ref_indirect,
    "INDEX": _ref_index,
    "SINGLE": _ref_single,
    **REF_SPECIALS,
}


def _special_index(c: Compiler, node: Call) -> CNode:
    positions: list[CNode | None] = []
    refs = _ref_index(c, node, positions)
    if isinstance(refs, XlError):
        return Const(error(refs.code))
    if isinstance(refs, list):
        return c.load_area(refs[0])
    if positions:  # compiled once already, while looking for a fixed area
        return c.call("INDEX", [*c._args(node.args[:1]), *positions])
    return c.call("INDEX", c._args(node.args))


def _special_ref_func(c: Compiler, node: Call) -> CNode:
    refs = _REF_FUNCS[node.name](c, node)
    if isinstance(refs, XlError):
        return Const(error(refs.code))
    if refs is None:
        return Const(error(VALUE))
    if len(refs) != 1:
        return Const(error(VALUE))
    return c.load_area(refs[0])


def _row_or_col(which: str):
    def special(c: Compiler, node: Call) -> CNode:
        if not node.args or isinstance(node.args[0], Missing):
            _, r, col = c._cur
            return Const(number(float(r if which == "ROW" else col)))
        refs = c._ref_of(node.args[0])
        if isinstance(refs, XlError):
            return Const(error(refs.code))
        if not isinstance(refs, list) or len(refs) != 1:
            return Const(error(VALUE))
        a = refs[0]
        if which == "ROW":
            return Const(number(np.arange(a.r1, a.r2 + 1, dtype=float).reshape(1, -1, 1)))
        return Const(number(np.arange(a.c1, a.c2 + 1, dtype=float).reshape(1, 1, -1)))

    return special


def _rows_or_cols(which: str):
    def special(c: Compiler, node: Call) -> CNode:
        if len(node.args) != 1:
            return Const(error(VALUE))
        refs = c._ref_of(node.args[0])
        if isinstance(refs, XlError):
            return Const(error(refs.code))
        if isinstance(refs, list):
            if len(refs) != 1:
                return Const(error(REF))
            n = refs[0].rows if which == "ROWS" else refs[0].cols
            return Const(number(float(n)))
        v = c.expr(node.args[0])
        if v is None:
            return Const(error(VALUE))
        probe = v.value if isinstance(v, Const) else v.probe
        return Const(number(float(probe.dims[0] if which == "ROWS" else probe.dims[1])))

    return special


def _special_areas(c: Compiler, node: Call) -> CNode:
    refs = c._ref_of(node.args[0]) if node.args else None
    if isinstance(refs, list):
        return Const(number(float(len(refs))))
    return Const(error(VALUE))


def _special_isref(c: Compiler, node: Call) -> CNode:
    refs = c._ref_of(node.args[0]) if node.args else None
    return Const(from_py(isinstance(refs, list)))


_SPECIAL = {
    "OFFSET": _special_ref_func,
    "INDIRECT": _special_ref_func,
    "INDEX": _special_index,
    "ROW": _row_or_col("ROW"),
    "COLUMN": _row_or_col("COLUMN"),
    "ROWS": _rows_or_cols("ROWS"),
    "COLUMNS": _rows_or_cols("COLUMNS"),
    "AREAS": _special_areas,
    "ISREF": _special_isref,
    "ANCHORARRAY": _special_ref_func,
    "SINGLE": _special_single,
    **SPECIALS,
    **LAMBDA_SPECIALS,
}

SPECIAL_FUNCTIONS = set(_SPECIAL) | {"RISKOUTPUT"}

# functions that need to know which cell calls them at run time
_CALLER_FUNCS: set[str] = set()

__all__ = ["Compiler", "Const", "Slot", "CNode", "CellKey", "SpecInput", "NeedCells", "EMPTY"]
