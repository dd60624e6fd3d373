"""Small workbooks written with openpyxl for the Excel engine's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import coordinate_from_string


def save_book(path: Path, cells: dict[str, Any], names: dict[str, str] | None = None) -> Path:
    """Write ``{"Sheet!A1": value or "=formula"}`` to an .xlsx (sheets in first-seen order)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for key, value in cells.items():
        sheet, _, ref = key.rpartition("!")
        sheet = sheet.strip("'") or "Sheet1"
        ws = wb[sheet] if sheet in wb.sheetnames else wb.create_sheet(sheet)
        coordinate_from_string(ref)  # fails loudly on a typo in a test
        ws[ref] = value
    for name, ref in (names or {}).items():
        wb.defined_names[name] = openpyxl.workbook.defined_name.DefinedName(name, attr_text=ref)
    wb.save(path)
    return path
