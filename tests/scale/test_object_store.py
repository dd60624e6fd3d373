"""Uploads in an S3-compatible object store (a real moto server on a free port): a worker
with its own data folder reads them by content hash; a missing object is a clear error."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import free_port, make_database_url, submit, wait_for
from tests.scale.procs import Topology

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(600)]

WORKBOOK = Path(__file__).parents[2] / "examples" / "excel" / "project.xlsx"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from make_database_url("postgres", tmp_path)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A moto S3 server with one fresh bucket; the env a montesim process needs for it."""
    server_mod = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (pip install montesim[dev])"
    )
    s3fs = pytest.importorskip("s3fs", reason="s3fs is not installed (montesim[s3])")
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        fs = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing")
        bucket = f"montesim-{uuid.uuid4().hex[:8]}"
        fs.mkdir(bucket)
        url = f"s3://{bucket}/uploads"
        env = {
            **CREDENTIALS,
            "MONTESIM_FILE_STORE": url,
            "MONTESIM_FILE_STORE_OPTIONS": json.dumps({"endpoint_url": endpoint}),
        }
        yield {"fs": fs, "url": url, "root": f"{bucket}/uploads", "env": env}
    finally:
        server.stop()


def upload(c: Any) -> dict[str, Any]:
    with WORKBOOK.open("rb") as fh:
        resp = c.post("/api/files", files={"file": ("project.xlsx", fh)})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_worker_elsewhere_runs_an_excel_job_from_s3(
    tmp_path: Path, pg_url: str, s3: dict[str, Any]
) -> None:
    from montesim.jobs.service import run_now

    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "inline", **s3["env"]})
    elsewhere = tmp_path / "elsewhere"
    try:
        api = topo.api()
        worker = topo.worker(MONTESIM_DATA_DIR=str(elsewhere))
        with api.client() as c:
            uploaded = upload(c)
            file_id, sha = uploaded["file_id"], uploaded["sha256"]
            # the bytes are in the object store under their hash, not in the database
            assert s3["fs"].cat(f"{s3['root']}/{sha}") == WORKBOOK.read_bytes()
            job_id = submit(c, "excel", {"file_id": file_id, "iterations": 2000, "seed": 1})
            job = wait_for(c, job_id, timeout=180)
            assert job["status"] == "complete", (job, worker.tail())
            result = c.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert not (elsewhere / "files" / file_id).exists()
        assert (elsewhere / "file-cache" / sha).read_bytes() == WORKBOOK.read_bytes()
        local = run_now(
            "excel", {"file_id": "f", "iterations": 2000, "seed": 1}, files={"f": WORKBOOK}
        )
        assert local.result is not None
        assert result == json.loads(json.dumps(local.result.summary))
    finally:
        topo.stop()


def test_missing_object_is_a_clear_job_error(
    tmp_path: Path, pg_url: str, s3: dict[str, Any]
) -> None:
    topo = Topology(tmp_path, pg_url, env={"MONTESIM_EXECUTOR": "inline", **s3["env"]})
    try:
        api = topo.api()
        worker = topo.worker(MONTESIM_DATA_DIR=str(tmp_path / "elsewhere"))
        with api.client() as c:
            uploaded = upload(c)
            s3["fs"].rm(f"{s3['root']}/{uploaded['sha256']}")
            job_id = submit(c, "excel", {"file_id": uploaded["file_id"], "iterations": 100})
            job = wait_for(c, job_id, timeout=180)
        assert job["status"] == "error", (job, worker.tail())
        assert job["error"]["code"] == "file_missing"
        message = job["error"]["message"]
        assert "project.xlsx" in message and uploaded["sha256"] in message
        assert "is not in the file store" in message
        assert worker.alive()
    finally:
        topo.stop()


def test_bad_file_store_setting_is_refused() -> None:
    from pydantic import ValidationError

    from montesim.config import Settings

    with pytest.raises(ValidationError, match="MONTESIM_FILE_STORE must be"):
        Settings(file_store="bucket/prefix")


def test_upload_when_the_object_store_is_down_is_503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("s3fs", reason="s3fs is not installed (montesim[s3])")
    from fastapi.testclient import TestClient

    from montesim.api.app import create_app
    from montesim.config import Settings

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    closed = free_port()  # nothing listens there
    settings = Settings(
        data_dir=tmp_path,
        file_store="s3://nowhere/uploads",
        file_store_options={
            "endpoint_url": f"http://127.0.0.1:{closed}",
            "config_kwargs": {"retries": {"max_attempts": 1}},
        },
    )
    with TestClient(create_app(settings, run_jobs=False)) as c:
        resp = c.post("/api/files", files={"file": ("a.csv", b"x,y\n1,2\n")})
        assert resp.status_code == 503, resp.text
        assert resp.json()["code"] == "file_store_unavailable"
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert list((tmp_path / "files").iterdir()) == []  # nothing kept
