"""deploy/compose.yaml's topology as plain processes, and the fault script run against it.

Started as a supervisor would start them: a moto server as the S3 object store (its
bucket made beforehand, as an operator does), a Dask scheduler and two Dask workers, two
API replicas (``serve --no-jobs`` with tokens on), two ``montesim worker``s with their own
data folders, all on one fresh PostgreSQL database. Jobs go in through replica A and are
watched through replica B (an SSE ticket made by A is good on B). Each fault (``kill -9``
of the Dask scheduler, of a Dask worker, of the montesim worker owning the job; SIGTERM
of that worker; the database dropping and refusing connections) must end with the result
of an uninterrupted run: the same result JSON and the same per-chunk artifact bytes.

The topology starts once for the module; each test first brings back whatever an earlier
one killed (as ``restart: unless-stopped`` would), so the tests run in any order.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import free_port, make_database_url, submit, wait_for
from tests.scale.procs import (
    BIN,
    Api,
    Proc,
    Topology,
    port_open,
    set_connections,
    wait_until,
)

pytestmark = [pytest.mark.xdist_group("scale"), pytest.mark.timeout(600)]

ROOT = Path(__file__).parents[2]
WORKBOOK = ROOT / "examples" / "excel" / "project.xlsx"
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# 40 chunks of 0.2 s on two single-thread Dask workers: long enough to be hit mid-job.
SLEEP = {"units": 200, "chunk_size": 5, "chunk_seconds": 0.2}
HIT_AT = 40  # units persisted before the fault: the job is under way, far from done


@dataclass
class Cluster:
    topo: Topology
    database: str
    s3: Any  # s3fs.S3FileSystem on the moto server
    bucket: str
    a: Api
    b: Api
    scheduler: Proc
    dask_workers: list[Proc]
    workers: dict[str, Proc] = field(default_factory=dict)  # data folder name -> process
    metrics_ports: dict[str, int] = field(default_factory=dict)

    def start_worker(self, name: str) -> Proc:
        port = self.metrics_ports.setdefault(name, free_port())
        self.workers[name] = self.topo.worker(
            "--metrics-port", str(port), MONTESIM_DATA_DIR=str(self.topo.root / name)
        )
        return self.workers[name]

    def restart_dead(self) -> None:
        """What a supervisor does: start again each process that exited."""
        if not self.scheduler.alive():
            self.scheduler = self.topo.dask_scheduler()
        for i, proc in enumerate(self.dask_workers):
            if not proc.alive():
                self.dask_workers[i] = self.topo.dask_worker()
        for name, proc in list(self.workers.items()):
            if not proc.alive():
                self.start_worker(name)

    def ensure_up(self) -> None:
        """Every process running, and each montesim worker connected to both Dask workers."""

        def ready() -> bool:
            self.restart_dead()
            rows = {r["pid"]: r for r in self.a.workers() if r["alive"]}
            return all(
                (rows.get(w.proc.pid) or {}).get("dask_workers") == 2
                for w in self.workers.values()
                if w.proc is not None
            )

        wait_until(f"the topology is up: {self.logs()}", ready, timeout=180)

    def owner_of(self, job_id: str) -> Proc:
        """The montesim worker whose heartbeat lists ``job_id``."""

        def find() -> Proc | None:
            rows = {r["pid"]: r for r in self.a.workers() if r["alive"]}
            for proc in self.workers.values():
                if proc.proc is not None and job_id in rows.get(proc.proc.pid, {}).get("jobs", []):
                    return proc
            return None

        return wait_until(f"a montesim worker owns {job_id}", find)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail()[-1500:]}" for p in self.topo.procs)


def make_token(topo: Topology) -> str:
    """An admin token, made as an operator does (`montesim token create`)."""
    made = subprocess.run(
        [sys.executable, "-m", "montesim.cli", "token", "create", "ops", "--admin"],
        env={**os.environ, **topo.montesim_env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1].strip()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    pytest.importorskip("distributed", reason="dask[distributed] is not installed")
    import s3fs  # montesim[s3], in the dev extras like moto[server]

    root = tmp_path_factory.mktemp("topology")
    for url in make_database_url("postgres", root):
        yield from start_cluster(root, url, s3fs)


def start_cluster(root: Path, url: str, s3fs: Any) -> Iterator[Cluster]:
    s3_port = free_port()
    endpoint = f"http://127.0.0.1:{s3_port}"
    bucket = f"montesim-{uuid.uuid4().hex[:8]}"
    topo = Topology(
        root,
        url,
        env={
            "MONTESIM_EXECUTOR": "dask",
            "MONTESIM_AUTH": "tokens",
            "MONTESIM_FILE_STORE": f"s3://{bucket}/uploads",
            "MONTESIM_FILE_STORE_OPTIONS": json.dumps({"endpoint_url": endpoint}),
            **S3_CREDENTIALS,
        },
    )
    try:
        moto = Proc(
            "00-s3",
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
            root / "logs",
        ).start()
        topo.procs.append(moto)
        wait_until(f"the S3 server listens: {moto.tail()}", lambda: port_open(s3_port))
        s3 = s3fs.S3FileSystem(endpoint_url=endpoint, key="testing", secret="testing")
        s3.mkdir(bucket)  # montesim never makes buckets: the operator does
        scheduler = topo.dask_scheduler()
        dask_workers = [topo.dask_worker(), topo.dask_worker()]
        # each process its own data folder, as on separate machines
        a = topo.api(MONTESIM_DATA_DIR=str(root / "api-a"))
        b = topo.api(MONTESIM_DATA_DIR=str(root / "api-b"))
        a.token = b.token = make_token(topo)
        found = Cluster(topo, url.rsplit("/", 1)[1], s3, bucket, a, b, scheduler, dask_workers)
        found.start_worker("worker-1")
        found.start_worker("worker-2")
        found.ensure_up()
        yield found
    finally:
        topo.stop()


@cache
def uninterrupted(seed: int) -> tuple[dict[str, Any], str]:
    """The sleep job's result JSON and sums.csv digest from one uninterrupted run here.

    Run without the chunks' sleep: the engine's numbers depend on units, chunk size and
    seed only (each chunk draws from its own seeded stream)."""
    from montesim.jobs.service import run_now

    outcome = run_now("sleep", {**SLEEP, "chunk_seconds": 0, "seed": seed})
    assert outcome.result is not None
    csv = outcome.result.artifacts["sums.csv"][1]
    return json.loads(json.dumps(outcome.result.summary)), hashlib.sha256(csv).hexdigest()


def submit_sleep(cluster: Cluster, seed: int) -> str:
    with cluster.a.client() as c:
        return submit(c, "sleep", {**SLEEP, "seed": seed})


def done_units(cluster: Cluster, job_id: str) -> int:
    with cluster.b.client() as c:
        return int(c.get(f"/api/jobs/{job_id}").json()["done"])


def wait_under_way(cluster: Cluster, job_id: str) -> None:
    wait_until(f"{HIT_AT} units persist", lambda: done_units(cluster, job_id) >= HIT_AT)


def assert_uninterrupted_result(cluster: Cluster, job_id: str, seed: int) -> dict[str, Any]:
    """The job completes (seen through replica B) with the uninterrupted run's result."""
    summary, digest = uninterrupted(seed)
    with cluster.b.client() as c:
        job = wait_for(c, job_id, timeout=240)
        assert job["status"] == "complete", (job, cluster.logs())
        body = c.get(f"/api/jobs/{job_id}/result").json()
        csv = c.get(f"/api/jobs/{job_id}/artifacts/sums.csv")
    assert body["result"] == summary
    assert csv.status_code == 200
    assert hashlib.sha256(csv.content).hexdigest() == digest
    return job


