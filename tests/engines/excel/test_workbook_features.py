"""Workbook features real models use: tables, spills, LET, sheet functions, SUBTOTAL,
iterative calculation, data tables, matrices. Workbooks are written here with openpyxl;
expected values come from Excel's documentation of each function, not from the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table
from tests.engines.excel.books import save_book

from montesim.engines.base import InputError
from montesim.engines.excel.compiler import Compiler
from montesim.engines.excel.inspect import inspect_workbook
from montesim.engines.excel.model import build_plan
from montesim.engines.excel.reader import read_workbook
from montesim.engines.excel.refs import parse_area
from montesim.engines.excel.spec import parse_spec
from montesim.engines.excel.values import XlError
from montesim.engines.excel.verify import verify


def evaluate(path: Path, *cells: str) -> dict[str, Any]:
    """Each cell's value with nothing random (the way verify computes it)."""
    book = read_workbook(path)
    comp = Compiler(book, static=True)
    keys = []
    for text in cells:
        sheet, _, ref = text.rpartition("!")
        a = parse_area(ref, sheet)
        assert a is not None
        keys.append((sheet.upper(), a.r1, a.c1))
    comp.compile(keys, on_cycle="mark")
    return {text: comp.value_of(k).to_py() for text, k in zip(cells, keys, strict=True)}


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    """A table Sales(Region, Qty, Price) with a totals row, and formulas reading it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in [["Region", "Qty", "Price"], ["East", 2, 10], ["West", 3, 20], ["East", 5, 30]]:
        ws.append(row)
    ws["A5"], ws["B5"] = "Total", "=SUBTOTAL(109,Sales[Qty])"
    table = Table(displayName="Sales", ref="A1:C5")
    table.totalsRowCount = 1
    ws.add_table(table)
    ws["E2"] = "=Sales[[#This Row],[Qty]]*Sales[[#This Row],[Price]]"
    ws["E3"] = "=Sales[@Qty]*Sales[@Price]"
    ws["F1"] = "=SUM(Sales[Qty])"
    ws["F2"] = '=SUMIFS(Sales[Qty],\nSales[Region],"East")'  # a line break, as typed in Excel
    ws["F3"] = "=Sales[[#Totals],[Qty]]"
    ws["F4"] = "=Sales[[#Headers],[Price]]"
    ws["F5"] = "=ROWS(Sales[#All])*10+COLUMNS(Sales[[Qty]:[Price]])"
    ws["F6"] = '=INDEX(Sales[Price],MATCH("West",Sales[Region],0))'
    ws["F7"] = "=Sales[NoSuchColumn]"
    path = tmp_path / "sales.xlsx"
    wb.save(path)
    return path


def test_structured_references(sales: Path) -> None:
    got = evaluate(
        sales, "Data!E2", "Data!E3", "Data!F1", "Data!F2", "Data!F3", "Data!F4", "Data!F5",
        "Data!F6", "Data!F7",
    )  # fmt: skip
    assert got["Data!E2"] == 20 and got["Data!E3"] == 60  # this row's Qty * Price
    assert got["Data!F1"] == 10 and got["Data!F2"] == 7
    assert got["Data!F3"] == 10  # the totals row holds SUBTOTAL(109, Sales[Qty])
    assert got["Data!F4"] == "Price"
    assert got["Data!F5"] == 5 * 10 + 2
    assert got["Data!F6"] == 20
    assert got["Data!F7"] == XlError(4)  # #REF!
    info = inspect_workbook(read_workbook(sales))
    assert info["tables"] == [
        {"name": "Sales", "range": "Data!A1:C5", "columns": ["Region", "Qty", "Price"]}
    ]


def test_spilled_arrays_fill_their_range_and_anchorarray_reads_it(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for row in [["Low", 1, 2, 3], ["Base", 4, 5, 6], ["High", 7, 8, 9]]:
        ws.append(row)
    ws["F1"] = "Base"
    # XLOOKUP returning a row: spills across G1:I1 (Excel stores the spill range)
    ws["G1"] = ArrayFormula("G1:I1", "=_xlfn.XLOOKUP(F1,A1:A3,B1:D3)")
    ws["J1"] = "=SUM(_xlfn.ANCHORARRAY(G1))"
    ws["G3"] = ArrayFormula("G3:G5", "=_xlfn._xlws.SORT(B1:B3,1,-1)")
    ws["H3"] = ArrayFormula("H3:H4", '=_xlfn.UNIQUE({"a";"A";"b"})')
    ws["I3"] = ArrayFormula("I3:I4", "=_xlfn._xlws.FILTER(B1:B3,B1:B3>3)")
    ws["J3"] = ArrayFormula("J3:K4", "=_xlfn.SEQUENCE(2,2,10,5)")
    ws["L3"] = "=_xlfn.LET(_xlpm.x,B1:B3,_xlpm.k,2,SUM(_xlpm.x)*_xlpm.k)"
    ws["L4"] = "=SUM(_xlfn.VSTACK(B1:C1,B2:C2))+SUM(_xlfn.TAKE(B1:D3,-1,2))"
    ws["L5"] = "=SUM(_xlfn.CHOOSECOLS(B1:D3,3))"
    path = tmp_path / "spill.xlsx"
    wb.save(path)
    got = evaluate(
        path, "S!G1", "S!H1", "S!I1", "S!J1", "S!G3", "S!G4", "S!G5", "S!H3", "S!H4",
        "S!I3", "S!I4", "S!J3", "S!K3", "S!J4", "S!K4", "S!L3", "S!L4", "S!L5",
    )  # fmt: skip
    assert [got["S!G1"], got["S!H1"], got["S!I1"]] == [4, 5, 6]  # each cell its own value
    assert got["S!J1"] == 15
    assert [got["S!G3"], got["S!G4"], got["S!G5"]] == [7, 4, 1]
    assert [got["S!H3"], got["S!H4"]] == ["a", "b"]  # UNIQUE ignores case
    assert [got["S!I3"], got["S!I4"]] == [4, 7]
    assert [got["S!J3"], got["S!K3"], got["S!J4"], got["S!K4"]] == [10, 15, 20, 25]
    assert got["S!L3"] == 24 and got["S!L4"] == 1 + 2 + 4 + 5 + 7 + 8
    assert got["S!L5"] == 18


def test_a_filter_over_random_inputs_is_reported_not_guessed() -> None:
    from montesim.engines.excel.reader import inline_workbook

    book = inline_workbook(
        {
            "S!A1": "=RiskNormal(10,1)",
            "S!A2": 5,
            "S!A3": 12,
            "S!B1": "=SUM(FILTER(A1:A3,A1:A3>9))",
        }
    )
    spec = parse_spec({"cells": {}, "outputs": ["S!B1"], "iterations": 10})
    with pytest.raises(InputError, match="FILTER of values that change between trials"):
        build_plan(spec, book)


def test_sheet_functions(tmp_path: Path) -> None:
    path = save_book(
        tmp_path / "sheets.xlsx",
        {
            "First!A1": 1,
            "Second!A1": "=SHEET()",
            "Second!A2": "=SHEETS()",
            "Second!A3": "=SHEET(First!A1)",
            "Second!A4": "=FORMULATEXT(A1)",
            "Second!A5": '=CELL("address",First!B7)',
            "Second!A6": '=MID(CELL("filename",A1),FIND("]",CELL("filename",A1))+1,31)',
            "Second!A7": '=CELL("row",First!B7)+CELL("col",First!B7)',
            "Second!A8": "=FORMULATEXT(First!A1)",
        },
    )
    got = evaluate(path, *(f"Second!A{i}" for i in range(1, 9)))
    assert got["Second!A1"] == 2 and got["Second!A2"] == 2 and got["Second!A3"] == 1
    assert got["Second!A4"] == "=SHEET()"
    assert got["Second!A5"] == "$B$7"
    assert got["Second!A6"] == "Second"
    assert got["Second!A7"] == 9
    assert got["Second!A8"] == XlError(7)  # FORMULATEXT of a constant: #N/A


def test_subtotal_and_aggregate_skip_nested_subtotals_hidden_rows_and_errors(
    tmp_path: Path,
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for i, v in enumerate([10, 20, None, 5, 8], start=1):
        ws[f"A{i}"] = v
    ws["A3"] = "=SUBTOTAL(9,A1:A2)"  # 30, nested: skipped by the subtotals below
    ws["A6"] = "=1/0"
    ws.row_dimensions[5].hidden = True  # 8 is on a hidden row
    ws["B1"] = "=SUBTOTAL(9,A1:A5)"  # 10+20+5+8 = 43
    ws["B2"] = "=SUBTOTAL(109,A1:A5)"  # without the hidden row: 35
    ws["B3"] = "=AGGREGATE(9,6,A1:A6)"  # ignore errors (nested subtotal counted): 73
    ws["B4"] = "=AGGREGATE(9,3,A1:A6)"  # ignore hidden, errors and nested: 35
    ws["B5"] = "=AGGREGATE(14,6,A1:A6,2)"  # LARGE(..., 2) ignoring errors: 20
    ws["B6"] = "=SUBTOTAL(2,A1:A5)"  # COUNT without the nested subtotal: 4
    path = tmp_path / "sub.xlsx"
    wb.save(path)
    got = evaluate(path, *(f"S!B{i}" for i in range(1, 7)))
    assert got == {"S!B1": 43, "S!B2": 35, "S!B3": 73, "S!B4": 35, "S!B5": 20, "S!B6": 4}


def test_indirect_reaches_sheet_scoped_names(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Loan A"
    ws["B2"] = 1234
    other = wb.create_sheet("Summary")
    other["A1"] = "Loan A"
    other["B1"] = '=INDIRECT("\'"&A1&"\'!Year.NetBalance")'
    other["B2"] = "=Year.NetBalance"  # the workbook-level name
    ws.defined_names["Year.NetBalance"] = DefinedName("Year.NetBalance", attr_text="'Loan A'!$B$2")
    other["C1"] = 99
    wb.defined_names["Year.NetBalance"] = DefinedName("Year.NetBalance", attr_text="Summary!$C$1")
    path = tmp_path / "names.xlsx"
    wb.save(path)
    got = evaluate(path, "Summary!B1", "Summary!B2")
    assert got == {"Summary!B1": 1234, "Summary!B2": 99}


def _iterative(path: Path, iterate: bool) -> Path:
    """Interest on the average cash balance: a loop Excel iterates when the file says so."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "M"
    ws["A1"] = 1000  # opening cash
    ws["A2"] = "=A1+A3"  # closing cash
    ws["A3"] = "=0.1*(A1+A2)/2"  # interest on the average balance
    ws["A4"] = "=A2*2"
    if iterate:
        wb.calculation.iterate = True
        wb.calculation.iterateCount = 100
        wb.calculation.iterateDelta = 0.001
    wb.save(path)
    return path


