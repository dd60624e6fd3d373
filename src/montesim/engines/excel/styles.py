"""What the studio needs of a workbook's styles: number formats and column widths.

Formats come from openpyxl's streaming (read-only) reader; column widths, which that
reader skips, from the ``<cols>`` block at the head of each sheet's XML part.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

CellKey = tuple[str, int, int]


def read_styles(data: bytes) -> tuple[dict[CellKey, str], dict[str, dict[int, float]]]:
    """Number formats (other than General) and column widths, from a streaming read."""
    import openpyxl

    formats: dict[CellKey, str] = {}
    widths: dict[str, dict[int, float]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, keep_links=False)
    try:
        for ws in wb.worksheets:
            upper = ws.title.upper()
            for row in ws.iter_rows():
                for cell in row:
                    fmt = getattr(cell, "number_format", "General")
                    if fmt and fmt != "General" and getattr(cell, "value", None) is not None:
                        formats[(upper, cell.row, cell.column)] = fmt
        names = [ws.title for ws in wb.worksheets]
    finally:
        wb.close()
    for name, part in _sheet_parts(data).items():
        if name in names:
            widths[name.upper()] = _col_widths(data, part)
    return formats, widths


_COL = re.compile(rb"<(?:\w+:)?col\b([^>]*)/?>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')


def _sheet_parts(data: bytes) -> dict[str, str]:
    """Sheet name -> its XML part in the package (from workbook.xml and its relations)."""
    from xml.etree import ElementTree

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        try:
            book = ElementTree.fromstring(z.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        except (KeyError, ElementTree.ParseError):
            return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for el in book.iter():
        if el.tag.endswith("}sheet"):
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            part = target.lstrip("/") if target.startswith("/") else "xl/" + target
            out[el.get("name", "")] = part
    return out


def _col_widths(data: bytes, part: str) -> dict[int, float]:
    """Column widths from the ``<cols>`` block, which precedes the cells in a sheet part."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        try:
            with z.open(part) as f:
                head = f.read(1 << 16)
        except KeyError:
            return {}
    head = head.split(b"<sheetData", 1)[0]
    widths: dict[int, float] = {}
    for m in _COL.finditer(head):
        attrs = dict(_ATTR.findall(m.group(1)))
        try:
            lo, hi, width = int(attrs[b"min"]), int(attrs[b"max"]), float(attrs[b"width"])
        except (KeyError, ValueError):
            continue
        for col in range(lo, min(hi, lo + 256) + 1):
            widths[col] = width
    return widths
