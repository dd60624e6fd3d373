"""One server per backend shared by the streams, batches and metrics tests.

Starting a server (and its worker processes) is the slow part of these tests, so the
three areas share it: one worker (a job's chunks land one at a time, at the pace
chunk_seconds sets), quick heartbeats, a small stall floor and JSON logs.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.conftest import ServerProc, make_database_url, wait_for

LIVE_ENV = {
    "MONTESIM_WORKERS": "1",
    "MONTESIM_SSE_HEARTBEAT_SECONDS": "0.5",
    "MONTESIM_STALL_FLOOR_SECONDS": "0.5",
    "MONTESIM_LOG_FORMAT": "json",
}


# Shared by the conftests of tests/streams, tests/batches and tests/metrics: each
# conftest gets its own fixture definition, so the servers are cached here instead.
_servers: dict[str, ServerProc] = {}


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path_factory) -> ServerProc:
    backend = request.param
    if backend not in _servers:
        data_dir = tmp_path_factory.mktemp(f"live-{backend}")
        urls = make_database_url(backend, data_dir)
        url = next(urls)  # skips when PostgreSQL is not reachable
        proc = ServerProc(data_dir, url, env=LIVE_ENV)
        _servers[backend] = proc.start()

        def stop() -> None:
            proc.stop()
            urls.close()  # drops the PostgreSQL database

        request.config.add_cleanup(stop)
    return _servers[backend]


@pytest.fixture
def client(server: ServerProc) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c
        # leave nothing running for the next test (the cap is one job at a time)
        for job in c.get("/api/jobs", params={"status": "queued,running", "limit": 200}).json()[
            "items"
        ]:
            c.post(f"/api/jobs/{job['job_id']}/cancel")
        for job in c.get("/api/jobs", params={"status": "queued,running", "limit": 200}).json()[
            "items"
        ]:
            wait_for(c, job["job_id"], timeout=10)
