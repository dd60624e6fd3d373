"""Recompute every formula cell with nothing random and compare with Excel's cached values.

Cells that draw random numbers (``RAND()``...) cannot match Excel's last draw: they are
reported as ``random`` and held at their cached values, so everything that depends on
them is still compared. A formula the engine cannot compile is an error on its cell;
verification always goes on. What may be computed otherwise than by the Excel that saved
the file (a TEXT format written with a decimal comma, a criterion decided by its number's
15th digit) is listed in ``warnings``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .compiler import Compiler
from .reader import Workbook
from .refs import address
from .values import XlError
from .warnings import compile_warnings


@dataclass
class Mismatch:
    sheet: str
    cell: str
    formula: str
    expected: Any
    got: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "cell": self.cell,
            "formula": self.formula,
            "expected": _json(self.expected),
            "got": _json(self.got),
        }


@dataclass
class VerifyReport:
    formula_cells: int = 0
    compared: int = 0
    matched: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    unsupported: dict[str, list[str]] = field(default_factory=dict)
    cycles: list[list[str]] = field(default_factory=list)
    random: list[str] = field(default_factory=list)  # cells drawing random numbers
    # cells of an iterative-calculation loop held at Excel's converged value (one per loop)
    iterative: list[str] = field(default_factory=list)
    data_tables: list[str] = field(default_factory=list)  # what-if tables: not evaluated
    volatile: list[str] = field(default_factory=list)  # TODAY()/NOW(): the day of the save
    errors: dict[str, str] = field(default_factory=dict)  # cell -> why it could not compile
    parse_errors: dict[str, str] = field(default_factory=dict)
    # False when no formula cell has a cached value (a file not saved by Excel)
    has_cached_values: bool = True
    # what was computed in a way Excel may not (code, location, message)
    warnings: list[dict[str, str]] = field(default_factory=list)

    @property
    def match_rate(self) -> float:
        return self.matched / self.compared if self.compared else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula_cells": self.formula_cells,
            "compared": self.compared,
            "matched": self.matched,
            "match_rate": self.match_rate,
            "mismatches": [m.to_dict() for m in self.mismatches],
            "unsupported": self.unsupported,
            "cycles": self.cycles,
            "random": self.random,
            "iterative": self.iterative,
            "data_tables": self.data_tables,
            "volatile": self.volatile,
            "errors": self.errors,
            "parse_errors": self.parse_errors,
            "has_cached_values": self.has_cached_values,
            "warnings": self.warnings,
        }


def _json(x: Any) -> Any:
    if isinstance(x, XlError):
        return str(x)
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def same(expected: Any, got: Any, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Excel's cached value vs ours: numbers within ``rel``; text, booleans, errors exact."""
    if expected is None or expected == "":
        return (
            got is None or got == "" or (isinstance(got, float) and got == 0.0 and expected is None)
        )
    if isinstance(expected, XlError) or isinstance(got, XlError):
        return (
            isinstance(expected, XlError) and isinstance(got, XlError) and expected.code == got.code
        )
    if isinstance(expected, bool) or isinstance(got, bool):
        return isinstance(expected, bool) and isinstance(got, bool) and expected == got
    if isinstance(expected, int | float):
        return isinstance(got, float) and math.isclose(
            float(expected), got, rel_tol=rel, abs_tol=abs_tol
        )
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    return expected == got


def verify(book: Workbook, *, today: float = 45000.0) -> VerifyReport:
    cells = book.formula_cells()
    report = VerifyReport(formula_cells=len(cells))
    # a file written by a library has formulas but no results: nothing to compare with
    report.has_cached_values = not cells or any(
        _cached(book, s, r, c) is not None for s, r, c in cells
    )
    comp = Compiler(book, static=True, today=today)
    keys = [(s.upper(), r, c) for s, r, c in cells]
    comp.compile(keys, on_cycle="mark")
    for (sheet, r, c), key in zip(cells, keys, strict=True):
        cd = book.cell(sheet, r, c)
        assert cd is not None and cd.formula is not None
        if key in comp.random_cells:
            report.random.append(address(sheet, r, c))
            continue
        if key in comp.volatile_cells:
            report.volatile.append(address(sheet, r, c))
            continue
        if key in comp.iterative:
            report.iterative.append(address(sheet, r, c))
            continue
        if key in comp.data_table_cells:
            continue
        got = comp.value_of(key).to_py()
        expected = cd.cached
        report.compared += 1
        if key not in comp.circular and same(expected, got):
            report.matched += 1
        else:
            report.mismatches.append(
                Mismatch(sheet, address(sheet, r, c).split("!")[-1], cd.formula, expected, got)
            )
    report.unsupported = {k: sorted(v) for k, v in sorted(comp.issues.unsupported.items())}
    report.cycles = comp.issues.cycles
    report.errors = dict(comp.issues.errors)
    report.data_tables = book.data_table_ranges()
    report.parse_errors = dict(comp.issues.parse_errors)
    report.warnings = compile_warnings(comp.issues)
    return report


def _cached(book: Workbook, sheet: str, r: int, c: int) -> Any:
    cd = book.cell(sheet, r, c)
    return None if cd is None else cd.cached
