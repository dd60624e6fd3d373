"""Shared fixtures: real server processes (uvicorn) on SQLite or PostgreSQL."""
# ruff: noqa: I001

from __future__ import annotations

# montesim first: it sets NumPy's portable SIMD level, which must happen before NumPy loads
import montesim  # noqa: F401

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

PG_ADMIN_URL = os.environ.get("MONTESIM_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TERMINAL = ("complete", "error", "cancelled")
T = TypeVar("T")

# Quick leases and polls so recovery tests take seconds, not minutes.
FAST_ENV = {
    "MONTESIM_LEASE_SECONDS": "3",
    "MONTESIM_HEARTBEAT_SECONDS": "0.5",
    "MONTESIM_RECOVERY_SECONDS": "0.5",
    "MONTESIM_POLL_SECONDS": "0.2",
    "MONTESIM_WORKERS": "2",
    "MONTESIM_DRAIN_SECONDS": "3",  # a stopping server hands its jobs back quickly
}


@pytest.fixture(autouse=True)
def _own_plan_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs cache plans on disk; each test in its own folder, not ~/.cache."""
    monkeypatch.setenv("MONTESIM_PLAN_CACHE_DIR", str(tmp_path / "plan-cache"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


@dataclass
class ServerProc:
    """A `montesim serve` subprocess on a free port."""

    data_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> ServerProc:
        env = {
            **os.environ,
            **FAST_ENV,
            "MONTESIM_DATA_DIR": str(self.data_dir),
            "MONTESIM_DATABASE_URL": self.database_url,
            **self.env,
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "montesim.cli", "serve", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def kill9(self) -> None:
        """SIGKILL the server and its worker processes (a crash, not a shutdown)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    return postgres_available()


def make_database_url(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'montesim.db'}"
        return
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432 (CI starts it)")
    import psycopg

    name = f"montesim_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from make_database_url(request.param, tmp_path)


def poll(
    get: Callable[[], T], done: Callable[[T], object], timeout: float = 120, what: str = ""
) -> T:
    """Call ``get()`` until ``done(value)`` holds and return that value: the one way tests
    wait (on a condition; the cap only ends a test that would otherwise hang)."""
    deadline = time.monotonic() + timeout
    value = get()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what or 'condition'} not reached in {timeout}s: {value}")
        time.sleep(0.02)
        value = get()
    return value


def wait_for(client: httpx.Client, job_id: str, timeout: float = 60, statuses=TERMINAL) -> dict:
    """The job once its status is one of ``statuses`` (terminal by default)."""
    return poll(
        lambda: client.get(f"/api/jobs/{job_id}").json(),
        lambda job: job["status"] in statuses,
        timeout,
    )


def submit(client: httpx.Client, engine: str, spec: dict, **kw) -> str:
    resp = client.post("/api/jobs", json={"engine": engine, "spec": spec, **kw})
    assert resp.status_code == 202, resp.text
    return resp.json()["job_id"]
