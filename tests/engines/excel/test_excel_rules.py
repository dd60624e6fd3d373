"""Excel semantics, one rule at a time, through small inline workbooks.

Expected values come from Excel's documentation and well-known Excel behaviour (the
examples on the function help pages), or from the textbook formula written out here.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.reader import inline_workbook
from montesim.engines.excel.values import XlError


def ev(
    formula: str, cells: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> Any:
    """The value of ``formula`` in Sheet1!A1 of a workbook holding ``cells``."""
    book = inline_workbook({"Sheet1!A1": formula, **(cells or {})}, names)
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 1, 1)])
    return comp.value_of(("SHEET1", 1, 1)).to_py()


def err(code: str) -> XlError:
    from montesim.engines.excel.values import ERROR_CODE

    return XlError(ERROR_CODE[code])


def close(a: Any, b: float, rel: float = 1e-9) -> bool:
    return isinstance(a, float) and math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)


# -- rounding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=ROUND(2.5,0)", 3.0),
        ("=ROUND(-2.5,0)", -3.0),
        ("=ROUND(0.5,0)", 1.0),
        ("=ROUND(1.005,2)", 1.01),
        ("=ROUND(2.15,1)", 2.2),
        ("=ROUND(-1.475,2)", -1.48),
        ("=ROUND(1234.5678,-2)", 1200.0),
        ("=ROUNDUP(-3.14159,1)", -3.2),
        ("=ROUNDDOWN(-3.14159,1)", -3.1),
        ("=INT(8.9)", 8.0),
        ("=INT(-8.9)", -9.0),
        ("=TRUNC(-8.9)", -8.0),
        ("=MOD(3,2)", 1.0),
        ("=MOD(-3,2)", 1.0),
        ("=MOD(3,-2)", -1.0),
        ("=MOD(-3,-2)", -1.0),
    ],
)
def test_rounding_and_mod(formula: str, expected: float) -> None:
    assert close(ev(formula), expected), formula


def test_mod_by_zero_is_div0() -> None:
    assert ev("=MOD(3,0)") == err("#DIV/0!")


# -- operators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=-2^2", 4.0),  # negation binds tighter than ^
        ("=0-2^2", -4.0),
        ("=2^-1", 0.5),
        ("=2^3^2", 64.0),  # ^ is left-associative in Excel
        ("=50%", 0.5),
        ("=200*10%", 20.0),
        ("=2+3*4", 14.0),
        ("=(2+3)*4", 20.0),
        ("=10/4", 2.5),
        ('="3"+4', 7.0),  # numeric text is coerced by arithmetic
        ("=TRUE+1", 2.0),
    ],
)
def test_operator_precedence(formula: str, expected: float) -> None:
    assert close(ev(formula), expected), formula


def test_concatenation_binds_looser_than_arithmetic() -> None:
    assert ev('="a"&1+2') == "a3"
    assert ev("=1&2") == "12"
    assert ev('="x"&TRUE') == "xTRUE"
    assert ev('=1+2&"b"') == "3b"


def test_comparison_is_lowest_and_case_insensitive() -> None:
    assert ev("=1+1=2") is True
    assert ev('="abc"="ABC"') is True
    assert ev('="a"<"b"') is True
    assert ev('=1<"a"') is True  # numbers sort before text


# -- lazy branches ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=IF(TRUE,1,1/0)", 1.0),
        ("=IF(FALSE,1/0,2)", 2.0),
        ('=IFERROR(1/0,"x")', "x"),
        ("=IFERROR(5,1/0)", 5.0),
        ("=IFNA(NA(),3)", 3.0),
        ("=CHOOSE(2,1/0,7)", 7.0),
        ("=IF(1>2,NA(),SQRT(16))", 4.0),
    ],
)
def test_untaken_branch_error_does_not_leak(formula: str, expected: Any) -> None:
    got = ev(formula)
    assert got == expected, formula


def test_iferror_does_not_catch_na_in_ifna() -> None:
    assert ev("=IFNA(1/0,3)") == err("#DIV/0!")


# -- AND / OR / XOR -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # text typed as an argument is skipped unless it reads TRUE/FALSE: Excel saved FALSE
        # for AND(<array with a FALSE>, ">"&$H$32) in a published model (mcsweeney GOODE
        # workbook, DIST!M30), where #VALUE! would have broken its whole frequency chart
        ('=AND(1>2,">"&B1)', False),
        ('=OR(1>2,">"&B1)', False),
        ('=AND(TRUE,"abc")', True),
        ('=AND(TRUE,"false")', False),
        ('=OR(FALSE,"TRUE")', True),
        ('=XOR(TRUE,"TRUE")', False),
        # with nothing left to count: #VALUE! (the documented rule)
        ('=AND("abc")', "#VALUE!"),
        ("=OR(B2)", "#VALUE!"),
        # text and empty cells in ranges and arrays are ignored (documented)
        ("=AND(B1:B3)", True),
        ('=AND({1,"a",TRUE})', True),
        # errors still propagate
        ('=OR("x",1/0)', "#DIV/0!"),
    ],
)
def test_logical_functions_skip_text(formula: str, expected: Any) -> None:
    cells = {"Sheet1!B1": 5, "Sheet1!B2": "TRUE", "Sheet1!B3": "x"}
    want = err(expected) if isinstance(expected, str) else expected
    assert ev(formula, cells) == want, formula


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("=1/0", "#DIV/0!"),
        ("=NA()+1", "#N/A"),
        ('="abc"+1', "#VALUE!"),
        ("=SQRT(-1)", "#NUM!"),
        ("=LN(0)", "#NUM!"),
        ("=NOSUCHFUNCTION(1)", "#NAME?"),
        ("=undefined_name+1", "#NAME?"),
        ("=INDEX(B1:B2,3)", "#REF!"),
        ("=OFFSET(B1,-1,0)", "#REF!"),
        ("=SUM(B1:B3)", "#N/A"),  # B2 holds #N/A
        ("=B2*0", "#N/A"),
        ("=1/0+NA()", "#DIV/0!"),  # the left operand's error wins
        ("=AVERAGE(C1:C2)", "#DIV/0!"),  # no numbers at all
    ],
)
def test_errors_propagate(formula: str, code: str) -> None:
    assert ev(formula, {"Sheet1!B1": 1, "Sheet1!B2": "#N/A", "Sheet1!B3": 2}) == err(code), formula


def test_iserror_family() -> None:
    assert ev("=ISERROR(1/0)") is True
    assert ev("=ISNA(1/0)") is False
    assert ev("=ISERR(NA())") is False
    assert ev("=ERROR.TYPE(1/0)") == 2.0


# -- lookups -------------------------------------------------------------------------------------

TABLE = {
    "Sheet1!B1": 1,
    "Sheet1!C1": "one",
    "Sheet1!B2": 5,
    "Sheet1!C2": "five",
    "Sheet1!B3": 10,
    "Sheet1!C3": "ten",
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=MATCH("b",{"a","b","c"},0)', 2.0),
        ('=MATCH("B",{"a","b","c"},0)', 2.0),  # case-insensitive
        ('=MATCH("c*",{"apple","cherry"},0)', 2.0),  # wildcards in exact mode
        ("=MATCH(2.5,{1,2,3},1)", 2.0),  # largest value <= 2.5
        ("=MATCH(2.5,{1,2,3})", 2.0),  # match_type defaults to 1
        ("=MATCH(2.5,{3,2,1},-1)", 1.0),  # smallest value >= 2.5 in descending data
        ("=MATCH(7,B1:B3,1)", 2.0),
        ("=VLOOKUP(7,B1:C3,2)", "five"),  # approximate: largest key <= 7
        ("=VLOOKUP(10,B1:C3,2)", "ten"),
        ("=VLOOKUP(100,B1:C3,2,TRUE)", "ten"),
        ("=VLOOKUP(5,B1:C3,2,FALSE)", "five"),
        ('=HLOOKUP("b",{"a","b";1,2},2,FALSE)', 2.0),
        ("=INDEX(B1:C3,2,2)", "five"),
        ("=LOOKUP(6,B1:B3,C1:C3)", "five"),
    ],
)
def test_lookups(formula: str, expected: Any) -> None:
    assert ev(formula, TABLE) == expected, formula


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ('=MATCH("z",{"a","b"},0)', "#N/A"),
        ("=MATCH(0,{1,2,3},1)", "#N/A"),  # nothing <= 0
        ("=MATCH(4,{3,2,1},-1)", "#N/A"),  # nothing >= 4
        ("=VLOOKUP(0,B1:C3,2)", "#N/A"),
        ("=VLOOKUP(6,B1:C3,2,FALSE)", "#N/A"),
        ("=VLOOKUP(5,B1:C3,3,FALSE)", "#REF!"),
        ("=VLOOKUP(5,B1:C3,0,FALSE)", "#VALUE!"),
    ],
)
def test_lookup_failures(formula: str, code: str) -> None:
    assert ev(formula, TABLE) == err(code), formula


DATES_AS_TEXT = {
    "Sheet1!B1": "11/2/2001",
    "Sheet1!B2": "10/3/1999",
    "Sheet1!B3": "1/5/2000",
    "Sheet1!B4": "5/6/2001",
    "Sheet1!B5": "5/6/2001",
    "Sheet1!C1": "Jim",
    "Sheet1!C2": "Pam",
    "Sheet1!C3": "Angela",
    "Sheet1!C4": "Toby",
    "Sheet1!C5": "Michael",
    "Sheet1!D1": 1,
    "Sheet1!D2": 3,
    "Sheet1!D3": 5,
    "Sheet1!D4": 7,
    "Sheet1!D5": 9,
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # next larger text is the nearest in text order ("1/5/2000" follows "1/1/2000"):
        # Excel's saved value in a published XLOOKUP tutorial (karumbo, B3)
        ('=XLOOKUP("1/1/2000",B1:B5,C1:C5,,1)', "Angela"),
        ('=XLOOKUP("2",B1:B5,C1:C5,,-1)', "Jim"),  # greatest text <= "2"
        ('=XLOOKUP("5/6/2001",B1:B5,C1:C5,,,-1)', "Michael"),  # search from the end
        ('=XLOOKUP("5/6/2001",B1:B5,C1:C5,,1,-1)', "Michael"),
        ("=XLOOKUP(4,D1:D5,C1:C5,,1)", "Angela"),
        ("=XLOOKUP(4,D1:D5,C1:C5,,-1)", "Pam"),
        # binary search on sorted data finds what a scan finds
        ("=XLOOKUP(7,D1:D5,C1:C5,,0,2)", "Toby"),
        ("=XLOOKUP(6,D1:D5,C1:C5,,1,2)", "Toby"),
        ("=XLOOKUP(6,D1:D5,C1:C5,,-1,2)", "Angela"),
        ("=XMATCH(8,D1:D5,1,2)", 5.0),
        # modes Excel does not have
        ("=XLOOKUP(7,D1:D5,C1:C5,,0,3)", "#VALUE!"),
        ("=XLOOKUP(7,D1:D5,C1:C5,,3)", "#VALUE!"),
        ("=XMATCH(7,D1:D5,0,0)", "#VALUE!"),
    ],
)
def test_xlookup_modes(formula: str, expected: Any) -> None:
    want = err(expected) if isinstance(expected, str) and expected.startswith("#") else expected
    assert ev(formula, DATES_AS_TEXT) == want, formula


@pytest.mark.parametrize(
    ("formula", "why"),
    [
        ("=XLOOKUP(5,{7,1,5,3},{1,2,3,4},,0,2)", "not sorted ascending"),
        ("=XLOOKUP(5,{1,3,5,5},{1,2,3,4},,0,2)", "not sorted ascending"),  # repeated
        ("=XLOOKUP(5,{1,3,5,7},{1,2,3,4},,0,-2)", "not sorted descending"),
        ('=XMATCH("b*",{"a","b","c"},2,2)', "wildcards"),
        ("=XLOOKUP(5,A2:A3,{1;2},,0,2)", "change between trials"),
    ],
)
def test_binary_search_on_data_it_cannot_search_is_reported(formula: str, why: str) -> None:
    book = inline_workbook({"Sheet1!A1": formula, "Sheet1!A2": "=RiskUniform(0,1)", "Sheet1!A3": 2})
    comp = Compiler(book)  # as for a simulation: A2 draws a new value in every trial
    comp.compile([("SHEET1", 1, 1)])
    name = formula[1:].split("(")[0]
    reported = [k for k in comp.issues.unsupported if k.startswith(f"{name} binary search")]
    assert reported and why in reported[0], (formula, comp.issues.unsupported)


# -- financial -------------------------------------------------------------------------------------


def _npv(rate: float, flows: list[float]) -> float:
    return sum(v / (1 + rate) ** (i + 1) for i, v in enumerate(flows))


def _pmt(rate: float, nper: float, pv: float, fv: float = 0.0, when: int = 0) -> float:
    g = (1 + rate) ** nper
    return -(pv * g + fv) * rate / ((1 + rate * when) * (g - 1))


def _irr(flows: list[float]) -> float:
    """Bisection on NPV(r) of flows starting at t=0."""

    def f(r: float) -> float:
        return sum(v / (1 + r) ** i for i, v in enumerate(flows))

    lo, hi = -0.99, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if (f(lo) > 0) == (f(mid) > 0):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def test_npv_discounts_from_period_one() -> None:
    flows = [-10000.0, 3000.0, 4200.0, 6800.0]
    got = ev("=NPV(0.1,-10000,3000,4200,6800)")
    assert close(got, _npv(0.1, flows))
    assert close(got, 1188.4434123352207, rel=1e-9)  # Excel's help-page example: 1,188.44


def test_npv_skips_text_and_empty_cells_in_ranges() -> None:
    cells = {"Sheet1!B1": 100.0, "Sheet1!B2": "note", "Sheet1!B4": 100.0}
    assert close(ev("=NPV(0.05,B1:B4)", cells), _npv(0.05, [100.0, 100.0]))


def test_irr() -> None:
    flows = [-70000.0, 12000.0, 15000.0, 18000.0, 21000.0, 26000.0]
    cells = {f"Sheet1!B{i + 1}": v for i, v in enumerate(flows)}
    got = ev("=IRR(B1:B6)", cells)
    assert close(got, _irr(flows), rel=1e-7)
    assert round(got, 4) == 0.0866  # Excel's help-page example: 8.7%


def test_pmt() -> None:
    assert close(ev("=PMT(0.08/12,10,10000)"), _pmt(0.08 / 12, 10, 10000))
    assert round(ev("=PMT(0.08/12,10,10000)"), 2) == -1037.03  # Excel's help-page example
    assert close(ev("=PMT(0.06/12,18*12,0,50000)"), _pmt(0.005, 216, 0, 50000))
    assert close(ev("=PMT(0.05,10,1000,0,1)"), _pmt(0.05, 10, 1000, 0, 1))
    assert close(ev("=PMT(0,10,1000)"), -100.0)  # zero rate: straight division


# -- dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=DATE(2008,1,1)", 39448.0),  # Excel's help-page example
        ("=DATE(1900,1,1)", 1.0),
        ("=DATE(1900,3,1)", 61.0),  # after Excel's fictitious 1900-02-29
        ("=DATE(2008,14,2)", 39846.0),  # month 14 rolls into 2009-02-02
        ("=DATE(2008,1,-15)", 39432.0),  # day -15 rolls back to 2007-12-16
        ("=DATE(108,1,2)", 39449.0),  # years below 1900 are added to 1900
        ("=EOMONTH(DATE(2011,1,1),1)", 40602.0),  # 2011-02-28
        ("=EOMONTH(DATE(2011,1,1),-3)", 40482.0),  # 2010-10-31
        ("=EDATE(DATE(2011,1,31),1)", 40602.0),  # clamped to the month's end
        ("=YEAR(39448)", 2008.0),
        ("=MONTH(DATE(2008,14,2))", 2.0),
        ("=DAY(60)", 29.0),  # 1900-02-29 exists in Excel
    ],
)
def test_dates(formula: str, expected: float) -> None:
    assert ev(formula) == expected, formula


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        ("", 0.58055556),  # Excel's help-page example, 30/360 US
        (",1", 0.57650273),  # actual/actual
        (",2", 0.58611111),  # actual/360
        (",3", 0.57808219),  # actual/365
        (",4", 0.58055556),  # 30/360 European
    ],
)
def test_yearfrac(basis: str, expected: float) -> None:
    got = ev(f"=YEARFRAC(DATE(2012,1,1),DATE(2012,7,30){basis})")
    assert round(got, 8) == expected


def test_yearfrac_bad_basis() -> None:
    assert ev("=YEARFRAC(1,2,5)") == err("#NUM!")


# -- TEXT formats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('=TEXT(1234.567,"$#,##0.00")', "$1,234.57"),
        ('=TEXT(0.285,"0.0%")', "28.5%"),
        ('=TEXT(1234.5,"0.00E+00")', "1.23E+03"),
        ('=TEXT(5,"000")', "005"),
        ('=TEXT(-5,"0;(0)")', "(5)"),
        ('=TEXT(0,"0;(0);""zero""")', "zero"),
        ('=TEXT(2.5,"0")', "3"),
        ('=TEXT(1234567,"#,##0")', "1,234,567"),
        ('=TEXT(DATE(2012,3,14),"yyyy-mm-dd")', "2012-03-14"),
        ('=TEXT(DATE(2012,3,14),"dddd")', "Wednesday"),
        ('=TEXT(DATE(2012,3,14),"mmm d, yyyy")', "Mar 14, 2012"),
        ('=TEXT(0.75,"h:mm")', "18:00"),
        ('=TEXT(0.75,"h:mm AM/PM")', "6:00 PM"),
        ('=TEXT("abc","@")', "abc"),
        # Excel's saved values in pycel's text fixture (tests/fixtures/text.xlsx)
        ('=TEXT(1234.56,".#")', "1234.6"),  # no integer placeholder: digits still show
        ('=TEXT(1234.56,".##0")', "1234.560"),
        ('=TEXT(0,"w;x;z@")', "w"),  # z@ is the text section: zero takes the first
        ('=TEXT(-1,"w;x@")', "-w"),
        ('=TEXT(-1,"")', "-"),  # an empty format: a minus sign, or nothing
        ('=TEXT(1,"")', ""),
        ('=TEXT("Plugh","")', "Plugh"),
        ('=TEXT(1,"#,#""ZZ""#.0""YY""00@")', "#VALUE!"),  # @ among digit placeholders
        ('=TEXT(1,"#,#""ZZ""#.0Y00")', "#VALUE!"),  # digit placeholders in a date
        ('=TEXT("X",";-  ##.0;""ZERO""@;""X""")', "#VALUE!"),  # @ in a number section
    ],
)
def test_text_formats(formula: str, expected: str) -> None:
    want = err(expected) if expected.startswith("#V") else expected
    assert ev(formula) == want, formula


