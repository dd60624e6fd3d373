"""What a workbook cannot tell us is reported, not guessed silently: the decimal separator
of the locale a TEXT format was written in, and how Excel writes a number with 15
significant digits when it becomes a criterion (``">="&B3``).

Expected values follow from the rules stated in the code: a TEXT format that only makes
sense with a decimal comma is the en-US format with ``,`` and ``.`` swapped, and shows
``,`` as the decimal and ``.`` as the thousands separator; a number joined to text is
written with 15 significant digits rounded to the nearest (Excel's General format).
"""

from __future__ import annotations

from typing import Any

import pytest

import montesim
from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.functions.numfmt import comma_decimal_format
from montesim.engines.excel.reader import inline_workbook
from montesim.engines.excel.verify import verify


def ev(formula: str, cells: dict[str, Any] | None = None) -> Any:
    book = inline_workbook({"Sheet1!A1": formula, **(cells or {})})
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 1, 1)])
    return comp.value_of(("SHEET1", 1, 1)).to_py()


# -- TEXT formats written with a decimal comma ------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "comma"),
    [
        ("0,00", True),  # en-US: a thousands separator one digit from the end
        ("0,00%", True),
        ("0,0;-0,0", True),
        ("#.##0,00", True),  # en-US: a comma after the decimal point
        ("0,00E+00", True),
        ("#,##0.00", False),  # usual en-US formats
        ("#,##0", False),
        ("0.0,,", False),  # trailing commas scale
        ("0,000", False),  # usual in en-US (grouping): read as en-US
        ("#,##0,00", False),  # usual in neither reading
        ("dd.mm.yyyy", False),  # a date
        ('0" ,"00', False),  # the comma is quoted text
    ],
)
def test_which_formats_only_make_sense_with_a_decimal_comma(fmt: str, comma: bool) -> None:
    assert comma_decimal_format(fmt) is comma


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # the en-US format with separators swapped ("0.00", "#,##0.00"), shown with ","
        # as the decimal and "." as the thousands separator
        ('=TEXT(34.93355855855856,"0,00")', "34,93"),  # Excel's value in a Greek model
        ('=TEXT(-0.0812,"0,00")', "-0,08"),
        ('=TEXT(0.93164,"0,00%")', "93,16%"),
        ('=TEXT(1234567.891,"#.##0,00")', "1.234.567,89"),
        ('=TEXT(1234.5,"0,00E+00")', "1,23E+03"),
        # en-US formats are read as before
        ('=TEXT(1234567.891,"#,##0.00")', "1,234,567.89"),
        ('=TEXT(34.93,"0.00")', "34.93"),
    ],
)
def test_text_reads_a_decimal_comma_format_with_a_decimal_comma(
    formula: str, expected: str
) -> None:
    assert ev(formula) == expected


def test_verify_names_the_cells_whose_text_format_uses_a_decimal_comma() -> None:
    book = inline_workbook(
        {
            "Sheet1!A1": 34.93355855855856,
            "Sheet1!B1": '="about "&TEXT(A1,"0,00")',
            "Sheet1!B2": '=TEXT(A1,"0.00")',
            "Sheet1!C1": "0,0",
            "Sheet1!B3": "=TEXT(A1,C1)",  # a format from a cell
        }
    )
    report = verify(book)
    (warning,) = [w for w in report.warnings if w["code"] == "text_format_decimal_comma"]
    assert warning["location"] == "Sheet1!B1"
    assert "2 cell(s) (Sheet1!B1, Sheet1!B3)" in warning["message"]
    assert "'1234,57'" in warning["message"]  # 1234.567 in "0,00" here
    assert "'1,235'" in warning["message"]  # and in en-US Excel (grouping)
    assert report.to_dict()["warnings"] == report.warnings


def test_a_job_result_carries_the_decimal_comma_warning() -> None:
    model = {
        "M!B1": '=RiskUniform(1, 2, RiskName("U"))',
        "M!B2": '=RiskOutput("Len") + LEN(TEXT(B1,"0,00"))',
    }
    result = montesim.simulate(model, iterations=64, seed=1)
    codes = {w["code"]: w for w in result.summary["warnings"]}
    assert codes["text_format_decimal_comma"]["location"] == "M!B2"


# -- criteria built from a number with 15 significant digits ----------------------------

LOW = -2124.5309189669788  # written "-2124.53091896698" (nearest); cut: "...697"
HIGH = 50199.448982612019  # written "50199.448982612" both ways


def _ties(cells: dict[str, Any]) -> tuple[Any, list[dict[str, str]]]:
    book = inline_workbook(cells)
    report = verify(book)
    comp = Compiler(book, static=True)
    comp.compile([("SHEET1", 1, 3)])
    got = comp.value_of(("SHEET1", 1, 3)).to_py()
    return got, [w for w in report.warnings if w["code"] == "criteria_15_digits"]


def test_a_criterion_rounded_away_from_a_value_is_reported() -> None:
    data = {"Sheet1!A1": LOW, "Sheet1!A2": 0.0, "Sheet1!A3": 5.0}
    got, (warning,) = _ties(
        {**data, "Sheet1!B1": "=MIN(A1:A3)", "Sheet1!C1": '=COUNTIF(A1:A3,">="&B1)'}
    )
    # ">=-2124.53091896698" is below LOW: all three values meet it
    assert got == 3.0
    assert warning["location"] == "Sheet1!C1"
    assert "'>=-2124.53091896698'" in warning["message"]


@pytest.mark.parametrize(
    "formula",
    [
        '=COUNTIFS(A1:A3,"<"&B1)',  # HIGH is above its 15-digit text whichever way
        '=COUNTIF(A1:A3,">=-2124.53091896698")',  # a criterion typed as text is exact
        "=COUNTIF(A1:A3,B2)",  # a number criterion is compared exactly
        '=SUMIFS(A1:A3,A1:A3,">="&B2)',  # -2124.5 has few digits
    ],
)
def test_criteria_that_do_not_depend_on_the_15th_digit_are_not_reported(formula: str) -> None:
    cells = {
        "Sheet1!A1": LOW,
        "Sheet1!A2": HIGH,
        "Sheet1!A3": -2124.5,
        "Sheet1!B1": "=MAX(A1:A3)",
        "Sheet1!B2": -2124.5,
        "Sheet1!C1": formula,
    }
    _, warnings = _ties(cells)
    assert warnings == []


def test_inspect_names_text_formats_written_with_a_decimal_comma() -> None:
    from montesim.engines.excel.inspect import inspect_workbook

    book = inline_workbook({"Sheet1!A1": 2.5, "Sheet1!B1": '=TEXT(A1,"0,00")&"x"'})
    (warning,) = inspect_workbook(book)["warnings"]
    assert warning["code"] == "text_format_decimal_comma"
    assert warning["location"] == "Sheet1!B1"
