"""A cancel that comes while the job merges honours the work done (the job completes, with
``cancel_late``), unless the request asks to discard it; the rate counts from the first
chunk's start, not from the claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.conftest import poll
from tests.jobs.conftest import fast_settings

from montesim.api.app import create_app
from montesim.jobs import progress
from montesim.jobs.model import Job
from montesim.jobs.states import JobStatus
from montesim.jobs.store.jobs import LATE_CANCEL


@pytest.mark.parametrize("discard", [False, True], ids=["keep", "discard"])
def test_a_cancel_while_merging(tmp_path: Path, discard: bool) -> None:
    app = create_app(fast_settings(tmp_path / "data"))
    gate = tmp_path / "merge-gate"
    with TestClient(app) as client:
        spec = {"units": 6, "chunk_size": 2, "seed": 4, "merge_gate": str(gate)}
        job_id = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
        poll(lambda: client.get(f"/api/jobs/{job_id}").json(), lambda j: j["stage"] == "merging")
        params = {"discard": "true"} if discard else {}
        resp = client.post(f"/api/jobs/{job_id}/cancel", params=params)
        assert resp.status_code == 202
        view = resp.json()
        assert view["status"] == "running"
        assert view["cancel_late"] is not discard and view["cancellation_requested"] is discard
        gate.touch()
        final = poll(
            lambda: client.get(f"/api/jobs/{job_id}").json(),
            lambda j: j["status"] in ("complete", "cancelled", "error"),
        )
        if discard:
            assert final["status"] == "cancelled"
            assert client.get(f"/api/jobs/{job_id}/result").status_code == 409
        else:
            assert final["status"] == "complete" and final["cancel_late"] is True
            assert final["stage_message"] == LATE_CANCEL
            result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
            assert result["n"] == 6 and result["chunks"] == 3


def test_a_cancel_before_the_last_chunk_still_cancels(tmp_path: Path) -> None:
    app = create_app(fast_settings(tmp_path / "data"))
    gate = tmp_path / "chunk-gate"
    with TestClient(app) as client:
        spec = {"units": 6, "chunk_size": 2, "seed": 4, "gate": str(gate)}
        job_id = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
        poll(lambda: client.get(f"/api/jobs/{job_id}").json(), lambda j: j["status"] == "running")
        view = client.post(f"/api/jobs/{job_id}/cancel").json()
        assert view["cancellation_requested"] is True and view["cancel_late"] is False
        final = poll(
            lambda: client.get(f"/api/jobs/{job_id}").json(),
            lambda j: j["status"] != "running",
        )
        assert final["status"] == "cancelled"


def test_the_rate_counts_from_the_first_chunks_start_not_the_claim() -> None:
    """A job that waited 100 s for a pool slot after its claim, then did 10 units in 1 s
    per chunk: its rate is the work's, and the ETA is not stretched by the wait."""
    job = Job(
        id="j",
        engine="sleep",
        status=JobStatus.RUNNING,
        spec_summary="",
        created_at=0.0,
        queued_at=0.0,
        updated_at=0.0,
        total_units=100,
        done_units=20,
        attempt_done_units=20,
        attempt_started_at=1000.0,  # the claim
        rate_since=1100.0,  # the first persisted chunk started then
        progress_at=1102.0,
    )
    assert progress.rate(job, 1102.0) == pytest.approx(10.0)
    assert progress.record(job, 1102.0)["eta_seconds"] == pytest.approx(8.0)
    unknown = Job(
        id="k",
        engine="sleep",
        status=JobStatus.RUNNING,
        spec_summary="",
        created_at=0.0,
        queued_at=0.0,
        updated_at=0.0,
        total_units=100,
        attempt_started_at=1000.0,
    )
    assert progress.record(unknown, 1050.0)["eta_seconds"] is None, "unknown before any chunk"