# -- references -------------------------------------------------------------------------------------------


def test_reference_to_empty_cell_shows_zero() -> None:
    assert ev("=B9") == 0.0
    assert ev("=IF(TRUE,B9)") == 0.0


def test_implicit_intersection_in_non_array_cell() -> None:
    # a formula in row 2 that multiplies a column range takes that range's row-2 cell
    book = inline_workbook(
        {"Sheet1!B1": 10, "Sheet1!B2": 20, "Sheet1!B3": 30, "Sheet1!D2": "=B1:B3*2"}
    )
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 2, 4)])
    assert comp.value_of(("SHEET1", 2, 4)).to_py() == 40.0


def test_sumproduct_keeps_arrays() -> None:
    cells = {"Sheet1!B1": 1, "Sheet1!B2": 2, "Sheet1!C1": 3, "Sheet1!C2": 4}
    assert ev("=SUMPRODUCT(B1:B2*C1:C2)", cells) == 11.0


def test_xlookup_returns_a_reference() -> None:
    # a published XLOOKUP tutorial (karumbo, "XLookUp w SUM"!B7) sums February..March
    # through two XLOOKUPs joined by ":"; Excel saved 460 (310 + 150)
    cells = {
        "Sheet1!B1": "Jan",
        "Sheet1!C1": "Feb",
        "Sheet1!D1": "Mar",
        "Sheet1!E1": "Apr",
        "Sheet1!B2": 450,
        "Sheet1!C2": 310,
        "Sheet1!D2": 150,
        "Sheet1!E2": 750,
    }
    formula = '=SUM(XLOOKUP("Feb",B1:E1,B2:E2):XLOOKUP("mar",B1:E1,B2:E2))'
    assert ev(formula, cells) == 460.0
    assert ev("=SUM(INDEX(B2:E2,2):E2)", cells) == 1210.0  # a function, then ":B3"
    assert ev("=ROWS(XLOOKUP(2,{1;2;3},B1:E3))", cells) == 1.0
    assert ev("=COLUMNS(XLOOKUP(2,{1;2;3},B1:E3))", cells) == 4.0