def test_iterative_calculation_verifies_the_loop_from_excel_values(tmp_path: Path) -> None:
    from tests.engines.excel.books import with_cached_values

    # the fixed point: i = 0.1 * (1000 + 1000 + i) / 2  ->  i = 100 / 0.95
    i = 100 / 0.95
    path = with_cached_values(
        _iterative(tmp_path / "it.xlsx", True),
        {"M!A2": 1000 + i, "M!A3": i, "M!A4": 2 * (1000 + i)},
    )
    rep = verify(read_workbook(path))
    assert len(rep.iterative) == 1 and rep.cycles
    assert rep.compared == 2 and rep.matched == 2  # the rest of the loop, and downstream
    plain = with_cached_values(
        _iterative(tmp_path / "plain.xlsx", False),
        {"M!A2": 1000 + i, "M!A3": i, "M!A4": 2 * (1000 + i)},
    )
    rep = verify(read_workbook(plain))
    assert not rep.iterative and rep.cycles and rep.matched < rep.compared
    spec = parse_spec({"cells": {}, "outputs": ["M!A4"], "iterations": 10})
    plan = build_plan(spec, read_workbook(path))  # simulated by iteration, and it says so
    assert [w["code"] for w in plan.warnings if w["code"] == "iterative_calculation"]
    with pytest.raises(InputError, match="Circular reference"):
        build_plan(spec, read_workbook(plain))


