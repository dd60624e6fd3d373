"""LAMBDA helpers (MAP, BYROW, BYCOL, REDUCE, SCAN, MAKEARRAY, LAMBDA names) and the
conditional aggregates over arrays of criteria; expected values worked out from the
definitions in Excel's documentation, not from the engine."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.reader import inline_workbook
from montesim.simulation import simulate

GRID = {"S!A1": 1, "S!B1": 2, "S!C1": 3, "S!A2": 4, "S!B2": 5, "S!C2": 6}


def cell(cells: dict, formula: str, names: dict | None = None) -> object:
    book = inline_workbook({**cells, "S!E1": formula}, names or {})
    comp = Compiler(book)
    comp.compile([("S", 1, 5)])
    return comp.value_of(("S", 1, 5)).to_py()


def grid_of(cells: dict, formula: str, names: dict | None = None) -> list[list[object]]:
    """The whole array ``formula`` gives, read element by element with INDEX."""
    inner = formula.lstrip("=")
    rows, cols = (int(cell(cells, f"={f}({inner})", names)) for f in ("ROWS", "COLUMNS"))
    return [
        [cell(cells, f"=INDEX({inner},{r},{c})", names) for c in range(1, cols + 1)]
        for r in range(1, rows + 1)
    ]


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("=SUM(MAP(A1:C2, LAMBDA(a, IF(a>4, a*a, a))))", 1 + 2 + 3 + 4 + 25 + 36),
        ("=REDUCE(0, A1:C2, LAMBDA(acc, x, acc + x^2))", 91),
        ("=INDEX(SCAN(0, A1:C2, LAMBDA(acc, x, acc + x)), 2, 3)", 21),
        ('=INDEX(SCAN("", A1:C1, LAMBDA(acc, x, acc & x)), 1, 3)', "123"),
        ("=INDEX(BYROW(A1:C2, LAMBDA(r, MAX(r))), 2, 1)", 6),
        ("=SUM(BYCOL(A1:C2, LAMBDA(c, PRODUCT(c))))", 4 + 10 + 18),
        ("=SUM(MAKEARRAY(3, 3, LAMBDA(r, c, r*c)))", 36),
        ("=SUM(MAP(A1:C1, A2:C2, LAMBDA(x, y, x*y)))", 4 + 10 + 18),
        ("=INDEX(MAP(A1:B1, LAMBDA(x, {1,2})), 1, 1)", "#CALC!"),
        ("=REDUCE(0, A1:C2, LAMBDA(acc, acc + 1))", "#VALUE!"),
    ],
)
def test_lambda_helpers(formula: str, expected: object) -> None:
    got = cell(GRID, formula)
    assert (str(got) if not isinstance(expected, int | float) else got) == expected


def test_a_name_defined_as_a_lambda_is_a_function() -> None:
    names = {"Tax": "=LAMBDA(amount, rate, amount * rate)"}
    assert cell(GRID, "=Tax(C2, 0.25) + Tax(A1, 1)", names) == 2.5


def test_criteria_arrays_give_arrays() -> None:
    cells = {f"S!A{i + 1}": v for i, v in enumerate("babcba")}
    cells.update({f"S!B{i + 1}": i + 1 for i in range(6)})
    assert grid_of(cells, '=COUNTIF(A1:A6, {"a","b","z"})') == [[2.0, 3.0, 0.0]]
    assert grid_of(cells, '=SUMIFS(B1:B6, A1:A6, {"a";"c"})') == [[8.0], [4.0]]
    assert grid_of(cells, '=AVERAGEIF(A1:A6, {"b","q"}, B1:B6)')[0][0] == 3.0
    assert str(grid_of(cells, '=AVERAGEIF(A1:A6, {"b","q"}, B1:B6)')[0][1]) == "#DIV/0!"
    counts = grid_of(
        cells, "=LET(u, SORT(UNIQUE(A1:A6)), SORT(HSTACK(u, COUNTIF(A1:A6, u)), 2, -1))"
    )
    assert counts == [["b", 3.0], ["a", 2.0], ["c", 1.0]]


def test_map_over_random_inputs_runs_per_iteration() -> None:
    cells = {"S!A1": "=RiskUniform(0, 1)", "S!A2": "=RiskUniform(0, 1)"}
    cells["S!B1"] = '=RiskOutput("sq") + SUM(MAP(A1:A2, LAMBDA(x, x*x)))'
    res = simulate(cells, iterations=500, seed=1, raw_iterations=500)
    a, b = (res.inputs[k] for k in sorted(res.inputs))
    assert np.allclose(res.outputs["sq"], a * a + b * b)


def test_sort_by_several_columns() -> None:
    # SORT's sort_index and sort_order may be arrays (Excel's documentation: {2,1} sorts
    # by the second column, then the first)
    cells = {"S!A1": 2, "S!B1": "b", "S!A2": 1, "S!B2": "a", "S!A3": 3, "S!B3": "a"}
    assert grid_of(cells, "=SORT(A1:B3, {2,1})") == [[1.0, "a"], [3.0, "a"], [2.0, "b"]]
    assert grid_of(cells, "=SORT(A1:B3, {2,1}, {1,-1})") == [[3.0, "a"], [1.0, "a"], [2.0, "b"]]
    assert str(cell(cells, "=INDEX(SORT(A1:B3, {2,1}, {1,-1,1}), 1, 1)")) == "#VALUE!"