def test_a_reference_operator_on_a_value_is_reported() -> None:
    book = inline_workbook(
        {
            "Sheet1!A1": "=SUM(INDEX(B1:B3,A2):B3)",
            "Sheet1!A2": "=RiskDiscrete({1,2},{0.5,0.5})",
            "Sheet1!B1": 1,
        }
    )
    comp = Compiler(book)
    comp.compile([("SHEET1", 1, 1)])
    assert "INDEX result used as a reference (:)" in comp.issues.unsupported


def test_a_named_formula_is_evaluated_as_an_array_formula() -> None:
    # no implicit intersection inside a name: a published model (EfiLygda, C146) counts
    # its outliers with COUNT(Outliers_Zscore), Outliers_Zscore being IF(ABS(..)>3, Sales,
    # NA()) over a whole column, in a plain formula cell; Excel saved 30, not 0
    cells = {"Sheet1!B1": 1, "Sheet1!B2": 2, "Sheet1!B3": 30, "Sheet1!C9": 0}
    names = {"Dbl": "Sheet1!$B$1:$B$3*2", "Big": "IF(Sheet1!$B$1:$B$3>1,Sheet1!$B$1:$B$3,NA())"}
    assert ev("=SUM(Dbl)", cells, names) == 66.0
    assert ev("=COUNT(Big)", cells, names) == 2.0
    assert ev('=IF(C9=0,COUNT(Big),"")', cells, names) == 2.0


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # INDEX over arrays of positions gives the array of the elements at each pair: a
        # published model (EfiLygda, V21) spills INDEX(sorted, SEQUENCE(20), {1,2})
        ("=INDEX({1,2;3,4;5,6},{1;3},{2,1})", [[2.0, 1.0], [6.0, 5.0]]),
        ("=INDEX({1,2;3,4;5,6},SEQUENCE(2),{1,2})", [[1.0, 2.0], [3.0, 4.0]]),
        ("=INDEX({10;20;30},{3,1})", [[30.0, 10.0]]),
        ("=INDEX(B1:B3,{3;1})", [[3.0], [1.0]]),
        ("=INDEX(B1:B3,{1;4})", [[1.0], ["#REF!"]]),
    ],
)
def test_index_over_arrays_of_positions(formula: str, expected: list[list[Any]]) -> None:
    cells = {"Sheet1!B1": 1, "Sheet1!B2": 2, "Sheet1!B3": 3}
    rows, cols = len(expected), len(expected[0])
    for i in range(rows):
        for j in range(cols):
            want = expected[i][j]
            want = err(want) if isinstance(want, str) else want
            assert ev(f"=INDEX({formula[1:]},{i + 1},{j + 1})", cells) == want, (formula, i, j)
    assert ev(f"=ROWS({formula[1:]})", cells) == rows
    assert ev(f"=COLUMNS({formula[1:]})", cells) == cols


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # a function named where a LAMBDA goes (Excel saves it as _xleta.SUM) is called
        # with the values the LAMBDA would get (Microsoft's SCAN/BYROW examples)
        ("=INDEX(SCAN(0,{1,2,3},_xleta.SUM),1,3)", 6.0),
        ("=INDEX(BYROW({1,2;3,4},_xleta.SUM),2)", 7.0),
        ("=INDEX(BYCOL({1,2;3,4},_xleta.MAX),1,2)", 4.0),
        ("=REDUCE(1,{1,2,3,4},_xleta.PRODUCT)", 24.0),
        ("=INDEX(MAP({1,4,9},_xleta.SQRT),1,3)", 3.0),
    ],
)
def test_eta_reduced_lambdas(formula: str, expected: float) -> None:
    assert ev(formula) == expected, formula


