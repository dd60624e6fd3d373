"""Excel jobs through a real server: upload, run, results, downloads, and 422s that name cells."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from tests.conftest import ServerProc, submit, wait_for
from tests.engines.excel.books import save_book

import montesim

pytestmark = pytest.mark.xdist_group("excel-api")

MODEL = {
    "Inputs!A1": "Growth",
    "Inputs!B1": '=RiskNormal(0.05, 0.02, RiskName("Growth"))',
    "Inputs!B2": '=RiskPert(0.08, 0.1, 0.15, RiskName("Discount"))',
    "Inputs!B3": 1000,
    "Model!A1": "=Inputs!B3",
    **{f"Model!A{r}": f"=A{r - 1}*(1+Inputs!$B$1)" for r in range(2, 11)},
    "Model!B1": '=RiskOutput("NPV") + NPV(Inputs!B2, A1:A10)',
    "Model!B2": "=IF(B1>7000, 1, 0)",
    "Model!B3": "=1/(Inputs!B1>0.05)",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProc]:
    tmp = tmp_path_factory.mktemp("excel-api")
    proc = ServerProc(tmp, f"sqlite:///{tmp / 'db.sqlite'}").start()
    yield proc
    proc.stop()


@pytest.fixture
def client(server: ServerProc) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def upload(client: httpx.Client, path: Path) -> str:
    with path.open("rb") as fh:
        resp = client.post("/api/files", files={"file": (path.name, fh)})
    assert resp.status_code == 201 or resp.status_code == 200, resp.text
    return resp.json()["file_id"]


def test_workbook_job_runs_to_results_and_downloads(client: httpx.Client, tmp_path: Path) -> None:
    path = save_book(tmp_path / "dcf.xlsx", MODEL)
    file_id = upload(client, path)
    spec = {
        "file_id": file_id,
        "iterations": 30_000,
        "seed": 42,
        "chunk_size": 4096,
        "outputs": ["Model!B1", {"cell": "Model!B2", "name": "Above 7000"}, "Model!B3"],
        "raw_iterations": 10_000,
    }
    job_id = submit(client, "excel", spec, label="dcf")
    job = wait_for(client, job_id, timeout=120)
    assert job["status"] == "complete", job
    assert job["unit"] == "iterations" and job["done"] == job["total"] == 30_000
    body = client.get(f"/api/jobs/{job_id}/result").json()
    result = body["result"]
    npv = result["outputs"]["Model!B1"]
    assert npv["n"] == 30_000 and npv["errors"] == {}
    assert result["outputs"]["Model!B3"]["errors"]["#DIV/0!"] == pytest.approx(15_000, rel=0.05)
    assert npv["sensitivity"]["tornado"][0]["input"] == "Growth"
    # the server's run equals the in-process run for the same seed
    local = montesim.simulate(path, outputs=spec["outputs"], iterations=30_000, seed=42)
    assert local.stats("Model!B1")["mean"] == npv["mean"]
    assert (
        local.stats("Above 7000")["percentiles"] == result["outputs"]["Above 7000"]["percentiles"]
    )
    hrefs = {a["name"]: a["href"] for a in body["artifacts"]}
    assert set(hrefs) == {"iterations.csv", "iterations.parquet"}
    table = pq.read_table(io.BytesIO(client.get(hrefs["iterations.parquet"]).content))
    assert table.num_rows == 10_000
    assert table.column_names[0] == "iteration"
    assert set(table.column_names[1:3]) == {"Growth", "Discount"}
    csv = client.get(hrefs["iterations.csv"])
    assert csv.status_code == 200 and csv.text.count("\n") == 10_001
    # written from the stored Parquet as it downloads: the CSV of the whole table
    whole = io.BytesIO()
    pcsv.write_csv(table, whole)
    assert csv.content == whole.getvalue()
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="iterations.csv"' in csv.headers["content-disposition"]


def _rejected(client: httpx.Client, spec: dict) -> tuple[dict, dict]:
    """The 422 of ``POST /api/jobs/validate`` and the error of the same job once queued.

    Submitting only checks the spec's shape and the file's container; the worker finds
    the rest while planning and ends the job in error with the same code and location.
    """
    body = {"engine": "excel", "spec": spec}
    resp = client.post("/api/jobs/validate", json=body)
    assert resp.status_code == 422, resp.text
    job = wait_for(client, submit(client, "excel", spec), timeout=60)
    assert job["status"] == "error", job
    return resp.json(), job["error"]


def test_bad_workbooks_and_specs_name_sheet_and_cell(client: httpx.Client, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    resp = client.post(
        "/api/jobs",
        json={"engine": "excel", "spec": {"file_id": upload(client, broken), "outputs": ["A1"]}},
    )
    assert resp.status_code == 422 and resp.json()["code"] == "workbook_corrupt"
    assert "not a readable .xlsx/.xlsm workbook" in resp.json()["detail"]

    file_id = upload(client, save_book(tmp_path / "m.xlsx", MODEL))
    # the spec's shape is checked at submit: a 422, nothing queued
    resp = client.post(
        "/api/jobs",
        json={
            "engine": "excel",
            "spec": {"file_id": file_id, "outputs": ["Model!B1"], "iterations": 20_000_000},
        },
    )
    problem = resp.json()
    assert resp.status_code == 422, problem
    assert problem["code"] == "invalid_spec" and problem["location"] == "spec.iterations"
    assert "10000000" in problem["detail"]
    assert client.get("/api/jobs", params={"status": "queued"}).json()["total"] == 0

    cases = [
        ({"outputs": ["Modle!B1"]}, "unknown_sheet", "spec.outputs[0]", "'Modle'"),
        ({"outputs": ["Model!C99"]}, "empty_output", "spec.outputs[0]", "Model!C99"),
        (
            {"outputs": ["Model!B1"], "inputs": {"Inputs!B3": "normal(1000, -5)"}},
            "invalid_distribution",
            "Inputs!B3",
            "sd",
        ),
    ]
    for extra, code, location, word in cases:
        problem, error = _rejected(client, {"file_id": file_id, **extra})
        assert problem["code"] == code and problem["location"] == location, problem
        assert word in problem["detail"], problem
        assert error["code"] == code and error["location"] == location, error
        assert word in error["message"], error
    circular = save_book(tmp_path / "c.xlsx", {"S!A1": "=RiskNormal(1,1)+B1", "S!B1": "=A1*2"})
    problem, error = _rejected(client, {"file_id": upload(client, circular), "outputs": ["S!B1"]})
    assert problem["code"] == error["code"] == "circular_reference"
    assert "S!A1" in problem["detail"] and "S!B1" in error["message"]
    unsupported = save_book(
        tmp_path / "u.xlsx", {"S!A1": "=RiskNormal(1,1)", "S!B1": "=CUBEVALUE(A1)"}
    )
    problem, error = _rejected(
        client, {"file_id": upload(client, unsupported), "outputs": ["S!B1"]}
    )
    assert problem["errors"]["unsupported"] == {"CUBEVALUE": ["S!B1"]}
    assert error["code"] == problem["code"] and error["detail"]["unsupported"] == {
        "CUBEVALUE": ["S!B1"]
    }
    assert client.get("/api/healthz").json()["ok"] is True


def test_long_excel_job_reports_progress_and_cancels(client: httpx.Client, tmp_path: Path) -> None:
    file_id = upload(client, save_book(tmp_path / "long.xlsx", MODEL))
    spec = {"file_id": file_id, "iterations": 5_000_000, "chunk_size": 65_536, "raw_iterations": 0}
    job_id = submit(client, "excel", spec)
    deadline = time.monotonic() + 60
    job = client.get(f"/api/jobs/{job_id}").json()
    while job["done"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "running" and 0 < job["done"] < 5_000_000, job
    assert job["unit"] == "iterations" and job["done"] % 65_536 == 0  # whole persisted chunks
    asked = time.monotonic()
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    job = wait_for(client, job_id, timeout=30)
    assert job["status"] == "cancelled"
    assert time.monotonic() - asked < 5, "a running chunk notices cancellation between batches"
    assert client.get(f"/api/jobs/{job_id}/result").status_code == 409
