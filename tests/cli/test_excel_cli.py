"""``montesim inspect | verify | simulate`` on workbooks, in-process (no server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.test_cli import cli
from tests.engines.excel.books import save_book, with_cached_values

pytestmark = pytest.mark.xdist_group("cli")

MODEL = {
    "In!A1": "Volume",
    "In!B1": '=RiskTriang(90, 100, 130, RiskName("Volume"))',
    "In!B2": "=RiskNormal(5, 1)",
    "In!B3": 2,
    "Out!B1": '=RiskOutput("Margin") + In!B1*(In!B2-In!B3)',
    "Out!B2": "=ROUND(In!B3*2.5, 0)",
    "Out!B3": '=LEN("abc")&"x"',
    "Out!B9": "=SHEETMAGIC(1)",
}


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return save_book(tmp_path / "model.xlsx", MODEL)


def test_inspect_lists_sheets_inputs_outputs_and_unsupported(model: Path) -> None:
    done = cli("inspect", str(model), "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert [s["name"] for s in info["sheets"]] == ["In", "Out"]
    assert info["formula_count"] == 6
    assert [(i["cell"], i["name"]) for i in info["inputs"]] == [
        ("In!B1", "Volume"),
        ("In!B2", None),
    ]
    assert info["outputs"] == [{"cell": "Out!B1", "name": "Margin"}]
    assert info["unsupported"] == {"SHEETMAGIC": ["Out!B9"]}
    text = cli("inspect", str(model))
    assert "Volume" in text.stdout and "SHEETMAGIC: Out!B9" in text.stdout


def test_verify_compares_with_excel_cached_values(tmp_path: Path) -> None:
    cells = {k: v for k, v in MODEL.items() if k != "Out!B9"}
    # Excel caches the static value of a Risk cell: @RISK's mean; ROUND(5, 0) = 5 (half away
    # from zero); one wrong cached value that verify must report
    path = with_cached_values(
        save_book(tmp_path / "v.xlsx", cells),
        {"In!B1": 106.66666666666667, "In!B2": 5.0, "Out!B1": 320.0, "Out!B2": 5.0, "Out!B3": 99.0},
    )
    done = cli("verify", str(path), "--json")
    assert done.returncode == 1, done.stderr  # mismatches -> non-zero exit
    report = json.loads(done.stdout)
    assert report["formula_cells"] == 5 and report["compared"] == 5
    assert report["matched"] == 4 and report["unsupported"] == {}
    [miss] = report["mismatches"]
    assert miss["sheet"] == "Out" and miss["cell"] == "B3" and miss["got"] == "3x"
    assert miss["expected"] == 99.0 and miss["formula"] == '=LEN("abc")&"x"'
    text = cli("verify", str(path))
    assert "4 matched" in text.stdout and "B3" in text.stdout


def test_simulate_with_inputs_outputs_and_result_file(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = cli(
        "simulate", str(model), "-n", "20000", "--seed", "3",
        "--input", "In!B3=uniform(1, 3)", "--output", "Out!B1", "--output", "Out!B2",
        "-o", str(out), "--iterations-file", str(tmp_path / "it.csv"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["iterations"] == 20_000 and result["seed"] == 3
    margin = result["outputs"]["Out!B1"]
    assert margin["mean"] == pytest.approx((90 + 100 + 130) / 3 * (5 - 2), rel=0.02)
    assert {i["cell"] for i in result["inputs"]} == {"In!B1", "In!B2", "In!B3"}
    assert "Out!B1" in done.stdout and "driven by" in done.stdout
    assert (tmp_path / "it.csv").read_text().count("\n") == 20_001
    bad = cli("simulate", str(model), "--output", "Out!B1")  # Out!B9 is not upstream: fine
    assert bad.returncode == 0, bad.stderr
    bad = cli("simulate", str(model), "--output", "Out!B9")
    assert bad.returncode == 2 and "SHEETMAGIC" in bad.stderr and "Out!B9" in bad.stderr
    bad = cli("simulate", str(model), "--input", "Nowhere!A1=normal(1,1)", "--output", "Out!B1")
    assert bad.returncode == 2 and "'Nowhere'" in bad.stderr
    bad = cli("simulate", str(tmp_path / "missing.xlsx"))
    assert bad.returncode == 2 and "missing.xlsx" in bad.stderr


def test_verify_without_cached_values_says_so_and_exits_2(model: Path) -> None:
    done = cli("verify", str(model))  # written by openpyxl: formulas, no results
    assert done.returncode == 2
    assert "no cached values to compare (the workbook was not saved by Excel)" in done.stderr
    assert "matched" not in done.stdout


def test_verify_reports_a_formula_it_cannot_compile_and_goes_on(tmp_path: Path) -> None:
    cells = {"S!A1": 5, "S!B1": "=IF(,1,2)", "S!B2": "=RiskNormal(1, -2)", "S!B3": "=A1*2"}
    path = with_cached_values(
        save_book(tmp_path / "c.xlsx", cells), {"S!B1": 2.0, "S!B2": 1.0, "S!B3": 10.0}
    )
    done = cli("verify", str(path), "--json")
    report = json.loads(done.stdout)
    assert report["compared"] == 3 and report["matched"] == 2  # IF(,1,2) is 2, as in Excel
    assert list(report["errors"]) == ["S!B2"] and "sd" in report["errors"]["S!B2"]
    text = cli("verify", str(path))
    assert text.returncode == 1
    assert "S!B2 =RiskNormal(1, -2)" in text.stdout


def test_inspect_lists_a_risk_static_input_once_as_an_input(tmp_path: Path) -> None:
    """RiskStatic(v) inside a distribution is the input's value outside a simulation (the
    @RISK docs' "static value"): the cell is an input with that value, not a statistic."""
    book = save_book(
        tmp_path / "static.xlsx",
        {
            "M!B1": '=RiskNormal(10, 2, RiskStatic(9.5), RiskName("Demand"))',
            "M!B2": "=RiskTriang(1, 2, 4, RiskStatic(-1))",
            "M!B3": "=RiskUniform(0, 1)",
            "M!B4": "=RiskMean(M!B5)",
            "M!B5": '=RiskOutput("Total") + B1 + B2 + B3',
        },
    )
    done = cli("inspect", str(book), "--json")
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert [(i["cell"], i["static"]) for i in info["inputs"]] == [
        ("M!B1", 9.5),
        ("M!B2", -1.0),
        ("M!B3", None),
    ]
    assert [s["cell"] for s in info["statistics"]] == ["M!B4"]  # RiskMean only
    every = [i["cell"] for i in info["inputs"]] + [s["cell"] for s in info["statistics"]]
    assert len(every) == len(set(every))  # each cell classified once
    text = cli("inspect", str(book))
    assert text.returncode == 0, text.stderr
    assert "static 9.5" in text.stdout and "M!B1" not in text.stdout.split("statistics")[-1]