GROUPS = {
    "Sheet1!E1": "east",
    "Sheet1!E2": "West",
    "Sheet1!E3": "east",
    "Sheet1!E4": "North",
    "Sheet1!F1": 10,
    "Sheet1!F2": 20,
    "Sheet1!F3": 30,
    "Sheet1!F4": 5,
    "Sheet1!G1": 1,
    "Sheet1!G2": 1,
    "Sheet1!G3": 2,
    "Sheet1!G4": 1,
}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # groups sorted ascending (text case-blind), then a grand total over every value
        (
            "=GROUPBY(E1:E4,F1:F4,_xleta.SUM)",
            [["east", 40.0], ["North", 5.0], ["West", 20.0], ["Total", 65.0]],
        ),
        (
            "=GROUPBY(E1:E4,F1:F4,_xleta.AVERAGE,0,0)",
            [["east", 20.0], ["North", 5.0], ["West", 20.0]],
        ),
        # several row fields; a LAMBDA; a filter (rows whose flag is TRUE)
        (
            "=GROUPBY(HSTACK(G1:G4,E1:E4),F1:F4,LAMBDA(x,MAX(x)-MIN(x)),0,0)",
            [[1.0, "east", 0.0], [1.0, "North", 0.0], [1.0, "West", 0.0], [2.0, "east", 0.0]],
        ),
        (
            "=GROUPBY(E1:E4,F1:F4,_xleta.SUM,0,1,,F1:F4>8)",
            [["east", 40.0], ["West", 20.0], ["Total", 60.0]],
        ),
        # several functions side by side
        (
            "=GROUPBY(E1:E4,F1:F4,HSTACK(_xleta.SUM,_xleta.COUNT),0,0)",
            [["east", 40.0, 2.0], ["North", 5.0, 1.0], ["West", 20.0, 1.0]],
        ),
        (
            "=GROUPBY(E1:E4,G1:G4,_xleta.ARRAYTOTEXT,0,0)",
            [["east", "1, 2"], ["North", "1"], ["West", "1"]],
        ),
    ],
)
def test_groupby(formula: str, expected: list[list[Any]]) -> None:
    assert ev(f"=ROWS({formula[1:]})", GROUPS) == len(expected), formula
    assert ev(f"=COLUMNS({formula[1:]})", GROUPS) == len(expected[0]), formula
    for i, row in enumerate(expected):
        for j, want in enumerate(row):
            got = ev(f"=INDEX({formula[1:]},{i + 1},{j + 1})", GROUPS)
            assert got == want, (formula, i, j, got)


