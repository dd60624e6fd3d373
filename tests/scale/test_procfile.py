"""deploy/Procfile, started line by line as plain processes, runs jobs (the recipe holds)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import free_port, make_database_url, submit, wait_for
from tests.scale.procs import BIN, Api, Proc, Topology, read_procfile, wait_until

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(600)]

PROCFILE = Path(__file__).parents[2] / "deploy" / "Procfile"


@pytest.fixture
def pg_url(tmp_path: Path):
    yield from make_database_url("postgres", tmp_path)


def test_procfile_topology_runs_jobs(tmp_path: Path, pg_url: str) -> None:
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "dask"})
    values = {
        "DASK_HOST": "127.0.0.1",
        "DASK_PORT": str(topo.dask_port),
        "API_PORT": str(free_port()),
        "METRICS_PORT_1": str(free_port()),
        "METRICS_PORT_2": str(free_port()),
        "DATA_DIR": str(tmp_path / "data"),
    }
    env = {**topo.montesim_env(), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    lines = read_procfile(PROCFILE, values)
    assert [n for n, _ in lines] == [
        "dask-scheduler",
        "dask-worker-1",
        "dask-worker-2",
        "api",
        "worker-1",
        "worker-2",
    ]
    api: Api | None = None
    try:
        for name, args in lines:
            proc = Proc(name, args, tmp_path / "logs", env).start()
            topo.procs.append(proc)
            if name == "dask-scheduler":
                wait_until("the scheduler listens", lambda: _listening(topo.dask_port))
            if name == "api":
                api = Api(proc, f"http://127.0.0.1:{values['API_PORT']}")
                wait_until("the API answers", api.healthy)
        assert api is not None
        workers = [p for p in topo.procs if p.name.startswith("worker-")]
        for w in workers:
            wait_until(
                "each montesim worker sees both Dask workers",
                lambda w=w: (api.worker_row(w.proc.pid) or {}).get("dask_workers") == 2,
            )
        with api.client() as c:
            ids = [submit(c, "sleep", {"units": 40, "chunk_size": 5, "seed": s}) for s in (1, 2)]
            for seed, job_id in zip((1, 2), ids, strict=True):
                job = wait_for(c, job_id, timeout=180)
                assert job["status"] == "complete", job
                result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
                assert result["sum"] == pytest.approx(expected_sum(40, 5, seed=seed), rel=1e-12)
            roles = sorted(w["role"] for w in api.workers() if w["alive"])
            assert roles == ["api", "worker", "worker"]
        # each montesim worker serves its own metrics; together they ran both jobs' chunks
        done = 0.0
        for key in ("METRICS_PORT_1", "METRICS_PORT_2"):
            text = httpx.get(f"http://127.0.0.1:{values[key]}/metrics", timeout=5).text
            assert 'role="worker"' in text
            done += sum(
                float(line.split()[-1])
                for line in text.splitlines()
                if line.startswith('montesim_chunks_persisted_total{engine="sleep"}')
            )
        assert done == 16
        # each montesim process kept its own data folder (the Procfile's `env` prefixes)
        for name in ("api", "worker-1", "worker-2"):
            assert (tmp_path / "data" / name).is_dir(), name
    finally:
        topo.stop()


def _listening(port: int) -> bool:
    from tests.scale.procs import port_open

    return port_open(port)
