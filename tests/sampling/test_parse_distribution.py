"""parse_distribution: a numbers-only parser for distribution text."""

from __future__ import annotations

import pytest

from montesim.engines.base import InputError
from montesim.sampling import make_distribution, parse_distribution


@pytest.mark.parametrize(
    ("text", "family", "args", "truncate"),
    [
        ("normal(10, 2)", "normal", [10, 2], None),
        ("=RiskNormal(10,2)", "normal", [10, 2], None),
        ("  RiskPert( 1 , 2 , 5 )  ", "pert", [1, 2, 5], None),
        ("RiskTriang(-1, 0, 1e1)", "triang", [-1, 0, 10], None),
        ("uniform(10%, .5)", "uniform", [0.1, 0.5], None),
        ("normal(-3, +0.5)", "normal", [-3, 0.5], None),
        ("discrete({1,2,3},{0.2,0.3,0.5})", "discrete", [[1, 2, 3], [0.2, 0.3, 0.5]], None),
        ("RiskDiscrete({1;2;3}, [0.2, 0.3, 0.5])", "discrete", [[1, 2, 3], [0.2, 0.3, 0.5]], None),
        ("cumul(0, 10, {2, 5}, {0.3, 0.6})", "cumul", [0, 10, [2, 5], [0.3, 0.6]], None),
        ("RiskNormal(10, 2, RiskTruncate(, 12))", "normal", [10, 2], (None, 12)),
        ("normal(10, 2, truncate(5, 15))", "normal", [10, 2], (5, 15)),
        ("expon(4)", "expon", [4], None),
    ],
)
def test_good_strings(text, family, args, truncate):
    assert parse_distribution(text) == make_distribution(family, args, truncate=truncate)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "normal",
        "normal(1,",
        "normal(1, 2))",
        "normal(1 2)",
        "normal(1, x)",
        "foo(1, 2)",
        "__import__('os')",
        "normal(1, __import__('os').system('ls'))",
        "normal(1, 2) + 1",
        "normal(1, 2); uniform(0, 1)",
        "normal(1, 1e999)",
        "normal(1, 2, RiskTruncate(1, 2), 3)",
        "normal(1, RiskName(2))",
        "normal(1, {2, 3})",
        "discrete({1,2},{})",
        "normal(1, 2)\x00",
        "normal(1,,2)",
        "lambda: 0",
        "normal(1.2.3, 1)",
        "x" * 200_000,
    ],
)
def test_bad_strings_are_input_errors(text):
    with pytest.raises(InputError) as info:
        parse_distribution(text, location="--input x")
    assert info.value.code == "invalid_distribution"
    assert info.value.location == "--input x"


def test_non_text_is_an_input_error():
    with pytest.raises(InputError):
        parse_distribution(None)  # type: ignore[arg-type]