@pytest.mark.parametrize(
    ("formula", "why"),
    [
        ("=GROUPBY(E1:E4,F1:F4,_xleta.SUM,3)", "headers"),
        ("=GROUPBY(E1:E4,F1:F4,_xleta.SUM,0,2)", "subtotals"),
        ("=GROUPBY(E1:E4,F1:F4,_xleta.SUM,0,1,-2)", "sort order"),
        ("=GROUPBY(E5:E8,F1:F4,_xleta.SUM)", "row fields that change"),
    ],
)
def test_groupby_forms_not_computed_are_reported(formula: str, why: str) -> None:
    cells = {**GROUPS, "Sheet1!E5": "=RiskUniform(0,1)", "Sheet1!D1": formula}
    cells["Sheet1!E6"] = cells["Sheet1!E7"] = cells["Sheet1!E8"] = "=A5"
    book = inline_workbook(cells)
    comp = Compiler(book)
    comp.compile([("SHEET1", 1, 4)])
    assert any(k.startswith("GROUPBY") and why in k for k in comp.issues.unsupported), (
        comp.issues.unsupported
    )


def test_arraytotext_and_operators_over_arrays_of_different_sizes() -> None:
    # Microsoft's ARRAYTOTEXT page: concise and strict forms
    assert ev('=ARRAYTOTEXT({1,"a";TRUE,2.5})') == "1, a, TRUE, 2.5"
    assert ev('=ARRAYTOTEXT({1,"a";TRUE,2.5},1)') == '{1,"a";TRUE,2.5}'
    # positions one array lacks are #N/A; a single row or column repeats
    assert ev('=TEXTJOIN(",",FALSE,IFERROR({1;2;3}+{1;2},"E"))') == "2,4,E"
    assert ev('=TEXTJOIN(",",FALSE,IFERROR({1;2;3}<>{1;2},"E"))') == "FALSE,FALSE,E"
    assert ev('=TEXTJOIN(",",FALSE,{1,2,3}&{"a";"b"})') == "1a,2a,3a,1b,2b,3b"


