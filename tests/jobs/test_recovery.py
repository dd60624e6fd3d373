"""kill -9 the server mid-job, start it again: jobs resume (or fail loudly), none hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import ServerProc, poll, submit, wait_for

pytestmark = pytest.mark.xdist_group("recovery")


def _wait_done(client, job_id: str, at_least: int, timeout: float = 30) -> int:
    job = poll(
        lambda: client.get(f"/api/jobs/{job_id}").json(), lambda j: j["done"] >= at_least, timeout
    )
    return job["done"]


def test_kill9_resumes_with_identical_result(tmp_path: Path, database_url: str) -> None:
    spec = {"units": 240, "chunk_size": 10, "chunk_seconds": 0.25, "seed": 7}
    server = ServerProc(tmp_path, database_url).start()
    try:
        with server.client() as c:
            job_id = submit(c, "sleep", spec)
            resumable_fail = submit(c, "sleep-nonresumable", {"units": 10, "chunk_size": 10})
            queued = [submit(c, "sleep", {"units": 1, "chunk_size": 1}) for _ in range(3)]
            done_at_kill = _wait_done(c, job_id, 60)
    finally:
        server.kill9()
    assert done_at_kill < 240

    restarted = ServerProc(tmp_path, database_url).start()
    try:
        with restarted.client() as c:
            job = wait_for(c, job_id, timeout=60)
            assert job["status"] == "complete", job
            assert job["attempt"] == 2
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
            # an uninterrupted run of the same spec on the same server
            fresh = wait_for(c, submit(c, "sleep", spec), timeout=60)
            fresh_result = c.get(f"/api/jobs/{fresh['job_id']}/result").json()["result"]
            assert result == fresh_result
            assert result["sum"] == pytest.approx(expected_sum(240, 10, seed=7), rel=1e-12)

            # persisted chunks were kept: the resumed attempt started from them
            events = c.get(f"/api/jobs/{job_id}/events").json()["events"]
            resume = next(i for i, e in enumerate(events) if e["stage"] == "resuming")
            after = [e["done"] for e in events[resume:] if e["kind"] == "progress"]
            assert after[0] >= done_at_kill - 20, (
                after[:3],
                done_at_kill,
            )  # in-flight chunks may redo
            assert after == sorted(after)

            # the non-resumable job fails loudly instead of hanging
            nr = wait_for(c, resumable_fail, timeout=30)
            if nr["status"] == "error":
                assert nr["error"]["message"] == "Server restarted during execution"
                assert nr["error"]["code"] == "server_restarted"
            else:  # it had not started before the kill; then it simply runs
                assert nr["status"] == "complete" and nr["attempt"] == 1

            # queued jobs survived and ran in FIFO order
            starts = [wait_for(c, q, timeout=30)["started_at"] for q in queued]
            assert starts == sorted(starts)
            assert c.get("/api/jobs", params={"status": "running"}).json()["total"] == 0
    finally:
        restarted.stop()


def test_nonresumable_job_running_at_crash_ends_in_error(tmp_path: Path, database_url: str) -> None:
    server = ServerProc(tmp_path, database_url).start()
    try:
        with server.client() as c:
            job_id = submit(
                c, "sleep-nonresumable", {"units": 100, "chunk_size": 10, "chunk_seconds": 0.3}
            )
            _wait_done(c, job_id, 20)
    finally:
        server.kill9()
    restarted = ServerProc(tmp_path, database_url).start()
    try:
        with restarted.client() as c:
            job = wait_for(c, job_id, timeout=30)
            assert job["status"] == "error"
            assert job["error"]["message"] == "Server restarted during execution"
            assert c.get(f"/api/jobs/{job_id}/result").status_code == 409
            assert c.get("/api/jobs", params={"status": "running"}).json()["total"] == 0
    finally:
        restarted.stop()


def test_expired_lease_from_another_host_is_recovered(tmp_path: Path) -> None:
    """A job leased by a machine that vanished is taken over once its lease expires."""
    from montesim.jobs.store import Store

    url = f"sqlite:///{tmp_path / 'montesim.db'}"
    store = Store(url)
    row, _ = store.create_job(engine="sleep", spec={"units": 30, "chunk_size": 10}, unit="units")
    claimed = store.claim_next("other-host:1234:abcd", lease_seconds=1.0, max_running=1)
    assert claimed.id == row.id
    store.close()
    server = ServerProc(tmp_path, url).start()
    try:
        with server.client() as c:
            job = wait_for(c, row.id, timeout=30)
            assert job["status"] == "complete" and job["attempt"] == 2
    finally:
        server.stop()