def test_matrix_functions(tmp_path: Path) -> None:
    path = save_book(
        tmp_path / "mat.xlsx",
        {
            "M!A1": 4, "M!B1": 7, "M!A2": 2, "M!B2": 6,
            "M!D1": "=MDETERM(A1:B2)",  # 4*6 - 7*2 = 10
            "M!D2": "=INDEX(MINVERSE(A1:B2),1,1)",  # 6/10
            "M!D3": "=INDEX(MINVERSE(A1:B2),1,2)",  # -7/10
            "M!D4": "=SUM(MMULT(A1:B2,{1;1}))",  # (4+7) + (2+6)
            "M!D5": "=INDEX(MMULT(A1:B2,MINVERSE(A1:B2)),2,2)",  # identity
            "M!D6": "=MDETERM({1,2;2,4})",  # singular: 0
            "M!D7": "=INDEX(MINVERSE({1,2;2,4}),1,1)",  # #NUM!
            "M!D8": "=SUM(TRANSPOSE(A1:B2))",
        },
    )  # fmt: skip
    got = evaluate(path, *(f"M!D{i}" for i in range(1, 9)))
    assert got["M!D1"] == pytest.approx(10)
    assert got["M!D2"] == pytest.approx(0.6) and got["M!D3"] == pytest.approx(-0.7)
    assert got["M!D4"] == 19 and got["M!D5"] == pytest.approx(1)
    assert got["M!D6"] == pytest.approx(0, abs=1e-12)
    assert got["M!D7"] == XlError(6)
    assert got["M!D8"] == 19