def test_modified_bessel_functions_as_excel_computes_them() -> None:
    # Excel's saved values in a published heat-exchanger model (mitchpaulus, "Full Coil
    # Model"!B160, B161): Abramowitz & Stegun's polynomial approximations, which differ
    # from the exact functions from the 9th digit on
    a, b = 0.49529134268555725, 1.4226671355412583
    cells = {"Sheet1!B1": a, "Sheet1!B2": b}
    got = ev("=BESSELK(B1,1)*BESSELI(B2,1)-BESSELI(B1,1)*BESSELK(B2,1)", cells)
    assert close(got, 1.4416494441616328, rel=1e-15)
    got = ev("=BESSELI(B1,0)*BESSELK(B2,1)+BESSELK(B1,0)*BESSELI(B2,1)", cells)
    assert close(got, 1.175340713977227, rel=1e-15)
    # higher orders of K follow from K0 and K1; negative orders and x <= 0 are #NUM!
    k2 = ev("=BESSELK(B2,2)", cells)
    k0, k1 = ev("=BESSELK(B2,0)", cells), ev("=BESSELK(B2,1)", cells)
    assert close(k2, k0 + 2 / b * k1, rel=1e-14)
    assert ev("=BESSELK(0,1)") == err("#NUM!") and ev("=BESSELI(1,-1)") == err("#NUM!")


