"""A scale-out topology as plain processes: Dask scheduler and workers, montesim servers
and workers, each a subprocess with its own log (what a supervisor would run)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from tests.conftest import FAST_ENV, PG_ADMIN_URL, free_port, poll

BIN = Path(sys.executable).parent


def wait_until(what: str, check: Callable[[], Any], timeout: float = 120) -> Any:
    """``check()`` once it is truthy; while a process starts it may still raise."""

    def attempt() -> Any:
        try:
            return check()
        except AssertionError:
            raise
        except Exception:
            return None

    return poll(attempt, bool, timeout, what)


@dataclass
class Proc:
    name: str
    args: list[str]
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def start(self) -> Proc:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                env={**os.environ, **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def signal(self, sig: int) -> None:
        """To the main process only (as `docker stop` or `kill PID` does)."""
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def wait(self, timeout: float = 120) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM to the process group, without waiting."""
        if self.alive():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, signalled: bool = False) -> None:
        """SIGTERM (unless ``terminate`` sent it already), SIGKILL after 30 s."""
        if not self.alive():
            return
        assert self.proc is not None
        if not signalled:
            self.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Topology:
    """One store, optionally a Dask scheduler, any number of the other processes."""

    root: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    dask_port: int = field(default_factory=free_port)
    procs: list[Proc] = field(default_factory=list)
    count: int = 0

    @property
    def dask_address(self) -> str:
        return f"tcp://127.0.0.1:{self.dask_port}"

    def montesim_env(self, data_dir: str = "data", **extra: str) -> dict[str, str]:
        return {
            **FAST_ENV,
            "MONTESIM_DATABASE_URL": self.database_url,
            "MONTESIM_DATA_DIR": str(self.root / data_dir),
            "MONTESIM_DASK_SCHEDULER": self.dask_address,
            **self.env,
            **extra,
        }

    def _add(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        self.count += 1
        proc = Proc(f"{self.count:02d}-{name}", args, self.root / "logs", env).start()
        self.procs.append(proc)
        return proc

    def dask_scheduler(self) -> Proc:
        proc = self._add(
            "dask-scheduler",
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.dask_port),
                "--no-dashboard",
            ],
            {},
        )

        def listening() -> bool:
            assert proc.alive(), f"the Dask scheduler exited: {proc.tail()}"
            return port_open(self.dask_port)

        wait_until("the Dask scheduler listens", listening)
        return proc

    def dask_worker(self, nthreads: int = 1) -> Proc:
        return self._add(
            "dask-worker",
            [
                str(BIN / "dask"),
                "worker",
                self.dask_address,
                "--nthreads",
                str(nthreads),
                "--no-dashboard",
                "--nworkers",
                "1",
            ],
            {},
        )

    def api(self, **extra: str) -> Api:
        port = free_port()
        proc = self._add(
            "api",
            [sys.executable, "-m", "montesim.cli", "serve", "--no-jobs", "--port", str(port)],
            self.montesim_env(**extra),
        )
        api = Api(proc, f"http://127.0.0.1:{port}")
        wait_until(f"the API answers: {proc.tail()}", api.healthy)
        return api

    def worker(self, *args: str, **extra: str) -> Proc:
        return self._add(
            "worker",
            [sys.executable, "-m", "montesim.cli", "worker", *args],
            self.montesim_env(**extra),
        )

    def stop(self) -> None:
        """SIGTERM to every process at once (each drains on its own), then wait for all."""
        running = [p for p in reversed(self.procs) if p.alive()]
        for proc in running:
            proc.terminate()
        for proc in running:
            proc.stop(signalled=True)


@dataclass
class Api:
    proc: Proc
    url: str
    token: str | None = None  # sent as a Bearer token (servers with MONTESIM_AUTH=tokens)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers=self.headers)

    def healthy(self) -> bool:
        if not self.proc.alive():
            raise AssertionError(f"API exited: {self.proc.tail()}")
        return httpx.get(f"{self.url}/api/healthz", timeout=2).status_code == 200

    def workers(self) -> list[dict[str, Any]]:
        resp = httpx.get(f"{self.url}/api/workers", timeout=10, headers=self.headers)
        return resp.json()["items"]

    def worker_row(self, pid: int) -> dict[str, Any] | None:
        return next((w for w in self.workers() if w["pid"] == pid and w["alive"]), None)


def read_procfile(path: Path, values: dict[str, str]) -> list[tuple[str, list[str]]]:
    """``name: command`` lines, ``${VAR}`` filled from ``values``, comments skipped."""
    import shlex
    from string import Template

    out = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        out.append((name.strip(), shlex.split(Template(command).substitute(values))))
    return out


def set_connections(database: str, allowed: bool) -> int:
    """Allow or refuse new connections to ``database``; when refusing, terminate the open
    ones too (what a PostgreSQL restart does to its clients, on this test's database
    only: the server is shared). How many were terminated."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if allowed:
            return 0
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)
