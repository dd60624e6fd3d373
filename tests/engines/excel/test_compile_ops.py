"""The compiled program holds no op whose result nobody reads: INDEX with a random
position compiles its arguments once (it used to emit them three times)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from montesim.engines.excel.draws import draw_inputs
from montesim.engines.excel.engine import ExcelEngine, run_trials

CELLS = {
    "M!A1": 10,
    "M!A2": 20,
    "M!A3": 30,
    "M!B1": "=RiskUniform(0, 35)",
    "M!B2": "=INDEX(A1:A3, MATCH(B1, A1:A3, 1))",
    "M!B3": "=B2 + INDEX(A1:A3, 2)",
}


def read_slots(plan) -> set[int]:
    read = {o.slot for o in plan.outputs if o.slot is not None}
    for op in plan.program.ops:
        read.update(a[1] for a in op.args if a is not None and a[0] == "s")
        if op.fn == "@fill":
            read.update(a[1] for a in op.data[1] if a is not None and a[0] == "s")
    return read


def test_index_of_a_random_position_emits_its_arguments_once() -> None:
    plan = ExcelEngine().validate(
        {"cells": CELLS, "outputs": ["M!B3"], "iterations": 4096, "seed": 2}, {}
    )
    fns = Counter(op.fn for op in plan.program.ops)
    assert fns["MATCH"] == 1
    unread = [op.fn for op in plan.program.ops if op.out not in read_slots(plan)]
    assert unread == []
    part = run_trials(plan, 0, 4096)
    b1 = draw_inputs(plan, 0, 4096)[:, 0]
    expected = np.select([b1 >= 30, b1 >= 20, b1 >= 10], [30.0, 20.0, 10.0], np.nan) + 20
    np.testing.assert_array_equal(part.values[0], expected)


def test_a_copied_formula_shares_its_literals_and_reads_fixed_index_positions_once() -> None:
    """A literal repeated down a column is one constant of the program, and INDEX with
    positions fixed at compile time reads the cell they name (its MATCH evaluated once,
    nothing of it left in the program)."""
    cells: dict[str, object] = {"M!A1": "=RiskUniform(0, 1)", "M!C1": 5, "M!C2": 7}
    for r in range(2, 40):
        cells[f"M!A{r}"] = f"=A{r - 1}*1.5+2.25"
    cells["M!B1"] = "=A39+INDEX(C1:C2, MATCH(7, C1:C2, 0))"
    plan = ExcelEngine().validate(
        {"cells": cells, "outputs": ["M!B1"], "iterations": 4096, "seed": 3}, {}
    )
    literals = [v.num.item() for v in plan.program.consts if v.num.size == 1]
    assert literals.count(1.5) == 1 and literals.count(2.25) == 1
    assert "MATCH" not in {op.fn for op in plan.program.ops}
    part = run_trials(plan, 0, 4096)
    x = draw_inputs(plan, 0, 4096)[:, 0]
    for _ in range(38):
        x = x * 1.5 + 2.25
    np.testing.assert_allclose(part.values[0], x + 7, rtol=1e-12)
