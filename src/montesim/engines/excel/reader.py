"""Read an .xlsx/.xlsm file (or an inline cell mapping) into a plain Workbook model.

Each sheet's XML is streamed once through openpyxl's own sheet parser (its read-only mode,
no cell objects, charts or images), which gives the formulas and constants and, parsing a
formula cell's element once more as its ``data_only`` mode does, the values Excel cached
when it last saved the file. Tables come from the sheets' table parts. Macros are never
run (openpyxl does not execute VBA).
"""

from __future__ import annotations

import functools
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..base import InputError
from .limits import check_zip_directory
from .refs import Area, parse_area, split_sheet
from .tables import TableDef
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
    # the last values Excel kept of a linked workbook's sheet (``[1]Rates``): constants
    external: bool = False
    hidden_rows: set[int] = field(default_factory=set)
    # what-if data tables ({=TABLE(row, col)}): every result cell -> the table's range
    data_tables: dict[tuple[int, int], Area] = field(default_factory=dict)
    # a hidden sheet an add-in keeps its own settings in (@RISK's RiskSerializationData):
    # what it is, and its formulas are read as their saved values, not part of the model
    add_in: str | None = None


@dataclass
class Workbook:
    sheets: dict[str, Sheet] = field(default_factory=dict)  # keyed by upper-case name
    # (SHEET or None for workbook scope, NAME) -> formula text of the defined name
    names: dict[tuple[str | None, str], str] = field(default_factory=dict)
    source: str = "<inline>"
    tables: dict[str, TableDef] = field(default_factory=dict)  # keyed by upper-case name
    # [n] -> the linked workbook's file name, as formulas write ``[1]Sheet!A1``
    links: dict[int, str] = field(default_factory=dict)
    # calculation settings: iterate (circular references allowed), count and delta
    iterate: bool = False
    iterate_count: int = 100
    iterate_delta: float = 0.001
    # the application that saved the file (docProps/app.xml), "Microsoft Macintosh Excel"
    # on a Mac: CHAR and CODE follow its character set
    application: str | None = None

    @property
    def mac(self) -> bool:
        return self.application is not None and "macintosh" in self.application.lower()

    def sheet(self, name: str) -> Sheet | None:
        return self.sheets.get(name.upper())

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets.values() if not s.external]

    def first_sheet(self) -> str:
        return self.sheet_names[0]

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

    def data_table_ranges(self) -> list[str]:
        return sorted({str(a) for s in self.sheets.values() for a in s.data_tables.values()})

    def formula_cells(self) -> list[tuple[str, int, int]]:
        return [
            (s.name, r, c)
            for s in self.sheets.values()
            for (r, c), cell in sorted(s.cells.items())
            if cell.formula is not None
        ]


_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_escapes(text: str) -> str:
    """Text as the file means it: OOXML writes characters XML cannot hold (a carriage
    return, a tab...) as ``_xHHHH_``, and a literal ``_x`` as ``_x005F_x``."""
    if "_x" not in text:
        return text
    return _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _py_value(v: Any, data_type: str | None) -> Any:
    if data_type == "e" and isinstance(v, str):
        return XlError(ERROR_CODE.get(v.upper(), 3))
    if isinstance(v, str) and data_type in ("s", "str", "inlineStr"):
        return decode_escapes(v)
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


_PIVOT_PARTS = re.compile(r"^xl/pivot(Cache|Tables)/")
_PIVOT_REL = re.compile(r"<Relationship\b[^>]*/pivot(CacheDefinition|Table)\"[^>]*/>")
_PIVOT_CACHES = re.compile(r"<pivotCaches\b.*?</pivotCaches>|<pivotCaches\b[^>]*/>", re.S)
_PIVOT_TYPES = re.compile(r"<Override\b[^>]*PartName=\"/xl/pivot(Cache|Tables)/[^>]*/>")


