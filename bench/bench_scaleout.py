"""Per-chunk overhead of the Dask executor against the local pool (issue: scale-out).

    .venv/bin/python bench/bench_scaleout.py [--database-url URL] [--chunks N] [--workers K]

Runs one job of N chunks that do no work (the test plug-in's ``sleep`` engine, one unit
per chunk, no sleep) through the whole job service (scheduler, runner, chunk loop,
store writes) on each executor with K workers: the local process pool, and a Dask
cluster of K single-thread worker processes started here with the ``dask`` CLI. The
wall time per chunk is then the executor's and the store's cost per chunk, the floor
under any real chunk. Also prints the store's chunk write rate (put_chunk per second,
one thread) and the time from a Dask scheduler restart to the job running again.
Prints figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from montesim.config import Settings
from montesim.jobs.service import build
from montesim.jobs.states import JobStatus

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(cond, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


class DaskCluster:
    def __init__(self, workers: int, root: Path) -> None:
        self.port = free_port()
        self.root = root
        self.workers = workers
        self.procs: list[subprocess.Popen] = []

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _spawn(self, *args: str) -> subprocess.Popen:
        log = (self.root / f"dask-{len(self.procs)}.log").open("ab")
        proc = subprocess.Popen(
            [str(BIN / "dask"), *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> subprocess.Popen:
        self.scheduler = proc = self._spawn(
            "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"
        )
        wait(lambda: socket.socket().connect_ex(("127.0.0.1", self.port)) == 0, "scheduler")
        return proc

    def start_workers(self) -> None:
        self.worker_group = self._spawn(
            "worker",
            self.address,
            "--nthreads",
            "1",
            "--nworkers",
            str(self.workers),
            "--no-dashboard",
        )

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def run_job(settings: Settings, chunks: int, chunk_seconds: float = 0.0) -> tuple[float, str]:
    service = build(settings, role="worker")
    service.start()
    try:
        if settings.executor == "dask":
            executor = service.scheduler.executor  # type: ignore[union-attr]
            wait(lambda: executor.connected_workers() >= settings.workers, "Dask workers")
        job, _ = service.submit(
            "sleep",
            {"units": chunks, "chunk_size": 1, "chunk_seconds": chunk_seconds, "report": False},
        )
        wait(lambda: service.get(job.id).status != JobStatus.QUEUED, "the job to start")
        wait(
            lambda: service.get(job.id).stage == "running" or service.get(job.id).status.terminal,
            "planning",
        )
        t0 = time.perf_counter()
        wait(lambda: service.get(job.id).status.terminal, "the job")
        wall = time.perf_counter() - t0
        return wall / chunks, service.get(job.id).status.value
    finally:
        service.close()


def restart_figures(settings: Settings, cluster: DaskCluster, chunk_seconds: float) -> None:
    """kill -9 the Dask scheduler mid-job, start it again at once, restart the Dask
    workers when they exit (as a supervisor would); time each step until the job's next
    chunk is persisted."""
    service = build(settings, role="worker")
    service.start()
    try:
        executor = service.scheduler.executor  # type: ignore[union-attr]
        wait(lambda: executor.connected_workers() >= settings.workers, "Dask workers")
        spec = {"units": 100_000, "chunk_size": 1, "chunk_seconds": chunk_seconds}
        job, _ = service.submit("sleep", {**spec, "report": False})
        wait(lambda: service.get(job.id).done_units >= 10, "ten chunks")
        os.killpg(cluster.scheduler.pid, signal.SIGKILL)
        cluster.scheduler.wait()
        killed = time.perf_counter()
        done = service.get(job.id).done_units
        cluster.start_scheduler()
        listening = time.perf_counter()
        old = cluster.worker_group
        wait(lambda: old.poll() is not None, "the old Dask workers to exit")
        exited = time.perf_counter()
        cluster.start_workers()
        wait(lambda: executor.connected_workers() >= settings.workers, "Dask workers again")
        registered = time.perf_counter()
        wait(lambda: service.get(job.id).done_units > done, "the next persisted chunk")
        running = time.perf_counter()
        status = service.get(job.id).status.value
        service.cancel(job.id)
        print(
            f"scheduler restart (chunks of {chunk_seconds:g} s): new scheduler listening "
            f"{listening - killed:.2f} s after the kill; old Dask workers exited after "
            f"{exited - killed:.2f} s; next chunk persisted {running - killed:.2f} s after "
            f"the kill: {registered - exited:.2f} s for the restarted Dask workers to "
            f"register, then {running - registered:.2f} s to the next persisted chunk "
            f"(job {status}, attempt {service.get(job.id).attempt})"
        )
    finally:
        service.close()


def store_write_rate(url: str, n: int = 200) -> float:
    from montesim.jobs.store import Store

    store = Store(url)
    job, _ = store.create_job(engine="sleep", spec={})
    claimed = store.claim_next("bench:1:x", 600, 10**6)
    assert claimed is not None
    store.start_work(job.id, "bench:1:x", total_units=n, chunks_total=n, unit="units")
    payload = os.urandom(200)
    t0 = time.perf_counter()
    for i in range(n):
        store.put_chunk(job.id, "bench:1:x", i, 1, payload, 0.0)
    rate = n / (time.perf_counter() - t0)
    store.fail(job.id, code="bench", message="write-rate probe", detail=None, owner="bench:1:x")
    store.close()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database-url", default="")
    ap.add_argument("--chunks", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    cpu0 = time.process_time()
    root = Path(tempfile.mkdtemp(prefix="montesim-bench-scale-"))
    base = dict(
        data_dir=root / "data",
        database_url=args.database_url,
        workers=args.workers,
        max_concurrent_jobs=1,
        heartbeat_seconds=2.0,
        poll_seconds=0.05,
    )
    url = Settings(**base).url  # type: ignore[arg-type]
    print(f"store: {url.split('@')[-1]}; {args.chunks} empty chunks; {args.workers} workers")
    print(f"store chunk writes (one thread): {store_write_rate(url):,.0f}/s")

    local, status = run_job(Settings(**base, executor="local"), args.chunks)  # type: ignore[arg-type]
    print(f"local pool: {local * 1000:.2f} ms per chunk ({status})")

    cluster = DaskCluster(args.workers, root)
    try:
        cluster.start_scheduler()
        cluster.start_workers()
        settings = Settings(**base, executor="dask", dask_scheduler=cluster.address)  # type: ignore[arg-type]
        dask, status = run_job(settings, args.chunks)
        print(f"dask:       {dask * 1000:.2f} ms per chunk ({status})")
        print(f"dask - local: {(dask - local) * 1000:+.2f} ms per chunk")
        restart_figures(settings, cluster, chunk_seconds=0.2)
    finally:
        cluster.stop()
    print(
        f"this process: {time.process_time() - cpu0:.1f} CPU s; "
        f"load average {os.getloadavg()[0]:.1f} (Dask processes: see /usr/bin/time -v)"
    )


if __name__ == "__main__":
    main()
