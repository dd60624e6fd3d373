"""RAND(), RANDBETWEEN, RANDARRAY and NORM.INV(RAND(), ...) are per-trial random inputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from openpyxl.worksheet.formula import ArrayFormula
from scipy import stats
from tests.cli.test_cli import cli
from tests.engines.excel.books import save_book, with_cached_values

import montesim
from montesim.engines.excel.engine import run_trials
from montesim.engines.excel.inspect import inspect_workbook
from montesim.engines.excel.model import build_plan
from montesim.engines.excel.reader import inline_workbook, read_workbook
from montesim.engines.excel.spec import parse_spec
from montesim.engines.excel.verify import verify
from montesim.sampling.seeding import BLOCK

N = 8192
MODEL = {
    "M!A1": "=RAND()",
    "M!A2": "=NORM.INV(RAND(), 100, 10)",
    "M!A3": "=RANDBETWEEN(1, 6)",
    "M!A4": "=A1 + A2 + A3",
    "M!A5": "=RAND() + RAND()",  # two occurrences: two inputs
    "M!A6": "=RANDBETWEEN(A3, A3 + 2)",  # bounds that vary per trial
}


def _sim(cells: dict, outputs: list[str], **kw) -> montesim.simulation.SimulationResult:
    return montesim.simulate(cells, outputs=outputs, iterations=N, seed=3, **kw)


def test_each_occurrence_is_an_input_with_its_family() -> None:
    res = _sim(MODEL, ["M!A4", "M!A5", "M!A6"])
    inputs = {i["cell"]: i for i in res.summary["inputs"]}
    assert set(inputs) == {"M!A1", "M!A2", "M!A3", "M!A5", "M!A5#1", "M!A6"}
    assert inputs["M!A1"]["distribution"] == "uniform(0, 1)"
    assert inputs["M!A2"]["distribution"] == "normal(100, 10)"
    assert inputs["M!A3"]["distribution"] == "intuniform(1, 6)"
    assert inputs["M!A2"]["formula"] == "=NORM.INV(RAND(), 100, 10)"
    # the tornado names them
    sens = res.summary["outputs"]["M!A4"]["sensitivity"]
    assert "M!A2" in json.dumps(sens)


def test_draws_follow_their_distributions_with_latin_hypercube() -> None:
    cells = {"M!A1": "=RAND()", "M!A2": "=NORM.INV(RAND(), 100, 10)", "M!A3": "=RANDBETWEEN(1,6)"}
    res = _sim(cells, ["M!A1", "M!A2", "M!A3"])
    u, x, k = res.outputs["M!A1"], res.outputs["M!A2"], res.outputs["M!A3"]
    # Latin hypercube, block by block of trials: one uniform in each stratum of a block
    for block in (u[:BLOCK], u[BLOCK : 2 * BLOCK]):
        assert np.array_equal(np.floor(np.sort(block) * BLOCK), np.arange(BLOCK))
    assert stats.kstest(x, stats.norm(100, 10).cdf).pvalue > 1e-3
    assert set(np.unique(k)) == {1, 2, 3, 4, 5, 6}
    assert np.all(np.bincount(k.astype(int))[1:] >= N // 6 - 1)  # LHS: balanced faces


def test_randbetween_with_varying_bounds_stays_inside_them() -> None:
    res = _sim(MODEL, ["M!A3", "M!A6"])
    lo, got = res.outputs["M!A3"], res.outputs["M!A6"]
    assert np.all((got >= lo) & (got <= lo + 2)) and np.all(got == np.floor(got))
    assert set(np.unique(got - lo)) == {0, 1, 2}


def test_same_seed_bit_identical_whatever_the_chunking() -> None:
    book = inline_workbook(MODEL)
    spec = parse_spec({"cells": {}, "outputs": ["M!A4", "M!A5", "M!A6"], "iterations": N})
    plan = build_plan(spec, book)
    whole = run_trials(plan, 0, N)
    parts = [run_trials(plan, 0, 4096), run_trials(plan, 4096, 4096)]
    assert np.array_equal(whole.values, np.concatenate([p.values for p in parts], axis=1))


def test_rand_inputs_can_be_correlated() -> None:
    cells = {"M!A1": "=NORM.INV(RAND(), 0, 1)", "M!A2": "=RAND()"}
    corr = {"inputs": ["M!A1", "M!A2"], "matrix": [[1, 0.8], [0.8, 1]]}
    res = _sim(cells, ["M!A1", "M!A2"], correlation=corr)
    rho = stats.spearmanr(res.outputs["M!A1"], res.outputs["M!A2"]).statistic
    assert rho == pytest.approx(0.8, abs=0.03)


def test_randarray_fills_its_array_with_independent_draws(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "M"
    ws["A1"] = ArrayFormula("A1:B2", "=RANDARRAY(2,2,10,20,TRUE)")
    ws["C1"] = "=SUM(A1:B2)"
    path = tmp_path / "ra.xlsx"
    wb.save(path)
    res = montesim.simulate(path, outputs=["M!A1", "M!B2", "M!C1"], iterations=N, seed=1)
    a, b, total = res.outputs["M!A1"], res.outputs["M!B2"], res.outputs["M!C1"]
    assert a.min() >= 10 and a.max() <= 20 and np.all(a == np.floor(a))
    assert abs(stats.spearmanr(a, b).statistic) < 0.05  # their own streams
    assert total.mean() == pytest.approx(60, abs=0.2)
    assert len(res.summary["inputs"]) == 4


def test_inspect_lists_random_cells_as_inputs() -> None:
    info = inspect_workbook(inline_workbook(MODEL))
    found = {(i["cell"], i["family"]) for i in info["inputs"]}
    assert ("M!A1", "uniform(0, 1)") in found
    assert ("M!A2", "normal(100, 10)") in found
    assert ("M!A3", "intuniform(1, 6)") in found
    assert sum(1 for i in info["inputs"] if i["cell"] == "M!A5") == 2
    assert info["unsupported"] == {}


def test_verify_holds_random_cells_at_excel_values(tmp_path: Path) -> None:
    cells = {
        "M!A1": "=RAND()",
        "M!A2": "=NORM.INV(RAND(), 100, 10)",
        "M!A3": "=A1*4 + A2",
        "M!A4": "=RiskMean(A3)",
        "M!A5": "=2+2",
    }
    path = with_cached_values(
        save_book(tmp_path / "r.xlsx", cells),
        {"M!A1": 0.25, "M!A2": 97.5, "M!A3": 98.5, "M!A4": 101.0, "M!A5": 4},
    )
    rep = verify(read_workbook(path))
    assert sorted(rep.random) == ["M!A1", "M!A2", "M!A4"]
    assert rep.compared == 2 and rep.matched == 2 and not rep.mismatches
    done = cli("verify", str(path))
    assert done.returncode == 0 and "3 random" in done.stdout


def test_discrete_inputs_take_a_legal_value_when_nothing_is_random() -> None:
    book = inline_workbook(
        {
            "M!A1": "=RiskDiscrete({1,2,10},{0.3,0.3,0.4})",  # mean 4.9, not a value it takes
            "M!A2": '=CHOOSE(MATCH(A1,{1,2,10},0),"low","mid","high")',
            "M!A3": "=RiskPoisson(2.6)",
        }
    )
    rep = verify(book)
    from montesim.engines.excel.compiler import Compiler

    comp = Compiler(book, static=True)
    comp.compile([("M", 1, 1), ("M", 2, 1), ("M", 3, 1)], on_cycle="mark")
    assert comp.value_of(("M", 1, 1)).to_py() == 2.0  # the value nearest to the mean
    assert comp.value_of(("M", 2, 1)).to_py() == "mid"
    assert comp.value_of(("M", 3, 1)).to_py() == 3.0
    assert rep.formula_cells == 3
