"""The database functions against the example on Microsoft's DSUM ... DVARP help pages:
the orchard table (Tree, Height, Age, Yield, Profit) in A4:E10 and the criteria range
A1:F3, the page's stated results (worked out again by hand in the comments)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.reader import CellData, _extent, inline_workbook

ORCHARD: dict[str, Any] = {}
_rows = [
    ["Tree", "Height", "Age", "Yield", "Profit", "Height"],
    ["=Apple", ">10", None, None, None, "<16"],
    ["=Pear"],
    ["Tree", "Height", "Age", "Yield", "Profit"],
    ["Apple", 18, 20, 14, 105],
    ["Pear", 12, 12, 10, 96],
    ["Cherry", 13, 14, 9, 105],
    ["Apple", 14, 15, 10, 75],
    ["Pear", 9, 8, 8, 76.8],
    ["Apple", 8, 9, 6, 45],
]
for r, row in enumerate(_rows, 1):
    for c, x in enumerate(row):
        if x is not None:
            # "=Apple" is the text the page's ="=Apple" shows: a cell value, not a formula
            ORCHARD[f"Sheet1!{'ABCDEF'[c]}{r}"] = x


def dv(formula: str, extra: dict[str, Any] | None = None) -> Any:
    """The value of ``formula`` in H1 beside the orchard table."""
    book = inline_workbook({"Sheet1!H1": formula, **(extra or {})})
    sheet = book.sheets["SHEET1"]
    for key, x in ORCHARD.items():  # "=Apple" written as a value, not parsed as a formula
        ref = key.split("!")[1]
        sheet.cells[(int(ref[1:]), "ABCDEF".index(ref[0]) + 1)] = CellData(value=x, cached=x)
    _extent(sheet)
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 1, 8)])
    return comp.value_of(("SHEET1", 1, 8)).to_py()


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=DCOUNT(A4:E10,"Age",A1:F2)', 1.0),  # apples 10 < height < 16: the one of 14
        ('=DCOUNTA(A4:E10,"Profit",A1:F2)', 1.0),
        ('=DMAX(A4:E10,"Profit",A1:A3)', 105.0),  # apples or pears
        ('=DMIN(A4:E10,"Profit",A1:B2)', 75.0),  # apples over 10: 105 and 75
        ('=DSUM(A4:E10,"Profit",A1:A2)', 225.0),  # 105 + 75 + 45
        ('=DSUM(A4:E10,"Profit",A1:F2)', 75.0),
        ('=DPRODUCT(A4:E10,"Yield",A1:F2)', 10.0),
        ('=DAVERAGE(A4:E10,"Yield",A1:B2)', 12.0),  # (14 + 10) / 2
        ("=DAVERAGE(A4:E10,3,A4:E10)", 13.0),  # every record: the mean age
        ('=DVAR(A4:E10,"Yield",A1:A3)', 8.8),  # yields 14, 10, 10, 8, 6
        ('=DVARP(A4:E10,"Yield",A1:A3)', 7.04),
        ("=DCOUNT(A4:E10,,A1:A3)", 5.0),  # no field: the records
        ('=DGET(A4:E10,"Yield",A1:F2)', 10.0),
    ],
)
def test_help_page_examples(formula: str, expected: float) -> None:
    got = dv(formula)
    assert round(got, 9) == expected


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=DSTDEV(A4:E10,"Yield",A1:A3)', 2.96647939),
        ('=DSTDEVP(A4:E10,"Yield",A1:A3)', 2.65329983),
    ],
)
def test_standard_deviations(formula: str, expected: float) -> None:
    assert round(dv(formula), 8) == expected


def test_text_without_an_operator_matches_its_beginning() -> None:
    # the Advanced Filter's rule: "App" finds "Apple"
    assert dv('=DSUM(A4:E10,"Profit",J1:J2)', {"Sheet1!J1": "Tree", "Sheet1!J2": "App"}) == 225.0


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ('=DGET(A4:E10,"Yield",A1:A3)', "#NUM!"),  # several records
        ('=DGET(A4:E10,"Yield",K1:K2)', "#VALUE!"),  # none (K2: "Plum")
        ('=DSUM(A4:E10,"Weight",A1:A2)', "#VALUE!"),  # no such field
        ("=DSUM(A4:E10,9,A1:A2)", "#VALUE!"),
        ('=DSUM(INDIRECT("Nosuch!A1:E5"),"Profit",A1:A2)', "#REF!"),
    ],
)
def test_bad_arguments(formula: str, code: str) -> None:
    assert dv(formula, {"Sheet1!K1": "Tree", "Sheet1!K2": "Plum"}) == err(code)
