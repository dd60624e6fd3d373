"""The last functions added for issue 26 (help page examples), and Excel's function list:
which functions the engine evaluates, which are left out on purpose, which not yet."""

from __future__ import annotations

from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err, ev

from montesim.engines.excel.functions.catalog import (
    EXCEL_FUNCTIONS,
    OUT_OF_SCOPE,
    coverage,
    supported_names,
)

SALES = "{33100,47300,69000,102000,150000,220000}"  # LOGEST and GROWTH help pages
MONTHS = "{11,12,13,14,15,16}"


@pytest.mark.parametrize(
    ("formula", "expected", "digits"),
    [
        ("=BETADIST(2,8,10,1,3)", 0.6854706, 7),
        (f"=INDEX(LOGEST({SALES},{MONTHS}),1,1)", 1.463275628, 9),
        (f"=INDEX(LOGEST({SALES},{MONTHS}),1,2)", 495.3047702, 7),
        (f"=INDEX(GROWTH({SALES},{MONTHS},{{17;18}}),1,1)", 320196.7184, 4),
    ],
)
def test_help_page_examples(formula: str, expected: float, digits: int) -> None:
    assert round(ev(formula), digits) == expected


@pytest.mark.parametrize(
    ("formula", "cells", "expected"),
    [
        (
            '=ENCODEURL("http://contoso.sharepoint.com/Finance/Profit and Loss Statement.xlsx")',
            {},
            "http%3A%2F%2Fcontoso.sharepoint.com%2FFinance%2FProfit%20and%20Loss%20Statement.xlsx",
        ),
        (
            "=PERCENTOF(B1:B2,B1:B4)",
            {"Sheet1!B1": 1, "Sheet1!B2": 2, "Sheet1!B3": 3, "Sheet1!B4": 4},
            0.3,
        ),
        ("=PERCENTOF(B1,B2)", {"Sheet1!B1": 1, "Sheet1!B2": 0}, err("#DIV/0!")),
        ("=ISFORMULA(B1)", {"Sheet1!B1": "=1+1"}, True),
        ("=ISFORMULA(B1)", {"Sheet1!B1": 3}, False),
        ("=ISFORMULA(A1)", {}, True),  # itself: no circular reference
        ('=INDEX(WRAPROWS({"A","B","C","D","E"},2),2,2)', {}, "D"),
        ('=INDEX(WRAPROWS({"A","B","C","D","E"},2),3,2)', {}, err("#N/A")),  # padded
        ('=INDEX(WRAPROWS({"A","B","C","D","E"},2,"-"),3,2)', {}, "-"),
        ("=INDEX(WRAPCOLS({1,2,3,4,5},2),2,1)", {}, 2.0),
        ("=ROWS(WRAPCOLS({1,2,3,4,5},2))", {}, 2.0),
        ("=WRAPROWS({1,2;3,4},2)", {}, err("#VALUE!")),  # not a vector
        ("=ROWS(EXPAND({1,2;3,4},3,3))", {}, 3.0),
        ("=INDEX(EXPAND({1,2;3,4},3,3,0),3,3)", {}, 0.0),
        ("=INDEX(EXPAND({1,2;3,4},3),3,1)", {}, err("#N/A")),
        ("=EXPAND({1,2;3,4},1,1)", {}, err("#VALUE!")),  # smaller than the array
    ],
)
def test_examples(formula: str, cells: dict[str, Any], expected: Any) -> None:
    assert ev(formula, cells) == expected


# not done yet: each a gap, listed here so that the list cannot grow unseen
NOT_YET = {
    "AMORDEGRC",
    "CONVERT",
    "FORECAST.ETS",
    "FORECAST.ETS.CONFINT",
    "FORECAST.ETS.SEASONALITY",
    "FORECAST.ETS.STAT",
    "GETPIVOTDATA",
    "INFO",
    "ISOMITTED",
    "LAMBDA",
    "ODDFPRICE",
    "ODDFYIELD",
    "ODDLPRICE",
    "ODDLYIELD",
    "TRIMRANGE",
}


def test_every_excel_function_is_supported_out_of_scope_or_listed_as_not_yet() -> None:
    cov = coverage()
    assert set(cov.missing) == NOT_YET
    assert set(cov.out_of_scope) == set(OUT_OF_SCOPE)
    assert cov.supported + len(cov.out_of_scope) + len(cov.missing) == cov.total


def test_the_engine_evaluates_nothing_that_is_not_an_excel_function() -> None:
    # internal helpers start with "_", operators are symbols, @RISK functions are @RISK's;
    # NEG is unary minus, SINGLE the @ operator, ANCHORARRAY the # of a spill reference
    own = {n for n in supported_names() if n[0].isalpha() and not n.startswith("RISK")}
    assert own - EXCEL_FUNCTIONS == {"NEG", "SINGLE", "ANCHORARRAY"}
