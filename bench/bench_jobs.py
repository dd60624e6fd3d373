"""Job-system benchmarks (issue 2): overhead, status throughput, latency at depth, server cost.

    .venv/bin/python bench/bench_jobs.py [--quick]

Starts real `montesim serve` processes on the embedded default (SQLite, local pool) and
prints figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import ServerProc, wait_for  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def submit(c: httpx.Client, spec: dict, engine: str = "sleep") -> str:
    r = c.post("/api/jobs", json={"engine": engine, "spec": spec})
    r.raise_for_status()
    return r.json()["job_id"]


def bench_overhead(c: httpx.Client, n: int) -> dict:
    """Submit → complete for a job of one empty chunk, as a client sees it (tight poll)."""
    client_ms, server_ms = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        job_id = submit(c, {"units": 0, "chunk_size": 1, "report": False})
        while (job := c.get(f"/api/jobs/{job_id}").json())["status"] not in ("complete", "error"):
            time.sleep(0.001)
        client_ms.append((time.perf_counter() - t0) * 1000)
        assert job["status"] == "complete", job
        server_ms.append((_ts(job["completed_at"]) - _ts(job["created_at"])) * 1000)
    return {
        "jobs": n,
        "client_median_ms": statistics.median(client_ms),
        "client_p99_ms": pct(client_ms, 99),
        "server_median_ms": statistics.median(server_ms),
    }


def _ts(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def bench_status_rps(url: str, job_id: str, seconds: int) -> dict:
    """wrk from a second process against GET /api/jobs/{id}."""
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", f"{url}/api/jobs/{job_id}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(next(line for line in out.splitlines() if "Requests/sec" in line).split()[-1])
    lat = {
        line.split()[0]: line.split()[1]
        for line in out.splitlines()
        if line.strip().startswith(("50%", "99%"))
    }
    return {"requests_per_s": rps, "latency": lat}


def bench_depth(c: httpx.Client, queued: int, samples: int) -> dict:
    """List and status latency with ``queued`` jobs waiting behind a running one."""
    blocker = submit(c, {"units": 1, "chunk_size": 1, "chunk_seconds": 600})
    wait_for(c, blocker, statuses=("running",))
    ids = [submit(c, {"units": 1, "chunk_size": 1}) for _ in range(queued)]
    lists, stats = [], []
    for i in range(samples):
        t0 = time.perf_counter()
        c.get("/api/jobs", params={"limit": 50}).raise_for_status()
        lists.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        c.get(f"/api/jobs/{ids[i % len(ids)]}").raise_for_status()
        stats.append((time.perf_counter() - t0) * 1000)
    for job_id in [blocker, *ids]:
        c.post(f"/api/jobs/{job_id}/cancel")
    return {
        "queued": queued,
        "list_p50_ms": pct(lists, 50),
        "list_p99_ms": pct(lists, 99),
        "status_p50_ms": pct(stats, 50),
        "status_p99_ms": pct(stats, 99),
    }


def bench_server_vs_inprocess(c: httpx.Client, spec: dict) -> dict:
    """The same compute-bound job through the server and through `montesim run`.

    Compared on the job's own elapsed time (started → complete), which both record the
    same way; the in-process wall time also pays for interpreter and pool start-up.
    """
    t0 = time.perf_counter()
    job = wait_for(c, submit(c, spec), timeout=600)
    server_wall = time.perf_counter() - t0
    assert job["status"] == "complete", job
    server_s = job["elapsed_seconds"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spec.json"
        path.write_text(json.dumps(spec))
        out = Path(tmp) / "o.json"
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "montesim.cli", "run", "sleep", str(path), "-o", str(out)],
            check=True,
            capture_output=True,
        )
        inproc_wall = time.perf_counter() - t0
        inproc_s = json.loads(out.read_text())["elapsed_seconds"]
    return {
        "server_job_s": server_s,
        "server_wall_s": server_wall,
        "in_process_job_s": inproc_s,
        "in_process_wall_s": inproc_wall,
        "server_over_inprocess": server_s / inproc_s - 1,
    }


def bench_big_workbook(c: httpx.Client, formulas: int) -> dict:
    """Submit a workbook of ``formulas`` chained formulas: time to 202, to stage
    ``validating``, and from a cancel during validation to ``cancelled``."""
    from tests.jobs.test_service import chained_workbook

    with tempfile.TemporaryDirectory() as tmp:
        book = chained_workbook(Path(tmp) / "huge.xlsx", formulas)
        size = book.stat().st_size
        with book.open("rb") as f:
            file_id = c.post("/api/files", files={"file": ("huge.xlsx", f)}).json()["file_id"]
    spec = {"file_id": file_id, "outputs": [f"S!A{formulas}"], "iterations": 1000}
    t0 = time.perf_counter()
    r = c.post("/api/jobs", json={"engine": "excel", "spec": spec})
    accepted = time.perf_counter() - t0
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    while c.get(f"/api/jobs/{job_id}").json()["stage"] != "validating":
        time.sleep(0.005)
    validating = time.perf_counter() - t0
    time.sleep(2.0)  # let the worker get deep into reading the workbook
    t1 = time.perf_counter()
    c.post(f"/api/jobs/{job_id}/cancel")
    job = wait_for(c, job_id, timeout=120)
    return {
        "formulas": formulas,
        "file_mb": round(size / 2**20, 1),
        "post_202_ms": round(accepted * 1000, 1),
        "to_validating_ms": round(validating * 1000, 1),
        "cancel_during_validating_s": round(time.perf_counter() - t1, 2),
        "status": job["status"],
    }


def bench_stage_gaps(c: httpx.Client, n: int) -> dict:
    """Median time between a one-chunk job's stored events (claim, plan, chunk, result):
    where the server spends an empty job's overhead, independent of client polling."""
    gaps: dict[str, list[float]] = {}
    for _ in range(n):
        job_id = submit(c, {"units": 0, "chunk_size": 1, "report": False})
        wait_for(c, job_id)
        events = c.get(f"/api/jobs/{job_id}/events").json()["events"]
        for before, after in zip(events, events[1:], strict=False):
            step = f"{before['stage']} -> {after['stage']}"
            gaps.setdefault(step, []).append((_event_ts(after) - _event_ts(before)) * 1000)
    return {step: round(statistics.median(ms), 2) for step, ms in gaps.items()}


