"""Pivot tables and their caches are dropped before openpyxl reads a workbook."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from tests.engines.excel.books import save_book

from montesim.engines.excel.reader import read_workbook, without_pivots

CACHE = (
    '<pivotCacheDefinition xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1" '
    'recordCount="1"><cacheSource type="worksheet"><worksheetSource ref="A1:A2" sheet="S"/>'
    '</cacheSource><cacheFields count="1"><cacheField name="x" numFmtId="0"><sharedItems/>'
    "</cacheField></cacheFields></pivotCacheDefinition>"
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _with_pivot_cache(path: Path) -> bytes:
    """The workbook at ``path`` plus a pivot cache wired in as Excel writes one."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            part = zin.read(info).decode("utf-8")
            if info.filename == "xl/workbook.xml":
                part = part.replace(
                    "</workbook>",
                    '<pivotCaches><pivotCache cacheId="1" r:id="rIdP"/></pivotCaches></workbook>',
                )
                if "xmlns:r=" not in part:
                    part = part.replace("<workbook ", f'<workbook xmlns:r="{REL}" ', 1)
            elif info.filename == "xl/_rels/workbook.xml.rels":
                part = part.replace(
                    "</Relationships>",
                    f'<Relationship Id="rIdP" Type="{REL}/pivotCacheDefinition" '
                    'Target="pivotCache/pivotCacheDefinition1.xml"/></Relationships>',
                )
            elif info.filename == "[Content_Types].xml":
                part = part.replace(
                    "</Types>",
                    '<Override PartName="/xl/pivotCache/pivotCacheDefinition1.xml" ContentType='
                    '"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                    'pivotCacheDefinition+xml"/></Types>',
                )
            zout.writestr(info, part)
        zout.writestr("xl/pivotCache/pivotCacheDefinition1.xml", CACHE)
    return out.getvalue()


def test_a_workbook_with_a_pivot_cache_reads_without_it(tmp_path: Path) -> None:
    plain = save_book(tmp_path / "plain.xlsx", {"S!A1": 2, "S!A2": "=A1*21"})
    data = _with_pivot_cache(plain)
    stripped = without_pivots(data)
    with zipfile.ZipFile(io.BytesIO(stripped)) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/pivot")]
        text = "".join(z.read(n).decode() for n in z.namelist() if n.endswith((".xml", ".rels")))
    assert not re.search("pivotCache", text)
    path = tmp_path / "pivot.xlsx"
    path.write_bytes(data)
    book = read_workbook(path)
    assert book.sheets["S"].cells[(2, 1)].formula == "=A1*21"
    assert without_pivots(plain.read_bytes()) == plain.read_bytes()  # nothing to drop
