"""Compile time of a loan schedule whose rows read long named ranges (issue 26).

    PYTHONPATH=src .venv/bin/python bench/bench_excel_named_ranges.py [--rows N] [--repeat K]

A generated workbook of the shape that never finished compiling: ``--rows`` (600) rows of
an amortising loan, each row's formulas reading whole-column named ranges
(``Opening``, ``Interest``, ``Payment``, 600 rows each) through Excel's implicit
intersection, for 3,000+ formulas in all. Every row reads the row before through those
names, so taking a name for all of its cells makes each row depend on every other one: a
thicket of spurious circular references. Read only the intersected cells and the
workbook is a chain.

Prints the formula count, the read and compile times (best of ``--repeat``; compiled as
``montesim verify`` does, circular references reported rather than refused), how many
circular references were found (none: there are none), and the closing balance of the last period, which is 0 to rounding when every row is right (the
payment is PMT's). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

RATE = 0.06  # a year
PRINCIPAL = 250_000.0


def write_schedule(path: Path, rows: int) -> int:
    """The loan schedule workbook; returns its number of formulas."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Loan"
    ws["H1"], ws["I1"] = "Rate", RATE
    ws["H2"], ws["I2"] = "Principal", PRINCIPAL
    ws["H3"], ws["I3"] = "Periods", rows
    for col, head in zip(
        "ABCDEF", ("Period", "Opening", "Interest", "Payment", "Principal", "Closing"), strict=True
    ):
        ws[f"{col}1"] = head
    first, last = 2, rows + 1
    formulas = 0
    for r in range(first, last + 1):
        ws[f"A{r}"] = r - 1
        ws[f"B{r}"] = "=$I$2" if r == first else f"=F{r - 1}"
        ws[f"C{r}"] = "=Opening*$I$1/12"
        ws[f"D{r}"] = "=PMT($I$1/12,$I$3,-$I$2)"
        ws[f"E{r}"] = "=Payment-Interest"
        ws[f"F{r}"] = "=Opening-PrincipalPaid"
        formulas += 5
    for name, col in (
        ("Opening", "B"),
        ("Interest", "C"),
        ("Payment", "D"),
        ("PrincipalPaid", "E"),
    ):
        ref = f"Loan!${col}${first}:${col}${last}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    wb.save(path)
    return formulas


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sys.setrecursionlimit(10_000)
    from montesim.engines.excel.compiler import Compiler
    from montesim.engines.excel.reader import read_workbook

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "schedule.xlsx"
        formulas = write_schedule(path, args.rows)
        best_read = best_compile = float("inf")
        closing = None
        cycles = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            book = read_workbook(path)
            t1 = time.perf_counter()
            # as verify compiles: circular references reported, not raised
            comp = Compiler(book, static=True)
            comp.compile([("LOAN", args.rows + 1, 6)], on_cycle="report")
            t2 = time.perf_counter()
            best_read = min(best_read, t1 - t0)
            best_compile = min(best_compile, t2 - t1)
            closing = comp.value_of(("LOAN", args.rows + 1, 6)).to_py()
            cycles = len(comp.issues.cycles)
    print(f"rows: {args.rows}  formulas: {formulas}  named ranges: 4 x {args.rows} cells")
    print(f"read: {best_read:.3f} s  compile: {best_compile:.3f} s  (best of {args.repeat})")
    print(f"circular references found: {cycles}")
    print(f"closing balance of the last period: {closing!r} (0 to rounding when right)")


if __name__ == "__main__":
    main()
