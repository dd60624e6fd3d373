"""Roles on one store: the store-wide job cap, API-only servers, workers that drain."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import FAST_ENV, free_port, make_database_url, submit, wait_for
from tests.scale.procs import Topology, wait_until
from typer.testing import CliRunner

from montesim.cli import app
from montesim.jobs.store import Store

pytestmark = pytest.mark.xdist_group("scale")


def _cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.output


def test_store_wide_cap_is_set_by_config_and_read_by_claims(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONTESIM_DATABASE_URL", database_url)
    monkeypatch.setenv("MONTESIM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MONTESIM_MAX_CONCURRENT_JOBS", "1")
    code, text = _cli("config", "set", "max_concurrent_jobs", "2")
    assert code == 0 and "max_concurrent_jobs = 2" in text, text
    code, text = _cli("config", "show")
    assert code == 0 and "max_concurrent_jobs = 2 (store)" in text, text

    store = Store(database_url)
    try:
        for _ in range(4):
            store.create_job(engine="sleep", spec={}, unit="units")
        # every process passes its environment's cap (1); the store's setting wins
        claims = [store.claim_next(f"host:1:{i}", 30, 1) for i in range(3)]
        assert [c is not None for c in claims] == [True, True, False]

        code, text = _cli("config", "unset", "max_concurrent_jobs")
        assert code == 0, text
        assert store.claim_next("host:1:x", 30, 2) is None  # the environment's cap again
        assert store.claim_next("host:1:y", 30, 3) is not None
        code, text = _cli("config", "show")
        assert "max_concurrent_jobs = 1 (environment" in text, text
    finally:
        store.close()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_concurrent_jobs", "-1", "max_concurrent_jobs must be at least 0, got -1"),
        ("max_concurrent_jobs", "two", "max_concurrent_jobs must be an integer, got 'two'"),
        ("max_jobs", "2", "unknown store setting 'max_jobs'"),
    ],
)
def test_config_set_rejects_bad_settings(
    key: str, value: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONTESIM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MONTESIM_DATABASE_URL", raising=False)
    code, text = _cli("config", "set", "--", key, value)
    assert code == 2 and message in " ".join(text.split()), text


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_unreachable_dask_scheduler_is_one_line_and_exit_2(command: str, tmp_path: Path) -> None:
    env = {
        **FAST_ENV,
        "MONTESIM_DATA_DIR": str(tmp_path),
        "MONTESIM_EXECUTOR": "dask",
        "MONTESIM_DASK_SCHEDULER": f"tcp://127.0.0.1:{free_port()}",  # nothing listens
        "MONTESIM_DASK_CONNECT_SECONDS": "1",
        "COLUMNS": "300",
    }
    import os

    res = subprocess.run(
        [sys.executable, "-m", "montesim.cli", command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2, res.stdout + res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert "cannot reach the Dask scheduler at 'tcp://127.0.0.1:" in lines[0]
    assert "Traceback" not in res.stdout + res.stderr


@pytest.fixture
def pg_url(tmp_path: Path):
    yield from make_database_url("postgres", tmp_path)


def test_sigterm_drains_worker_and_another_finishes_the_job(tmp_path: Path, pg_url: str) -> None:
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "local", "MONTESIM_WORKERS": "1"})
    try:
        api = topo.api()
        with api.client() as c:
            health = c.get("/api/healthz").json()
            assert health["ok"] and health["role"] == "api" and "scheduler" not in health
            workers = [topo.worker(), topo.worker()]
            for w in workers:
                wait_until("the workers heartbeat", lambda w=w: api.worker_row(w.proc.pid))
            spec = {"units": 200, "chunk_size": 10, "chunk_seconds": 0.3, "seed": 5}
            job_id = submit(c, "sleep", spec)
            wait_until("a chunk is persisted", lambda: c.get(f"/api/jobs/{job_id}").json()["done"])
            first, second = sorted(
                workers, key=lambda w: job_id not in (api.worker_row(w.proc.pid) or {})["jobs"]
            )
            row = api.worker_row(first.proc.pid)
            assert row is not None and row["jobs"] == [job_id], api.workers()
            assert row["role"] == "worker" and row["executor"] == "local"

            first.signal(signal.SIGTERM)
            assert first.wait() == 0, first.tail()
            assert "handed back" in first.tail()
            job = wait_for(c, job_id, timeout=120)
            assert job["status"] == "complete", job
            assert job["attempt"] == 2  # resumed once, by the second worker
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
            assert result["sum"] == pytest.approx(expected_sum(200, 10, seed=5), rel=1e-12)
            assert result["n"] == 200 and result["chunks"] == 20

            # the stopped worker's row is gone; the API-only server never ran a job
            rows = {w["pid"]: w for w in api.workers()}
            assert first.proc.pid not in rows
            assert rows[api.proc.proc.pid]["role"] == "api"
            assert rows[api.proc.proc.pid]["executor"] is None
            assert rows[second.proc.pid]["chunks_done"] >= 1
            assert second.alive()
    finally:
        topo.stop()


def test_worker_without_the_api_disk_runs_an_excel_job(tmp_path: Path, pg_url: str) -> None:
    import json

    from montesim.jobs.service import run_now

    workbook = Path(__file__).parents[2] / "examples" / "excel" / "project.xlsx"
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "inline"})
    elsewhere = tmp_path / "elsewhere"
    try:
        api = topo.api()
        worker = topo.worker(MONTESIM_DATA_DIR=str(elsewhere))
        with api.client() as c:
            with workbook.open("rb") as fh:
                uploaded = c.post("/api/files", files={"file": ("project.xlsx", fh)})
            assert uploaded.status_code == 201, uploaded.text
            file_id, sha = uploaded.json()["file_id"], uploaded.json()["sha256"]
            job_id = submit(c, "excel", {"file_id": file_id, "iterations": 2000, "seed": 1})
            job = wait_for(c, job_id, timeout=180)
            assert job["status"] == "complete", (job, worker.tail())
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert not (elsewhere / "files" / file_id).exists()
        assert (elsewhere / "file-cache" / sha).read_bytes() == workbook.read_bytes()
        local = run_now(
            "excel", {"file_id": "f", "iterations": 2000, "seed": 1}, files={"f": workbook}
        )
        assert local.result is not None
        assert result == json.loads(json.dumps(local.result.summary))
    finally:
        topo.stop()
