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


def with_cached_values(path: Path, cached: dict[str, float]) -> Path:
    """Write Excel-style cached values into formula cells (``{"Sheet!B2": 4.0}``).

    openpyxl saves formulas without results; Excel saves ``<f>..</f><v>result</v>``.
    This edits the sheet XML the way Excel would have, for tests of ``verify``.
    """
    import re
    import zipfile

    wb = openpyxl.load_workbook(path)
    sheet_files = {ws.title: f"xl/worksheets/sheet{i}.xml" for i, ws in enumerate(wb.worksheets, 1)}
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    for key, value in cached.items():
        sheet, _, ref = key.rpartition("!")
        name = sheet_files[sheet]
        xml = parts[name].decode()
        pattern = rf'(<c r="{ref}"[^>]*>)(<f>.*?</f>)<v ?/>'
        xml, n = re.subn(pattern, rf"\g<1>\g<2><v>{value!r}</v>", xml)
        assert n == 1, f"no formula cell {key}"
        parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def corpus_dir(name: str = "excel") -> Path:
    """An Excel corpus (``excel``: other evaluators' test books, ``excel-real``: published
    models): $MONTESIM_EXCEL_CORPUS (for ``excel``) or $MONTESIM_EXCEL_REAL_CORPUS, else
    ``shared/corpus/<name>`` beside the repo."""
    import os

    env = "MONTESIM_EXCEL_CORPUS" if name == "excel" else "MONTESIM_EXCEL_REAL_CORPUS"
    if os.environ.get(env):
        return Path(os.environ[env])
    beside = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / name
    workplace = Path("/work/shared/corpus") / name  # where this project's machines keep it
    return beside if beside.is_dir() or not workplace.is_dir() else workplace
