"""How long a job stalls when its worker dies or its database goes away for a moment.

    PYTHONPATH=src .venv/bin/python bench/bench_recovery.py \\
        [--server postgresql://postgres@127.0.0.1:5432] [--repeat 3] [--outage 5] \\
        [--lease-seconds 15] [--heartbeat-seconds 2] [--recovery-seconds 5]

Makes a throwaway database on the PostgreSQL server, starts two ``montesim worker``
processes on it (each its own data folder, one shared signing key, the local process
pool) and runs a job of the test plug-in's ``sleep`` engine (chunks of 0.1 s) twice:

- ``kill -9`` of the worker that owns the job: seconds from the kill to the job's next
  persisted chunk (and to its new owner's claim), and the attempt number after;
- a database outage of ``--outage`` seconds (this database's connections terminated and
  new ones refused, as a PostgreSQL restart does to its clients): seconds from the end of
  the outage to the next persisted chunk, and whether the job needed a new attempt.

The lease, heartbeat and recovery settings are montesim's defaults unless given. Prints
figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from montesim.config import Settings
from montesim.jobs.service import build

SPEC = {"units": 100_000, "chunk_size": 1, "chunk_seconds": 0.1, "report": False}


def wait(cond: Callable[[], Any], what: str, timeout: float = 600) -> Any:
    """``cond()`` once truthy; errors while the database is away count as not yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = cond()
        except Exception:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.02)


