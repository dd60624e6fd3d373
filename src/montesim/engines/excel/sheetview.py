"""A read-only view of a workbook for the studio: cells as Excel shows them, page by page.

Built once per uploaded file (the API caches it): the parsed Workbook, each cell's number
format and display text, and the marks the studio colours: @RISK inputs, ``RiskOutput``
cells, volatile random functions (``RAND()``...) and functions the engine does not
support. Formula cells without a value cached by Excel (files written by tools, not by
Excel) show the value montesim computes with every random input at its mean, flagged
as computed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.display import as_written, display, kind_of
from montesim.engines.excel.inspect import inspect_workbook
from montesim.engines.excel.parser import (
    Call,
    Name,
    Node,
    Num,
    ParseError,
    RefText,
    Unary,
    parse,
    walk,
)
from montesim.engines.excel.reader import Workbook, read_workbook
from montesim.engines.excel.refs import Area, address, cell_name, parse_area, split_sheet
from montesim.engines.excel.styles import read_styles
from montesim.errors import InputError

# A page of cells is at most this many cells (rows x columns) of the sheet.
MAX_PAGE_CELLS = 20_000
# Formula cells computed for display when Excel cached no values; above this, none are.
MAX_COMPUTED_FORMULAS = 10_000
# Cells a view may hold in all (the API refuses bigger workbooks for viewing).
MAX_VIEW_CELLS = 2_000_000
# Precedents or dependents listed for one cell.
MAX_TRACE = 500

RANDOM_FUNCTIONS = {"RAND", "RANDBETWEEN", "RANDARRAY"}
CellKey = tuple[str, int, int]


@dataclass
class SheetInfo:
    name: str
    max_row: int
    max_col: int
    cells: int
    formulas: int
    col_widths: dict[int, float] = field(default_factory=dict)  # in Excel character units


@dataclass
class WorkbookView:
    book: Workbook
    sheets: list[SheetInfo]
    formats: dict[CellKey, str]
    computed: dict[CellKey, Any]
    marks: dict[CellKey, str]
    summary: dict[str, Any]  # inspect_workbook's report, plus the random cells
    uncomputed: int = 0  # formula cells shown as formulas: no value saved, none computed
    _refs: dict[CellKey, list[Area]] | None = None

    # -- pages ---------------------------------------------------------------------------
    def sheet(self, name: str) -> SheetInfo:
        for info in self.sheets:
            if info.name.upper() == name.upper():
                return info
        raise InputError(
            f"sheet {name!r} does not exist in the workbook "
            f"(sheets: {', '.join(s.name for s in self.sheets)})",
            code="unknown_sheet",
            location="sheet",
        )

    def page(self, sheet: str, area_text: str) -> dict[str, Any]:
        """The non-empty cells of ``area_text`` (``A1:Z200``) on ``sheet``."""
        info = self.sheet(sheet)
        area = parse_area(area_text, info.name) if area_text else None
        if area is None:
            raise InputError(
                f"range {area_text!r} is not a range such as A1:Z200",
                code="invalid_range",
                location="range",
            )
        if area.size > MAX_PAGE_CELLS:
            raise InputError(
                f"range {area_text} has {area.size:,} cells; ask for at most "
                f"{MAX_PAGE_CELLS:,} at a time",
                code="range_too_large",
                location="range",
            )
        upper = info.name.upper()
        cells = self.book.sheets[upper].cells
        out = []
        if area.size <= len(cells):
            keys = [(r, c) for r, c in area.cells() if (r, c) in cells]
        else:
            keys = [
                (r, c)
                for r, c in sorted(cells)
                if area.r1 <= r <= area.r2 and area.c1 <= c <= area.c2
            ]
        for r, c in keys:
            out.append(self.cell_json(upper, r, c))
        return {"sheet": info.name, "range": str(area).split("!")[-1], "cells": out}

    def cell_json(self, upper: str, r: int, c: int) -> dict[str, Any]:
        key = (upper, r, c)
        cd = self.book.sheets[upper].cells[(r, c)]
        fmt = self.formats.get(key, "General")
        computed = False
        value = cd.cached if cd.formula is None or cd.cached is not None else None
        if cd.formula is not None and cd.cached is None and key in self.computed:
            value, computed = self.computed[key], True
        item: dict[str, Any] = {"r": r, "c": c, "a": cell_name(r, c)}
        item["v"] = display(value, fmt)
        item["t"] = kind_of(value)
        if cd.formula is not None and value is None and key not in self.computed:
            item["v"], item["uncomputed"] = cd.formula, True  # no value known: show the formula
        if item["t"] == "n":
            item["x"] = value if math.isfinite(float(value)) else None
        if fmt != "General":
            item["fmt"] = fmt
        if cd.formula is not None:
            item["f"] = as_written(cd.formula)
        if computed:
            item["computed"] = True
        mark = self.marks.get(key)
        if mark:
            item["m"] = mark
        return item

    # -- precedents and dependents ----------------------------------------------------
    def _areas(self) -> dict[CellKey, list[Area]]:
        if self._refs is None:
            refs: dict[CellKey, list[Area]] = {}
            for s in self.book.sheets.values():
                for (r, c), cd in s.cells.items():
                    if cd.formula is None:
                        continue
                    try:
                        ast = parse(cd.formula)
                    except ParseError:
                        continue
                    refs[(s.name.upper(), r, c)] = self._refs_of(ast, s.name, 0)
            self._refs = refs
        return self._refs

    def _refs_of(self, ast: Node, sheet: str, depth: int) -> list[Area]:
        areas: list[Area] = []
        for n in walk(ast):
            if isinstance(n, RefText):
                a = parse_area(n.text, sheet)
                if a is not None:
                    areas.append(_clip(a, self.book))
            elif isinstance(n, Name) and depth < 10:
                text = self.book.name(n.name, n.sheet or sheet)
                if text is None:
                    continue
                try:
                    areas.extend(self._refs_of(parse(text), n.sheet or sheet, depth + 1))
                except ParseError:
                    continue
        return areas

    def resolve(self, text: str) -> CellKey:
        sheet_name, rest = split_sheet(text.strip())
        info = self.sheet(sheet_name or self.sheets[0].name)
        area = parse_area(rest, info.name)
        if area is None or not area.is_cell():
            raise InputError(
                f"{text!r} is not a cell such as {info.name}!B2",
                code="invalid_cell",
                location="cell",
            )
        return (info.name.upper(), area.r1, area.c1)

    def precedents(self, text: str) -> list[str]:
        """The ranges the cell's formula refers to (directly), as ``Sheet!A1:B2``."""
        key = self.resolve(text)
        seen: list[str] = []
        for a in self._areas().get(key, []):
            ref = address(a.sheet, a.r1, a.c1, a.r2, a.c2)
            if ref not in seen:
                seen.append(ref)
        return seen[:MAX_TRACE]

    def dependents(self, text: str) -> list[str]:
        """The formula cells that refer to the cell directly."""
        s, r, c = self.resolve(text)
        out = []
        for (fs, fr, fc), areas in self._areas().items():
            if any(a.sheet.upper() == s and a.r1 <= r <= a.r2 and a.c1 <= c <= a.c2 for a in areas):
                out.append((fs, fr, fc))
        out.sort()
        return [address(self.book.sheets[k[0]].name, k[1], k[2]) for k in out[:MAX_TRACE]]


