"""Failover in seconds, not a lease: two workers (their own data folders) share a store.

The lease is set far longer than the tests may take, so only the liveness of the owner
(its advisory lock on PostgreSQL, its pid on one machine) can explain a take-over before
the lease ends; and a database outage must cost the job no attempt at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import make_database_url, submit, wait_for
from tests.scale.procs import Topology, wait_until
from tests.scale.test_store_restart import set_connections

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(600)]

LONG_LEASE = {"MONTESIM_LEASE_SECONDS": "600", "MONTESIM_EXECUTOR": "local"}
SPEC = {"units": 200, "chunk_size": 10, "chunk_seconds": 0.05, "seed": 7}


def gated(tmp_path: Path) -> tuple[dict, Path]:
    """SPEC whose chunk 0 waits for a file: the job runs until the test lets it end."""
    gate = tmp_path / "gate"
    return {**SPEC, "gate": str(gate)}, gate


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from make_database_url(request.param, tmp_path)


def test_a_dead_owners_job_moves_on_before_its_lease_ends(tmp_path: Path, store_url: str) -> None:
    topo = Topology(tmp_path, store_url, env=LONG_LEASE)
    try:
        api = topo.api()
        first = topo.worker(data_dir="w1")
        wait_until("the first worker reports in", lambda: api.worker_row(first.proc.pid))
        with api.client() as c:
            spec, gate = gated(tmp_path)
            job_id = submit(c, "sleep", spec)
            wait_until("chunks persist", lambda: c.get(f"/api/jobs/{job_id}").json()["done"] >= 30)
            second = topo.worker(data_dir="w2")
            wait_until("the second worker reports in", lambda: api.worker_row(second.proc.pid))
            first.kill9()
            # the lease of attempt 1 has minutes more to run than this wait: only its
            # owner's death, seen at once, explains a take-over now
            wait_until(
                "the job taken over",
                lambda: c.get(f"/api/jobs/{job_id}").json()["attempt"] >= 2,
            )
            gate.touch()
            final = wait_for(c, job_id, timeout=240)
            assert final["status"] == "complete" and final["attempt"] == 2, final
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert result["sum"] == pytest.approx(expected_sum(200, 10, seed=7), rel=1e-12)
        assert result["n"] == 200 and result["chunks"] == 20
    finally:
        topo.stop()


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgres", tmp_path)


def test_a_database_outage_costs_no_attempt_with_two_workers(tmp_path: Path, pg_url: str) -> None:
    """Every connection dropped and refused for a while: every liveness lock vanishes with
    them, yet the other worker does not take the job for dead (its owner keeps renewing
    once it can), and the job ends in its first attempt."""
    database = pg_url.rsplit("/", 1)[1]
    topo = Topology(tmp_path, pg_url, env=LONG_LEASE)
    try:
        api = topo.api()
        one = topo.worker(data_dir="w1")
        wait_until("the first worker reports in", lambda: api.worker_row(one.proc.pid))
        with api.client() as c:
            spec, gate = gated(tmp_path)
            job_id = submit(c, "sleep", spec)
            wait_until("chunks persist", lambda: c.get(f"/api/jobs/{job_id}").json()["done"] >= 30)
            two = topo.worker(data_dir="w2")
            wait_until("the second worker reports in", lambda: api.worker_row(two.proc.pid))
            assert set_connections(database, allowed=False) > 0
            try:
                wait_until(
                    "the owner meets the outage",
                    lambda: "retrying" in one.tail() or "cannot renew its lease" in one.tail(),
                )
            finally:
                set_connections(database, allowed=True)
            # the other worker had time to look for dead owners while the owner reconnects
            wait_until("the owner renews again", lambda: "renewed again" in one.tail())
            gate.touch()
            job = wait_for(c, job_id, timeout=240)
            assert job["status"] == "complete" and job["attempt"] == 1, (job, two.tail())
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert result["sum"] == pytest.approx(expected_sum(200, 10, seed=7), rel=1e-12)
        assert one.alive() and two.alive()
    finally:
        topo.stop()
