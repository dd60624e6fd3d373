"""Limits before work: each bad input is a 413/422 problem naming the limit and the value,
answered before anything grows with the input (and never a 500)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import wait_for
from tests.jobs.conftest import fast_settings

from montesim.api.app import create_app
from montesim.config import Settings
from montesim.engines.excel.limits import formula_depth

MODEL = {
    "S!A1": "=RiskNormal(10, 2)",
    "S!A2": "=RiskOutput() + A1 * 2",
}


def excel(**spec: object) -> dict:
    return {"engine": "excel", "spec": {"cells": MODEL, "iterations": 1000, **spec}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("limits"), max_json_bytes=100_000)
    with TestClient(create_app(settings, run_jobs=False), raise_server_exceptions=False) as c:
        yield c


def post_raw(client: TestClient, path: str, text: str) -> object:
    return client.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


def assert_problem(resp, status: int, code: str) -> dict:  # noqa: ANN001
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == code, body
    return body


# -- JSON bodies -----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read(client: TestClient) -> None:
    big = excel(label=None, fixed={f"S!B{i}": i for i in range(20_000)})
    body = assert_problem(client.post("/api/jobs", json=big), 413, "body_too_large")
    assert body["limit"] == 100_000 and body["value"] > 100_000
    assert "MONTESIM_MAX_JSON_BYTES" in body["detail"]


def test_a_chunked_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"engine": "sleep", "spec": {"pad": "'
        for _ in range(300):
            yield b"x" * 1000
        yield b'"}}'

    resp = client.post("/api/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in resp.request.headers}
    assert_problem(resp, 413, "body_too_large")


def test_deep_json_is_refused_with_its_limit(client: TestClient) -> None:
    text = '{"engine": "sleep", "spec": {"x": ' + "[" * 80 + "]" * 80 + "}}"
    body = assert_problem(post_raw(client, "/api/jobs", text), 422, "json_too_deep")
    assert body["limit"] == 64 and body["location"].startswith("spec.x[0][0]")


def test_json_nested_past_the_parsers_stack_is_422_not_500(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_json_bytes=10_000_000)
    with TestClient(create_app(settings, run_jobs=False), raise_server_exceptions=False) as c:
        text = '{"spec": ' + "[" * 200_000 + "]" * 200_000 + "}"
        assert_problem(post_raw(c, "/api/jobs", text), 422, "json_too_deep")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused_naming_the_field(client: TestClient, literal: str) -> None:
    text = json.dumps(excel()).replace('"iterations": 1000', f'"fixed": {{"S!A1": {literal}}}')
    body = assert_problem(post_raw(client, "/api/jobs", text), 422, "non_finite_number")
    assert body["location"] == "spec.fixed.S!A1"
    assert "finite" in body["detail"]


def test_non_finite_numbers_are_refused_on_every_json_endpoint(client: TestClient) -> None:
    text = '{"severity": {"family": "lognormal", "low": NaN, "high": 5}}'
    body = assert_problem(post_raw(client, "/api/risktree/preview", text), 422, "non_finite_number")
    assert body["location"] == "severity.low"
    text = '{"jobs": [{"engine": "sleep", "spec": {"units": Infinity}}]}'
    body = assert_problem(post_raw(client, "/api/batches", text), 422, "non_finite_number")
    assert body["location"] == "jobs[0].spec.units"


def test_long_strings_are_refused_naming_the_field(client: TestClient) -> None:
    resp = client.post("/api/jobs", json=excel(inputs={"S!B1": "normal(1," + "1" * 20_000 + ")"}))
    body = assert_problem(resp, 422, "string_too_long")
    assert body["location"] == "spec.inputs.S!B1"
    assert body["limit"] == 10_000 and body["value"] > 20_000
    assert "1" * 300 not in resp.text
    resp = client.post("/api/jobs", json={"engine": "sleep", "spec": {"k" * 11_000: 1}})
    assert_problem(resp, 422, "string_too_long")


def test_labels_and_names_have_their_own_lengths(client: TestClient) -> None:
    resp = client.post("/api/jobs", json={"engine": "sleep", "spec": {}, "label": "L" * 201})
    assert assert_problem(resp, 422, "validation_error")["location"] == "label"
    resp = client.post("/api/jobs", json={"engine": "e" * 65, "spec": {}})
    assert assert_problem(resp, 422, "validation_error")["location"] == "engine"


@pytest.mark.parametrize("path", ["/api/jobs", "/api/batches"])
def test_huge_pagination_offsets_are_422(client: TestClient, path: str) -> None:
    body = assert_problem(client.get(path, params={"offset": 10**30}), 422, "validation_error")
    assert body["location"] == "offset"
    assert client.get(path, params={"offset": 10**9}).status_code == 200


# -- workbooks -------------------------------------------------------------------------------


def workbook_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def submit_book(client: TestClient, data: bytes) -> object:
    up = client.post("/api/files", files={"file": ("book.xlsx", data)})
    assert up.status_code == 201, up.text
    spec = {"file_id": up.json()["file_id"], "outputs": ["S!A1"], "iterations": 100}
    return client.post("/api/jobs", json={"engine": "excel", "spec": spec})


def test_a_zip_bomb_is_refused_from_its_directory(client: TestClient) -> None:
    bomb = workbook_zip({"xl/worksheets/sheet1.xml": b"\0" * (40 << 20)})
    assert len(bomb) < 200_000
    body = assert_problem(submit_book(client, bomb), 413, "workbook_too_large")
    assert body["errors"]["limit"] == "ratio" and body["errors"]["value"] > 200
    assert "inflates" in body["detail"] and body["location"] == "file"


def test_too_many_parts_and_too_many_bytes_are_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = workbook_zip({f"xl/media/p{i}.bin": b"x" for i in range(30)})
    monkeypatch.setenv("MONTESIM_WORKBOOK_MAX_PARTS", "20")
    body = assert_problem(submit_book(client, many), 413, "workbook_too_large")
    assert body["errors"] == {
        "limit": "parts",
        "max": 20,
        "value": None,
        "variable": "MONTESIM_WORKBOOK_MAX_PARTS",
    }
    monkeypatch.delenv("MONTESIM_WORKBOOK_MAX_PARTS")
    monkeypatch.setenv("MONTESIM_WORKBOOK_MAX_UNZIPPED_BYTES", "5000")
    sheet = workbook_zip({"xl/worksheets/sheet1.xml": bytes(range(256)) * 40})
    body = assert_problem(submit_book(client, sheet), 413, "workbook_too_large")
    assert body["errors"]["limit"] == "unzipped_bytes" and body["errors"]["value"] > 5000


# -- formulas ---------------------------------------------------------------------------------


def test_a_formula_over_excels_length_is_refused_naming_its_cell(client: TestClient) -> None:
    long = "=" + "+".join(["A1"] * 2800)  # 8,400 characters
    body = assert_problem(
        client.post("/api/jobs", json=excel(cells={**MODEL, "S!B7": long})),
        422,
        "formula_too_long",
    )
    assert body["location"] == "S!B7" and "8,192" in body["detail"]


def test_a_deeply_nested_formula_is_refused_naming_its_cell(client: TestClient) -> None:
    deep = "=" + "(" * 150 + "A1" + ")" * 150
    body = assert_problem(
        client.post("/api/jobs", json=excel(cells={**MODEL, "S!C3": deep})),
        422,
        "formula_too_deep",
    )
    assert body["location"] == "S!C3" and "150" in body["detail"]


def test_a_formula_deeper_than_the_stack_is_422_not_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Limits raised far past the defaults: the compiler's RecursionError must still be a 4xx.
    monkeypatch.setenv("MONTESIM_FORMULA_MAX_CHARS", "1000000")
    monkeypatch.setenv("MONTESIM_FORMULA_MAX_DEPTH", "1000000")
    settings = Settings(data_dir=tmp_path, max_json_string=1_000_000)
    deep = "=" + "(" * 10_000 + "A1" + ")" * 10_000
    chain = "=" + "+".join(["A1"] * 20_000)
    with TestClient(create_app(settings, run_jobs=False), raise_server_exceptions=False) as c:
        for formula in (deep, chain):
            resp = c.post("/api/jobs", json=excel(cells={**MODEL, "S!B1": formula}))
            assert resp.status_code in (202, 422), resp.text[:300]
            if resp.status_code == 422:
                assert resp.json()["code"] == "too_deep"


def test_quoted_parentheses_do_not_count() -> None:
    assert formula_depth('=IF(A1=")))((((", "(", SUM((B1)))') == 3
    assert formula_depth("='Sheet (1)'!A1+(1)") == 1


# -- memory -----------------------------------------------------------------------------------


def test_iterations_times_outputs_over_the_job_memory_is_refused(client: TestClient) -> None:
    outputs = [f"S!A{i}" for i in range(1, 2001)]
    resp = client.post("/api/jobs", json=excel(iterations=10**7, outputs=outputs))
    body = assert_problem(resp, 422, "job_too_large")
    assert body["location"] == "spec.iterations"
    assert body["errors"] == {"limit": "job_memory", "max": 8 << 30, "value": 10**7 * 2000 * 8}
    assert "MONTESIM_JOB_MEMORY" in body["detail"]


def test_the_worker_checks_the_memory_of_the_workbooks_own_outputs(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path / "data", job_memory=1_000_000)
    with TestClient(create_app(settings)) as c:
        small = c.post("/api/jobs", json=excel(iterations=1000))
        big = c.post("/api/jobs", json=excel(iterations=200_000))  # outputs from RiskOutput()
        assert small.status_code == big.status_code == 202, big.text
        job = wait_for(c, big.json()["job_id"], timeout=120)
        assert job["status"] == "error", job
        assert job["error"]["code"] == "job_too_large"
        assert job["error"]["location"] == "spec.iterations"
        # one output's 200,000 iterations and one input's 100,000 kept iterations
        assert job["error"]["detail"]["value"] == 8 * (200_000 + 100_000)
