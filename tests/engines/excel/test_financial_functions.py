"""Financial and working-day functions added for issue 26, against the examples on their
Microsoft help pages (the stated results, to the digits shown)."""

from __future__ import annotations

import pytest
from tests.engines.excel.test_excel_rules import err, ev


@pytest.mark.parametrize(
    ("formula", "expected", "digits"),
    [
        ("=FVSCHEDULE(1,{0.09,0.11,0.1})", 1.33089, 5),  # FVSCHEDULE
        ("=PDURATION(2.5%,2000,2200)", 3.86, 2),  # PDURATION
        ("=PDURATION(0.025/12,1000,1200)", 87.6, 1),
        ("=ISPMT(0.1/12,1,3*12,8000000)", -64814.8, 1),  # ISPMT
        ("=ISPMT(0.1,1,3,8000000)", -533333, 0),
        ("=DOLLARDE(1.02,16)", 1.125, 9),  # DOLLARDE
        ("=DOLLARDE(1.1,32)", 1.3125, 9),
        ("=DOLLARFR(1.125,16)", 1.02, 9),  # DOLLARFR
        ("=DOLLARFR(1.125,32)", 1.04, 9),
        ("=INTRATE(DATE(2008,2,15),DATE(2008,5,15),1000000,1014420,2)", 0.05768, 5),
        ("=RECEIVED(DATE(2008,2,15),DATE(2008,5,15),1000000,0.0575,2)", 1014584.65, 2),
        ("=PRICEDISC(DATE(2008,2,16),DATE(2008,3,1),0.0525,100,2)", 99.79583, 5),
        ("=YIELDDISC(DATE(2008,2,16),DATE(2008,3,1),99.795,100,2)", 0.052823, 6),
        ("=TBILLPRICE(DATE(2008,3,31),DATE(2008,6,1),0.09)", 98.45, 2),
        ("=TBILLYIELD(DATE(2008,3,31),DATE(2008,6,1),98.45)", 0.0914, 4),
        ("=TBILLEQ(DATE(2008,3,31),DATE(2008,6,1),0.0914)", 0.094151, 6),
        ("=ACCRINTM(DATE(2008,4,1),DATE(2008,6,15),0.1,1000,3)", 20.54794521, 8),
        (
            "=PRICEMAT(DATE(2008,2,15),DATE(2008,4,13),DATE(2007,11,11),0.061,0.061,0)",
            99.98449888,
            8,
        ),
        (
            "=YIELDMAT(DATE(2008,3,15),DATE(2008,11,3),DATE(2007,11,8),0.0625,100.0123,0)",
            0.060954,
            6,
        ),
        ("=AMORLINC(2400,DATE(2008,8,19),DATE(2008,12,31),300,1,0.15,1)", 360, 0),
        # AMORLINC's rule, the periods adding up to cost - salvage: a first part prorated
        # over the 134 of 366 days of 2008 (basis 1), then 360 a year, the rest at the end
        (
            "=SUM(AMORLINC(2400,DATE(2008,8,19),DATE(2008,12,31),300,{0,1,2,3,4,5,6,7,8},0.15,1))",
            2100,
            9,
        ),
        # DISC: 2.025 off 100 over the 91 days (actual/360) of the page's second example
        ("=DISC(DATE(2007,1,25),DATE(2007,6,15),97.975,100,1)", 0.052420213, 9),
        # working days: the NETWORKDAYS.INTL and WORKDAY.INTL help pages
        ("=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,1,31))", 22, 0),
        ("=NETWORKDAYS.INTL(DATE(2006,2,28),DATE(2006,1,31))", -21, 0),
        ('=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,2,1),7,{"2006/1/2","2006/1/16"})', 22, 0),
        (
            '=NETWORKDAYS.INTL(DATE(2006,1,1),DATE(2006,2,1),"0010001",{"2006/1/2","2006/1/16"})',
            20,
            0,
        ),
        ("=WORKDAY.INTL(DATE(2012,1,1),90,11)", 41013, 0),
        ("=WORKDAY.INTL(DATE(2012,1,1),30,17)", 40944, 0),  # 2012-02-05
    ],
)
def test_help_page_examples(formula: str, expected: float, digits: int) -> None:
    assert round(ev(formula), digits) == expected


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("=WORKDAY.INTL(DATE(2012,1,1),30,0)", "#NUM!"),  # no weekend code 0
        ('=NETWORKDAYS.INTL(1,30,"1111111")', "#VALUE!"),  # every day off
        ("=DOLLARDE(1.02,0)", "#DIV/0!"),
        ("=DOLLARDE(1.02,-1)", "#NUM!"),
        ("=PDURATION(0,1,2)", "#NUM!"),
        ("=INTRATE(DATE(2008,5,15),DATE(2008,2,15),1000000,1014420,2)", "#NUM!"),  # order
        ("=INTRATE(DATE(2008,2,15),DATE(2008,5,15),1000000,1014420,5)", "#NUM!"),  # basis
        ("=TBILLPRICE(DATE(2008,3,31),DATE(2009,6,1),0.09)", "#NUM!"),  # over a year
    ],
)
def test_bad_arguments(formula: str, code: str) -> None:
    assert ev(formula) == err(code)
