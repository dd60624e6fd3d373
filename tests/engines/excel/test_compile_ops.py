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
