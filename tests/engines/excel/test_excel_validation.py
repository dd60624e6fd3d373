"""Bad input to the excel engine: each a 422 InputError naming the field, sheet and cell."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from tests.engines.excel.books import save_book

from montesim.engines.base import InputError
from montesim.engines.excel import ExcelEngine

ENGINE = ExcelEngine()
MODEL = {"M!A1": "=RiskNormal(10, 2)", "M!B1": "=A1*2", "M!B2": 5}


def invalid(spec: dict[str, Any], files: dict[str, Path] | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        ENGINE.validate(spec, files or {})
    err = info.value
    assert err.status == 422 and err.message
    return err


def upload(tmp_path: Path, data: bytes, name: str = "model.xlsx") -> dict[str, Path]:
    path = tmp_path / name
    path.write_bytes(data)
    return {"f1": path}


def workbook_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=RiskNormal(1,1)"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_corrupt_zip_and_non_workbook_files(tmp_path: Path) -> None:
    damaged = workbook_bytes()[:300]  # a zip cut short
    err = invalid({"file_id": "f1", "outputs": ["A1"]}, upload(tmp_path, damaged))
    assert err.code == "workbook_corrupt" and "model.xlsx" in err.message
    err = invalid({"file_id": "f1", "outputs": ["A1"]}, upload(tmp_path, b"name,value\nx,1\n"))
    assert err.code == "workbook_corrupt" and err.location == "file"
    # a valid zip that is not a workbook
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "not excel")
    err = invalid({"file_id": "f1", "outputs": ["A1"]}, upload(tmp_path, buf.getvalue()))
    assert err.code == "workbook_corrupt"


def test_password_protected_workbook(tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(workbook_bytes())).encrypt("secret", encrypted)
    err = invalid({"file_id": "f1", "outputs": ["A1"]}, upload(tmp_path, encrypted.getvalue()))
    assert err.code == "workbook_encrypted" and "password" in err.message


def test_legacy_xls_workbook(tmp_path: Path) -> None:
    import xlwt

    book = xlwt.Workbook()
    book.add_sheet("Sheet1").write(0, 0, 1.5)
    buf = io.BytesIO()
    book.save(buf)
    err = invalid({"file_id": "f1", "outputs": ["A1"]}, upload(tmp_path, buf.getvalue(), "old.xls"))
    assert err.code == "workbook_xls" and ".xlsx" in err.message


def test_unknown_file_id() -> None:
    err = invalid({"file_id": "nope", "outputs": ["A1"]})
    assert err.code == "unknown_file" and err.location == "spec.file_id"


@pytest.mark.parametrize(
    ("spec", "location", "words"),
    [
        ({"outputs": ["Nope!B1"]}, "spec.outputs[0]", ["'Nope'", "sheets: M"]),
        ({"outputs": ["M!B1", "M!ZZZZ9"]}, "spec.outputs[1]", ["ZZZZ9"]),
        ({"outputs": ["M!C7"]}, "spec.outputs[0]", ["M!C7", "empty"]),
        (
            {"outputs": ["M!B1"], "inputs": {"Other!A1": "normal(1,1)"}},
            "spec.inputs['Other!A1']",
            ["'Other'"],
        ),
        ({"outputs": ["M!B1"], "fixed": {"Q!A1": 1}}, "spec.fixed['Q!A1']", ["'Q'"]),
        ({"outputs": ["M!B1"], "iterations": 0}, "spec.iterations", ["greater than or equal to 1"]),
        ({"outputs": ["M!B1"], "iterations": 10_000_001}, "spec.iterations", ["10000000"]),
        ({"outputs": ["M!B1"], "sampling": "sobol"}, "spec.sampling", ["lhs"]),
        ({"outputs": ["M!B1"], "colour": "red"}, "spec.colour", ["Extra"]),
        ({"outputs": ["M!B1"], "fixed": {"M!B2": "=A1"}}, "spec.fixed['M!B2']", ["formula"]),
    ],
)
def test_cells_sheets_and_fields_that_do_not_exist(spec, location, words) -> None:
    err = invalid({"cells": MODEL, **spec})
    assert err.location == location, err.to_dict()
    for word in words:
        assert word in err.message, err.message


def test_no_outputs_at_all() -> None:
    err = invalid({"cells": MODEL})
    assert err.code == "no_outputs" and "RiskOutput" in err.message


def test_circular_reference_names_the_cycle(tmp_path: Path) -> None:
    cells = {"C!A1": "=RiskNormal(1,1)", "C!B1": "=A1+B3", "C!B2": "=B1*2", "C!B3": "=B2-1"}
    path = save_book(tmp_path / "circ.xlsx", cells)
    err = invalid({"file_id": "f1", "outputs": ["C!B2"]}, {"f1": path})
    assert err.code == "circular_reference"
    assert set(err.detail["cycle"]) == {"C!B1", "C!B2", "C!B3"}
    assert "C!B1" in err.message and "C!B3" in err.message
    # a self-reference too
    err = invalid({"cells": {"S!A1": "=RiskNormal(1,1)", "S!B1": "=B1+A1"}, "outputs": ["S!B1"]})
    assert err.code == "circular_reference" and err.detail["cycle"] == ["S!B1"]


def test_every_unsupported_function_is_listed_with_its_cells() -> None:
    cells = {
        "U!A1": "=RiskNormal(1,1)",
        "U!B1": "=FROBNICATE(A1)",
        "U!B2": "=FROBNICATE(B1)+WIBBLE(1)",
        "U!B3": "=B2+A1",
        "U!B9": "=NOTUSED(1)",  # not upstream of the output: not compiled, not reported
    }
    err = invalid({"cells": cells, "outputs": ["U!B3"]})
    assert err.code == "unsupported_function"
    assert err.detail["unsupported"] == {"FROBNICATE": ["U!B1", "U!B2"], "WIBBLE": ["U!B2"]}
    assert "FROBNICATE in U!B1, U!B2" in err.message and "WIBBLE in U!B2" in err.message


@pytest.mark.parametrize(
    ("formula", "words"),
    [
        ("=RiskNormal(10, -1)", ["sd"]),
        ("=RiskUniform(5, 1)", ["min", "max"]),
        ("=RiskTriang(1, 9, 5)", ["mode"]),
        ("=RiskLognorm(-3, 1)", ["mean"]),
        ("=RiskPoisson(-2)", ["lambda"]),
        ("=RiskBinomial(10, 1.5)", ["p"]),
        ("=RiskDiscrete({1,2}, {0.5})", ["probs"]),
        ("=RiskNormal(10, 2, RiskTruncate(5, 1))", ["truncat"]),
        ('=RiskNormal("ten", 2)', ["number"]),
    ],
)
def test_distribution_parameters_out_of_range_name_the_cell(formula, words) -> None:
    err = invalid({"cells": {"P!A1": 1, "P!B4": formula, "P!C1": "=B4*2"}, "outputs": ["P!C1"]})
    assert "P!B4" in (err.location or "") or "P!B4" in err.message, err.to_dict()
    for word in words:
        assert word.lower() in err.message.lower(), err.message


def test_spec_distribution_errors_name_the_cell() -> None:
    err = invalid({"cells": MODEL, "outputs": ["M!B1"], "inputs": {"M!B2": "normal(1, -2)"}})
    assert err.location == "M!B2" and "sd" in err.message
    err = invalid({"cells": MODEL, "outputs": ["M!B1"], "inputs": {"M!B2": "gaussian(1, 2)"}})
    assert err.location == "M!B2" and "gaussian" in err.message


def test_parameters_that_depend_on_random_inputs_are_refused() -> None:
    cells = {"R!A1": "=RiskNormal(1,1)", "R!A2": "=RiskNormal(A1, 1)", "R!B1": "=A2"}
    err = invalid({"cells": cells, "outputs": ["R!B1"]})
    assert err.code == "random_parameter" and err.location == "R!A2"


@pytest.mark.parametrize(
    ("matrix", "words"),
    [
        ([[1, 1.5], [1.5, 1]], ["outside [-1, 1]"]),
        ([[1, 0.5], [0.2, 1]], ["symmetric"]),
        ([[1, 0.5, 0], [0.5, 1, 0]], ["2x2"]),
    ],
)
def test_bad_correlation_matrices(matrix, words) -> None:
    cells = {"K!A1": "=RiskNormal(0,1)", "K!A2": "=RiskNormal(0,1)", "K!A3": "=RiskNormal(0,1)"}
    cells["K!B1"] = "=A1+A2+A3"
    names = ["K!A1", "K!A2", "K!A3"][: len(matrix)]
    err = invalid(
        {"cells": cells, "outputs": ["K!B1"], "correlation": {"inputs": names, "matrix": matrix}}
    )
    assert err.code == "invalid_correlation" and "spec.correlation" in err.location
    for word in words:
        assert word in err.message, err.message
    err = invalid(
        {
            "cells": cells,
            "outputs": ["K!B1"],
            "correlation": {"inputs": ["K!A1", "K!C9"], "matrix": [[1, 0], [0, 1]]},
        }
    )
    assert err.location == "spec.correlation.inputs[1]" and "not a random input" in err.message


def test_corrmat_matrix_that_contradicts_itself() -> None:
    cells = {
        "K!A1": "=RiskNormal(0,1,RiskCorrmat(K!D1:F3,1))",
        "K!A2": "=RiskNormal(0,1,RiskCorrmat(K!D1:F3,2))",
        "K!A3": "=RiskNormal(0,1,RiskCorrmat(K!D1:F3,3))",
        "K!B1": "=A1+A2+A3",
        **{
            f"K!{c}{r}": v
            for (c, r), v in {
                ("D", 1): 1,
                ("E", 1): 0.9,
                ("F", 1): 0.9,
                ("D", 2): 0.9,
                ("E", 2): 1,
                ("F", 2): -0.9,
                ("D", 3): 0.9,
                ("E", 3): -0.9,
                ("F", 3): 1,
            }.items()
        },
    }
    err = invalid({"cells": cells, "outputs": ["K!B1"]})
    assert err.code == "invalid_correlation" and err.location == "K!D1:F3"
    assert "positive semidefinite" in err.message


def test_output_that_depends_on_no_input_is_a_warning_not_an_error() -> None:
    plan = ENGINE.validate({"cells": MODEL, "outputs": ["M!B1", "M!B2"]}, {})
    assert [w["location"] for w in plan.warnings] == ["M!B2"]
    assert plan.warnings[0]["code"] == "output_not_random" and "M!B2" in plan.warnings[0]["message"]
