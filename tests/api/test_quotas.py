"""Quotas: queued jobs per client, 429 with Retry-After; others are not affected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from montesim.api.app import create_app
from montesim.config import Settings

SLEEP = {"engine": "sleep", "spec": {"units": 1, "chunk_size": 1}}


@pytest.fixture
def app(tmp_path: Path):  # noqa: ANN201
    return create_app(Settings(data_dir=tmp_path, max_queued_per_owner=3), run_jobs=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # noqa: ANN001
    with TestClient(app) as c:
        yield c


def test_a_client_over_its_queue_quota_gets_429_with_retry_after(client: TestClient) -> None:
    ids = [client.post("/api/jobs", json=SLEEP).json()["job_id"] for _ in range(3)]
    resp = client.post("/api/jobs", json=SLEEP)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "30"
    body = resp.json()
    assert body["code"] == "queue_quota" and body["limit"] == 3 and body["value"] == 4
    assert "MONTESIM_MAX_QUEUED_PER_OWNER" in body["detail"]
    assert client.get("/api/jobs", params={"status": "queued"}).json()["total"] == 3
    # a batch counts each child
    client.post(f"/api/jobs/{ids[0]}/cancel")
    two = {"jobs": [SLEEP, SLEEP]}
    assert client.post("/api/batches", json=two).status_code == 429
    assert client.post("/api/batches", json={"jobs": [SLEEP]}).status_code == 202
    # an idempotent replay is no new job
    client.post(f"/api/jobs/{ids[1]}/cancel")
    key = {"Idempotency-Key": "k-1"}
    assert client.post("/api/jobs", json=SLEEP, headers=key).status_code == 202
    assert client.post("/api/jobs", json=SLEEP, headers=key).status_code == 200


def test_another_client_is_not_held_back(app, client: TestClient) -> None:  # noqa: ANN001
    for _ in range(3):
        assert client.post("/api/jobs", json=SLEEP).status_code == 202
    assert client.post("/api/jobs", json=SLEEP).status_code == 429
    with TestClient(app, client=("10.1.2.3", 40000)) as other:
        assert other.post("/api/jobs", json=SLEEP).status_code == 202


def test_zero_turns_the_quota_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_queued_per_owner=0)
    with TestClient(create_app(settings, run_jobs=False)) as c:
        assert all(c.post("/api/jobs", json=SLEEP).status_code == 202 for _ in range(5))
