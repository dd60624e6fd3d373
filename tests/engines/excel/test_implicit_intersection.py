"""Legacy implicit intersection, the ``@`` operator, and errors given where a range is
expected (issue 26).

Excel's rules, as Microsoft documents them ("Implicit intersection operator: @", the
function reference pages): a formula saved without array semantics takes one value where
a function parameter or an operator expects one; given a range there, it reads the cell of
the range in the formula's row (a column range) or column (a row range), and gives
``#VALUE!`` when there is none. ``@`` asks for that explicitly; ``@`` of an array is its
first element. ``INDIRECT`` of text that is no reference is ``#REF!``, and a function given
an error where it expects a range returns that error. Expected values are worked out by
hand from those rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.reader import inline_workbook


def value_at(cells: dict[str, Any], cell: str, names: dict[str, str] | None = None) -> Any:
    """The value of Sheet1!``cell`` in a workbook of ``cells`` (compiled as a run would:
    a circular reference raises)."""
    from montesim.engines.excel.refs import parse_area

    book = inline_workbook(cells, names)
    a = parse_area(cell, "Sheet1")
    assert a is not None
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", a.r1, a.c1)])
    return comp.value_of(("SHEET1", a.r1, a.c1)).to_py()


# -- arguments -------------------------------------------------------------------------------

SALES = {
    # SUMIF($B$6:$B$23, $A$45:$A$48, $I$6:$I$23) of the issue, in small: regions in B,
    # amounts in I, the regions to total in A45:A48, one formula per row
    "Sheet1!B6": "East",
    "Sheet1!B7": "West",
    "Sheet1!B8": "East",
    "Sheet1!B9": "North",
    "Sheet1!I6": 10,
    "Sheet1!I7": 200,
    "Sheet1!I8": 30,
    "Sheet1!I9": 4000,
    "Sheet1!A45": "East",
    "Sheet1!A46": "West",
    "Sheet1!A47": "North",
    "Sheet1!A48": "South",
}


@pytest.mark.parametrize(("row", "expected"), [(45, 40.0), (46, 200.0), (47, 4000.0), (48, 0.0)])
def test_a_criterion_range_is_intersected_with_the_formula_row(row: int, expected: float) -> None:
    cells = {**SALES, f"Sheet1!C{row}": "=SUMIF($B$6:$B$9,$A$45:$A$48,$I$6:$I$9)"}
    assert value_at(cells, f"C{row}") == expected


def test_no_cell_in_the_formula_row_is_value_error() -> None:
    cells = {**SALES, "Sheet1!C50": "=LEN($A$45:$A$48)"}
    assert value_at(cells, "C50") == err("#VALUE!")


def test_text_functions_take_the_cell_of_their_row() -> None:
    # =LEFT(Modules[Code], FIND(".", Modules[Code])-1) of the issue: Excel "II", not "I"
    cells = {
        "Sheet1!A1": "I.1",
        "Sheet1!A2": "II.4",
        "Sheet1!A3": "III.2",
        "Sheet1!B2": '=LEFT($A$1:$A$3,FIND(".",$A$1:$A$3)-1)',
    }
    assert value_at(cells, "B2") == "II"


def test_a_row_range_is_intersected_with_the_formula_column() -> None:
    cells = {"Sheet1!A1": 2, "Sheet1!B1": 9, "Sheet1!C1": 16, "Sheet1!B4": "=SQRT($A$1:$C$1)"}
    assert value_at(cells, "B4") == 3.0


def test_a_lookup_value_is_intersected_but_the_table_is_not() -> None:
    cells = {
        "Sheet1!A1": "b",
        "Sheet1!A2": "c",
        "Sheet1!D1": "a",
        "Sheet1!D2": "b",
        "Sheet1!D3": "c",
        "Sheet1!E1": 1,
        "Sheet1!E2": 2,
        "Sheet1!E3": 3,
        "Sheet1!B2": "=VLOOKUP($A$1:$A$2,$D$1:$E$3,2,FALSE)",
    }
    assert value_at(cells, "B2") == 3.0


def test_sumproduct_keeps_its_arrays() -> None:
    cells = {
        "Sheet1!A1": 1,
        "Sheet1!A2": 2,
        "Sheet1!A3": 3,
        "Sheet1!B2": "=SUMPRODUCT($A$1:$A$3*$A$1:$A$3)",
    }
    assert value_at(cells, "B2") == 14.0


# -- the @ operator -----------------------------------------------------------------------------


def test_at_of_a_range_is_the_cell_of_the_formula_row() -> None:
    cells = {"Sheet1!A1": 1, "Sheet1!A2": 2, "Sheet1!A3": 3, "Sheet1!B3": "=_xlfn.SINGLE(A1:A3)*10"}
    assert value_at(cells, "B3") == 30.0


def test_at_of_an_array_is_its_first_element() -> None:
    assert value_at({"Sheet1!A1": "=_xlfn.SINGLE({7,8,9})"}, "A1") == 7.0


def test_at_outside_the_range_is_value_error() -> None:
    cells = {"Sheet1!A1": 1, "Sheet1!A2": 2, "Sheet1!B9": "=_xlfn.SINGLE(A1:A2)"}
    assert value_at(cells, "B9") == err("#VALUE!")


# -- named ranges read through intersection ----------------------------------------------------


def test_a_named_range_in_a_chain_is_no_circular_reference() -> None:
    # B halves the previous row's balance, read from C through the named range Prev;
    # C copies B of the row above. Every B reads all of Prev only if the intersection is
    # ignored, and then B2 -> C3 -> B2 would be a cycle.
    cells: dict[str, Any] = {"Sheet1!B1": 100}
    for r in range(2, 6):
        cells[f"Sheet1!B{r}"] = "=Prev*0.5"
        cells[f"Sheet1!C{r}"] = f"=B{r - 1}"
    assert value_at(cells, "B5", {"Prev": "Sheet1!$C$1:$C$5"}) == 100 * 0.5**4


def test_dependencies_are_the_intersected_cells_only() -> None:
    cells: dict[str, Any] = {"Sheet1!B1": 100}
    for r in range(2, 6):
        cells[f"Sheet1!B{r}"] = "=Prev*0.5"
        cells[f"Sheet1!C{r}"] = f"=B{r - 1}"
    book = inline_workbook(cells, {"Prev": "Sheet1!$C$1:$C$5"})
    comp = Compiler(book, static=True)
    assert comp._deps(("SHEET1", 3, 2)) == [("SHEET1", 3, 3)]


def test_reference_arguments_of_cell_and_row_are_not_dependencies() -> None:
    # CELL("row", A1) inside A1 reads where A1 is, not its value: no circular reference
    assert value_at({"Sheet1!A1": '=CELL("row",A1)+ROW(A1)+COLUMN(A1:C1)'}, "A1") == 3.0


# -- errors where a range is expected --------------------------------------------------------------


@pytest.mark.parametrize(
    "formula",
    [
        '=MATCH(1,INDIRECT("Nosuch!A1:A3"),0)',
        '=MATCH(1,INDIRECT("NoSuchName"))',
        '=SUMIF(INDIRECT("Nosuch!A1:A3"),">0")',
        '=SUMIFS(B1:B3,INDIRECT("Nosuch!A1:A3"),1)',
        '=COUNTIF(INDIRECT("Nosuch!A:A"),"x")',
        '=COUNTIFS(INDIRECT("Nosuch!A:A"),"x")',
        '=AVERAGEIF(INDIRECT("Nosuch!A:A"),"x",B1:B3)',
        '=VLOOKUP(1,INDIRECT("Nosuch!A1:B3"),2,FALSE)',
        '=XLOOKUP(1,INDIRECT("Nosuch!A1:A3"),B1:B3)',
        '=LOOKUP(1,INDIRECT("Nosuch!A1:A3"))',
        '=INDEX(INDIRECT("Nosuch!A1:A3"),1)',
    ],
)
def test_a_missing_reference_is_ref_error_through_the_function(formula: str) -> None:
    cells = {"Sheet1!A1": formula, "Sheet1!B1": 1, "Sheet1!B2": 2, "Sheet1!B3": 3}
    assert value_at(cells, "A1") == err("#REF!")


def test_index_of_an_error_is_that_error() -> None:
    assert value_at({"Sheet1!A1": "=INDEX(1/0,NA())"}, "A1") == err("#DIV/0!")


def test_an_error_cell_inside_a_range_is_skipped_as_before() -> None:
    cells = {"Sheet1!B1": "=1/0", "Sheet1!B2": 2, "Sheet1!A1": "=MATCH(2,B1:B2,0)"}
    assert value_at(cells, "A1") == 2.0


def test_count_skips_an_error_argument() -> None:
    # COUNT's help: "Arguments that are error values ... are not counted"
    assert value_at({"Sheet1!A1": '=COUNT(INDIRECT("Nosuch!A1:A3"),1,2)'}, "A1") == 2.0


# -- references passed through IF, CHOOSE, IFERROR --------------------------------------------

CHOICE = {
    "Sheet1!A1": 1,
    "Sheet1!A2": 2,
    "Sheet1!A3": 3,
    "Sheet1!B1": 10,
    "Sheet1!B2": 20,
    "Sheet1!B3": 30,
    "Sheet1!D1": 1,
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # IF returns the reference it chose; the cell takes its row's value of it
        ("=IF($D$1=1,$A$1:$A$3,$B$1:$B$3)", 2.0),
        ("=IF($D$1=2,$A$1:$A$3,$B$1:$B$3)", 20.0),
        ("=CHOOSE(2,$A$1:$A$3,$B$1:$B$3)*2", 40.0),
        ("=IFERROR($A$1:$A$3,0)", 2.0),
        # SUM takes the whole reference IF returns
        ("=SUM(IF($D$1=1,$A$1:$A$3,0))", 6.0),
        # an array, not a reference: its first element
        ("=IF(TRUE,{7,8,9})", 7.0),
    ],
)
def test_a_reference_returned_by_a_function_is_intersected(formula: str, expected: float) -> None:
    assert value_at({**CHOICE, "Sheet1!C2": formula}, "C2") == expected


def test_only_the_chosen_rows_cells_are_dependencies() -> None:
    book = inline_workbook({**CHOICE, "Sheet1!C2": "=IF($D$1=1,$A$1:$A$3,$B$1:$B$3)"})
    for r in range(1, 4):  # formulas, so that they count as dependencies
        book.sheets["SHEET1"].cells[(r, 1)].formula = f"={r}"
        book.sheets["SHEET1"].cells[(r, 2)].formula = f"={10 * r}"
    comp = Compiler(book, static=True)
    assert sorted(comp._deps(("SHEET1", 2, 3))) == [("SHEET1", 2, 1), ("SHEET1", 2, 2)]


def test_a_table_column_is_intersected_with_the_formula_row() -> None:
    # =LEFT(Modules[Code], FIND(".", Modules[Code])-1) of the issue: Excel "II" in the row
    # of "II.4", where taking the column's first cell gives "I"
    from montesim.engines.excel.refs import Area
    from montesim.engines.excel.tables import TableDef

    cells = {
        "Sheet1!A1": "Code",
        "Sheet1!A2": "I.1",
        "Sheet1!A3": "II.4",
        "Sheet1!A4": "III.2",
        "Sheet1!B3": '=LEFT(Modules[Code],FIND(".",Modules[Code])-1)',
    }
    book = inline_workbook(cells)
    book.tables["MODULES"] = TableDef("Modules", "Sheet1", Area("Sheet1", 1, 1, 4, 1), ("Code",))
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 3, 2)])
    assert comp.value_of(("SHEET1", 3, 2)).to_py() == "II"
