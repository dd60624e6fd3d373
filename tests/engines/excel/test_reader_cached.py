"""The values Excel cached in a workbook, read from the sheets' XML in one streamed pass
beside the formulas: every sheet's, whatever their order, and the same as openpyxl's full
``data_only`` load gives."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import openpyxl
from tests.engines.excel.books import save_book, with_cached_values

from montesim.engines.excel.reader import _stream_sheet, read_workbook


def streamed_cached(data: bytes) -> dict[str, dict]:
    """Per sheet, the cached values of the read path's one streamed pass."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, keep_links=True)
    try:
        return {ws.title: _stream_sheet(wb, ws)[1] for ws in wb.worksheets}
    finally:
        wb.close()


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
    assert streamed_cached(data) == want


def test_cells_written_without_coordinates_keep_their_places_and_values(
    tmp_path: Path,
) -> None:
    """A writer may leave out a cell's ``r`` attribute (its place is then the next
    column): the formula cells' cached values, read by a second parse of the element,
    do not move the cells after them."""
    import re
    import zipfile

    cells = {"S!A1": 1.5, "S!B1": "=A1*2", "S!C1": "x", "S!D1": "=B1+1", "S!A2": "=D1"}
    path = with_cached_values(
        save_book(tmp_path / "r.xlsx", cells), {"S!B1": 3.0, "S!D1": 4.0, "S!A2": 4.0}
    )
    with_r = read_workbook(path)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"], n = re.subn(r'(<c) r="[A-Z]+[0-9]+"', r"\1", xml)
    assert n == len(cells)
    bare = tmp_path / "bare.xlsx"
    with zipfile.ZipFile(bare, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data if isinstance(data, bytes) else data.encode())
    without_r = read_workbook(bare)
    got = {rc: (cd.formula, cd.value, cd.cached) for rc, cd in without_r.sheets["S"].cells.items()}
    want = {rc: (cd.formula, cd.value, cd.cached) for rc, cd in with_r.sheets["S"].cells.items()}
    assert got == want
    assert got[(1, 4)] == ("=B1+1", None, 4.0) and got[(1, 3)] == (None, "x", "x")
