"""Portable results checked, not assumed: a process whose arithmetic differs from the
store's reference claims no job, says why in /api/workers and the metrics, and a Dask
worker that differs refuses its chunks with a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.api.test_jobs_api import expected_sum
from tests.conftest import submit, wait_for
from tests.jobs.conftest import fast_settings
from tests.scale.procs import Topology, wait_until

from montesim import portable
from montesim.api.app import create_app
from montesim.engines.base import Chunk
from montesim.errors import EngineError
from montesim.jobs.dask_plugin import EnginePreload
from montesim.jobs.executors import ChunkTask, run_chunk_task
from montesim.jobs.store import Store


@pytest.fixture(autouse=True)
def _forget_refusal() -> Iterator[None]:
    yield
    portable.compare(None)


def test_the_probe_is_stable_and_a_different_reference_refuses_chunks() -> None:
    assert portable.digest() == portable.digest() and len(portable.digest()) == 32
    assert portable.compare(portable.digest()) is None
    EnginePreload((), "0" * 32).setup(worker=None)  # what a Dask worker runs as it starts
    assert "differs from the store's reference" in (portable.refusal() or "")
    with pytest.raises(EngineError) as err:
        run_chunk_task(ChunkTask("sleep", "j:1", b"", Chunk(0, 0, 1)))
    assert err.value.code == "arithmetic_mismatch"


def test_a_server_that_computes_differently_claims_nothing(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path / "data")
    seed = Store(settings.url)  # another machine recorded the reference first
    assert seed.reference_digest("f" * 32) == "f" * 32
    assert seed.reference_digest(portable.digest()) == "f" * 32, "recorded once"
    seed.close()
    app = create_app(settings)
    with TestClient(app) as client:
        workers = client.get("/api/workers").json()["items"]
        assert "arithmetic differs" in (workers[0]["problem"] or "")
        assert "montesim_worker_arithmetic_ok 0.0" in client.get("/metrics").text
        body = {"engine": "sleep", "spec": {"units": 1}}
        job_id = client.post("/api/jobs", json=body).json()["job_id"]
        app.state.service.scheduler.admit()  # a claim attempt now, in this thread
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "queued"


def _native_differs() -> bool:
    code = "import montesim, montesim.portable as p; print(p.digest())"
    env = {"MONTESIM_NATIVE_SIMD": "1", "NPY_DISABLE_CPU_FEATURES": ""}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return out != portable.digest()


def test_a_worker_started_without_montesims_numpy_settings_refuses_jobs(tmp_path: Path) -> None:
    """Real kernels, not an injected digest: NumPy's AVX-512 kernels round differently."""
    if not _native_differs():
        pytest.skip("this CPU has no AVX-512 kernels: native and portable NumPy agree here")
    topo = Topology(tmp_path, f"sqlite:///{tmp_path / 'montesim.db'}")
    try:
        api = topo.api()
        good = topo.worker(data_dir="good")
        wait_until("the portable worker reports in", lambda: api.worker_row(good.proc.pid))
        good.stop()  # the reference is recorded; now only the odd worker runs
        odd = topo.worker(data_dir="odd", MONTESIM_NATIVE_SIMD="1", NPY_DISABLE_CPU_FEATURES="")
        row = wait_until("the odd worker reports in", lambda: api.worker_row(odd.proc.pid))
        assert "arithmetic differs" in (row["problem"] or ""), row
        with api.client() as c:
            spec = {"units": 20, "chunk_size": 5, "seed": 7}
            job_id = submit(c, "sleep", spec)
            wait_until(
                "the odd worker says it claims nothing", lambda: "claiming no jobs" in odd.tail()
            )
            assert c.get(f"/api/jobs/{job_id}").json()["status"] == "queued"
            again = topo.worker(data_dir="good2")
            job = wait_for(c, job_id, timeout=120)
            assert job["status"] == "complete" and again.alive()
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert result["sum"] == pytest.approx(expected_sum(20, 5, seed=7), rel=1e-12)
    finally:
        topo.stop()
