"""Executors: a Dask cluster gives the same result as the local pool (invariant 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import ServerProc, submit, wait_for

pytestmark = pytest.mark.xdist_group("executors")


@pytest.mark.parametrize("executor", ["local", "dask"])
def test_executor_results_identical(tmp_path: Path, executor: str) -> None:
    server = ServerProc(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", env={"MONTESIM_EXECUTOR": executor}
    ).start(timeout=120)
    try:
        with server.client() as c:
            assert c.get("/api/healthz").json()["scheduler"] is True
            job_id = submit(c, "sleep", {"units": 95, "chunk_size": 10, "seed": 11})
            job = wait_for(c, job_id, timeout=60)
            assert job["status"] == "complete", job
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
            assert result["sum"] == pytest.approx(expected_sum(95, 10, seed=11), rel=1e-12)
            failing = wait_for(
                c, submit(c, "sleep", {"units": 20, "chunk_size": 10, "fail_at_chunk": 1})
            )
            assert failing["status"] == "error" and failing["error"]["code"] == "deliberate_failure"
    finally:
        server.stop()
