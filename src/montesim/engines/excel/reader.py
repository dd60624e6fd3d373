"""Read an .xlsx/.xlsm file (or an inline cell mapping) into a plain Workbook model.

The file is loaded twice with openpyxl: once for formulas and constants, once with
``data_only=True`` for the values Excel cached when it last saved the file. Macros are
never run (openpyxl does not execute VBA).
"""

from __future__ import annotations

import io
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..base import InputError
from .limits import check_zip_directory
from .refs import Area, parse_area, split_sheet
from .values import ERROR_CODE, XlError, to_serial

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass
class CellData:
    """One non-empty cell: a constant ``value`` or a ``formula`` (text starting with =)."""

    value: Any = None
    formula: str | None = None
    cached: Any = None
    array: Area | None = None  # set on the anchor cell of an array (CSE) formula


@dataclass
class Sheet:
    name: str
    cells: dict[tuple[int, int], CellData] = field(default_factory=dict)
    max_row: int = 0
    max_col: int = 0
    # (row, col) of a cell inside an array formula -> its anchor (row, col)
    array_members: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)


@dataclass
class Workbook:
    sheets: dict[str, Sheet] = field(default_factory=dict)  # keyed by upper-case name
    # (SHEET or None for workbook scope, NAME) -> formula text of the defined name
    names: dict[tuple[str | None, str], str] = field(default_factory=dict)
    source: str = "<inline>"

    def sheet(self, name: str) -> Sheet | None:
        return self.sheets.get(name.upper())

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets.values()]

    def first_sheet(self) -> str:
        return next(iter(self.sheets.values())).name

    def cell(self, sheet: str, row: int, col: int) -> CellData | None:
        s = self.sheets.get(sheet.upper())
        return None if s is None else s.cells.get((row, col))

    def name(self, name: str, sheet: str | None) -> str | None:
        """The formula text a defined name stands for (sheet scope first)."""
        if sheet is not None:
            hit = self.names.get((sheet.upper(), name.upper()))
            if hit is not None:
                return hit
        return self.names.get((None, name.upper()))

    def formula_cells(self) -> list[tuple[str, int, int]]:
        return [
            (s.name, r, c)
            for s in self.sheets.values()
            for (r, c), cell in sorted(s.cells.items())
            if cell.formula is not None
        ]


def _py_value(v: Any, data_type: str | None) -> Any:
    if data_type == "e" and isinstance(v, str):
        return XlError(ERROR_CODE.get(v.upper(), 3))
    if isinstance(v, datetime | date | time | timedelta):
        return to_serial(v)
    return v


def _check_bytes(data: bytes, label: str) -> None:
    if data[:8] == OLE_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputError(
                f"{label} is password-protected (encrypted); save it without a password and upload it again",
                code="workbook_encrypted",
                location="file",
            )
        raise InputError(
            f"{label} is a legacy .xls (binary) workbook; open it in Excel and save it as .xlsx",
            code="workbook_xls",
            location="file",
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise InputError(
            f"{label} is not a readable .xlsx/.xlsm workbook (the file is corrupt or not a zip package)",
            code="workbook_corrupt",
            location="file",
        )


def check_package(path: str | Path, *, label: str | None = None) -> None:
    """Cheap checks of an uploaded workbook, without inflating it: it exists, is not a
    legacy or encrypted file, and is a zip package holding ``xl/workbook.xml``."""
    path = Path(path)
    label = label or path.name
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise InputError(
            f"cannot read {label}: {exc.strerror}", code="workbook_missing", location="file"
        ) from exc
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"{label} is larger than {MAX_FILE_BYTES // 2**20} MiB",
            code="workbook_too_large",
            location="file",
        )
    if head == OLE_MAGIC:
        _check_bytes(path.read_bytes(), label)  # says encrypted or .xls
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            check_zip_directory(zf, label)
    except (zipfile.BadZipFile, OSError):
        names = None
    if names is None or "xl/workbook.xml" not in names:
        raise InputError(
            f"{label} is not a readable .xlsx/.xlsm workbook (the file is corrupt or not a zip package)",
            code="workbook_corrupt",
            location="file",
        )