class Stream(threading.Thread):
    """Follows one job's SSE stream on ``api`` with ``?ticket=`` until the server closes it."""

    def __init__(self, api: Api, job_id: str, ticket: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{api.url}/api/jobs/{job_id}/stream?ticket={ticket}"
        self.status_code = 0
        self.events: list[dict[str, Any]] = []
        self.error: BaseException | None = None
        self.connected = threading.Event()

    def run(self) -> None:
        try:
            with httpx.stream("GET", self.url, timeout=httpx.Timeout(10, read=120)) as resp:
                self.status_code = resp.status_code
                self.connected.set()
                for line in resp.iter_lines():
                    if line.startswith("data:"):
                        self.events.append(json.loads(line[5:]))
        except BaseException as exc:
            self.error = exc
        finally:
            self.connected.set()

    def statuses(self) -> list[str]:
        return [e["status"] for e in self.events if isinstance(e, dict) and "status" in e]


def ticket_from(api: Api) -> str:
    with api.client() as c:
        made = c.post("/api/tickets")
    assert made.status_code == 201, made.text
    return made.json()["ticket"]


def failed_beats(proc: Proc) -> int:
    return proc.log.read_text(errors="replace").count("could not record this process")


def healthcheck(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), url], capture_output=True, text=True, timeout=60
    )


# -- the topology, uninterrupted ---------------------------------------------------------