def test_rri_and_residue_of_a_subtraction(tmp_path: Path) -> None:
    path = save_book(
        tmp_path / "small.xlsx",
        {
            "M!A1": "=RRI(96,10000,11000)",  # Excel's example: 0.0009933
            "M!A2": 0.3,
            "M!A3": "=0.1+0.2",
            "M!A4": "=A3-A2",  # 5.55e-17 in IEEE; Excel shows 0
            "M!A5": "=1*(A3-A2)",  # not the last operation: Excel keeps the residue
        },
    )
    got = evaluate(path, "M!A1", "M!A4", "M!A5")
    assert got["M!A1"] == pytest.approx(0.0009933, abs=1e-7)
    assert got["M!A4"] == 0.0
    assert got["M!A5"] != 0.0


def test_data_tables_are_listed_with_their_ranges(tmp_path: Path) -> None:
    from openpyxl.worksheet.formula import DataTableFormula

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "M"
    ws["A1"] = 0.05
    ws["B1"] = "=A1*100"
    ws["D2"], ws["D3"] = 0.1, 0.2
    ws["E1"] = "=B1"
    ws["E2"] = DataTableFormula(ref="E2:E3", dt2D=False, dtr=False, r1="A1")
    ws["E3"] = 20
    ws["F1"] = "=SUM(E2:E3)"
    path = tmp_path / "dt.xlsx"
    wb.save(path)
    book = read_workbook(path)
    rep = verify(book)
    assert rep.data_tables == ["M!E2:E3"]
    spec = parse_spec({"cells": {}, "outputs": ["M!F1"], "iterations": 10})
    with pytest.raises(InputError, match="TABLE") as err:
        build_plan(spec, book)
    assert "M!E2:E3" in str(err.value.detail)


