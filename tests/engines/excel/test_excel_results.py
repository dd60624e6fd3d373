"""Excel results: output columns spilled to a file give the same result as in memory."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.engines.base import InputError
from montesim.engines.excel.columns import RESULT_MEMORY_ENV, SpilledColumns, result_memory
from montesim.engines.excel.engine import run_trials
from montesim.engines.excel.model import load_plan
from montesim.engines.excel.results import Collector, iteration_tables, summary
from montesim.engines.excel.spec import parse_spec

CELLS = {
    "M!A1": "=RiskNormal(10, 2)",
    "M!A2": "=RiskUniform(-1, 1)",
    "M!B1": '=RiskOutput("Sum") + A1 + A2',
    "M!B2": '=RiskOutput("Root") + SQRT(A2)',  # #NUM! where A2 < 0
}


def _plan(iterations: int, raw: int):
    spec = {"cells": CELLS, "iterations": iterations, "seed": 3, "raw_iterations": raw}
    spec["chunk_size"] = 4096
    return load_plan(parse_spec(spec), {})


def _collect(plan, **kw):
    collector = Collector(plan, **kw)
    chunks = [(s, min(4096, plan.iterations - s)) for s in range(0, plan.iterations, 4096)]
    for start, size in reversed(chunks):  # any order
        collector.add(run_trials(plan, start, size))
    return collector


def test_spilled_columns_give_the_same_summary_and_tables(tmp_path) -> None:
    plan = _plan(3 * 4096 + 500, 5000)
    memory = _collect(plan)
    spilled = _collect(plan, memory=0, spill_dir=str(tmp_path))
    assert not memory.spilled and spilled.spilled
    assert isinstance(spilled.values, SpilledColumns) and isinstance(spilled.codes, SpilledColumns)
    a, b = memory.arrays(), spilled.arrays()
    assert summary(plan, *a) == summary(plan, *b)
    assert iteration_tables(plan, *a) == iteration_tables(plan, *b)
    np.testing.assert_array_equal(a[0], b[0].mapped())
    np.testing.assert_array_equal(a[1], b[1][:, :])
    assert summary(plan, *b)["outputs"]["Root"]["errors"] == {"#NUM!": int((a[1][1] != 0).sum())}


def test_sensitivity_says_how_many_iterations_it_used() -> None:
    plan = _plan(9000, 5000)
    out = summary(plan, *_collect(plan).arrays())
    assert out["sensitivity_iterations"] == 5000 == out["raw_iterations"]
    assert {t["input"] for t in out["outputs"]["Sum"]["sensitivity"]["tornado"]} == {
        "M!A1",
        "M!A2",
    }
    none = _plan(9000, 0)
    assert summary(none, *_collect(none).arrays())["sensitivity_iterations"] == 0


def test_result_memory_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RESULT_MEMORY_ENV, raising=False)
    assert result_memory() == 256 * 2**20
    monkeypatch.setenv(RESULT_MEMORY_ENV, "1.5")
    assert result_memory() == int(1.5 * 2**20)
    for bad in ("lots", "-3", "nan"):
        monkeypatch.setenv(RESULT_MEMORY_ENV, bad)
        with pytest.raises(InputError, match=RESULT_MEMORY_ENV):
            result_memory()


def test_error_trials_are_dropped_in_place_as_a_copy_would() -> None:
    from montesim.engines.excel import results

    rng = np.random.default_rng(4)
    for n in (0, 1, 5, results.KEEP_PIECE - 1, results.KEEP_PIECE, 2 * results.KEEP_PIECE + 7):
        x = rng.random(n)
        ok = rng.random(n) < 0.7
        expected = x[ok].copy()
        kept = results.keep_in_place(x, ok)
        assert np.array_equal(kept, expected)
        assert kept.base is x  # a view of the front of x, not a second array
    x = np.arange(10.0)
    assert np.array_equal(results.keep_in_place(x, np.zeros(10, bool)), [])
    assert np.array_equal(results.keep_in_place(np.arange(4.0), np.ones(4, bool)), np.arange(4.0))
