"""The excel engine in process: statistics, per-trial errors, determinism, scalar agreement."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats
from tests.engines.excel.books import save_book

import montesim
from montesim.engines.base import NullContext
from montesim.engines.excel import ExcelEngine
from montesim.engines.excel.compiler import Compiler, Const
from montesim.engines.excel.functions import EvalContext
from montesim.engines.excel.program import run
from montesim.engines.excel.reader import inline_workbook
from montesim.engines.excel.refs import parse_area
from montesim.sampling.draw import sample_inputs

PROFIT = {
    "M!A1": "Units",
    "M!B1": '=RiskTriang(800, 1000, 1500, RiskName("Units"))',
    "M!B2": '=RiskNormal(25, 3, RiskName("Price"))',
    "M!B3": '=RiskUniform(12, 16, RiskName("Cost"))',
    "M!B4": 6000,
    "M!B5": '=RiskOutput("Profit") + B1*(B2-B3) - B4',
    "M!B6": "=B5/(B1*B2)",
}


def test_profit_model_statistics_match_theory() -> None:
    res = montesim.simulate(PROFIT, iterations=40_000, seed=7)
    assert list(res.summary["outputs"]) == ["Profit"]  # found through RiskOutput()
    profit = res.stats("Profit")
    # E[units] (E[price] - E[cost]) - fixed: the inputs are independent
    expected = (800 + 1000 + 1500) / 3 * (25 - 14) - 6000
    half = profit["ci95_mean"][1] - profit["mean"]
    assert abs(profit["mean"] - expected) < 4 * half
    assert profit["n"] == 40_000 and profit["error_trials"] == 0 and profit["errors"] == {}
    assert set(profit["percentiles"]) == {f"p{p}" for p in (1, 5, 10, 25, 50, 75, 90, 95, 99)}
    pct = list(profit["percentiles"].values())
    assert pct == sorted(pct) and profit["min"] <= pct[0] and pct[-1] <= profit["max"]
    assert sum(profit["histogram"]["counts"]) == 40_000
    assert profit["ecdf"][0]["x"] == profit["min"] and profit["ecdf"][-1]["x"] == profit["max"]
    raw = res.outputs["Profit"]
    assert profit["std"] == pytest.approx(np.std(raw, ddof=1), rel=1e-12)
    assert profit["skewness"] == pytest.approx(stats.skew(raw, bias=False), rel=1e-9)
    # sensitivity: price drives profit most, cost negatively; shares sum to 1
    tornado = profit["sensitivity"]["tornado"]
    assert tornado[0]["input"] == "Price"
    assert {t["input"]: t["rho"] for t in tornado}["Cost"] < 0
    shares = [c["share"] for c in profit["sensitivity"]["contribution_to_variance"]]
    assert sum(shares) == pytest.approx(1.0)
    spider = {s["input"]: s["points"] for s in profit["sensitivity"]["spider"]}
    price = [p["delta_mean"] for p in spider["Price"]]
    assert len(price) == 10 and price == sorted(price)  # profit rises with the price decile
    inputs = {i["name"]: i for i in res.summary["inputs"]}
    assert inputs["Units"]["cell"] == "M!B1" and inputs["Units"]["family"] == "triang"
    assert inputs["Cost"]["mean"] == pytest.approx(14, abs=0.01)


def test_several_outputs_share_draws_and_correlate() -> None:
    res = montesim.simulate(
        PROFIT, outputs=["M!B5", {"cell": "M!B6", "name": "Margin"}], iterations=8192, seed=1
    )
    profit, margin = res.outputs["M!B5"], res.outputs["Margin"]
    units, price = res.inputs["Units"], res.inputs["Price"]
    np.testing.assert_allclose(margin, profit / (units * price), rtol=1e-12)
    corr = res.summary["output_correlation"]
    assert corr["names"] == ["M!B5", "Margin"] and corr["spearman"][0][1] > 0.9


def test_errors_are_counted_per_trial_and_never_leak_from_untaken_branches() -> None:
    cells = {
        "S!A1": "=RiskUniform(-1, 1)",
        "S!B1": "=IF(A1>0, LN(A1), -1)",  # LN of a negative is only in the untaken branch
        "S!B2": "=LN(A1)",
        "S!B3": "=IFERROR(1/(A1>0), 0)",
        "S!B4": "=1/(A1>0)",
        "S!B5": '=IF(A1>0, "up", 1)',
        "S!B6": "=CHOOSE(IF(A1>0,1,2), 5, NA())",
        "S!B7": "=AND(A1>0, LN(A1)>-100)",
    }
    outs = ["S!B1", "S!B2", "S!B3", "S!B4", "S!B5", "S!B6", "S!B7"]
    res = montesim.simulate(cells, outputs=outs, iterations=10_000, seed=3)
    neg = int((res.inputs["S!A1"] <= 0).sum())
    assert 4000 < neg < 6000
    s = res.summary["outputs"]
    assert s["S!B1"]["errors"] == {} and s["S!B3"]["errors"] == {}
    assert s["S!B2"]["errors"] == {"#NUM!": neg}
    assert s["S!B4"]["errors"] == {"#DIV/0!": neg} and s["S!B4"]["n"] == 10_000 - neg
    assert s["S!B5"]["errors"] == {"non-numeric": 10_000 - neg}
    assert s["S!B6"]["errors"] == {"#N/A": neg}
    # AND evaluates every argument: LN's #NUM! reaches the trials with A1 <= 0
    assert s["S!B7"]["errors"] == {"#NUM!": neg}
    assert np.isnan(res.outputs["S!B2"][res.inputs["S!A1"] <= 0]).all()


def test_identical_results_whatever_the_chunking_and_process_count() -> None:
    cells = {
        **PROFIT,
        "M!C1": "=RiskPert(1, 3, 9)",
        "M!C2": "=RiskPoisson(4)",
        "M!C3": "=B5 + C1*C2",
    }
    kw = {"outputs": ["M!B5", "M!C3"], "iterations": 20_000, "seed": 11, "raw_iterations": 20_000}
    a = montesim.simulate(cells, chunk_size=4096, batch_size=4096, workers=1, **kw)
    b = montesim.simulate(cells, chunk_size=16_384, batch_size=8192, workers=2, **kw)
    c = montesim.simulate(cells, chunk_size=100_000, workers=1, **kw)
    for name in ("M!B5", "M!C3"):
        assert np.array_equal(a.outputs[name], b.outputs[name])
        assert np.array_equal(a.outputs[name], c.outputs[name])
        assert a.stats(name) == b.stats(name) == c.stats(name)
    # chunks run out of order through the engine interface give the same partials
    engine = ExcelEngine()
    plan = engine.validate({"cells": cells, **kw, "chunk_size": 4096}, {})
    parts = [engine.run_chunk(plan, ch, NullContext()) for ch in reversed(engine.chunks(plan))]
    merged = engine.merge(plan, parts)
    assert merged.summary["outputs"]["M!C3"] == a.stats("M!C3")
    # another seed gives other draws
    d = montesim.simulate(cells, **{**kw, "seed": 12})
    assert not np.array_equal(a.outputs["M!C3"], d.outputs["M!C3"])


SCALAR_MODEL = {
    "D!A1": "=RiskNormal(100, 30)",
    "D!A2": "=RiskUniform(0.01, 0.2)",
    "D!A3": "=RiskDiscrete({1,2,3}, {0.2,0.5,0.3})",
    "D!B1": -500,
    "D!B2": "=A1*1.1",
    "D!B3": "=B2*1.1+A1",
    "D!B4": "=B3-50",
    "D!B5": "=NPV(A2, B2:B4) + B1",
    "D!B6": "=IRR(B1:B4)",
    "D!B7": "=ROUND(B5, 1)",
    "D!B8": "=IF(B5>0, B5/A1, 1/0)",
    "D!B9": "=IFERROR(B8, -1)",
    "D!C1": "=VLOOKUP(A3, T!A1:B3, 2, FALSE)",
    "D!C2": '=INDEX(T!B1:B3, MATCH(A3, T!A1:A3, 0))&"-"&TEXT(A1, "0.0")',
    "D!C3": "=SUMPRODUCT(B2:B4, B2:B4)/COUNT(B2:B4)",
    "D!C4": "=MAX(B2:B4)-MIN(B2:B4)+MEDIAN(A1, A2, A3)",
    "D!C5": "=PMT(A2/12, 36, -A1*100)",
    "D!C6": '=SUMIF(B2:B4, ">"&A1, B2:B4)',
    "D!C7": "=MOD(A1, 7) + INT(-A2*10) + ABS(B1)^0.5",
    "D!C8": '=CHOOSE(A3, "low", "mid", "high")',
    "D!C9": "=EDATE(DATE(2024, 1, 31), A3) + YEARFRAC(DATE(2024,1,1), DATE(2025,7,1), 1)",
    "D!D1": "=STDEV(B2:B4) + PERCENTILE(B2:B4, A2)",
    "D!D2": "=IF(AND(A1>90, OR(A3=2, A3=3)), XLOOKUP(A3, T!A1:A3, T!B1:B3), NA())",
    "T!A1": 1,
    "T!B1": "one",
    "T!A2": 2,
    "T!B2": "two",
    "T!A3": 3,
    "T!B3": "three",
}


def test_vectorized_program_equals_scalar_evaluation_in_every_cell() -> None:
    book = inline_workbook(SCALAR_MODEL)
    keys = [(s.upper(), r, c) for s, r, c in book.formula_cells()]
    comp = Compiler(book)
    comp.compile(keys)
    assert comp.issues.unsupported == {}
    slots = {k: comp.cells[k].index for k in keys if not isinstance(comp.cells[k], Const)}
    assert len(slots) > 20, "most cells depend on the random inputs"
    t = 12
    dists = [d.distribution() for d in comp.inputs]
    samples = sample_inputs(5, dists, [d.stream_id for d in comp.inputs], 0, t)
    values = run(comp.program, samples, EvalContext(t), set(slots.values()))
    input_cells = {}
    for d, col in zip(comp.inputs, samples.T, strict=True):
        area = parse_area(d.cell.split("!")[1], "D")
        input_cells[("D", area.r1, area.c1)] = col
    for trial in range(t):
        fixed = {key: float(col[trial]) for key, col in input_cells.items()}
        scalar = Compiler(book, fixed=fixed, static=True)
        scalar.compile(keys)
        for key in keys:
            want = scalar.value_of(key).to_py()
            node = comp.cells[key]
            got = (
                node.value.to_py()
                if isinstance(node, Const)
                else values[slots[key]].to_py(trial if values[slots[key]].trials > 1 else 0)
            )
            if isinstance(want, float):
                assert isinstance(got, float) and math.isclose(got, want, rel_tol=1e-12), key
            else:
                assert got == want, (key, trial, got, want)


def test_today_is_fixed_per_job() -> None:
    cells = {"S!A1": "=RiskNormal(0,1)", "S!B1": "=TODAY() + A1*0", "S!B2": "=YEAR(TODAY())"}
    res = montesim.simulate(cells, outputs=["S!B1", "S!B2"], iterations=4096, today="2031-05-17")
    assert res.summary["today"] == "2031-05-17"
    assert res.stats("S!B2")["min"] == res.stats("S!B2")["max"] == 2031
    assert res.stats("S!B1")["std"] == 0.0


def test_raw_iterations_download_as_csv_and_parquet(tmp_path: Path) -> None:
    cells = {"S!A1": '=RiskNormal(10, 2, RiskName("X"))', "S!B1": "=1/(A1>10)"}
    res = montesim.simulate(cells, outputs=["S!B1"], iterations=10_000, raw_iterations=5000)
    table = pq.read_table(io.BytesIO(res.artifacts["iterations.parquet"][1]))
    assert table.column_names == ["iteration", "X", "S!B1", "S!B1 error"]
    assert table.num_rows == 5000 == res.summary["raw_iterations"]
    x = table.column("X").to_numpy()
    np.testing.assert_array_equal(x, res.inputs["X"])
    errors = table.column("S!B1 error").to_pylist()
    assert all((e == "#DIV/0!") == (v <= 10) for e, v in zip(errors, x, strict=True))
    assert table.column("S!B1").null_count == int((x <= 10).sum())
    res.save_iterations(tmp_path / "it.csv")
    lines = (tmp_path / "it.csv").read_text().splitlines()
    assert lines[0] == '"iteration","X","S!B1","S!B1 error"' and len(lines) == 5001
    # statistics still use every iteration, not only the kept ones
    assert res.stats("S!B1")["n"] + res.stats("S!B1")["error_trials"] == 10_000


def test_spec_inputs_fixed_values_and_defined_names(tmp_path: Path) -> None:
    path = save_book(
        tmp_path / "m.xlsx",
        {"In!B2": 10, "In!B3": 4, "In!B4": 1, "Out!B1": "=In!B2*In!B3+Rate"},
        {"Rate": "In!$B$4", "Result": "Out!$B$1"},
    )
    res = montesim.simulate(
        path,
        inputs={"In!B2": "normal(10, 2)", "'In'!B3": {"family": "uniform", "params": [3, 5]}},
        fixed={"Rate": 100},
        outputs=["Result"],
        iterations=20_000,
        seed=2,
    )
    out = res.stats("Out!B1")
    assert out["mean"] == pytest.approx(10 * 4 + 100, rel=0.01)
    assert {i["name"] for i in res.summary["inputs"]} == {"In!B2", "In!B3"}
    assert all(i["source"] == "spec" for i in res.summary["inputs"])
    assert res.warnings == []


def test_pass_size_follows_the_programs_live_columns() -> None:
    from montesim.engines.excel.model import LIVE_BUDGET, MAX_BATCH, MIN_BATCH, auto_batch

    engine = ExcelEngine()
    cells = {"M!A1": "=RiskUniform(0, 1)", "M!A2": "=A1*2", "M!A3": "=A2+A1", "M!A4": "=A3*A3"}
    plan = engine.validate({"cells": cells, "outputs": ["M!A4"], "iterations": 10**6}, {})
    # A1 and A2 live together, then A1 and A3, then A4 alone (the output)
    assert plan.program.peak_live(plan.keep) == 2
    assert plan.batch_size == MAX_BATCH  # 16 chunks of 65,536 trials, passes of 32,768
    # a range built from per-trial cells counts each of its cells
    ranged = {f"M!A{r}": f"=RiskUniform(0, {r})" for r in range(1, 11)}
    ranged["M!B1"] = "=SUM(A1:A10)"
    plan = engine.validate({"cells": ranged, "outputs": ["M!B1"], "iterations": 10**6}, {})
    assert plan.program.peak_live(plan.keep) >= 10
    # many live columns keep passes small; a spec's batch_size wins
    assert auto_batch(LIVE_BUDGET // (8 * MIN_BATCH)) == MIN_BATCH
    assert auto_batch(1) == MAX_BATCH
    plan = engine.validate(
        {"cells": cells, "outputs": ["M!A4"], "iterations": 10**6, "batch_size": 4096}, {}
    )
    assert plan.batch_size == 4096


def test_a_chunk_holds_up_to_a_pass_while_the_run_still_makes_enough_chunks() -> None:
    from montesim.engines.excel.model import MIN_CHUNKS

    engine = ExcelEngine()
    cells = {"M!A1": "=RiskUniform(0, 1)", "M!A2": "=A1*2"}

    def plan_for(iterations: int, **kw):
        spec = {"cells": cells, "outputs": ["M!A2"], "iterations": iterations, **kw}
        return engine.validate(spec, {})

    # 10^5 / 16 would be chunks of 8,192, smaller than the passes of 16,384 asked for
    plan = plan_for(100_000, batch_size=16_384)
    assert plan.chunk_size == 16_384 == plan.batch_size
    assert len(engine.chunks(plan)) >= MIN_CHUNKS
    # too short a run for a whole pass a chunk: as many whole blocks as still make
    # MIN_CHUNKS chunks (40,000 / 4 = 10,000: two blocks), in passes of that size
    plan = plan_for(40_000, batch_size=16_384)
    assert plan.chunk_size == 8192 == plan.batch_size and len(engine.chunks(plan)) == 5
    # too short even for that: chunks of a block, so that every worker gets some
    plan = plan_for(12_000, batch_size=16_384)
    assert plan.chunk_size == 4096 and len(engine.chunks(plan)) == 3
    # a chunk size in the spec wins
    assert plan_for(100_000, batch_size=16_384, chunk_size=8192).chunk_size == 8192
