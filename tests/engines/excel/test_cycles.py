"""The compiler's walk path and the circular references it reports (issue 26)."""

from __future__ import annotations

import pytest

from montesim.engines.base import InputError
from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.cycles import WalkPath
from montesim.engines.excel.reader import inline_workbook


def test_the_cycle_is_the_tail_of_the_path() -> None:
    path: WalkPath[str] = WalkPath()
    for k in "ABCD":
        path.enter(k)
    assert "C" in path and "E" not in path
    assert path.cycle("B", "D") == ["B", "C", "D"]
    path.leave("D")
    assert len(path) == 3


def test_cells_leave_in_the_reverse_order() -> None:
    path: WalkPath[str] = WalkPath()
    path.enter("A")
    path.enter("B")
    with pytest.raises(ValueError, match="not the last"):
        path.leave("A")
    with pytest.raises(ValueError, match="already"):
        path.enter("B")


def test_a_long_loop_is_reported_with_every_cell() -> None:
    n = 300
    cells = {f"Sheet1!A{r}": f"=A{r + 1}+1" for r in range(1, n)}
    cells[f"Sheet1!A{n}"] = "=A1"
    comp = Compiler(inline_workbook(cells), static=True)
    comp.compile([("SHEET1", 1, 1)], on_cycle="report")
    assert len(comp.issues.cycles) == 1
    assert len(comp.issues.cycles[0]) == n
    with pytest.raises(InputError, match="Circular reference: Sheet1!A1 -> Sheet1!A2"):
        Compiler(inline_workbook(cells)).compile([("SHEET1", 1, 1)])


def test_rows_reading_named_ranges_compile_as_a_chain() -> None:
    # the loan schedule of bench/bench_excel_named_ranges.py, small: each row reads the
    # columns through names, so each row depends on the row before, not on every row
    rows = 120
    cells: dict[str, object] = {"Sheet1!I1": 0.06, "Sheet1!I2": 1000.0, "Sheet1!I3": rows}
    for r in range(2, rows + 2):
        cells[f"Sheet1!B{r}"] = "=$I$2" if r == 2 else f"=F{r - 1}"
        cells[f"Sheet1!C{r}"] = "=Opening*$I$1/12"
        cells[f"Sheet1!D{r}"] = "=PMT($I$1/12,$I$3,-$I$2)"
        cells[f"Sheet1!F{r}"] = "=Opening+Interest-Payment"
    names = {
        n: f"Sheet1!${c}$2:${c}${rows + 1}"
        for n, c in (("Opening", "B"), ("Interest", "C"), ("Payment", "D"))
    }
    comp = Compiler(inline_workbook(cells, names))
    comp.compile([("SHEET1", rows + 1, 6)])  # a circular reference would raise
    assert not comp.issues.cycles
    # an annuity's balance after its last payment is 0
    assert abs(comp.value_of(("SHEET1", rows + 1, 6)).to_py()) < 1e-9
