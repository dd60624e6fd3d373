"""`montesim worker --metrics-port`: each worker process is scraped on its own port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import free_port, make_database_url, submit, wait_for
from tests.scale.procs import Topology, wait_until

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(300)]


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgres", tmp_path)


def scrape(port: int) -> dict[str, list]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: dict[str, list], name: str, **labels: str) -> float | None:
    for s in samples.get(name, []):
        if all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    return None


def test_worker_metrics_port_shows_its_own_work(tmp_path: Path, pg_url: str) -> None:
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "inline"})
    port = free_port()
    try:
        api = topo.api()
        worker = topo.worker("--metrics-port", str(port))
        wait_until(f"the worker serves metrics: {worker.tail()}", lambda: scrape(port))
        with api.client() as c:
            spec = {"units": 8, "chunk_size": 2, "chunk_seconds": 0.3, "seed": 1}
            job_id = submit(c, "sleep", spec)
            wait_until(
                "the worker's metrics show the job running",
                lambda: value(scrape(port), "montesim_worker_jobs_running") == 1,
            )
            job = wait_for(c, job_id, timeout=120)
            assert job["status"] == "complete", (job, worker.tail())
        samples = scrape(port)
        assert value(samples, "montesim_chunks_persisted_total", engine="sleep") == 4
        assert value(samples, "montesim_chunk_duration_seconds_count", engine="sleep") == 4
        assert value(samples, "montesim_worker_jobs_running") == 0
        age = value(samples, "montesim_worker_heartbeat_age_seconds")
        assert age is not None and age >= 0
        (info,) = samples["montesim_worker_info"]
        assert info.labels["role"] == "worker" and info.labels["pid"] == str(worker.proc.pid)
        row = api.worker_row(worker.proc.pid)
        assert row is not None and info.labels["worker_id"] == row["id"]
        # the API server did none of this work: its own counters stay empty
        served = httpx.get(f"{api.url}/metrics", timeout=5).text
        assert 'montesim_chunks_persisted_total{engine="sleep"}' not in served
        assert 'role="api"' in served
    finally:
        topo.stop()


def test_metrics_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"MONTESIM_DATA_DIR": str(tmp_path), "MONTESIM_EXECUTOR": "inline"}
        done = subprocess.run(
            [sys.executable, "-m", "montesim.cli", "worker", "--metrics-port", str(port)],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot serve metrics on 127.0.0.1:{port}" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