def test_excel_job_through_two_replicas_from_s3(cluster: Cluster) -> None:
    import pyarrow.parquet as pq

    from montesim.jobs.service import run_now

    cluster.ensure_up()
    with cluster.a.client() as c:
        with WORKBOOK.open("rb") as fh:
            uploaded = c.post("/api/files", files={"file": ("project.xlsx", fh)})
        assert uploaded.status_code == 201, uploaded.text
        sha = uploaded.json()["sha256"]
        assert cluster.s3.cat(f"{cluster.bucket}/uploads/{sha}") == WORKBOOK.read_bytes()
        spec = {"iterations": 12288, "chunk_size": 4096, "seed": 5}  # 3 chunks
        job_id = submit(c, "excel", {**spec, "file_id": uploaded.json()["file_id"]})
    # watched on B with a ticket A made: both verify it with the deployment's one key
    stream = Stream(cluster.b, job_id, ticket_from(cluster.a))
    stream.start()
    stream.join(timeout=240)
    assert not stream.is_alive() and stream.error is None, (stream.error, cluster.logs())
    assert stream.status_code == 200
    assert stream.statuses()[-1] == "complete", stream.events[-3:]

    local = run_now("excel", {**spec, "file_id": "f"}, files={"f": WORKBOOK})
    assert local.result is not None
    with cluster.b.client() as c:
        job = c.get(f"/api/jobs/{job_id}").json()
        assert job["status"] == "complete" and job["chunks_total"] == 3
        assert c.get(f"/api/jobs/{job_id}/result").json()["result"] == json.loads(
            json.dumps(local.result.summary)
        )
        parquet = c.get(f"/api/jobs/{job_id}/artifacts/iterations.parquet")
        assert parquet.status_code == 200
    reference = local.result.artifacts["iterations.parquet"][1]
    assert pq.read_table(io.BytesIO(parquet.content)).equals(pq.read_table(io.BytesIO(reference)))
    # the worker that planned it fetched the workbook into its own data folder only
    cached = [n for n in cluster.workers if (cluster.topo.root / n / "file-cache" / sha).exists()]
    assert len(cached) >= 1
    # tokens are on: B answers nothing without one, but its health check stays public
    assert httpx.get(f"{cluster.b.url}/api/jobs", timeout=10).status_code == 401
    for url in (
        f"{cluster.a.url}/api/healthz",
        f"{cluster.b.url}/api/healthz",
        *(f"http://127.0.0.1:{p}/metrics" for p in cluster.metrics_ports.values()),
    ):
        checked = healthcheck(url)
        assert checked.returncode == 0, (url, checked.stderr)


# -- the fault script ----------------------------------------------------------------------


def test_kill_9_of_the_dask_scheduler(cluster: Cluster) -> None:
    cluster.ensure_up()
    job_id = submit_sleep(cluster, seed=11)
    wait_under_way(cluster, job_id)
    cluster.scheduler.kill9()
    assert done_units(cluster, job_id) < SLEEP["units"]
    cluster.scheduler = cluster.topo.dask_scheduler()  # its supervisor starts it again
    # Dask workers exit when their scheduler goes; their supervisor starts them again
    old = list(cluster.dask_workers)
    wait_until("the old Dask workers exit", lambda: not any(p.alive() for p in old))
    cluster.restart_dead()
    assert_uninterrupted_result(cluster, job_id, seed=11)


def test_kill_9_of_a_dask_worker(cluster: Cluster) -> None:
    cluster.ensure_up()
    job_id = submit_sleep(cluster, seed=12)
    wait_under_way(cluster, job_id)
    cluster.dask_workers[0].kill9()
    assert done_units(cluster, job_id) < SLEEP["units"]
    assert_uninterrupted_result(cluster, job_id, seed=12)


def test_kill_9_of_the_owning_worker_watched_on_the_other_replica(cluster: Cluster) -> None:
    cluster.ensure_up()
    job_id = submit_sleep(cluster, seed=13)
    stream = Stream(cluster.b, job_id, ticket_from(cluster.a))
    stream.start()
    assert stream.connected.wait(60) and stream.status_code == 200, stream.error
    wait_under_way(cluster, job_id)
    owner = cluster.owner_of(job_id)
    owner.kill9()
    assert done_units(cluster, job_id) < SLEEP["units"]
    job = assert_uninterrupted_result(cluster, job_id, seed=13)
    assert job["attempt"] >= 2  # the other worker took it over
    stream.join(timeout=60)
    assert not stream.is_alive() and stream.error is None, stream.error
    assert stream.statuses()[-1] == "complete"


def test_sigterm_of_the_owning_worker(cluster: Cluster) -> None:
    cluster.ensure_up()
    job_id = submit_sleep(cluster, seed=14)
    wait_under_way(cluster, job_id)
    owner = cluster.owner_of(job_id)
    owner.signal(signal.SIGTERM)
    assert owner.wait(timeout=120) == 0, owner.tail()  # drained and handed the job back
    assert "draining" in owner.tail()
    job = assert_uninterrupted_result(cluster, job_id, seed=14)
    assert job["attempt"] >= 2


def test_database_refusing_connections_mid_job(cluster: Cluster) -> None:
    cluster.ensure_up()
    job_id = submit_sleep(cluster, seed=15)
    wait_under_way(cluster, job_id)
    workers = list(cluster.workers.values())
    before = [failed_beats(w) for w in workers]
    assert set_connections(cluster.database, allowed=False) > 0
    try:
        wait_until(
            "a montesim worker notices the database is gone",
            lambda: any(failed_beats(w) > n for w, n in zip(workers, before, strict=True)),
        )
        assert httpx.get(f"{cluster.b.url}/api/healthz", timeout=10).status_code == 503
    finally:
        set_connections(cluster.database, allowed=True)
    assert_uninterrupted_result(cluster, job_id, seed=15)
    assert all(w.alive() for w in workers), cluster.logs()
