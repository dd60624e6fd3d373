"""Math and engineering functions added for issue 26, each checked against the example on
its Microsoft help page (the stated result, to the digits the page shows)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err, ev

X = "{2,3,9,1,8,7,5}"  # SUMXMY2, SUMX2MY2, SUMX2PY2 help pages
Y = "{6,5,11,7,5,4,4}"


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=BASE(7,2)", "111"),  # BASE
        ("=BASE(100,16)", "64"),
        ("=BASE(15,2,10)", "0000001111"),
        ('=DECIMAL("FF",16)', 255.0),  # DECIMAL
        ("=DECIMAL(111,2)", 7.0),
        ('=DECIMAL("zap",36)', 45745.0),
        ("=ROMAN(499,0)", "CDXCIX"),  # ROMAN
        ("=ROMAN(499,1)", "LDVLIV"),
        ("=ROMAN(499,2)", "XDIX"),
        ("=ROMAN(499,3)", "VDIV"),
        ("=ROMAN(499,4)", "ID"),
        ("=ROMAN(2013,0)", "MMXIII"),
        ('=ARABIC("LVII")', 57.0),  # ARABIC
        ('=ARABIC("mcmxii")', 1912.0),
        ('=ARABIC("")', 0.0),
        ('=ARABIC("-MMXI")', -2011.0),
        (f"=SUMXMY2({X},{Y})", 79.0),
        (f"=SUMX2MY2({X},{Y})", -55.0),
        (f"=SUMX2PY2({X},{Y})", 521.0),
        ("=MULTINOMIAL(2,3,4)", 1260.0),  # MULTINOMIAL
        ("=COMBINA(4,3)", 20.0),  # COMBINA
        ("=COMBINA(10,3)", 220.0),
        ("=BITLSHIFT(4,2)", 16.0),  # BITLSHIFT
        ("=BITRSHIFT(13,2)", 3.0),  # BITRSHIFT
    ],
)
def test_exact_examples(formula: str, expected: Any) -> None:
    assert ev(formula) == expected


@pytest.mark.parametrize(
    ("formula", "expected", "digits"),
    [
        # SERIESSUM: cos(pi/4) from the first terms of its series
        (
            "=SERIESSUM(PI()/4,0,2,{1,-0.5,0.0416666666666667,-0.00138888888888889})",
            0.707103,
            6,
        ),
        ("=ACOT(2)", 0.4636, 4),  # ACOT
        ("=ACOTH(6)", 0.168, 3),  # ACOTH
        ("=COTH(2)", 1.037, 3),  # COTH
        ("=CSCH(1.5)", 0.4696, 4),  # CSCH
        ("=SECH(0.785398163397448)", 0.75, 2),  # SECH (the page rounds to 0.75)
        ("=ERF(0.745)", 0.70792892, 8),  # ERF
        ("=ERF(1,2)", 0.15262147, 8),
        ("=ERF.PRECISE(0.745)", 0.70792892, 8),  # ERF.PRECISE
        ("=ERF.PRECISE(1)", 0.84270079, 8),
        ("=ERFC(1)", 0.15729921, 8),  # ERFC
        ("=ERFC.PRECISE(1)", 0.15729921, 8),  # ERFC.PRECISE
    ],
)
def test_rounded_examples(formula: str, expected: float, digits: int) -> None:
    assert round(ev(formula), digits) == expected


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("=BASE(-1,2)", "#NUM!"),
        ("=BASE(7,37)", "#NUM!"),
        ('=DECIMAL("12",2)', "#NUM!"),  # a digit the base does not have
        ("=ROMAN(4000)", "#VALUE!"),
        ('=ARABIC("ABC")', "#VALUE!"),
        ("=SUMXMY2({1,2},{1,2,3})", "#N/A"),
        ("=MULTINOMIAL(-1,2)", "#NUM!"),
        ("=ACOTH(0.5)", "#NUM!"),
        ("=COTH(0)", "#DIV/0!"),
        ("=BITLSHIFT(-1,2)", "#NUM!"),
    ],
)
def test_bad_arguments(formula: str, code: str) -> None:
    assert ev(formula) == err(code)
