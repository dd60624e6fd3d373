"""Admission: priority, fair share between owners, resource-class caps, and the reason a
queued job gives for waiting (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import poll
from tests.jobs.conftest import fast_settings

from montesim.api.app import create_app
from montesim.jobs.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def _queue(store: Store, owner: str, n: int = 1, **kw) -> list[str]:  # noqa: ANN003
    return [
        store.create_job(engine="sleep", spec={"units": 1}, owner=owner, **kw)[0].id
        for _ in range(n)
    ]


def test_one_owners_burst_does_not_hold_back_anothers_first_job(store: Store) -> None:
    burst = _queue(store, "token:alice", 5)
    bobs = _queue(store, "token:bob")[0]
    first = store.claim_next("w", 30, max_running=10)
    assert first is not None and first.id == burst[0]  # FIFO while nobody runs anything
    second = store.claim_next("w", 30, max_running=10)
    assert second is not None and second.id == bobs, "bob has nothing running: his turn"
    third = store.claim_next("w", 30, max_running=10)
    assert third is not None and third.id == burst[1]


def test_priority_goes_first_then_fifo(store: Store) -> None:
    low = _queue(store, "o", 1, priority=-5)[0]
    plain = _queue(store, "o", 2)
    urgent = _queue(store, "o", 1, priority=10)[0]
    order = [store.claim_next("w", 30, max_running=10).id for _ in range(4)]  # type: ignore[union-attr]
    assert order == [urgent, *plain, low]


def test_a_resource_class_cap_keeps_slots_for_the_others(store: Store) -> None:
    horns = _queue(store, "o", 2, resource_class="bem")
    excel = _queue(store, "o", 1)[0]
    limits = {"bem": 1}
    assert store.claim_next("w", 30, 3, limits).id == horns[0]  # type: ignore[union-attr]
    # the second horn job waits for its class; the Excel job behind it starts
    assert store.claim_next("w", 30, 3, limits).id == excel  # type: ignore[union-attr]
    assert store.claim_next("w", 30, 3, limits) is None
    waiting = store.get_job(horns[1])
    assert waiting is not None
    reason = store.wait_reason(waiting, 3, limits)
    assert reason == f"waiting for a bem slot: 1 of 1 in use by job {horns[0][:8]}"


def test_the_wait_reason_names_the_jobs_holding_the_slots(store: Store) -> None:
    running, queued, behind = _queue(store, "o", 3)
    assert store.claim_next("w", 30, 1).id == running  # type: ignore[union-attr]
    job = store.get_job(queued)
    assert job is not None
    assert store.wait_reason(job, 1) == f"waiting for a slot: 1 of 1 in use by job {running[:8]}"
    later = store.get_job(behind)
    assert later is not None
    assert store.wait_reason(later, 5) == "waiting behind 1 earlier job"
    assert store.wait_reason(job, 5) == "next to start: waiting for a worker to claim it"


def test_the_api_shows_why_a_job_waits_and_guards_priority(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    app = create_app(fast_settings(tmp_path / "data", max_concurrent_jobs=1))
    with TestClient(app) as client:
        spec = {"units": 2, "chunk_size": 1, "gate": str(gate)}
        first = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
        poll(lambda: client.get(f"/api/jobs/{first}").json(), lambda j: j["status"] == "running")
        second = client.post(
            "/api/jobs", json={"engine": "sleep", "spec": {"units": 1}, "priority": 3}
        ).json()["job_id"]
        view = client.get(f"/api/jobs/{second}").json()
        assert view["status"] == "queued" and view["priority"] == 3
        assert view["stage_message"] == f"waiting for a slot: 1 of 1 in use by job {first[:8]}"
        bad = client.post(
            "/api/jobs", json={"engine": "sleep", "spec": {"units": 1}, "priority": 1000}
        )
        assert bad.status_code == 422 and "priority" in str(bad.json())
        gate.touch()
        poll(lambda: client.get(f"/api/jobs/{second}").json(), lambda j: j["status"] == "complete")


def test_a_job_past_its_time_limit_ends_in_error(tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    app = create_app(fast_settings(tmp_path / "data"))
    with TestClient(app) as client:
        try:
            body = {
                "engine": "sleep",
                "spec": {"units": 2, "chunk_size": 1, "gate": str(gate)},
                "time_limit_seconds": 0.5,
            }
            job_id = client.post("/api/jobs", json=body).json()["job_id"]
            job = poll(
                lambda: client.get(f"/api/jobs/{job_id}").json(),
                lambda j: j["status"] not in ("queued", "running"),
            )
            assert job["status"] == "error" and job["error"]["code"] == "time_limit"
            assert "time limit of 0.5 s" in job["error"]["message"]
            assert job["time_limit_seconds"] == 0.5
            bad = client.post("/api/jobs", json={**body, "time_limit_seconds": -1})
            assert bad.status_code == 422 and "time_limit_seconds" in str(bad.json())
        finally:
            gate.touch()
