"""Summary downloads (CSV, XLSX) of finished jobs, and the API docs served without a CDN."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from tests.conftest import wait_for

from montesim.api.app import create_app
from montesim.config import Settings

pytestmark = pytest.mark.xdist_group("exports-api")

MODEL = {
    "M!B1": '=RiskUniform(0, 1, RiskName("U"))',
    "M!B2": '=RiskNormal(10, 2, RiskName("Price"))',
    "M!B3": '=RiskOutput("Value") + IF(B1<0.25, NA(), B1*B2)',
    "M!B4": '=RiskOutput("Revenue") + B2 * 100',
}
TREE = {
    "trials": 2_000,
    "seed": 1,
    "tree": {
        "name": "Root",
        "children": [
            {"name": "Fire", "probability": 0.2, "low": 1000, "high": 50000},
            {"name": "Flood", "probability": 0.1, "low": 5000, "high": 90000},
        ],
    },
}


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("exports-api"))
    with TestClient(create_app(settings)) as c:
        yield c


def run(client: TestClient, engine: str, spec: dict) -> str:
    resp = client.post("/api/jobs", json={"engine": engine, "spec": spec, "label": "export me"})
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    assert wait_for(client, job_id, timeout=120)["status"] == "complete"
    return job_id


@pytest.fixture(scope="module")
def excel_job(client: TestClient) -> str:
    return run(client, "excel", {"cells": MODEL, "iterations": 8_000, "seed": 5})


def test_xlsx_summary_matches_the_result(client: TestClient, excel_job: str) -> None:
    result = client.get(f"/api/jobs/{excel_job}/result").json()["result"]
    resp = client.get(f"/api/jobs/{excel_job}/summary.xlsx")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["content-disposition"]
    book = load_workbook(io.BytesIO(resp.content), read_only=True)
    assert book.sheetnames[:3] == ["Run", "Outputs", "Warnings"]
    rows = list(book["Outputs"].iter_rows(values_only=True))
    head = rows[0]
    by_name = {r[0]: dict(zip(head, r, strict=True)) for r in rows[1:]}
    value = result["outputs"]["Value"]
    assert by_name["Value"]["Mean"] == pytest.approx(value["mean"])
    assert by_name["Value"]["P95"] == pytest.approx(value["percentiles"]["p95"])
    assert by_name["Value"]["Error trials"] == value["error_trials"] > 0
    assert by_name["Revenue"]["Error trials"] == 0
    warnings = list(book["Warnings"].iter_rows(values_only=True))[1:]
    assert [(w[0], w[1], w[2]) for w in warnings] == [("output_errors", "M!B3", "M!B3")]
    sens = list(book["Sensitivity"].iter_rows(values_only=True))[1:]
    revenue = [r for r in sens if r[0] == "Revenue"]
    assert revenue[0][1] == "Price" and revenue[0][2] > 0.99
    run_facts = dict(list(book["Run"].iter_rows(values_only=True))[1:])
    assert run_facts["Label"] == "export me" and run_facts["iterations"] == 8_000


def test_csv_summary_has_one_row_per_output(client: TestClient, excel_job: str) -> None:
    resp = client.get(f"/api/jobs/{excel_job}/summary.csv")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["Output"] for r in rows] == ["Value", "Revenue"]
    result = client.get(f"/api/jobs/{excel_job}/result").json()["result"]
    assert float(rows[1]["Mean"]) == pytest.approx(result["outputs"]["Revenue"]["mean"])


def test_risk_tree_summary_lists_every_node(client: TestClient) -> None:
    job = run(client, "risktree", TREE)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/jobs/{job}/summary.csv").text)))
    assert [r["Node"] for r in rows] == ["Root", "Fire", "Flood"]
    book = load_workbook(io.BytesIO(client.get(f"/api/jobs/{job}/summary.xlsx").content))
    assert "Return periods" in book.sheetnames


def test_summary_of_unknown_or_unfinished_job(client: TestClient) -> None:
    assert client.get("/api/jobs/nope/summary.xlsx").status_code == 404
    resp = client.post(
        "/api/jobs", json={"engine": "excel", "spec": {"cells": MODEL, "iterations": 10**7}}
    )
    job = resp.json()["job_id"]
    got = client.get(f"/api/jobs/{job}/summary.csv")
    client.post(f"/api/jobs/{job}/cancel")
    assert got.status_code == 409 and got.json()["code"] == "job_not_complete"


def test_docs_load_only_local_assets(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url: ["']([^"']+)["']""", page.text)
    found = [a or b for a, b in urls]
    assert found and all(u.startswith("/") for u in found), found
    for u in found:
        assert client.get(u).status_code == 200, u
    assert client.get("/docs-assets/../../etc/passwd").status_code == 404
    assert client.get("/redoc").status_code in (404, 200) and "cdn" not in client.get("/docs").text