def without_pivots(data: bytes) -> bytes:
    """The package without its pivot tables and pivot caches (and the references to
    them). Formulas never read those parts (GETPIVOTDATA is unsupported and listed), and
    openpyxl builds an object per cached pivot item: a workbook with a large pivot cache
    took most of a minute to open because of it."""
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        names = zin.namelist()
        if not any(_PIVOT_PARTS.match(n) for n in names):
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
            for info in zin.infolist():
                name = info.filename
                if _PIVOT_PARTS.match(name):
                    continue
                part = zin.read(info)
                if name.endswith(".rels"):
                    part = _PIVOT_REL.sub("", part.decode("utf-8")).encode("utf-8")
                elif name == "xl/workbook.xml":
                    part = _PIVOT_CACHES.sub("", part.decode("utf-8")).encode("utf-8")
                elif name == "[Content_Types].xml":
                    part = _PIVOT_TYPES.sub("", part.decode("utf-8")).encode("utf-8")
                zout.writestr(info, part)
    return out.getvalue()


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
        data = without_pivots(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb_f = openpyxl.load_workbook(
                io.BytesIO(data), read_only=True, data_only=False, keep_links=True
            )
            try:
                streamed = [(ws, *_stream_sheet(wb_f, ws)) for ws in wb_f.worksheets]
                tables = {ws.title: _sheet_tables(wb_f, ws, p) for ws, _, _, p in streamed}
            finally:
                wb_f.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types on damaged packages
        raise InputError(
            f"{label} is not a readable .xlsx/.xlsm workbook: {type(exc).__name__}: {exc}",
            code="workbook_corrupt",
            location="file",
        ) from exc
    book = Workbook(source=label, application=_application(data))
    for ws, formulas, cached_cells, parser in streamed:
        sheet = Sheet(ws.title, add_in=_add_in_sheet(ws.title, ws.sheet_state))
        book.sheets[ws.title.upper()] = sheet
        for (r, c), (v, data_type) in formulas.items():
            cv = cached_cells.get((r, c))
            cached = _py_value(*cv) if cv is not None else None
            if v is None:
                if cached is not None:
                    sheet.cells[(r, c)] = CellData(value=None, cached=cached)
                continue
            kind = type(v).__name__
            formula = kind in ("ArrayFormula", "DataTableFormula") or (
                isinstance(v, str) and data_type == "f"
            )
            if sheet.add_in is not None and formula:
                # the add-in's bookkeeping formulas (references to the model's cells, its
                # own functions): kept as the values Excel saved, never compiled
                sheet.cells[(r, c)] = CellData(value=cached, cached=cached)
            elif kind == "ArrayFormula":
                area = parse_area(v.ref, ws.title) if v.ref else None
                text = v.text if v.text.startswith("=") else "=" + v.text
                sheet.cells[(r, c)] = CellData(formula=text, cached=cached, array=area)
                if area is not None:
                    for rc in area.cells():
                        sheet.array_members[rc] = (r, c)
            elif kind == "DataTableFormula":
                sheet.cells[(r, c)] = CellData(formula="=TABLE()", cached=cached)
                area = parse_area(v.ref, ws.title) if getattr(v, "ref", None) else None
                for rc in area.cells() if area is not None else [(r, c)]:
                    sheet.data_tables[rc] = area or Area(ws.title, r, c, r, c)
            elif isinstance(v, str) and data_type == "f":
                sheet.cells[(r, c)] = CellData(formula=v, cached=cached)
            else:
                pv = _py_value(v, data_type)
                sheet.cells[(r, c)] = CellData(value=pv, cached=pv)
        # cells holding only a cached value (inside array formula ranges) count too
        for (r, c), cv in cached_cells.items():
            if (r, c) not in sheet.cells:
                sheet.cells[(r, c)] = CellData(value=None, cached=_py_value(*cv))
        _extent(sheet)
        for name, dn in getattr(ws, "defined_names", {}).items():
            book.names[(ws.title.upper(), name.upper())] = dn.attr_text
        for table in tables[ws.title]:
            _add_table(book, ws.title, table)
        sheet.hidden_rows = {
            int(r) for r, d in parser.row_dimensions.items() if _true(d.get("hidden"))
        }
    _read_links(book, wb_f)
    _read_calc(book, wb_f)
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


def _stream_sheet(
    wb: Any, ws: Any
) -> tuple[dict[tuple[int, int], tuple[Any, str]], dict[tuple[int, int], tuple[Any, str]], Any]:
    """A read-only worksheet's cells in one streamed pass of its XML, through openpyxl's
    sheet parser: (value, data type) by (row, column) in the order of the XML (formulas as
    text, shared ones written out, or array and data-table formula objects); the values
    Excel cached, as openpyxl's ``data_only`` load reads them, for every cell that has
    one; and the parser (its row dimensions and table parts)."""
    cells: dict[tuple[int, int], tuple[Any, str]] = {}
    cached: dict[tuple[int, int], tuple[Any, str]] = {}
    with ws._get_source() as src:
        parser = _cached_too()(
            src,
            ws._shared_strings,
            data_only=False,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        parser.cached = cached
        for _, row in parser.parse():
            for cell in row:
                cells[(cell["row"], cell["column"])] = (cell["value"], cell["data_type"])
    return cells, cached, parser


@functools.cache
def _cached_too() -> type:
    """openpyxl's sheet parser, also reading each formula cell's cached value: the same
    element parsed once more as in ``data_only`` mode (made on first use: openpyxl is
    imported only where a workbook is read)."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class CachedToo(WorkSheetParser):  # type: ignore[misc]
        cached: dict[tuple[int, int], tuple[Any, str]]

        def parse_cell(self, element: Any) -> dict[str, Any]:
            counter = self.col_counter  # a cell without coordinates counts a column once
            cell = shown = super().parse_cell(element)
            if element.find(FORMULA_TAG) is not None:  # else the value is what Excel shows
                self.col_counter, self.data_only = counter, True
                try:
                    shown = super().parse_cell(element)
                finally:
                    self.data_only = False
            if shown["value"] is not None:
                self.cached[(cell["row"], cell["column"])] = (shown["value"], shown["data_type"])
            return cell

    return CachedToo


def _sheet_tables(wb: Any, ws: Any, parser: Any) -> list[Any]:
    """The tables (ListObjects) of a read-only worksheet, from its table parts."""
    from openpyxl.packaging.relationship import get_dependents, get_rels_path
    from openpyxl.worksheet.table import Table
    from openpyxl.xml.functions import fromstring

    parts = parser.tables.tablePart
    if not parts:
        return []
    archive = wb._archive
    rels_path = get_rels_path(ws._worksheet_path)
    if rels_path not in archive.namelist():
        return []
    rels = get_dependents(archive, rels_path)
    found = []
    for part in parts:
        rel = rels.get(part.id)
        if rel is not None:
            found.append(Table.from_tree(fromstring(archive.read(rel.Target))))
    return found


def _true(flag: Any) -> bool:
    """An XML boolean attribute (``"1"``, ``"true"``)."""
    return str(flag).lower() in ("1", "true")


# hidden sheets that add-ins write their settings to: @RISK keeps its simulation settings
# and the references of its inputs and outputs in "RiskSerializationData" (a number may
# follow, one per @RISK version)
_ADD_IN_SHEETS = ((re.compile(r"^RiskSerializationData\d*$", re.IGNORECASE), "@RISK settings"),)


def _add_in_sheet(title: str, state: str | None) -> str | None:
    if state not in ("hidden", "veryHidden"):
        return None
    return next((what for rx, what in _ADD_IN_SHEETS if rx.match(title)), None)


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


def _add_table(book: Workbook, sheet: str, table: Any) -> None:
    area = parse_area(table.ref or "", sheet)
    if area is None:
        return
    columns = tuple(str(c.name or "") for c in table.tableColumns)
    book.tables[str(table.displayName or table.name).upper()] = TableDef(
        name=str(table.displayName or table.name),
        sheet=sheet,
        area=area,
        columns=columns,
        header_rows=1 if table.headerRowCount is None else int(table.headerRowCount),
        totals_rows=int(table.totalsRowCount or 0),
    )


def _link_value(v: Any, t: str | None) -> Any:
    if v is None:
        return None
    if t in (None, "n"):
        try:
            return float(v)
        except ValueError:
            return str(v)
    if t == "b":
        return str(v) in ("1", "true", "TRUE")
    if t == "e":
        return XlError(ERROR_CODE.get(str(v).upper(), 3))
    return str(v)


def _read_links(book: Workbook, wb: Any) -> None:
    """Linked workbooks' cached values as read-only sheets named ``[n]Sheet``."""
    from urllib.parse import unquote

    for n, link in enumerate(getattr(wb, "_external_links", []) or [], 1):
        ext = getattr(link, "externalBook", None)
        if ext is None:
            continue
        target = getattr(getattr(link, "file_link", None), "Target", None) or f"link {n}"
        book.links[n] = unquote(str(target))
        names = list(ext.sheetNames.sheetName) if ext.sheetNames is not None else []
        data = ext.sheetDataSet.sheetData if ext.sheetDataSet is not None else []
        for sd in data:
            try:
                title = f"[{n}]{names[int(sd.sheetId)]}"
            except (IndexError, TypeError, ValueError):
                continue
            sheet = Sheet(title, external=True)
            for row in sd.row or []:
                for cell in row.cell or []:
                    area = parse_area(cell.r or "", title)
                    value = _link_value(cell.v, cell.t)
                    if area is not None and value is not None:
                        sheet.cells[(area.r1, area.c1)] = CellData(value=value, cached=value)
            _extent(sheet)
            book.sheets[title.upper()] = sheet
        for name in names:  # sheets linked without any cached cell
            book.sheets.setdefault(f"[{n}]{name}".upper(), Sheet(f"[{n}]{name}", external=True))


def _application(data: bytes) -> str | None:
    """The Application of the package's extended properties (docProps/app.xml)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            xml = z.read("docProps/app.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile):
        return None
    m = re.search(r"<(?:\w+:)?Application>([^<]*)</(?:\w+:)?Application>", xml)
    return m.group(1).strip() if m else None


def _read_calc(book: Workbook, wb: Any) -> None:
    calc = getattr(wb, "calculation", None)
    if calc is None:
        return
    book.iterate = bool(calc.iterate)
    if calc.iterateCount is not None:
        book.iterate_count = int(calc.iterateCount)
    if calc.iterateDelta is not None:
        book.iterate_delta = float(calc.iterateDelta)
