"""The database goes away mid-job (what a PostgreSQL restart does to its clients): the
job still completes with the uninterrupted result, and the worker lives.

The outage is made on this test's own database, not with ``pg_ctlcluster ... restart``:
the server is shared with other test runs (and other people's), which a real restart
would break. Clients see the same thing: every connection is terminated
(``pg_terminate_backend``) and new ones are refused (``ALLOW_CONNECTIONS false``) until
the "restart" is over, by which time the worker has noticed the store is gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import make_database_url, submit, wait_for
from tests.scale.procs import Proc, Topology, set_connections, wait_until

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(600)]


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgres", tmp_path)


def failed_beats(proc: Proc) -> int:
    return proc.log.read_text(errors="replace").count("could not record this process")


def test_database_connections_dropped_mid_job(tmp_path: Path, pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "local"})
    try:
        api = topo.api()
        worker = topo.worker()
        wait_until("the worker reports in", lambda: api.worker_row(worker.proc.pid))
        with api.client() as c:
            spec = {"units": 300, "chunk_size": 10, "chunk_seconds": 0.2, "seed": 7}
            job_id = submit(c, "sleep", spec)
            for at in (60, 150):  # two outages, the second after the job recovered
                wait_until(
                    f"{at} units persist",
                    lambda at=at: c.get(f"/api/jobs/{job_id}").json()["done"] >= at,
                )
                assert set_connections(database, allowed=False) > 0
                beats = worker.tail().count("could not record this process")
                try:
                    wait_until(
                        "the worker notices the database is gone",
                        lambda beats=beats: (
                            worker.tail().count("could not record this process") > beats
                        ),
                    )
                    assert c.get("/api/healthz").status_code == 503
                finally:
                    set_connections(database, allowed=True)
            job = wait_for(c, job_id, timeout=240)
            assert job["status"] == "complete", (job, worker.tail())
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert result["sum"] == pytest.approx(expected_sum(300, 10, seed=7), rel=1e-12)
        assert result["n"] == 300 and result["chunks"] == 30
        assert worker.alive(), worker.tail()
        assert api.worker_row(worker.proc.pid) is not None
    finally:
        topo.stop()
