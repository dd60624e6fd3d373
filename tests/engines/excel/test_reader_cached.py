"""The values Excel cached in a workbook, read from the sheets' XML in one streamed pass
beside the formulas: every sheet's, whatever their order, and the same as openpyxl's full
``data_only`` load gives."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import openpyxl
from tests.engines.excel.books import save_book, with_cached_values

from montesim.engines.excel.reader import _cached_values, read_workbook


def test_cached_values_of_every_sheet_as_the_full_load_reads_them(tmp_path: Path) -> None:
    path = save_book(
        tmp_path / "c.xlsx",
        {
            "In!A1": 2.5,
            "In!A2": "=A1*2",
            "In!B7": "label",
            "Out!C3": "=In!A2+1",
            "Out!D4": True,
            "Out!A1": "=SUM(In!A1:A2)",
        },
    )
    path = with_cached_values(path, {"In!A2": 5.0, "Out!C3": 6.0, "Out!A1": 7.5})
    book = read_workbook(path)
    cells = {
        (s.name, rc): (cd.formula, cd.cached)
        for s in book.sheets.values()
        for rc, cd in s.cells.items()
    }
    assert cells[("In", (2, 1))] == ("=A1*2", 5.0)
    assert cells[("Out", (3, 3))] == ("=In!A2+1", 6.0)
    assert cells[("Out", (1, 1))] == ("=SUM(In!A1:A2)", 7.5)
    assert cells[("In", (1, 1))] == (None, 2.5) and cells[("In", (7, 2))] == (None, "label")
    assert cells[("Out", (4, 4))] == (None, True)
    data = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    want = {
        ws.title: {rc: (c.value, c.data_type) for rc, c in ws._cells.items() if c.value is not None}
        for ws in full.worksheets
    }
    assert _cached_values(data) == want