def _link_workbook(path: Path, target: str, sheet: str, values: dict[str, float]) -> Path:
    """Add what Excel writes for a formula linking another workbook: an externalLink part
    with the linked cells' last values (sheetDataSet)."""
    import re
    import zipfile

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    cells = "".join(
        f'<row r="{re.sub("[A-Z]", "", ref)}"><cell r="{ref}"><v>{v}</v></cell></row>'
        for ref, v in values.items()
    )
    link = (
        f'<externalLink xmlns="{main}"><externalBook xmlns:r="{rel}" r:id="rId1">'
        f'<sheetNames><sheetName val="{sheet}"/></sheetNames><sheetDataSet>'
        f'<sheetData sheetId="0">{cells}</sheetData></sheetDataSet></externalBook></externalLink>'
    )
    link_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel}/externalLinkPath" Target="{target}" '
        'TargetMode="External"/></Relationships>'
    )
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n).decode() for n in z.namelist()}
    parts["xl/externalLinks/externalLink1.xml"] = link
    parts["xl/externalLinks/_rels/externalLink1.xml.rels"] = link_rels
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        "</Relationships>",
        f'<Relationship Id="rIdLink1" Type="{rel}/externalLink" '
        'Target="externalLinks/externalLink1.xml"/></Relationships>',
    )
    wbxml = parts["xl/workbook.xml"]
    anchor = "<definedNames>" if "<definedNames>" in wbxml else "<calcPr"
    parts["xl/workbook.xml"] = wbxml.replace(
        anchor,
        '<externalReferences><externalReference r:id="rIdLink1"/></externalReferences>' + anchor,
        1,
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        "</Types>",
        '<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_links_to_other_workbooks_read_their_saved_values(tmp_path: Path) -> None:
    path = save_book(
        tmp_path / "consolidate.xlsx",
        {"Sum!A1": "=[1]Rates!$B$2*2", "Sum!A2": "=SUM([1]Rates!B2:B3)", "Sum!A3": "=[1]Rates!C9"},
    )
    _link_workbook(path, "Q1%20Rates.xlsx", "Rates", {"B2": 0.25, "B3": 4})
    got = evaluate(path, "Sum!A1", "Sum!A2", "Sum!A3")
    assert got == {"Sum!A1": 0.5, "Sum!A2": 4.25, "Sum!A3": 0.0}
    info = inspect_workbook(read_workbook(path))
    assert info["links"] == [{"index": 1, "workbook": "Q1 Rates.xlsx", "sheets": ["[1]Rates"]}]
    assert [s["name"] for s in info["sheets"]] == ["Sum"]


def _risk_settings_book(path: Path, state: str) -> Path:
    """A model and the sheet @RISK keeps its settings in: references to the model's
    inputs and outputs and @RISK's own bookkeeping functions, saved as Excel showed them."""
    from tests.engines.excel.books import with_cached_values

    save_book(
        path,
        {
            "Model!A1": "=RiskNormal(10,1)",
            "Model!A2": "=A1*2+RiskOutput()",
            "RiskSerializationData8!A1": "=Model!A2",
            "RiskSerializationData8!A2": "=RiskSerializationDataLink(Model!A1)",
            "RiskSerializationData8!B1": "GF1_rK0qDwEAEAD1",
        },
    )
    wb = openpyxl.load_workbook(path)
    wb["RiskSerializationData8"].sheet_state = state
    wb.save(path)
    return with_cached_values(
        path,
        {
            "Model!A1": 10.0,
            "Model!A2": 20.0,
            "RiskSerializationData8!A1": 20.0,
            "RiskSerializationData8!A2": 1.0,
        },
    )


def test_risk_settings_sheet_is_not_part_of_the_model(tmp_path: Path) -> None:
    book = read_workbook(_risk_settings_book(tmp_path / "risk.xlsx", "veryHidden"))
    info = inspect_workbook(book)
    assert info["unsupported"] == {}
    sheet = next(s for s in info["sheets"] if s["name"] == "RiskSerializationData8")
    assert sheet["add_in"] == "@RISK settings" and sheet["formulas"] == 0
    report = verify(book)
    assert report.unsupported == {} and report.errors == {}
    assert report.formula_cells == 2 and report.matched == report.compared == 2  # Model only
    # the same sheet left visible is the user's: its formulas are the model's
    shown = read_workbook(_risk_settings_book(tmp_path / "shown.xlsx", "visible"))
    assert "RISKSERIALIZATIONDATALINK" in inspect_workbook(shown)["unsupported"]