def read_workbook(path: str | Path, *, label: str | None = None) -> Workbook:
    """The Workbook in ``path``; InputError (422) for .xls, encrypted or corrupt files."""
    import openpyxl

    path = Path(path)
    label = label or path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read {label}: {exc.strerror}", code="workbook_missing", location="file"
        ) from exc
    if len(data) > MAX_FILE_BYTES:
        raise InputError(
            f"{label} is larger than {MAX_FILE_BYTES // 2**20} MiB",
            code="workbook_too_large",
            location="file",
        )
    _check_bytes(data, label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb_f = openpyxl.load_workbook(io.BytesIO(data), data_only=False, keep_links=False)
            wb_v = openpyxl.load_workbook(io.BytesIO(data), data_only=True, keep_links=False)
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types on damaged packages
        raise InputError(
            f"{label} is not a readable .xlsx/.xlsm workbook: {type(exc).__name__}: {exc}",
            code="workbook_corrupt",
            location="file",
        ) from exc
    book = Workbook(source=label)
    for ws in wb_f.worksheets:
        sheet = Sheet(ws.title)
        book.sheets[ws.title.upper()] = sheet
        cached_ws = wb_v[ws.title]
        cached_cells = getattr(cached_ws, "_cells", {})
        for (r, c), cell in getattr(ws, "_cells", {}).items():
            v = cell.value
            cv = cached_cells.get((r, c))
            cached = _py_value(cv.value, cv.data_type) if cv is not None else None
            if v is None:
                if cached is not None:
                    sheet.cells[(r, c)] = CellData(value=None, cached=cached)
                continue
            kind = type(v).__name__
            if kind == "ArrayFormula":
                area = parse_area(v.ref, ws.title) if v.ref else None
                text = v.text if v.text.startswith("=") else "=" + v.text
                sheet.cells[(r, c)] = CellData(formula=text, cached=cached, array=area)
                if area is not None:
                    for rc in area.cells():
                        sheet.array_members[rc] = (r, c)
            elif kind == "DataTableFormula":
                sheet.cells[(r, c)] = CellData(formula="=TABLE()", cached=cached)
            elif isinstance(v, str) and cell.data_type == "f":
                sheet.cells[(r, c)] = CellData(formula=v, cached=cached)
            else:
                pv = _py_value(v, cell.data_type)
                sheet.cells[(r, c)] = CellData(value=pv, cached=pv)
        # cells holding only a cached value (inside array formula ranges) count too
        for (r, c), cv in cached_cells.items():
            if (r, c) not in sheet.cells and cv.value is not None:
                sheet.cells[(r, c)] = CellData(value=None, cached=_py_value(cv.value, cv.data_type))
        _extent(sheet)
        for name, dn in getattr(ws, "defined_names", {}).items():
            book.names[(ws.title.upper(), name.upper())] = dn.attr_text
    for name, dn in wb_f.defined_names.items():
        if name.startswith("_xlnm."):
            continue
        if dn.localSheetId is not None:
            try:
                scope = wb_f.worksheets[int(dn.localSheetId)].title.upper()
            except (IndexError, ValueError):
                continue
            book.names[(scope, name.upper())] = dn.attr_text
        else:
            book.names[(None, name.upper())] = dn.attr_text
    if not book.sheets:
        raise InputError(f"{label} has no worksheets", code="workbook_empty", location="file")
    return book


def _extent(sheet: Sheet) -> None:
    if sheet.cells:
        sheet.max_row = max(r for r, _ in sheet.cells)
        sheet.max_col = max(c for _, c in sheet.cells)


def inline_workbook(cells: dict[str, Any], names: dict[str, str] | None = None) -> Workbook:
    """A Workbook from ``{"Sheet1!A1": "=RiskNormal(100,10)", "Sheet1!A2": 5}``."""
    book = Workbook(source="<inline>")
    for key, value in cells.items():
        sheet_name, rest = split_sheet(key)
        sheet_name = sheet_name or "Sheet1"
        area = parse_area(rest, sheet_name)
        if area is None or not area.is_cell():
            raise InputError(
                f"cells: {key!r} is not a cell address like Sheet1!A1", location=f"cells.{key}"
            )
        sheet = book.sheets.setdefault(sheet_name.upper(), Sheet(sheet_name))
        if isinstance(value, str) and value.startswith("=") and len(value) > 1:
            sheet.cells[(area.r1, area.c1)] = CellData(formula=value)
        else:
            if isinstance(value, str) and value.upper() in ERROR_CODE:
                value = XlError(ERROR_CODE[value.upper()])
            sheet.cells[(area.r1, area.c1)] = CellData(value=value, cached=value)
    for sheet in book.sheets.values():
        _extent(sheet)
    for name, text in (names or {}).items():
        book.names[(None, name.upper())] = text.lstrip("=")
    if not book.sheets:
        raise InputError("cells: the inline workbook has no cells", location="cells")
    return book