def test_pivotby() -> None:
    # rows: E (region), columns: G (1 or 2), values: F; blank where a pair has no data,
    # "Total" row and column; the layout a published model reads back (EfiLygda, B188:
    # the averages of its pivot, C201:I201, match Excel's saved values)
    formula = "PIVOTBY(E1:E4,G1:G4,F1:F4,_xleta.SUM)"
    expected = [
        [None, 1.0, 2.0, "Total"],
        ["east", 10.0, 30.0, 40.0],
        ["North", 5.0, None, 5.0],
        ["West", 20.0, None, 20.0],
        ["Total", 35.0, 30.0, 65.0],
    ]
    assert ev(f"=ROWS({formula})", GROUPS) == 5 and ev(f"=COLUMNS({formula})", GROUPS) == 4
    for i, row in enumerate(expected):
        for j, want in enumerate(row):
            got = ev(
                f'=IF(ISBLANK(INDEX({formula},{i + 1},{j + 1})),"<blank>",INDEX({formula},{i + 1},{j + 1}))',
                GROUPS,
            )
            assert got == ("<blank>" if want is None else want), (i, j, got)
    assert ev("=ROWS(PIVOTBY(E1:E4,G1:G4,F1:F4,_xleta.SUM,0,0,,0))", GROUPS) == 4
