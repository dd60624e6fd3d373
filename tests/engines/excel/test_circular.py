"""Circular references: refused when simulating, reported (and never hanging) in verify."""

from __future__ import annotations

import multiprocessing as mp

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
