"""Stream benchmarks (issue 4): event latency at SSE clients, and the cost of idle clients.

    .venv/bin/python bench/bench_streams.py [--postgres] [--idle-seconds 30] [--clients 100]

Latency is from an event's timestamp (written in the transaction that persists the
chunk) to its arrival at an SSE client on the same machine, for 1 and for N clients;
"paced" jobs persist a chunk every 0.15 s (below the 10/s coalescing limit, so nothing
is held), "burst" jobs as fast as they can (coalescing holds some events up to 0.1 s).
Idle cost is the server process's CPU time (psutil, workers excluded) over a window
with 0 and with N connected clients that receive nothing but heartbeats.
Prints figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.conftest import ServerProc, make_database_url, wait_for  # noqa: E402
from tests.streams.sse import aread_sse  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def submit(c: httpx.Client, spec: dict) -> str:
    r = c.post("/api/jobs", json={"engine": "sleep", "spec": spec})
    r.raise_for_status()
    return r.json()["job_id"]


def bench_latency(server: ServerProc, c: httpx.Client, clients: int, spec: dict) -> dict:
    # A placeholder job holds the one slot so every client is connected before work starts.
    hold = submit(c, {"units": 1, "chunk_size": 1, "chunk_seconds": 600, "report": False})
    wait_for(c, hold, statuses=("running",))
    job_id = submit(c, spec)
    out = asyncio.run(latencies(server.url, hold, job_id, clients))
    wait_for(c, job_id)
    return {
        "clients": clients,
        "events": len(out),
        "p50_ms": round(statistics.median(out), 1),
        "p99_ms": round(pct(out, 99), 1),
        "max_ms": round(max(out), 1),
    }


async def latencies(url: str, hold: str, job_id: str, clients: int) -> list[float]:
    """Milliseconds from each progress event's timestamp to its arrival, over all clients."""
    out: list[float] = []
    ready = asyncio.Semaphore(0)
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as ac:

        async def one() -> None:
            async with ac.stream("GET", f"/api/jobs/{job_id}/stream") as resp:
                first = True
                async for msg in aread_sse(resp.aiter_lines()):
                    if not msg.data:
                        continue
                    arrived = time.time()
                    ev = json.loads(msg.data)
                    if first:
                        ready.release()
                        first = False
                    elif ev["kind"] == "progress":
                        out.append((arrived - ev["ts"]) * 1000)

        tasks = [asyncio.create_task(one()) for _ in range(clients)]
        for _ in range(clients):
            await ready.acquire()
        await ac.post(f"/api/jobs/{hold}/cancel")
        await asyncio.gather(*tasks)
    return out


def cpu_seconds(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


async def idle_cpu(server: ServerProc, clients: int, seconds: float) -> float:
    """Server-process CPU seconds over ``seconds`` with ``clients`` quiet SSE streams open."""
    assert server.proc is not None
    ready = asyncio.Semaphore(0)
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=None) as ac:

        async def one() -> None:
            async with ac.stream("GET", "/api/stream") as resp:
                ready.release()
                async for _ in resp.aiter_lines():
                    if stop.is_set():
                        return

        tasks = [asyncio.create_task(one()) for _ in range(clients)]
        for _ in range(clients):
            await ready.acquire()
        await asyncio.sleep(1.0)  # let connection set-up settle
        before = cpu_seconds(server.proc.pid)
        await asyncio.sleep(seconds)
        used = cpu_seconds(server.proc.pid) - before
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return used


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres", action="store_true", help="PostgreSQL at 127.0.0.1:5432")
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        urls = make_database_url("postgres" if args.postgres else "sqlite", Path(tmp))
        url = next(urls)
        env = {"MONTESIM_WORKERS": "1", "MONTESIM_LOG_FORMAT": "json"}
        server = ServerProc(Path(tmp), url, env=env).start()
        try:
            with server.client() as c:
                print(
                    f"store: {'postgresql' if args.postgres else 'sqlite'}; cores: {psutil.cpu_count()}; "
                    f"load average: {psutil.getloadavg()[0]:.1f}"
                )
                paced = {"units": 60, "chunk_size": 1, "chunk_seconds": 0.15, "report": False}
                burst = {"units": 400, "chunk_size": 1, "report": False}
                for name, spec in (("paced", paced), ("burst", burst)):
                    for n in (1, args.clients):
                        fig = bench_latency(server, c, n, spec)
                        print(
                            f"latency {name:5s} clients={n:<4d} events={fig['events']:<6d} "
                            f"p50={fig['p50_ms']:.1f} ms  p99={fig['p99_ms']:.1f} ms  max={fig['max_ms']:.1f} ms"
                        )
                base = asyncio.run(idle_cpu(server, 0, args.idle_seconds))
                busy = asyncio.run(idle_cpu(server, args.clients, args.idle_seconds))
                per_client = (busy - base) / args.clients / args.idle_seconds
                print(
                    f"idle cpu over {args.idle_seconds:.0f}s: 0 clients {base:.3f} s, "
                    f"{args.clients} clients {busy:.3f} s -> {per_client * 100:.4f}% of a core per idle client"
                )
        finally:
            server.stop()
            urls.close()


if __name__ == "__main__":
    main()
