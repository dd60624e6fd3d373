"""The job service: cheap submit of any workbook, planning in the worker, cancel while
validating, store write failures, and pool workers that die with their server."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import psutil
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from tests.conftest import FAST_ENV, free_port, poll
from tests.jobs.conftest import fast_settings

from montesim.api.app import create_app

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""


def chained_workbook(path: Path, formulas: int) -> Path:
    """A workbook of ``formulas`` chained cells (A1 random, A2=A1+1, ...), written as XML."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        rows = ['<row r="1"><c r="A1"><f>RiskNormal(0,1)</f><v>0</v></c></row>']
        rows += [
            f'<row r="{i}"><c r="A{i}"><f>A{i - 1}+1</f><v>{i - 1}</v></c></row>'
            for i in range(2, formulas + 1)
        ]
        z.writestr(
            "xl/worksheets/sheet1.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f"<sheetData>{''.join(rows)}</sheetData></worksheet>",
        )
    return path


def wait_json(client, url: str, done, timeout: float = 180) -> dict:
    return poll(lambda: client.get(url).json(), done, timeout)


def test_a_huge_workbook_is_queued_at_once_then_cancelled_while_validating(
    tmp_path: Path,
) -> None:
    book = chained_workbook(tmp_path / "huge.xlsx", 300_000)
    with TestClient(create_app(fast_settings(tmp_path / "data"))) as client:
        with book.open("rb") as f:
            file_id = client.post("/api/files", files={"file": ("huge.xlsx", f)}).json()["file_id"]
        spec = {"file_id": file_id, "outputs": ["S!A300000"], "iterations": 1000}
        resp = client.post("/api/jobs", json={"engine": "excel", "spec": spec})
        assert resp.status_code == 202, resp.text  # nothing that grows with the workbook ran
        job_id = resp.json()["job_id"]
        job = wait_json(client, f"/api/jobs/{job_id}", lambda j: j["stage"] == "validating")
        assert job["status"] == "running" and job["done"] == 0
        assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202
        job = wait_json(client, f"/api/jobs/{job_id}", lambda j: j["status"] != "running")
        assert job["status"] == "cancelled" and job["chunks_done"] == 0
        stages = [e["stage"] for e in client.get(f"/api/jobs/{job_id}/events").json()["events"]]
        assert stages.index("validating") < stages.index("cancelling")
        assert client.get("/api/jobs/list-is-fine").status_code == 404  # still serving


def _breakable(store) -> dict[str, object]:  # noqa: ANN001
    """Make the store's writes fail with SQLite's own error while ``switch["on"]`` (injected:
    root ignores file modes, and a tmpfs mount is not available everywhere)."""
    switch: dict[str, object] = {"on": False, "failure": ""}

    @event.listens_for(store.engine, "before_cursor_execute")
    def _fail_writes(conn, cursor, statement, *args):  # noqa: ANN001
        verb = statement.lstrip()[:6].upper()
        if switch["on"] and verb in ("INSERT", "UPDATE", "DELETE"):
            raise sqlite3.OperationalError(str(switch["failure"]))

    return switch


class Retries(logging.Handler):
    """The runner's retry warnings (attached after the app configured logging)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        logging.getLogger("montesim.lease").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def close(self) -> None:
        logging.getLogger("montesim.lease").removeHandler(self)
        super().close()

    def chunk_write_refused(self) -> bool:
        """The runner met the failure persisting a chunk (and said it will try again)."""
        return any("persisting chunk" in m for m in list(self.messages))


@pytest.mark.parametrize(
    "failure",
    ["database or disk is full", "attempt to write a readonly database"],
    ids=["disk-full", "read-only"],
)
def test_a_store_outage_shorter_than_the_lease_costs_no_attempt(
    tmp_path: Path, failure: str
) -> None:
    """The runner's writes are tried again while its lease lasts: the job goes on in the
    same attempt once the store can be written again."""
    app = create_app(fast_settings(tmp_path / "data", lease_seconds=60.0))
    with TestClient(app) as client, contextlib.closing(Retries()) as retries:
        switch = _breakable(app.state.service.store)
        spec = {"units": 30, "chunk_size": 1, "chunk_seconds": 0.02, "seed": 5}
        job_id = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
        wait_json(client, f"/api/jobs/{job_id}", lambda j: j["done"] >= 3)
        switch.update(on=True, failure=failure)
        health = client.get("/api/healthz")
        assert health.status_code == 503 and health.json()["store_writable"] is False
        assert failure in health.json()["store_writable_error"]
        upload = client.post("/api/files", files={"file": ("x.txt", b"x")})
        assert upload.status_code == 503 and upload.json()["code"] == "store_unavailable"
        # the job itself met the failure (a chunk's write), not only the requests above
        poll(retries.chunk_write_refused, bool, what="a chunk write refused")
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "running"
        switch["on"] = False
        job = wait_json(client, f"/api/jobs/{job_id}", lambda j: j["status"] != "running")
        assert job["status"] == "complete" and job["done"] == 30, job
        assert job["attempt"] == 1, "the outage was shorter than the lease: no new attempt"
        assert client.get("/api/healthz").json()["store_writable"] is True
        result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert result["n"] == 30 and result["chunks"] == 30


def test_a_store_outage_longer_than_the_lease_leaves_the_job_to_recovery(tmp_path: Path) -> None:
    """Once its lease ran out the runner gives the job up (it does not look alive
    forever); recovery resumes it from its persisted chunks when the store is back."""
    app = create_app(fast_settings(tmp_path / "data"))
    with TestClient(app) as client, contextlib.closing(Retries()) as retries:
        store = app.state.service.store
        switch = _breakable(store)
        spec = {"units": 30, "chunk_size": 1, "chunk_seconds": 0.02, "seed": 5}
        job_id = client.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
        wait_json(client, f"/api/jobs/{job_id}", lambda j: j["done"] >= 3)
        switch.update(on=True, failure="database or disk is full")
        poll(retries.chunk_write_refused, bool, what="a chunk write refused")
        # the runner gives up once the lease it last renewed has run out
        poll(
            lambda: store.get_job(job_id),
            lambda j: j.lease_expires_at < time.time() and job_id not in service_jobs(app),
            what="the runner giving the job up",
        )
        switch["on"] = False
        job = wait_json(client, f"/api/jobs/{job_id}", lambda j: j["status"] != "running")
        assert job["status"] == "complete" and job["done"] == 30, job
        assert job["attempt"] >= 2, "resumed from its persisted chunks after the failure"
        result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
        assert result["n"] == 30 and result["chunks"] == 30


def service_jobs(app) -> set[str]:  # noqa: ANN001
    """The jobs this server's scheduler runs now."""
    return app.state.service.scheduler.active_jobs


def test_pool_workers_die_with_their_server(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        **FAST_ENV,
        "MONTESIM_DATA_DIR": str(tmp_path),
        "MONTESIM_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "montesim.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/healthz", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.1)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2, "the pool's workers are started with the server"
        os.kill(proc.pid, signal.SIGKILL)  # the server only, not its process group
        proc.wait(timeout=30)
        gone, alive = psutil.wait_procs(children, timeout=60)
        assert not alive, f"left behind: {[(p.pid, p.name()) for p in alive]}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