def _clip(a: Area, book: Workbook) -> Area:
    """Whole-column and whole-row references cut to the sheet's used extent."""
    s = book.sheet(a.sheet)
    if s is None:
        return a
    return Area(
        s.name, a.r1, a.c1, min(a.r2, max(s.max_row, a.r1)), min(a.c2, max(s.max_col, a.c1))
    )


# -- building -------------------------------------------------------------------------


def _marks(
    book: Workbook, report: dict[str, Any]
) -> tuple[dict[CellKey, str], list[dict[str, Any]]]:
    marks: dict[CellKey, str] = {}
    randoms: list[dict[str, Any]] = []

    def key(cell: str) -> CellKey:
        sheet, rest = split_sheet(cell)
        area = parse_area(rest, sheet or "")
        assert area is not None and sheet is not None
        return (sheet.upper(), area.r1, area.c1)

    for cells in report["unsupported"].values():
        for cell in cells:
            marks[key(cell)] = "unsupported"
    for s in book.sheets.values():
        for (r, c), cd in s.cells.items():
            if cd.formula is None or "RAND" not in cd.formula.upper():
                continue
            try:
                ast = parse(cd.formula)
            except ParseError:
                continue
            used = {n.name for n in walk(ast) if isinstance(n, Call)}
            if used & RANDOM_FUNCTIONS:
                k = (s.name.upper(), r, c)
                marks[k] = "random"
                randoms.append(
                    {
                        "cell": address(s.name, r, c),
                        "formula": as_written(cd.formula),
                        "functions": sorted(used & RANDOM_FUNCTIONS),
                        "suggested": suggest_distribution(ast),
                    }
                )
    for item in report["outputs"]:
        marks[key(item["cell"])] = "output"
    for item in report["inputs"]:
        k = key(item["cell"].split("#")[0])
        if marks.get(k) != "random":  # RAND() cells are inputs too; keep their own mark
            marks[k] = "input"
    return marks, randoms


