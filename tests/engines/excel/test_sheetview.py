"""The studio's sheet view: display text as Excel shows it, random-cell suggestions."""

from __future__ import annotations

import pytest

from montesim.engines.excel.display import as_written, display, general
from montesim.engines.excel.parser import parse
from montesim.engines.excel.sheetview import suggest_distribution
from montesim.engines.excel.values import XlError


@pytest.mark.parametrize(
    ("value", "fmt", "text"),
    [
        (0.0725, "0.0%", "7.3%"),
        (1234567.891, "#,##0.00", "1,234,567.89"),
        (-1234.5, "#,##0;(#,##0)", "(1,235)"),
        (45292, "yyyy-mm-dd", "2024-01-01"),
        (45292, "d mmm yyyy", "1 Jan 2024"),
        (0.5, "General", "0.5"),
        (True, "General", "TRUE"),
        (XlError(7), "General", "#N/A"),
        ("text", "0.00", "text"),
        (None, "0.00", ""),
        (float("inf"), "General", "#NUM!"),
    ],
)
def test_display_as_excel_shows_it(value, fmt, text) -> None:
    assert display(value, fmt) == text


def test_general_fits_a_standard_column() -> None:
    assert general(0.13333333333333333) == "0.13333333"
    assert general(8189.009920000001) == "8189.00992"
    assert general(123456789012.0) == "1.2346E+11"  # never "120000000000"
    assert general(-0.000123456789123) == "-0.0001235"
    assert general(123456789012.0, width=11) == "1.23457E+11"


@pytest.mark.parametrize(
    ("formula", "suggested"),
    [
        ("=RAND()", {"family": "uniform", "params": [0.0, 1.0]}),
        ("=RANDBETWEEN(1, 6)", {"family": "intuniform", "params": [1.0, 6.0]}),
        ("=NORM.INV(RAND(), 10, 2)", {"family": "normal", "params": [10.0, 2.0]}),
        ("=NORMINV(RAND(), -3, 0.5)", {"family": "normal", "params": [-3.0, 0.5]}),
        ("=NORM.INV(RAND(), A1, 2)", None),
        ("=A1 + RAND()", None),
    ],
)
def test_simple_random_formulas_suggest_a_distribution(formula, suggested) -> None:
    assert suggest_distribution(parse(formula)) == suggested


def test_formulas_are_shown_without_file_format_prefixes() -> None:
    assert as_written("=_xlfn.NORM.INV(RAND(),_xlfn.STDEV.S(A1:A3),1)") == (
        "=NORM.INV(RAND(),STDEV.S(A1:A3),1)"
    )
