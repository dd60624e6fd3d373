"""Statistical functions added for issue 26, each checked against the example on its
Microsoft help page (the page's data and its stated result, to the digits it shows).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err, ev

# the help pages' example data, as array constants
ZDATA = "{3,6,7,8,6,5,4,2,1,9}"  # Z.TEST
TA = "{3,4,5,8,9,1,2,4,5}"  # T.TEST
TB = "{6,19,3,2,14,4,5,17,1}"
VDATA = "{1345,1301,1368,1322,1310,1370,1318,1350,1303,1299}"  # VARA, VARPA, STDEVPA


@pytest.mark.parametrize(
    ("formula", "expected", "digits"),
    [
        ("=T.DIST.2T(1.959999998,60)", 0.054645, 6),  # T.DIST.2T
        ("=T.DIST.RT(1.959999998,60)", 0.027322, 6),  # T.DIST.RT
        ("=TDIST(1.959999998,60,2)", 0.054644930, 9),  # TDIST
        ("=TDIST(1.959999998,60,1)", 0.027322465, 9),
        ("=F.DIST(15.2069,6,4,TRUE)", 0.99, 2),  # F.DIST
        ("=F.DIST(15.2069,6,4,FALSE)", 0.0012238, 7),
        ("=F.DIST.RT(15.2068649,6,4)", 0.01, 6),  # F.DIST.RT
        ("=FDIST(15.2068649,6,4)", 0.01, 6),  # FDIST
        ("=F.INV(0.01,6,4)", 0.10930991, 8),  # F.INV
        ("=F.INV.RT(0.01,6,4)", 15.20686, 5),  # F.INV.RT
        ("=FINV(0.01,6,4)", 15.206865, 6),  # FINV
        ("=CHISQ.DIST.RT(18.307,10)", 0.0500006, 7),  # CHISQ.DIST.RT
        ("=CHIDIST(18.307,10)", 0.050000589, 9),  # CHIDIST
        ("=CHISQ.INV.RT(0.050001,10)", 18.306973, 6),  # CHISQ.INV.RT
        ("=CHIINV(0.050001,10)", 18.306973, 6),  # CHIINV
        ("=BINOM.INV(6,0.5,0.75)", 4.0, 9),  # BINOM.INV
        ("=CRITBINOM(6,0.5,0.75)", 4.0, 9),  # CRITBINOM
        ("=BINOM.DIST.RANGE(60,0.75,48)", 0.084, 3),  # BINOM.DIST.RANGE
        ("=BINOM.DIST.RANGE(60,0.75,45,50)", 0.524, 3),
        ("=NEGBINOM.DIST(10,5,0.25,TRUE)", 0.3135141, 7),  # NEGBINOM.DIST
        ("=NEGBINOM.DIST(10,5,0.25,FALSE)", 0.0550487, 7),
        ("=NEGBINOMDIST(10,5,0.25)", 0.05504866, 8),  # NEGBINOMDIST
        ("=HYPGEOM.DIST(1,4,8,20,TRUE)", 0.4654, 4),  # HYPGEOM.DIST
        ("=HYPGEOM.DIST(1,4,8,20,FALSE)", 0.3633, 4),
        ("=HYPGEOMDIST(1,4,8,20)", 0.363261, 6),  # HYPGEOMDIST
        ("=CONFIDENCE.T(0.05,1,50)", 0.284196855, 9),  # CONFIDENCE.T
        ("=GAMMA(2.5)", 1.329, 3),  # GAMMA
        ("=GAMMA(-3.75)", 0.268, 3),
        ("=PERMUTATIONA(3,2)", 9.0, 9),  # PERMUTATIONA
        ("=PERMUTATIONA(2,2)", 4.0, 9),
        (f"=Z.TEST({ZDATA},4)", 0.090574, 6),  # Z.TEST
        (f"=Z.TEST({ZDATA},6)", 0.863043, 6),
        (f"=ZTEST({ZDATA},4)", 0.090574, 6),  # ZTEST
        (f"=T.TEST({TA},{TB},2,1)", 0.196016, 6),  # T.TEST
        (f"=TTEST({TA},{TB},2,1)", 0.196016, 6),  # TTEST
        ("=F.TEST({6,7,9,15,21},{20,28,31,38,40})", 0.64831785, 8),  # F.TEST
        (  # CHISQ.TEST: the help page's observed and expected tables
            "=CHISQ.TEST({58,35;11,25;10,23},{45.35,47.65;17.56,18.44;16.09,16.91})",
            0.0003082,
            7,
        ),
        ("=SKEW.P({3,4,5,2,3,4,5,6,4,7})", 0.303193, 6),  # SKEW.P
        (f"=VARA({VDATA})", 754.2667, 4),  # VARA
        (f"=VARPA({VDATA})", 678.84, 2),  # VARPA
        (f"=STDEVPA({VDATA})", 26.05455814, 8),  # STDEVPA
        ("=TRIMMEAN({4,5,6,7,2,3,4,5,1,2,3},0.2)", 3.777778, 6),  # TRIMMEAN
        ("=PERCENTRANK.INC({13,12,11,8,4,3,2,1,1,1},2)", 0.333, 3),  # PERCENTRANK.INC
        ("=PERCENTRANK.INC({13,12,11,8,4,3,2,1,1,1},4)", 0.555, 3),
        ("=PERCENTRANK.INC({13,12,11,8,4,3,2,1,1,1},8)", 0.666, 3),
        ("=PERCENTRANK.INC({13,12,11,8,4,3,2,1,1,1},5)", 0.583, 3),
        ("=PERCENTRANK({13,12,11,8,4,3,2,1,1,1},2)", 0.333, 3),  # PERCENTRANK
        ("=PERCENTRANK.EXC({1,2,3,6,6,6,7,8,9},7)", 0.7, 3),  # PERCENTRANK.EXC
        ("=PERCENTRANK.EXC({1,2,3,6,6,6,7,8,9},5.43)", 0.381, 3),
        ("=PERCENTRANK.EXC({1,2,3,6,6,6,7,8,9},5.43,1)", 0.3, 3),
        ("=STEYX({2,3,9,1,8,7,5},{6,5,11,7,5,4,4})", 3.305719, 6),  # STEYX
        ("=PROB({0,1,2,3},{0.2,0.3,0.1,0.4},2)", 0.1, 9),  # PROB
        ("=PROB({0,1,2,3},{0.2,0.3,0.1,0.4},1,3)", 0.8, 9),
    ],
)
def test_help_page_examples(formula: str, expected: float, digits: int) -> None:
    assert round(ev(formula), digits) == expected


@pytest.mark.parametrize(
    ("formula", "code"),
    [
        ("=GAMMA(0)", "#NUM!"),  # GAMMA: 0 and negative integers
        ("=GAMMA(-2)", "#NUM!"),
        ("=T.DIST.2T(-1,10)", "#NUM!"),  # x < 0
        ("=TDIST(1,10,3)", "#NUM!"),  # tails other than 1 or 2
        ("=F.DIST(1,0,4,TRUE)", "#NUM!"),  # deg_freedom < 1
        ("=BINOM.INV(6,1.5,0.75)", "#NUM!"),
        ("=HYPGEOM.DIST(5,4,8,20,TRUE)", "#NUM!"),  # sample_s > number_sample
        ("=CONFIDENCE.T(0.05,1,1)", "#NUM!"),
        ("=TRIMMEAN({1,2,3},1)", "#NUM!"),  # percent >= 1
        ("=PERCENTRANK.INC({1,2,3},4)", "#N/A"),  # x outside the data
        ("=PERCENTRANK.INC({1,2,3},2,0)", "#NUM!"),  # significance < 1
        ("=PROB({0,1},{0.5,0.6},1)", "#NUM!"),  # probabilities not summing to 1
        ("=PROB({0,1,2},{0.5,0.5},1)", "#N/A"),  # ranges of different sizes
        ("=T.TEST({1,2,3},{1,2},2,1)", "#N/A"),  # paired samples of different sizes
        ("=T.TEST({1,2,3},{1,2,4},3,1)", "#NUM!"),
        ("=CHISQ.TEST({1,2},{1,2,3})", "#N/A"),
    ],
)
def test_bad_arguments(formula: str, code: str) -> None:
    assert ev(formula) == err(code)


def test_welch_and_pooled_t_tests_match_scipy() -> None:
    from scipy import stats

    a, b = [3, 4, 5, 8, 9, 1, 2, 4, 5], [6, 19, 3, 2, 14, 4, 5, 17, 1]
    pooled = stats.ttest_ind(a, b, equal_var=True).pvalue
    welch = stats.ttest_ind(a, b, equal_var=False).pvalue
    got: Any = ev(f"=T.TEST({TA},{TB},2,2)")
    assert abs(got - pooled) < 1e-12
    got = ev(f"=T.TEST({TA},{TB},1,3)")
    assert abs(got - welch / 2) < 1e-12