def suggest_distribution(ast: Node) -> dict[str, Any] | None:
    """The spec input a simple random formula stands for: RAND(), RANDBETWEEN(a,b),
    NORM.INV(RAND(), m, s); None for anything else (the user defines it)."""
    if isinstance(ast, Call):
        if ast.name == "RAND" and not ast.args:
            return {"family": "uniform", "params": [0.0, 1.0]}
        nums = [_number(a) for a in ast.args]
        if ast.name == "RANDBETWEEN" and len(nums) == 2 and None not in nums:
            return {"family": "intuniform", "params": nums}
        if (
            ast.name in ("NORM.INV", "NORMINV")
            and len(ast.args) == 3
            and isinstance(ast.args[0], Call)
            and ast.args[0].name == "RAND"
            and None not in nums[1:]
        ):
            return {"family": "normal", "params": nums[1:]}
    return None


def _number(node: Node) -> float | None:
    if isinstance(node, Num):
        return float(node.value)
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Num):
        return -float(node.operand.value)
    return None


def _computed(book: Workbook) -> dict[CellKey, Any]:
    """Static values of formula cells Excel cached nothing for.

    Random inputs stand at their mean, as @RISK shows a model between simulations; a
    discrete input stands at its possible value nearest the mean (as @RISK does), so
    lookups keyed on it find a row.
    """
    missing = [
        (s.name.upper(), r, c)
        for s in book.sheets.values()
        for (r, c), cd in s.cells.items()
        if cd.formula is not None and cd.cached is None
    ]
    if not missing or len(missing) > MAX_COMPUTED_FORMULAS:
        return {}
    try:
        comp = _static_compile(book, missing, {})
        nearest = _discrete_values(comp)
        if nearest:
            comp = _static_compile(book, missing, nearest)
    except InputError:
        return {}
    out: dict[CellKey, Any] = {}
    for key in missing:
        if key in nearest:
            out[key] = nearest[key]
        elif key in comp.cells and key not in comp.circular:
            out[key] = comp.value_of(key).to_py()
    return out


def _static_compile(book: Workbook, keys: list[CellKey], fixed: dict[CellKey, Any]) -> Compiler:
    comp = Compiler(book, static=True, fixed=fixed)
    comp.compile(keys, on_cycle="mark")
    return comp


def _discrete_values(comp: Compiler) -> dict[CellKey, float]:
    """Cells holding one discrete input -> its possible value nearest its mean."""
    out: dict[CellKey, float] = {}
    for d in comp.inputs:
        if "#" in d.cell or d.static is not None:
            continue
        try:
            dist = d.distribution()
            if not dist.discrete:
                continue
            mean = dist.mean()
            at = float(dist.cdf(np.array([mean]))[0])
            above = float(dist.ppf(np.array([min(at + 1e-12, 1.0)]))[0])
            below = float(dist.ppf(np.array([max(at - 1e-12, 1e-12)]))[0])
        except Exception:  # an input the engine will report properly when it runs
            continue
        value = below if abs(below - mean) <= abs(above - mean) else above
        sheet, rest = split_sheet(d.cell)
        area = parse_area(rest, sheet or "")
        if sheet is not None and area is not None:
            out[(sheet.upper(), area.r1, area.c1)] = value + d.shift
    return out


def build_view(path: str | Path, *, label: str | None = None) -> WorkbookView:
    """Read the workbook at ``path`` once and index it for paging (InputError if unreadable)."""
    path = Path(path)
    book = read_workbook(path, label=label)
    total = sum(len(s.cells) for s in book.sheets.values())
    if total > MAX_VIEW_CELLS:
        raise InputError(
            f"{label or path.name} has {total:,} cells; the studio shows workbooks of up to "
            f"{MAX_VIEW_CELLS:,} cells",
            code="workbook_too_large",
            location="file",
        )
    formats, widths = read_styles(path.read_bytes())
    report = inspect_workbook(book)
    marks, randoms = _marks(book, report)
    report["random"] = randoms
    sheets = []
    for s in book.sheets.values():
        formulas = Counter(cd.formula is not None for cd in s.cells.values())[True]
        sheets.append(
            SheetInfo(
                s.name, s.max_row, s.max_col, len(s.cells), formulas, widths.get(s.name.upper(), {})
            )
        )
    computed = _computed(book)
    uncomputed = sum(
        1
        for s in book.sheets.values()
        for (r, c), cd in s.cells.items()
        if cd.formula is not None and cd.cached is None and (s.name.upper(), r, c) not in computed
    )
    return WorkbookView(book, sheets, formats, computed, marks, report, uncomputed)
