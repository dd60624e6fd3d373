"""The REST API contract in-process (``TestClient(create_app(settings))``), on SQLite and
PostgreSQL, with a real local process pool running the jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.conftest import FAST_ENV, make_database_url, submit, wait_for

from montesim.api.app import create_app
from montesim.config import Settings
from montesim.sampling.seeding import rng_for

pytestmark = pytest.mark.xdist_group("api")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def app_client(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    for url in make_database_url(request.param, tmp):
        settings = Settings(
            data_dir=tmp,
            database_url=url,
            max_upload_bytes=1_000_000,
            **{k.removeprefix("MONTESIM_").lower(): v for k, v in FAST_ENV.items()},
        )
        with TestClient(create_app(settings)) as c:
            yield c


@pytest.fixture
def client(app_client: TestClient) -> Iterator[httpx.Client]:
    c = app_client
    yield c
    # leave nothing running for the next test (the cap is one job at a time)
    active = {"status": "queued,running", "limit": 200}
    for job in c.get("/api/jobs", params=active).json()["items"]:
        c.post(f"/api/jobs/{job['job_id']}/cancel")
    for job in c.get("/api/jobs", params=active).json()["items"]:
        wait_for(c, job["job_id"], timeout=10)


def expected_sum(units: int, chunk_size: int, seed: int = 0) -> float:
    sizes = [min(chunk_size, units - s) for s in range(0, units, chunk_size)]
    return float(np.sum([rng_for(seed, i).random(n).sum() for i, n in enumerate(sizes)]))


def test_submit_progress_rises_and_completes_with_result(client: httpx.Client) -> None:
    spec = {"units": 120, "chunk_size": 10, "chunk_seconds": 0.1}
    job_id = submit(client, "sleep", spec)
    seen = []
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        seen.append((job["done"], job["progress"]))
        if job["status"] in ("complete", "error", "cancelled"):
            break
        time.sleep(0.03)
    assert job["status"] == "complete", job
    dones = [d for d, _ in seen]
    assert dones == sorted(dones), "progress must never go backwards"
    assert len({d for d in dones if 0 < d < 120}) >= 3, f"saw too few intermediate steps: {dones}"
    assert job["done"] == job["total"] == 120 and job["progress"] == 1.0
    body = client.get(f"/api/jobs/{job_id}/result").json()
    assert body["result"]["n"] == 120
    assert body["result"]["sum"] == pytest.approx(expected_sum(120, 10), rel=1e-12)
    art = client.get(body["artifacts"][0]["href"])
    assert art.status_code == 200 and art.text.startswith("chunk,sum")
    # the event log agrees: progress events strictly increase and one terminal event
    events = client.get(f"/api/jobs/{job_id}/events").json()["events"]
    progress = [e["done"] for e in events if e["kind"] == "progress"]
    assert progress == sorted(progress) and progress[-1] == 120
    assert [e["status"] for e in events if e["kind"] == "status"] == [
        "queued",
        "running",
        "complete",
    ]
    later = client.get(f"/api/jobs/{job_id}/events", params={"after": events[2]["id"]}).json()
    assert [e["id"] for e in later["events"]] == [e["id"] for e in events[3:]]


def test_waiting_before_first_chunk_lands(client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 20, "chunk_size": 20, "chunk_seconds": 1.0})
    job = wait_for(client, job_id, statuses=("running",))
    assert job["done"] == 0 and job["progress"] == 0.0 and job["rate"] is None
    assert wait_for(client, job_id)["status"] == "complete"


def test_failing_engine_ends_in_error_never_complete(client: httpx.Client) -> None:
    job_id = submit(
        client,
        "sleep",
        {"units": 50, "chunk_size": 10, "fail_at_chunk": 2, "fail_message": "boom at 2"},
    )
    job = wait_for(client, job_id)
    assert job["status"] == "error"
    assert job["error"]["code"] == "deliberate_failure"
    assert "boom at 2" in job["error"]["message"]
    resp = client.get(f"/api/jobs/{job_id}/result")
    assert resp.status_code == 409
    assert resp.json()["code"] == "job_failed" and "boom at 2" in resp.json()["detail"]
    # terminal is final: cancel is refused and the status stays error
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 409
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "error"


def test_cancel_queued_and_running(client: httpx.Client) -> None:
    running = submit(client, "sleep", {"units": 100, "chunk_size": 10, "chunk_seconds": 2.0})
    queued = submit(client, "sleep", {"units": 10, "chunk_size": 10})
    wait_for(client, running, statuses=("running",))
    assert client.get(f"/api/jobs/{queued}").json()["status"] == "queued"
    resp = client.post(f"/api/jobs/{queued}/cancel")
    assert resp.status_code == 202 and resp.json()["status"] == "cancelled"
    time.sleep(0.5)
    t0 = time.monotonic()
    resp = client.post(f"/api/jobs/{running}/cancel")
    assert resp.status_code == 202
    assert resp.json()["stage"] == "cancelling" and resp.json()["cancellation_requested"]
    job = wait_for(client, running, timeout=5)
    assert job["status"] == "cancelled"
    assert time.monotonic() - t0 < 1.0, "a running job must reach cancelled within 1 s"
    # double cancel and result of a cancelled job
    second = client.post(f"/api/jobs/{running}/cancel")
    assert second.status_code == 409 and second.json()["code"] == "job_terminal"
    assert client.get(f"/api/jobs/{running}/result").status_code == 409


def test_delete_rules(client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 20, "chunk_size": 10, "chunk_seconds": 1.0})
    wait_for(client, job_id, statuses=("running",))
    resp = client.delete(f"/api/jobs/{job_id}")
    assert resp.status_code == 409 and resp.json()["code"] == "job_active"
    wait_for(client, job_id)
    resp = client.delete(f"/api/jobs/{job_id}")
    assert resp.status_code == 200 and resp.json() == {"deleted": True, "job_id": job_id}
    assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert client.get(f"/api/jobs/{job_id}/events").status_code == 404
    assert client.delete(f"/api/jobs/{job_id}").status_code == 404


def test_list_pagination_filters_and_labels(client: httpx.Client) -> None:
    ids = [
        submit(client, "sleep", {"units": 1, "chunk_size": 1}, label=f"batch-{i}") for i in range(5)
    ]
    for job_id in ids:
        wait_for(client, job_id)
    page = client.get("/api/jobs", params={"limit": 2, "offset": 0, "engine": "sleep"}).json()
    assert page["limit"] == 2 and page["offset"] == 0 and len(page["items"]) == 2
    assert page["total"] >= 5
    assert [j["job_id"] for j in page["items"]] == ids[::-1][:2], "newest first"
    page2 = client.get("/api/jobs", params={"limit": 2, "offset": 2, "engine": "sleep"}).json()
    assert [j["job_id"] for j in page2["items"]] == ids[::-1][2:4]
    done = client.get("/api/jobs", params={"status": "complete,error"}).json()
    assert all(j["status"] in ("complete", "error") for j in done["items"])
    assert client.get("/api/jobs", params={"engine": "no-such"}).json()["total"] == 0
    resp = client.patch(f"/api/jobs/{ids[0]}", json={"label": "baseline run"})
    assert resp.status_code == 200 and resp.json()["label"] == "baseline run"
    assert client.get(f"/api/jobs/{ids[0]}").json()["label"] == "baseline run"


def test_idempotency_key(client: httpx.Client) -> None:
    body = {"engine": "sleep", "spec": {"units": 5, "chunk_size": 5}}
    key = f"key-{time.time()}"
    first = client.post("/api/jobs", json=body, headers={"Idempotency-Key": key})
    second = client.post("/api/jobs", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 202 and second.status_code == 200
    assert first.json()["job_id"] == second.json()["job_id"]
    other = client.post(
        "/api/jobs", json={**body, "spec": {"units": 6}}, headers={"Idempotency-Key": key}
    )
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    total = client.get("/api/jobs", params={"limit": 200}).json()["items"]
    assert sum(1 for j in total if j["job_id"] == first.json()["job_id"]) == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code", "location"),
    [
        (
            "post",
            "/api/jobs",
            {"json": {"engine": "nope", "spec": {}}},
            422,
            "unknown_engine",
            "engine",
        ),
        (
            "post",
            "/api/jobs",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "malformed_json",
            None,
        ),
        (
            "post",
            "/api/jobs",
            {"json": {"engine": "sleep", "spec": "units"}},
            422,
            "validation_error",
            "spec",
        ),
        ("post", "/api/jobs", {"json": {"engine": "sleep"}}, 422, "validation_error", "spec"),
        (
            "post",
            "/api/jobs",
            {"json": {"engine": "sleep", "spec": {"units": -5}}},
            422,
            "invalid_spec",
            "spec.units",
        ),
        (
            "post",
            "/api/jobs",
            {"json": {"engine": "sleep", "spec": {"units": 10**12}}},
            422,
            "invalid_spec",
            "spec.units",
        ),
        (
            "post",
            "/api/jobs",
            {"json": {"engine": "sleep", "spec": {"units": "many"}}},
            422,
            "invalid_spec",
            "spec.units",
        ),
        (
            "post",
            "/api/jobs",
            {"json": {"engine": "sleep", "spec": {}, "extra": 1}},
            422,
            "validation_error",
            "extra",
        ),
        ("get", "/api/jobs/does-not-exist", {}, 404, "job_not_found", "job_id"),
        ("get", "/api/jobs/does-not-exist/result", {}, 404, "job_not_found", "job_id"),
        ("post", "/api/jobs/does-not-exist/cancel", {}, 404, "job_not_found", "job_id"),
        ("delete", "/api/jobs/does-not-exist", {}, 404, "job_not_found", "job_id"),
        (
            "patch",
            "/api/jobs/does-not-exist",
            {"json": {"label": "x"}},
            404,
            "job_not_found",
            "job_id",
        ),
        (
            "get",
            "/api/jobs",
            {"params": {"status": "running,bogus"}},
            422,
            "invalid_status",
            "status",
        ),
        ("get", "/api/jobs", {"params": {"limit": 201}}, 422, "validation_error", "limit"),
        ("get", "/api/jobs", {"params": {"limit": 0}}, 422, "validation_error", "limit"),
        ("get", "/api/jobs", {"params": {"offset": -1}}, 422, "validation_error", "offset"),
        ("get", "/api/files/nope", {}, 404, "file_not_found", "file_id"),
    ],
)
def test_bad_input_is_problem_json(client, method, path, kwargs, status, code, location) -> None:
    before = client.get("/api/jobs").json()["total"]
    resp = getattr(client, method)(path, **kwargs)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    if location:
        assert body["location"] == location
    assert client.get("/api/jobs").json()["total"] == before, "a bad request must not create jobs"
    assert client.get("/api/healthz").status_code == 200


def test_uploads_and_size_limit(client: httpx.Client) -> None:
    resp = client.post("/api/files", files={"file": ("model.bin", b"x" * 1000)})
    assert resp.status_code == 201 and resp.json()["size"] == 1000
    info = client.get(f"/api/files/{resp.json()['file_id']}").json()
    assert info["filename"] == "model.bin"
    big = client.post("/api/files", files={"file": ("big.bin", b"x" * 1_200_000)})
    assert big.status_code == 413 and big.json()["code"] == "file_too_large"
    missing = client.post("/api/files", files={})
    assert missing.status_code == 422 and missing.json()["location"] == "file"
    assert client.get("/api/healthz").json()["ok"] is True


@pytest.mark.timeout(1500)
def test_engines_listing_examples_all_run(client: httpx.Client) -> None:
    engines = client.get("/api/engines").json()["engines"]
    names = {e["name"] for e in engines}
    assert {"sleep", "heat1d"} <= names
    for engine in engines:
        assert (
            engine["spec_schema"].get("type") == "object" or "properties" in engine["spec_schema"]
        )
        if engine["name"] == "horn":
            # a BEM solve compiles bempp's kernels for minutes: it is checked here without
            # solving, and solved in the (slow) tests of tests/engines/horn
            body = {"engine": "horn", "spec": engine["example_spec"]}
            assert client.post("/api/jobs/validate", json=body).status_code == 200
            continue
        job_id = submit(client, engine["name"], engine["example_spec"])
        job = wait_for(client, job_id, timeout=120)
        assert job["status"] == "complete", (engine["name"], job.get("error"))
        assert job["done"] == job["total"] > 0


def test_plugin_heat_equation_runs_as_job(client: httpx.Client) -> None:
    spec = {"nx": 41, "steps": 3000, "steps_per_checkpoint": 300, "dt": 0.005, "alpha": 0.01}
    job_id = submit(client, "heat1d", spec)
    job = wait_for(client, job_id)
    assert job["status"] == "complete" and job["unit"] == "steps" and job["chunks_total"] == 10
    result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
    assert result["checkpoints"] == 10
    assert result["max_abs_error"] < 1e-3, "the FTCS solution must track the analytic decay"
    unstable = client.post("/api/jobs", json={"engine": "heat1d", "spec": {**spec, "dt": 1.0}})
    assert unstable.status_code == 422 and "unstable" in unstable.json()["detail"]
