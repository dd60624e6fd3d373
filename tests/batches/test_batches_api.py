"""Batch jobs end to end against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import httpx
import pytest
from tests.conftest import TERMINAL, wait_for
from tests.streams.sse import read_sse

pytestmark = [pytest.mark.xdist_group("live"), pytest.mark.timeout(120)]


def sleep(units: int, **spec) -> dict:
    return {"engine": "sleep", "spec": {"units": units, **spec}}


def create(client: httpx.Client, jobs: list[dict], **kw) -> dict:
    resp = client.post("/api/batches", json={"jobs": jobs, **kw})
    assert resp.status_code == 202, resp.text
    return resp.json()


def wait_batch(client: httpx.Client, batch_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = client.get(f"/api/batches/{batch_id}").json()
        if batch["status"] in TERMINAL and all(j["status"] in TERMINAL for j in batch["jobs"]):
            return batch
        time.sleep(0.05)
    raise AssertionError(f"batch still {batch['status']}: {batch}")


def test_invalid_child_is_named_and_nothing_is_created(client: httpx.Client) -> None:
    jobs_before = client.get("/api/jobs").json()["total"]
    batches_before = client.get("/api/batches").json()["total"]
    body = {"jobs": [sleep(10), {"engine": "nope", "spec": {}}, sleep(-5)]}
    resp = client.post("/api/batches", json=body)
    assert resp.status_code == 422 and resp.headers["content-type"].startswith(
        "application/problem+json"
    )
    problem = resp.json()
    assert problem["location"] == "jobs[1].engine" and problem["code"] == "unknown_engine"
    assert [e["location"] for e in problem["errors"]] == ["jobs[1].engine", "jobs[2].spec.units"]
    only_units = client.post("/api/batches", json={"jobs": [sleep(10), sleep(10), sleep(-5)]})
    assert only_units.status_code == 422 and only_units.json()["location"] == "jobs[2].spec.units"
    shape = client.post("/api/batches", json={"jobs": [sleep(1), {"engine": "sleep"}]})
    assert shape.status_code == 422 and shape.json()["location"] == "jobs[1].spec"
    empty = client.post("/api/batches", json={"jobs": []})
    assert empty.status_code == 422 and empty.json()["location"] == "jobs"
    assert client.get("/api/jobs").json()["total"] == jobs_before
    assert client.get("/api/batches").json()["total"] == batches_before
    missing = client.get("/api/batches/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "batch_not_found"


def test_three_children_progress_moves_and_completes(client: httpx.Client) -> None:
    spec = {"chunk_size": 50, "chunk_seconds": 0.05}
    batch = create(
        client,
        [{**sleep(1000, **spec), "label": f"scenario {i}"} for i in range(3)],
        label="three scenarios",
    )
    assert batch["total"] == 3000 and batch["done"] == 0 and batch["status"] == "queued"
    assert [j["label"] for j in batch["jobs"]] == ["scenario 0", "scenario 1", "scenario 2"]
    assert all(j["batch_id"] == batch["batch_id"] for j in batch["jobs"])
    samples: list[tuple[float, float]] = []
    while True:
        view = client.get(f"/api/batches/{batch['batch_id']}").json()
        samples.append((time.monotonic(), view["progress"]))
        if view["status"] in TERMINAL:
            break
        time.sleep(0.05)
    assert view["status"] == "complete" and view["progress"] == 1.0
    assert [(j["done"], j["total"], j["unit"]) for j in view["jobs"]] == [(1000, 1000, "units")] * 3
    values = [p for _, p in samples]
    assert values == sorted(values), "batch progress never goes backwards"
    assert len({p for p in values if 0 < p < 1}) >= 6, f"too few steps seen: {sorted(set(values))}"
    listed = client.get("/api/batches").json()
    mine = next(b for b in listed["items"] if b["batch_id"] == batch["batch_id"])
    assert mine["status"] == "complete" and mine["job_ids"] == [j["job_id"] for j in batch["jobs"]]
    assert listed["items"][0]["batch_id"] == batch["batch_id"], "newest first"


def test_failing_child_others_go_on(client: httpx.Client) -> None:
    batch = create(client, [sleep(20), sleep(20, fail_at_chunk=1), sleep(20)])
    done = wait_batch(client, batch["batch_id"])
    assert [j["status"] for j in done["jobs"]] == ["complete", "error", "complete"]
    assert done["status"] == "error" and done["failed"] is True
    assert done["jobs"][1]["error"]["code"] == "deliberate_failure"
    assert done["children"]["complete"] == 2


def test_fail_fast_cancels_the_rest(client: httpx.Client) -> None:
    slow = {"chunk_size": 1, "chunk_seconds": 0.2}
    batch = create(
        client, [sleep(10, fail_at_chunk=0), sleep(30, **slow), sleep(30, **slow)], fail_fast=True
    )
    done = wait_batch(client, batch["batch_id"])
    assert [j["status"] for j in done["jobs"]] == ["error", "cancelled", "cancelled"]
    assert done["status"] == "error"


def test_cancel_cascades_to_every_child(client: httpx.Client) -> None:
    slow = {"chunk_size": 1, "chunk_seconds": 0.2}
    batch = create(client, [sleep(50, **slow) for _ in range(3)])
    wait_for(client, batch["jobs"][0]["job_id"], statuses=("running",))
    resp = client.post(f"/api/batches/{batch['batch_id']}/cancel")
    assert resp.status_code == 202 and resp.json()["cancellation_requested"] is True
    done = wait_batch(client, batch["batch_id"], timeout=10)
    assert [j["status"] for j in done["jobs"]] == ["cancelled"] * 3
    assert done["status"] == "cancelled"
    assert client.post("/api/batches/nope/cancel").status_code == 404


def test_batch_stream_carries_children_and_batch_state(client: httpx.Client) -> None:
    batch = create(client, [sleep(5, chunk_size=1, chunk_seconds=0.05) for _ in range(2)])
    got = []
    with client.stream("GET", f"/api/batches/{batch['batch_id']}/stream", timeout=60) as resp:
        assert resp.status_code == 200
        for msg in read_sse(resp.iter_lines()):
            if msg.data:
                got.append(msg.json)
    states = [e for e in got if e["kind"] == "batch"]
    assert states and states[-1]["status"] == "complete" and states[-1]["progress"] == 1.0
    progress = [e["progress"] for e in states]
    assert progress == sorted(progress)
    child_ids = {j["job_id"] for j in batch["jobs"]}
    assert {e["job_id"] for e in got if e["kind"] != "batch"} == child_ids