class Workers:
    """Two `montesim worker` processes on one store, restartable by name."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env = root, env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> subprocess.Popen:
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        log = (self.root / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "montesim.cli", "worker"],
            env={**os.environ, **self.env, "MONTESIM_DATA_DIR": str(data)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self.procs[name]

    def by_pid(self, pid: int) -> str | None:
        return next((n for n, p in self.procs.items() if p.pid == pid), None)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def set_connections(admin_url: str, database: str, allowed: bool) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )


def wait_for_workers(service: Any, workers: Workers) -> None:
    """Both workers heartbeating (so the survivor of a kill is ready to take over)."""
    pids = {p.pid for p in workers.procs.values()}

    def ready() -> bool:
        rows = service.store.live_workers(service.settings.heartbeat_seconds * 3)
        return pids <= {r["pid"] for r in rows}

    wait(ready, "both workers to heartbeat")


def connections(admin_url: str, database: str) -> int:
    """Open connections to ``database`` (every process's pool together)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


def owner_pid(service: Any, job_id: str) -> int | None:
    owner = service.get(job_id).lease_owner  # "host:pid:..."
    return int(owner.split(":")[1]) if owner else None


def kill_owner(service: Any, workers: Workers) -> dict[str, Any]:
    job, _ = service.submit("sleep", SPEC)
    wait(lambda: service.get(job.id).done_units >= 20, "twenty chunks")
    pid = wait(lambda: owner_pid(service, job.id), "an owner")
    name = workers.by_pid(pid)
    assert name is not None, f"the owner {pid} is not one of this bench's workers"
    before = service.get(job.id)
    os.killpg(pid, signal.SIGKILL)
    killed = time.perf_counter()
    workers.procs[name].wait()
    done = service.get(job.id).done_units
    wait(lambda: owner_pid(service, job.id) not in (None, pid), "a new owner")
    claimed = time.perf_counter()
    wait(lambda: service.get(job.id).done_units > done, "the next persisted chunk")
    persisted = time.perf_counter()
    after = service.get(job.id)
    service.cancel(job.id)
    workers.start(name)  # as its supervisor would
    wait_for_workers(service, workers)
    return {
        "claimed": claimed - killed,
        "persisted": persisted - killed,
        "attempts": (before.attempt, after.attempt),
    }


def outage(service: Any, admin_url: str, database: str, seconds: float) -> dict[str, Any]:
    job, _ = service.submit("sleep", SPEC)
    wait(lambda: service.get(job.id).done_units >= 20, "twenty chunks")
    before = service.get(job.id)
    set_connections(admin_url, database, allowed=False)
    started = time.perf_counter()
    try:
        time.sleep(seconds)  # the outage itself: its length is the experiment's setting
    finally:
        set_connections(admin_url, database, allowed=True)
    ended = time.perf_counter()
    done = wait(lambda: service.get(job.id), "the database again").done_units
    wait(lambda: service.get(job.id).done_units > done, "the next persisted chunk")
    persisted = time.perf_counter()
    after = service.get(job.id)
    service.cancel(job.id)
    return {
        "outage": ended - started,
        "persisted": persisted - ended,
        "attempts": (before.attempt, after.attempt),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--outage", type=float, default=5.0, help="seconds the database is away")
    ap.add_argument("--lease-seconds", type=float, default=Settings().lease_seconds)
    ap.add_argument("--heartbeat-seconds", type=float, default=Settings().heartbeat_seconds)
    ap.add_argument("--recovery-seconds", type=float, default=Settings().recovery_seconds)
    args = ap.parse_args()

    server = args.server.rstrip("/")
    admin_url = f"{server}/postgres"
    database = f"montesim_bench_recovery_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = f"{server.replace('postgresql://', 'postgresql+psycopg://')}/{database}"
    root = Path(tempfile.mkdtemp(prefix="montesim-bench-recovery-"))
    timing = {
        "MONTESIM_LEASE_SECONDS": str(args.lease_seconds),
        "MONTESIM_HEARTBEAT_SECONDS": str(args.heartbeat_seconds),
        "MONTESIM_RECOVERY_SECONDS": str(args.recovery_seconds),
    }
    env = {
        **timing,
        "MONTESIM_DATABASE_URL": url,
        "MONTESIM_EXECUTOR": "local",
        "MONTESIM_WORKERS": "1",
        "MONTESIM_SECRET_KEY": secrets.token_hex(32),
    }
    print(
        f"store: {url.split('@')[-1]}; two montesim workers (local pool of 1); lease "
        f"{args.lease_seconds:g} s, heartbeat {args.heartbeat_seconds:g} s, recovery "
        f"{args.recovery_seconds:g} s; chunks of {SPEC['chunk_seconds']} s"
    )
    settings = Settings(
        data_dir=root / "bench",
        database_url=url,
        secret_key=env["MONTESIM_SECRET_KEY"],
        lease_seconds=args.lease_seconds,
    )
    service = build(settings, run_jobs=False, role="api")  # makes the schema first
    workers = Workers(root, env)
    try:
        workers.start("worker-1")
        workers.start("worker-2")
        wait_for_workers(service, workers)
        idle = connections(admin_url, database)
        job, _ = service.submit("sleep", {**SPEC, "units": 30})
        wait(lambda: service.get(job.id).status.terminal, "a short job")
        print(
            f"connections to the database: {idle} with both workers idle, "
            f"{connections(admin_url, database)} after a job (this process's included)"
        )
        for run in range(1, args.repeat + 1):
            k = kill_owner(service, workers)
            print(
                f"run {run}: kill -9 of the owner: new owner's claim after {k['claimed']:.2f} s, "
                f"next chunk persisted after {k['persisted']:.2f} s "
                f"(attempt {k['attempts'][0]} -> {k['attempts'][1]})"
            )
            o = outage(service, admin_url, database, args.outage)
            new = "a new attempt" if o["attempts"][1] != o["attempts"][0] else "no new attempt"
            print(
                f"run {run}: database away {o['outage']:.2f} s: next chunk persisted "
                f"{o['persisted']:.2f} s after it came back; {new} "
                f"(attempt {o['attempts'][0]} -> {o['attempts'][1]})"
            )
    finally:
        workers.stop()
        service.close()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        print(f"logs: {root}")


if __name__ == "__main__":
    main()
