"""A real Dask cluster under montesim workers: restarts, growth, abandoned chunks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import make_database_url, submit, wait_for
from tests.scale.procs import Topology, wait_until

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(600)]

ACTIVE = ("processing", "queued", "no-worker", "waiting")


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgres", tmp_path)


def active_chunks(client: Any) -> int:
    """Chunk tasks the Dask scheduler still means to run (not finished, not forgotten)."""

    def count(dask_scheduler: Any) -> int:
        return sum(
            1
            for ts in dask_scheduler.tasks.values()
            if str(ts.key).startswith("run_chunk_caught") and ts.state in ACTIVE
        )

    return int(client.run_on_scheduler(count))


def test_scheduler_restart_mid_job_completes_identically(tmp_path: Path, pg_url: str) -> None:
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "dask"})
    try:
        scheduler = topo.dask_scheduler()
        dask_worker = topo.dask_worker(nthreads=2)
        api = topo.api()
        workers = [topo.worker(), topo.worker()]
        for w in workers:
            wait_until(
                "the montesim workers see the Dask worker",
                lambda w=w: (api.worker_row(w.proc.pid) or {}).get("dask_workers") == 1,
            )
        with api.client() as c:
            spec = {"units": 600, "chunk_size": 10, "chunk_seconds": 0.3, "seed": 3}
            job_id = submit(c, "sleep", spec)
            done_at_kill = wait_until(
                "a few chunks persist", lambda: c.get(f"/api/jobs/{job_id}").json()["done"] >= 60
            )
            scheduler.kill9()
            done_at_kill = c.get(f"/api/jobs/{job_id}").json()["done"]
            assert done_at_kill < 600
            topo.dask_scheduler()  # the same address, a fresh scheduler
            # Dask workers exit when their scheduler goes; their supervisor starts them again.
            wait_until("the old Dask worker exits", lambda: not dask_worker.alive())
            topo.dask_worker(nthreads=2)

            job = wait_for(c, job_id, timeout=240)
            assert job["status"] == "complete", (job, [w.tail() for w in workers])
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
            assert result["sum"] == pytest.approx(expected_sum(600, 10, seed=3), rel=1e-12)
            assert result["n"] == 600 and result["chunks"] == 60
            # usually the same worker keeps its job through the restart (attempt 1); on a slow
            # machine its lease may lapse while the client reconnects and the other worker
            # resumes it from the persisted chunks: either way the result above is identical
            assert job["attempt"] in (1, 2)

            for w in workers:
                assert w.alive(), w.tail()
                assert api.worker_row(w.proc.pid) is not None
            owner_log = "".join(w.tail() for w in workers)
            assert "chunk lost on the Dask cluster" in owner_log
            assert "InvalidStateError" not in owner_log
            health = wait_until(
                "the API-only server reports the Dask workers its workers see",
                lambda: (h := c.get("/api/healthz").json()).get("dask_workers") == 1 and h,
            )
            assert health["ok"] and health["role"] == "api"
    finally:
        topo.stop()


def test_in_flight_follows_dask_threads_and_lost_lease_cancels_tasks(
    tmp_path: Path, pg_url: str
) -> None:
    """Also: a cancel reaches a chunk running on a Dask worker through a Dask Event."""
    from distributed import Client

    topo = Topology(
        tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "dask", "MONTESIM_MAX_CONCURRENT_JOBS": "2"}
    )
    gate = tmp_path / "gate"
    gate2 = tmp_path / "gate2"
    try:
        topo.dask_scheduler()
        topo.dask_worker(nthreads=1)
        api = topo.api()
        worker = topo.worker()
        wait_until(
            "the montesim worker sees one Dask worker",
            lambda: (api.worker_row(worker.proc.pid) or {}).get("dask_workers") == 1,
        )
        with api.client() as c, Client(topo.dask_address, timeout=30) as dask:
            first = set(dask.scheduler_info(n_workers=-1)["workers"])
            # chunk 0 holds the only thread until the gate opens: the job cannot finish
            spec = {"units": 2000, "chunk_size": 10, "chunk_seconds": 0.1, "gate": str(gate)}
            job_id = submit(c, "sleep", spec)
            wait_until("chunk 0 runs", lambda: active_chunks(dask) >= 1)
            assert active_chunks(dask) <= 2  # two in flight per Dask thread

            topo.dask_worker(nthreads=1)
            added = wait_until(
                "the second Dask worker joins",
                lambda: set(dask.scheduler_info(n_workers=-1)["workers"]) - first,
            )
            # the montesim worker re-reads the thread count and keeps more chunks in flight
            wait_until("more chunks in flight", lambda: active_chunks(dask) >= 3)
            plans = dask.run_on_scheduler(
                lambda dask_scheduler: [
                    k for k in dask_scheduler.tasks if not str(k).startswith("run_chunk_caught")
                ]
            )
            assert len(plans) == 1, plans  # the plan was scattered once, not sent per chunk

            def executed_on_new() -> int:
                counts = dask.run(
                    lambda dask_worker: dask_worker.state.executed_count, workers=list(added)
                )
                return sum(counts.values())

            wait_until("the new Dask worker runs chunks", executed_on_new)
            wait_until(
                "its chunks persist", lambda: c.get(f"/api/jobs/{job_id}").json()["done"] >= 10
            )

            # another owner takes the job over: this worker must abandon its chunks
            url = pg_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "UPDATE jobs SET lease_owner = 'elsewhere:1:x', lease_expires_at = %s "
                    "WHERE id = %s",
                    (time.time() + 3600, job_id),
                )
            # chunk 0 is still held by its gate, so only a cancel removes it from Dask
            wait_until("the abandoned chunks are cancelled", lambda: active_chunks(dask) == 0)
            assert not gate.exists()
            assert "lease lost" in worker.tail()
            assert "InvalidStateError" not in worker.tail()
            assert worker.alive()

            # cancel a running job: its chunk on a Dask worker sees the signal and stops
            gate.touch()  # frees the abandoned chunk 0 of the first job

            def executing() -> int:
                return sum(dask.run(lambda dask_worker: dask_worker.state.executing_count).values())

            wait_until("the first job's chunk 0 ends", lambda: executing() == 0)
            spec2 = {"units": 100, "chunk_size": 10, "gate": str(gate2)}
            job2 = submit(c, "sleep", spec2)
            wait_until("the second job's chunk 0 waits on its gate", lambda: executing() >= 1)
            assert c.post(f"/api/jobs/{job2}/cancel").status_code in (200, 202)
            assert wait_for(c, job2, timeout=60)["status"] == "cancelled"
            wait_until("the gated chunk stopped on the cancel signal", lambda: executing() == 0)
            assert not gate2.exists()
    finally:
        gate.touch()
        gate2.touch()
        topo.stop()
