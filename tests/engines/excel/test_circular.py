"""Circular references: iterated when the workbook asks, else refused; verify reports them."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest
from tests.engines.excel.books import corpus_dir

from montesim.engines.base import InputError
from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.reader import inline_workbook, read_workbook
from montesim.engines.excel.verify import verify

CORPUS = corpus_dir()
CIRCULAR = CORPUS / "formulas__test_test_files_circular.xlsx"


def test_three_cell_cycle_is_refused_with_its_cells() -> None:
    book = inline_workbook(
        {"Sheet1!A1": "=B1+1", "Sheet1!B1": "=C1*2", "Sheet1!C1": "=A1-3", "Sheet1!D1": "=A1"}
    )
    comp = Compiler(book)
    with pytest.raises(InputError) as exc:
        comp.compile([("SHEET1", 1, 4)])
    assert exc.value.code == "circular_reference"
    cycle = exc.value.detail["cycle"]
    assert sorted(cycle) == ["Sheet1!A1", "Sheet1!B1", "Sheet1!C1"]
    assert "Sheet1!A1" in exc.value.message and "Sheet1!C1" in exc.value.message


def test_cycle_through_a_range_is_found() -> None:
    book = inline_workbook({"Sheet1!A1": "=SUM(A2:A3)", "Sheet1!A2": 1, "Sheet1!A3": "=A1/2"})
    with pytest.raises(InputError) as exc:
        Compiler(book).compile([("SHEET1", 1, 1)])
    assert sorted(exc.value.detail["cycle"]) == ["Sheet1!A1", "Sheet1!A3"]


def test_index_into_own_row_is_not_a_cycle() -> None:
    # INDEX picks a cell left of the formula: the row it indexes is not a dependency
    book = inline_workbook({"Sheet1!A1": 5, "Sheet1!B1": "=INDEX(A1:C1,1,1)*2"})
    comp = Compiler(book)
    comp.compile([("SHEET1", 1, 2)])
    assert comp.value_of(("SHEET1", 1, 2)).to_py() == 10.0


def test_a_cell_asking_for_its_own_row_or_column_is_not_a_cycle() -> None:
    # only the address of the reference counts (a real model's password generator does it)
    book = inline_workbook(
        {
            "Sheet1!A1": "abc",
            "Sheet1!C2": "=MID($A$1,COLUMN()-COLUMN($A2),1)",  # column 3 - 1 = 2 -> "b"
            "Sheet1!D2": "=ROW(D2)+ROWS(D1:D2)+COLUMNS($A2:D2)",  # 2 + 2 + 4
        }
    )
    comp = Compiler(book)
    comp.compile([("SHEET1", 2, 3), ("SHEET1", 2, 4)])
    assert comp.value_of(("SHEET1", 2, 3)).to_py() == "b"
    assert comp.value_of(("SHEET1", 2, 4)).to_py() == 8.0


def test_verify_marks_cycles_without_hanging() -> None:
    book = inline_workbook(
        {"Sheet1!A1": "=B1", "Sheet1!B1": "=C1", "Sheet1!C1": "=A1", "Sheet1!D1": "=1+1"}
    )
    rep = verify(book)
    assert len(rep.cycles) == 1 and sorted(rep.cycles[0]) == ["Sheet1!A1", "Sheet1!B1", "Sheet1!C1"]
    assert rep.compared == 4
    assert rep.matched <= 1  # cycle cells never count as matched


def _verify_cycles(path: str) -> tuple[list[list[str]], int]:
    rep = verify(read_workbook(path))
    return rep.cycles, rep.compared


def test_circular_corpus_workbook_finishes_and_lists_cycles() -> None:
    if not CIRCULAR.is_file():
        pytest.skip(f"corpus workbook {CIRCULAR} not found (set MONTESIM_EXCEL_CORPUS)")
    with mp.get_context("fork").Pool(1) as pool:
        job = pool.apply_async(_verify_cycles, (str(CIRCULAR),))
        try:
            cycles, compared = job.get(timeout=60)
        except mp.TimeoutError:
            pool.terminate()
            pytest.fail("verify on the circular workbook did not finish within 60s")
    assert compared > 0
    assert cycles
    flat = {cell for cyc in cycles for cell in cyc}
    assert "DATA!B2" in flat  # =B2, a cell referring to itself
    assert {"DATA!B4", "DATA!C4", "DATA!D4"} <= flat  # B4 -> C4 -> D4 -> B4


# -- iterative calculation when simulating ----------------------------------------------


def _interest_loop_workbook(path, *, iterate: bool = True, count: int = 100, delta=1e-9):
    """Interest on the average cash balance: the textbook loop of financial models.

    interest = r * (open + close) / 2 and close = open + flow + interest, so by algebra
    interest = r * (2 * open + flow) / (2 - r), the value Excel's iteration converges to.
    """
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Cash"
    ws["A1"], ws["B1"] = "opening", 1000
    ws["A2"], ws["B2"] = "flow", 200
    ws["A3"], ws["B3"] = "rate", 0.08
    ws["A4"], ws["B4"] = "interest", "=B3*(B1+B5)/2"
    ws["A5"], ws["B5"] = "closing", "=B1+B2+B4"
    ws["A6"], ws["B6"] = "report", "=B5*2"
    wb.calculation.iterate = iterate
    wb.calculation.iterateCount = count
    wb.calculation.iterateDelta = delta
    wb.save(path)
    return path


def test_an_iterative_workbook_simulates_its_loop_to_excels_fixed_point(tmp_path) -> None:
    from montesim.simulation import simulate

    book = _interest_loop_workbook(tmp_path / "loop.xlsx")
    res = simulate(
        book,
        inputs={"Cash!B1": "uniform(500, 1500)", "Cash!B2": "normal(100, 50)"},
        outputs=["Cash!B4", "Cash!B6"],
        iterations=2_000,
        seed=4,
        raw_iterations=2_000,
    )
    opening, flow = res.inputs["Cash!B1"], res.inputs["Cash!B2"]
    interest = 0.08 * (2 * opening + flow) / (2 - 0.08)
    assert np.allclose(res.outputs["Cash!B4"], interest, rtol=0, atol=1e-7)
    assert np.allclose(res.outputs["Cash!B6"], 2 * (opening + flow + interest), atol=1e-6)


def test_iteration_stops_at_the_workbooks_maximum_count(tmp_path) -> None:
    from montesim.simulation import simulate

    # One pass from 0 (the file holds no value): interest = r * (2 * open + flow) / 2 only.
    book = _interest_loop_workbook(tmp_path / "loop1.xlsx", count=1)
    res = simulate(book, outputs=["Cash!B4"], inputs={"Cash!B2": "uniform(0, 1)"}, iterations=50)
    flow = res.inputs["Cash!B2"]
    assert np.allclose(res.outputs["Cash!B4"][: len(flow)], 0.08 * (2000 + flow) / 2)


def test_iterative_results_do_not_depend_on_chunking(tmp_path) -> None:
    from montesim.simulation import simulate

    book = _interest_loop_workbook(tmp_path / "loop.xlsx", delta=1e-3)
    runs = [
        simulate(
            book,
            inputs={"Cash!B2": "normal(100, 50)"},
            outputs=["Cash!B4"],
            iterations=3_000,
            chunk_size=size,
            seed=9,
        ).outputs["Cash!B4"]
        for size in (3_000, 700)
    ]
    assert np.array_equal(runs[0], runs[1])


def test_without_the_iterate_flag_a_loop_is_still_refused(tmp_path) -> None:
    from montesim.simulation import simulate

    book = _interest_loop_workbook(tmp_path / "noloop.xlsx", iterate=False)
    with pytest.raises(InputError) as exc:
        simulate(book, inputs={"Cash!B2": "normal(100, 50)"}, outputs=["Cash!B4"], iterations=10)
    assert exc.value.code == "circular_reference"
    assert {"Cash!B4", "Cash!B5"} <= set(exc.value.detail["cycle"])


def test_an_iterative_run_says_so_in_its_warnings(tmp_path) -> None:
    from montesim.simulation import simulate

    book = _interest_loop_workbook(tmp_path / "loop.xlsx", count=50, delta=1e-4)
    res = simulate(book, inputs={"Cash!B2": "normal(100, 50)"}, outputs=["Cash!B6"], iterations=20)
    (warning,) = [w for w in res.warnings if w["code"] == "iterative_calculation"]
    assert "0.0001" in warning["message"] and "50 passes" in warning["message"]
    assert warning["location"] in ("Cash!B4", "Cash!B5")


REAL = corpus_dir("excel-real")
TCS = REAL / "tcs3stmt__3_Statement_DCF_Model_TCS.xlsx"


def test_a_real_iterative_model_converges_to_excels_values() -> None:
    """A three-statement model saved with iterative calculation on: simulating it gives
    the loop cells Excel's own converged values (held in the file)."""
    if not TCS.is_file():
        pytest.skip(f"real-model corpus workbook {TCS} not found")
    from openpyxl.utils.cell import coordinate_to_tuple

    from montesim.simulation import simulate

    book = read_workbook(TCS)
    comp = Compiler(book, static=True)
    roots = [
        (s.name.upper(), r, c)
        for s in book.sheets.values()
        for (r, c), cd in s.cells.items()
        if cd.formula
    ]
    comp.compile(roots, on_cycle="mark")
    loops = sorted({c for cyc in comp.issues.cycles for c in cyc})
    assert len(loops) >= 10 and book.iterate
    res = simulate(TCS, outputs=loops, iterations=4, workers=1)
    for cell in loops:
        sheet, ref = cell.rsplit("!", 1)
        expected = book.cell(sheet.strip("'").upper(), *coordinate_to_tuple(ref)).cached
        assert res.outputs[cell][0] == pytest.approx(expected, rel=1e-6, abs=0.01), cell
