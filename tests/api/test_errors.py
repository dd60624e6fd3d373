"""Errors without internals: generic 500s with a correlation id, job errors without
tracebacks, and problem details that never echo much of the user's input."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import wait_for
from tests.jobs.conftest import fast_settings

from montesim.api.app import create_app
from montesim.jobs.runner import internal_failure
from montesim.jobs.service import run_now
from montesim.jobs.states import JobStatus


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        fmt = logging.Formatter()
        return "\n".join(fmt.format(r) for r in self.records)


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    logger = logging.getLogger("montesim")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def app_and_client(tmp_path: Path) -> Iterator[tuple[object, TestClient]]:
    app = create_app(fast_settings(tmp_path / "data"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def wait_terminal(client: TestClient, job_id: str) -> dict:
    return wait_for(client, job_id, timeout=120)


def test_a_500_is_generic_and_its_reference_is_in_the_log(
    app_and_client: tuple[object, TestClient], captured: Captured, monkeypatch
) -> None:
    app, client = app_and_client

    def broken(**_: object) -> None:
        raise RuntimeError("secret at /home/montesim/src/store.py line 12")

    monkeypatch.setattr(app.state.service.store, "list_jobs", broken)  # type: ignore[attr-defined]
    resp = client.get("/api/jobs")
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert body["code"] == "internal_error"
    assert "secret" not in resp.text and "/home" not in resp.text and "Runtime" not in resp.text
    ref = body["correlation_id"]
    assert len(ref) >= 12 and ref in body["detail"]
    logged = captured.text()
    assert ref in logged and "secret at /home/montesim" in logged and "Traceback" in logged


def test_an_unexpected_job_failure_keeps_its_traceback_out_of_the_api(
    app_and_client: tuple[object, TestClient], captured: Captured
) -> None:
    _, client = app_and_client
    spec = {"units": 3, "chunk_size": 1, "fail_at_chunk": 1, "fail_kind": "bug"}
    job_id = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
    job = wait_terminal(client, job_id)
    assert job["status"] == "error"
    error = job["error"]
    assert error["code"] == "internal_error"
    assert job_id in error["message"] and "RuntimeError" in error["message"]
    assert "detail" not in error
    for answer in (
        client.get(f"/api/jobs/{job_id}"),
        client.get(f"/api/jobs/{job_id}/result"),
        client.get(f"/api/jobs/{job_id}/events"),
        client.get("/api/jobs"),
    ):
        assert "Traceback" not in answer.text and __file__.rsplit("/", 3)[0] not in answer.text
        assert "montesim_testengines" not in answer.text
    logged = captured.text()
    assert job_id in logged and "Traceback" in logged and "the engine failed on purpose" in logged


def test_a_deliberate_engine_error_keeps_its_code_and_message(
    app_and_client: tuple[object, TestClient],
) -> None:
    _, client = app_and_client
    spec = {"units": 3, "chunk_size": 1, "fail_at_chunk": 0, "fail_message": "no data for 2031"}
    job_id = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
    error = wait_terminal(client, job_id)["error"]
    assert error == {"code": "deliberate_failure", "message": "no data for 2031"}


def test_memory_error_in_a_chunk_is_a_job_error_saying_so() -> None:
    outcome = run_now(
        "sleep", {"units": 3, "chunk_size": 1, "fail_at_chunk": 2, "fail_kind": "memory"}
    )
    assert outcome.job.status == JobStatus.ERROR and outcome.result is None
    assert outcome.job.error_code == "out_of_memory"
    assert "memory" in (outcome.job.error_message or "")


def test_internal_failure_messages_name_no_internals() -> None:
    code, message = internal_failure(OSError("/srv/data/files/abc: denied"), "job-1")
    assert code == "internal_error" and "/srv" not in message and "job-1" in message
    assert internal_failure(RecursionError(), "j")[0] == "too_deep"


# -- echoes of user input --------------------------------------------------------------------

HUGE = "A" * 100_000


@pytest.mark.parametrize(
    "method,path,kwargs",
    [
        ("get", f"/api/jobs/{HUGE[:5000]}", {}),
        ("post", f"/api/jobs/{HUGE[:5000]}/cancel", {}),
        ("get", f"/api/batches/{HUGE[:5000]}", {}),
        ("get", f"/api/files/{HUGE[:5000]}", {}),
        ("get", "/api/jobs", {"params": {"status": HUGE[:20_000]}}),
        ("post", "/api/jobs", {"json": {"engine": HUGE, "spec": {}}}),
        ("post", "/api/jobs", {"json": {"engine": "sleep", "spec": {HUGE: 1}}}),
        ("post", "/api/jobs", {"json": {"engine": "sleep", "spec": {"units": HUGE}}}),
        ("post", "/api/jobs", {"json": {"engine": "excel", "spec": {"file_id": HUGE}}}),
        ("post", "/api/jobs", {"json": {"engine": "sleep", "spec": {}, "label": HUGE}}),
        ("post", "/api/risktree/simulate", {"json": {"tree": {"name": HUGE}}}),
    ],
)
def test_problems_never_echo_much_of_the_input(
    app_and_client: tuple[object, TestClient], method: str, path: str, kwargs: dict
) -> None:
    _, client = app_and_client
    resp = getattr(client, method)(path, **kwargs)
    assert 400 <= resp.status_code < 500, resp.text[:300]
    assert resp.headers["content-type"] == "application/problem+json"
    assert "A" * 300 not in resp.text
    assert len(resp.content) < 8_000
