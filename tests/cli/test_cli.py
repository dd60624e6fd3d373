"""The CLI against a real server, and `montesim run` in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.test_jobs_api import expected_sum
from tests.conftest import ServerProc, wait_for

pytestmark = pytest.mark.xdist_group("cli")


def cli(*args: str, server: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    if server:
        env["MONTESIM_SERVER"] = server
    return subprocess.run(
        [sys.executable, "-m", "montesim.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProc]:
    tmp = tmp_path_factory.mktemp("cli")
    proc = ServerProc(tmp, f"sqlite:///{tmp / 'db.sqlite'}").start()
    yield proc
    proc.stop()


def write_spec(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


def test_submit_watch_jobs_result(server: ServerProc, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"units": 40, "chunk_size": 10, "chunk_seconds": 0.05})
    sub = cli("submit", "sleep", str(spec), "--label", "cli-run", server=server.url)
    assert sub.returncode == 0, sub.stderr
    job_id = sub.stdout.strip()
    watched = cli("watch", job_id, server=server.url)
    assert watched.returncode == 0, watched.stderr
    assert "40/40" in watched.stderr and "job complete" in watched.stderr
    listing = cli("jobs", "--status", "complete", server=server.url)
    assert listing.returncode == 0 and job_id in listing.stdout and "cli-run" in listing.stdout
    out = tmp_path / "result.json"
    res = cli("result", job_id, "-o", str(out), server=server.url)
    assert res.returncode == 0, res.stderr
    assert json.loads(out.read_text())["result"]["sum"] == pytest.approx(expected_sum(40, 10))


def test_watch_exits_nonzero_on_error_and_cancel(server: ServerProc, tmp_path: Path) -> None:
    failing = write_spec(tmp_path, {"units": 20, "chunk_size": 10, "fail_at_chunk": 1})
    job_id = cli("submit", "sleep", str(failing), server=server.url).stdout.strip()
    watched = cli("watch", job_id, server=server.url)
    assert watched.returncode == 1 and "deliberate_failure" in watched.stderr
    slow = write_spec(tmp_path, {"units": 100, "chunk_size": 10, "chunk_seconds": 5})
    job_id = cli("submit", "sleep", str(slow), server=server.url).stdout.strip()
    cancelled = cli("cancel", job_id, server=server.url)
    assert cancelled.returncode == 0, cancelled.stderr
    with server.client() as c:
        wait_for(c, job_id, timeout=10)
    assert cli("watch", job_id, server=server.url).returncode == 3
    assert cli("cancel", job_id, server=server.url).returncode == 2  # 409: already cancelled


def test_bad_input_from_cli(server: ServerProc, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    r = cli("submit", "sleep", str(bad), server=server.url)
    assert r.returncode == 2 and "cannot read spec" in r.stderr
    r = cli("submit", "no-engine", str(write_spec(tmp_path, {})), server=server.url)
    assert r.returncode == 2 and "Unknown engine" in r.stderr
    r = cli("result", "missing-job", server=server.url)
    assert r.returncode == 2 and "no job id starts with 'missing-job'" in r.stderr
    r = cli("result", "0" * 36, server=server.url)
    assert r.returncode == 2 and "404" in r.stderr


def test_short_ids_everywhere_and_whole_ids_in_the_list(server: ServerProc, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"units": 1000, "chunk_size": 1, "chunk_seconds": 0.5})
    job_id = cli("submit", "sleep", str(spec), server=server.url).stdout.strip()
    assert len(job_id) == 36
    env_narrow = {**os.environ, "COLUMNS": "80", "MONTESIM_SERVER": server.url}
    listing = subprocess.run(
        [sys.executable, "-m", "montesim.cli", "jobs"],
        capture_output=True,
        text=True,
        env=env_narrow,
        timeout=120,
    )
    assert job_id in listing.stdout, listing.stdout  # not cut to "ed57a678-2d…" at 80 columns
    r = cli("cancel", job_id[:8], server=server.url)
    assert r.returncode == 0 and r.stdout.startswith(job_id), r.stdout + r.stderr
    assert wait_for(server.client(), job_id)["status"] == "cancelled"


def test_run_in_process_equals_server_result(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"units": 60, "chunk_size": 10, "seed": 3})
    out = tmp_path / "out.json"
    r = cli("run", "sleep", str(spec), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "60/60" in r.stderr
    assert json.loads(out.read_text())["result"]["sum"] == pytest.approx(
        expected_sum(60, 10, seed=3)
    )
    failing = write_spec(tmp_path, {"units": 20, "chunk_size": 10, "fail_at_chunk": 0})
    assert cli("run", "sleep", str(failing)).returncode == 1
    invalid = write_spec(tmp_path, {"units": -1})
    r = cli("run", "sleep", str(invalid))
    assert r.returncode == 2 and "spec.units" in r.stderr
