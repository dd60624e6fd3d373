"""Issue 26, item 5: empty arguments, PMT/FV/PV/NPER in Excel's arithmetic, ``_xHHHH_``
escapes in the file's strings, and CHAR/CODE in the character set of the computer that
saved the workbook.

Expected values: the examples on Microsoft's help pages for each function (cited), and
Excel's own cached values where a published model holds them (cited).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tests.engines.excel.books import save_book
from tests.engines.excel.test_excel_rules import err, ev

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.reader import decode_escapes, inline_workbook, read_workbook

# -- empty arguments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # an empty value argument of an older function is an empty cell: "" or 0 or FALSE
        ('=REPLACE("abcdefg",5,1,)', "abcdfg"),
        ('=LEFT("abc",)', ""),
        ('=LEFT("abc")', "a"),  # omitted, not empty: the default, 1
        ('=RIGHT("abc",)', ""),
        ('=MID("abc",2,)', ""),
        ('=SUBSTITUTE("abc","b",)', "ac"),
        ('=REPT("ab",)', ""),
        ("=ROUND(2.5,)", 3.0),
        ("=IF(,1,2)", 2.0),
        # MATCH(x, r,) and VLOOKUP(x, t, c,) are exact matches (type 0, FALSE), not the
        # approximate default
        ("=MATCH(2,{3,2,1},)", 2.0),
        ('=VLOOKUP(2,{3,"a";2,"b";1,"c"},2,)', "b"),
        # functions added since 2010 read an empty argument as not given
        ("=_xlfn.XLOOKUP(2,{1,2,3},{4,5,6},,,)", 5.0),
        ("=_xlfn.CEILING.MATH(2.5,)", 3.0),
    ],
)
def test_empty_arguments(formula: str, expected: Any) -> None:
    assert ev(formula) == expected


# -- payments ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected", "digits"),
    [
        # PMT help page: 10,000 at 8% a year over 10 months; saving 50,000 in 18 years
        ("=PMT(8%/12,10,10000)", -1037.03, 2),
        ("=PMT(6%/12,18*12,0,50000)", -129.08, 2),
        # FV help page: 6% a year, 10 payments of 200 in advance, 500 put in
        ("=FV(0.06/12,10,-200,-500,1)", 2581.40, 2),
        # PV help page: an annuity paying 500 a month for 20 years at 8%
        ("=PV(0.08/12,12*20,500,,0)", -59777.15, 2),
        # NPER help page
        ("=NPER(0.12/12,-100,-1000,10000,1)", 59.6738657, 7),
        ("=NPER(0.12/12,-100,-1000,10000)", 60.0821229, 7),
        ("=NPER(0.12/12,-100,-1000)", -9.57859404, 8),
    ],
)
def test_payment_functions_match_the_help_pages(formula: str, expected: float, digits: int) -> None:
    # the help pages show the results rounded (to cents, or to the digits shown)
    assert round(ev(formula), digits) == expected


@pytest.mark.parametrize(
    ("rate", "payment"),
    [
        # Excel's cached values in a published loan model (the excel-real corpus'
        # loanAmort__Loan_Amortization_Model.xlsx, DASHBOARD!W8:W11): 500,000 over 60
        # months; exp(60 * log1p(r)) gives them to the last bit, (1 + r) ** 60 does not
        (0.08, 10138.19714420684),
        (0.1, 10623.522355634139),
        (0.14, 11634.125424693848),
    ],
)
def test_pmt_is_excel_to_the_last_bit(rate: float, payment: float) -> None:
    assert ev(f"=PMT({rate}/12,5*12,-500000)") == payment


def test_a_schedule_paid_by_pmt_ends_at_zero() -> None:
    # the same model's 60-row schedule: Excel's last closing balance is exactly 0
    cells: dict[str, Any] = {"Sheet1!H1": "=PMT(0.1/12,60,-500000)", "Sheet1!F1": 500000}
    for r in range(2, 62):
        cells[f"Sheet1!D{r}"] = f"=F{r - 1}*(0.1/12)"
        cells[f"Sheet1!F{r}"] = f"=F{r - 1}-($H$1-D{r})"
    comp = Compiler(inline_workbook(cells), static=True)
    comp.compile([("SHEET1", 61, 6)])
    assert abs(comp.value_of(("SHEET1", 61, 6)).to_py()) < 1e-9


# -- strings in the file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("a_x000D_b", "a\rb"),
        ("tab_x0009_here", "tab\there"),
        ("_x005F_x000D_", "_x000D_"),  # an escaped underscore: the text "_x000D_"
        ("plain_x_text", "plain_x_text"),
    ],
)
def test_ooxml_escapes_are_decoded(raw: str, text: str) -> None:
    assert decode_escapes(raw) == text


def _patch(path: Path, part: str, pattern: str, repl: str) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml, n = re.subn(pattern, repl, parts[part].decode())
    assert n == 1, f"{pattern} not in {part}"
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_cached_text_result_is_decoded(tmp_path: Path) -> None:
    path = save_book(tmp_path / "t.xlsx", {"Sheet1!A1": '="a"&CHAR(13)&"b"'})
    _patch(
        path,
        "xl/worksheets/sheet1.xml",
        r'<c r="A1"([^>]*)><f>(.*?)</f><v ?/>',
        r'<c r="A1" t="str"><f>\2</f><v>a_x000D_b</v>',
    )
    book = read_workbook(path)
    assert book.cell("Sheet1", 1, 1).cached == "a\rb"


# -- CHAR and CODE -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "windows", "mac"),
    [
        # CHAR/CODE help: the character set of the computer, ANSI on Windows (cp1252),
        # the Macintosh character set on a Mac
        ("=CHAR(65)", "A", "A"),
        ("=CHAR(128)", "€", "Ä"),
        ("=CHAR(233)", "é", "È"),
        ('=CODE("€")', 128.0, 219.0),
        ('=CODE("Ä")', 196.0, 128.0),
        ("=CHAR(256)", err("#VALUE!"), err("#VALUE!")),
        ('=CODE("")', err("#VALUE!"), err("#VALUE!")),
    ],
)
def test_char_and_code_follow_the_saving_computer(formula: str, windows: Any, mac: Any) -> None:
    for application, expected in (("Microsoft Excel", windows), ("Microsoft Macintosh Excel", mac)):
        book = inline_workbook({"Sheet1!A1": formula})
        book.application = application
        comp = Compiler(book, static=True)
        comp.compile([("SHEET1", 1, 1)])
        assert comp.value_of(("SHEET1", 1, 1)).to_py() == expected


def test_the_application_is_read_from_the_file(tmp_path: Path) -> None:
    path = save_book(tmp_path / "m.xlsx", {"Sheet1!A1": "=CHAR(128)"})
    assert not read_workbook(path).mac
    _patch(
        path,
        "docProps/app.xml",
        r"<Application>[^<]*</Application>",
        "<Application>Microsoft Macintosh Excel</Application>",
    )
    assert read_workbook(path).mac