def _event_ts(event: dict) -> float:
    ts = event["ts"]
    return float(ts) if isinstance(ts, int | float) else _ts(ts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller runs")
    ap.add_argument(
        "--overhead-only",
        type=int,
        metavar="N",
        help="only the empty-job figures, over N jobs (run it against an older checkout "
        "with PYTHONPATH=OLD/src to compare)",
    )
    args = ap.parse_args()
    if args.overhead_only:
        with tempfile.TemporaryDirectory() as tmp:
            server = ServerProc(Path(tmp), "", env={"MONTESIM_MAX_QUEUED_PER_OWNER": "0"}).start()
            try:
                with server.client() as c:
                    bench_overhead(c, 10)  # warm up
                    print("overhead, one empty chunk:", bench_overhead(c, args.overhead_only))
                    print("stage gaps (ms):", bench_stage_gaps(c, args.overhead_only))
            finally:
                server.stop()
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProc(
            Path(tmp),
            "",
            env={
                "MONTESIM_LEASE_SECONDS": "30",
                "MONTESIM_POLL_SECONDS": "0.5",
                "MONTESIM_MAX_QUEUED_PER_OWNER": "0",  # the depth test queues 1,000 jobs
            },
        ).start()
        try:
            with server.client() as c:
                print("overhead, one empty chunk:", bench_overhead(c, 20 if args.quick else 200))
                print(
                    "workbook submit:",
                    bench_big_workbook(c, 100_000 if args.quick else 1_000_000),
                )
                job_id = submit(c, {"units": 1, "chunk_size": 1})
                wait_for(c, job_id)
                print(
                    "GET /api/jobs/{id}:",
                    bench_status_rps(server.url, job_id, 5 if args.quick else 15),
                )
                for depth in (10, 1000):
                    print("depth:", bench_depth(c, depth, 200))
                units = 40 if args.quick else 400
                spec = {
                    "units": units,
                    "chunk_size": 10,
                    "work_per_unit": 12_000_000,
                    "report": False,
                }
                print("compute-bound job:", bench_server_vs_inprocess(c, spec))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
