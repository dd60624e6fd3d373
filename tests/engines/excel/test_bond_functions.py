"""Coupon and bond functions against the examples on their Microsoft help pages."""

from __future__ import annotations

import pytest
from tests.engines.excel.test_excel_rules import err, ev

S = "DATE(2011,1,25),DATE(2011,11,15),2,1"  # the COUP... pages' bond


@pytest.mark.parametrize(
    ("formula", "expected", "digits"),
    [
        (f"=COUPDAYBS({S})", 71, 0),
        (f"=COUPDAYS({S})", 181, 0),
        (f"=COUPDAYSNC({S})", 110, 0),
        (f"=COUPNCD({S})", 40678, 0),  # 15 May 2011
        (f"=COUPPCD({S})", 40497, 0),  # 15 November 2010
        ("=COUPNUM(DATE(2007,1,25),DATE(2008,11,15),2,1)", 4, 0),
        ("=PRICE(DATE(2008,2,15),DATE(2017,11,15),0.0575,0.065,100,2,0)", 94.63436, 5),
        ("=YIELD(DATE(2008,2,15),DATE(2016,11,15),0.0575,95.04287,100,2,0)", 0.065, 6),
        ("=DURATION(DATE(2018,7,1),DATE(2048,1,1),0.08,0.09,2,1)", 10.9191453, 7),
        ("=MDURATION(DATE(2008,1,1),DATE(2016,1,1),0.08,0.09,2,1)", 5.73567, 5),
        ("=ACCRINT(DATE(2008,3,1),DATE(2008,8,31),DATE(2008,5,1),0.1,1000,2,0)", 16.666667, 6),
        (
            "=ACCRINT(DATE(2008,3,5),DATE(2008,8,31),DATE(2008,5,1),0.1,1000,2,0,FALSE)",
            15.555556,
            6,
        ),
        ("=ACCRINT(DATE(2008,3,5),DATE(2008,8,31),DATE(2008,5,1),0.1,1000,2,0,TRUE)", 15.555556, 6),
    ],
)
def test_help_page_examples(formula: str, expected: float, digits: int) -> None:
    assert round(ev(formula), digits) == expected


def test_price_at_its_yield_is_the_price() -> None:
    # YIELD inverts PRICE: the price at the yield found is the price given
    y = ev("=YIELD(DATE(2008,2,15),DATE(2016,11,15),0.0575,95.04287,100,2,0)")
    p = ev(f"=PRICE(DATE(2008,2,15),DATE(2016,11,15),0.0575,{y!r},100,2,0)")
    assert abs(p - 95.04287) < 1e-9


@pytest.mark.parametrize(
    "formula",
    [
        "=COUPDAYS(DATE(2011,11,15),DATE(2011,1,25),2,1)",  # settlement after maturity
        "=COUPDAYS(DATE(2011,1,25),DATE(2011,11,15),3,1)",  # frequency 3
        "=COUPDAYS(DATE(2011,1,25),DATE(2011,11,15),2,5)",  # basis 5
        "=PRICE(DATE(2008,2,15),DATE(2017,11,15),-0.01,0.065,100,2,0)",
    ],
)
def test_bad_arguments(formula: str) -> None:
    assert ev(formula) == err("#NUM!")
