"""SSE and WebSocket clients against a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from tests.conftest import TERMINAL, ServerProc, submit, wait_for
from tests.streams.sse import SSE, aread_sse, read_sse

pytestmark = [pytest.mark.xdist_group("live"), pytest.mark.timeout(90)]


def messages(client: httpx.Client, path: str, headers: dict | None = None) -> Iterator[SSE]:
    with client.stream("GET", path, headers=headers or {}, timeout=60) as resp:
        assert resp.status_code == 200, resp.read()
        assert resp.headers["content-type"].startswith("text/event-stream")
        for msg in read_sse(resp.iter_lines()):
            if msg.data:
                yield msg


def log_events(client: httpx.Client, job_id: str) -> list[dict]:
    return client.get(f"/api/jobs/{job_id}/events").json()["events"]


def check_sequence(events: list[dict]) -> None:
    """Progress strictly rises, ids strictly rise, exactly one terminal event and it is last."""
    ids = [e["id"] for e in events if e["kind"] != "snapshot"]
    assert ids == sorted(set(ids)), f"ids not strictly increasing: {ids}"
    done = [e["done"] for e in events if e["kind"] == "progress"]
    assert done == sorted(set(done)), f"progress not strictly increasing: {done}"
    terminal = [
        e for e in events if e["kind"] in ("status", "snapshot") and e["status"] in TERMINAL
    ]
    assert len(terminal) == 1 and terminal[0] is events[-1], [e["kind"] for e in events]


def test_sse_progress_then_one_terminal_and_resume_without_gaps(client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 24, "chunk_size": 1, "chunk_seconds": 0.1})
    first: list[dict] = []
    last_id = None
    for msg in messages(client, f"/api/jobs/{job_id}/stream"):
        first.append(msg.json)
        if msg.id is not None:
            last_id = int(msg.id)
        if sum(e["kind"] == "progress" for e in first) >= 5:
            break  # drop the connection mid-job
    assert first[0]["kind"] == "snapshot" and first[0]["job_id"] == job_id
    assert last_id is not None
    time.sleep(0.5)  # events happen while disconnected
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "running"
    second = [
        m.json
        for m in messages(client, f"/api/jobs/{job_id}/stream", {"Last-Event-ID": str(last_id)})
    ]
    assert second[0]["kind"] != "snapshot", "a resumed stream replays the log, no snapshot"
    log = log_events(client, job_id)
    later = [e["id"] for e in log if e["id"] > last_id]
    assert second[0]["id"] == later[0], "no gap where the stream resumed"
    assert not {e["id"] for e in first[1:]} & {e["id"] for e in second}, "no duplicates"
    assert {e["id"] for e in second} <= set(later)
    check_sequence(first[1:] + second)
    assert second[-1]["status"] == "complete" and second[-1]["done"] == 24
    # every streamed event is the logged event with the same id, unchanged
    by_id = {e["id"]: e for e in log}
    for e in first[1:] + second:
        assert e == by_id[e["id"]]


def test_sse_late_client_gets_snapshot_then_close(client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 3, "chunk_size": 1})
    wait_for(client, job_id)
    got = [m for m in messages(client, f"/api/jobs/{job_id}/stream")]
    assert len(got) == 1 and got[0].event == "snapshot"
    snap = got[0].json
    assert snap["status"] == "complete" and snap["done"] == snap["total"] == 3
    assert int(got[0].id) >= log_events(client, job_id)[-1]["id"]
    # resuming after the terminal event gives nothing new and closes
    assert [
        m for m in messages(client, f"/api/jobs/{job_id}/stream", {"Last-Event-ID": got[0].id})
    ] == []


def test_sse_heartbeat_comments_while_quiet(server: ServerProc, client: httpx.Client) -> None:
    job_id = submit(
        client, "sleep", {"units": 2, "chunk_size": 1, "chunk_seconds": 5, "report": False}
    )
    wait_for(client, job_id, statuses=("running",))
    pings = 0
    with client.stream("GET", f"/api/jobs/{job_id}/stream", timeout=10) as resp:
        for msg in read_sse(resp.iter_lines()):
            if msg.comments and not msg.data:
                pings += 1
                if pings == 2:
                    break
    assert pings == 2


def test_sse_progress_is_coalesced_but_terminal_kept(client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 150, "chunk_size": 1, "report": False})
    got = [m.json for m in messages(client, f"/api/jobs/{job_id}/stream")]
    check_sequence(got[1:])
    log = log_events(client, job_id)
    assert (
        got[-1]["kind"] == "status" and got[-1]["status"] == "complete" and got[-1]["done"] == 150
    )
    streamed = sum(e["kind"] == "progress" for e in got)
    logged = sum(e["kind"] == "progress" for e in log)
    assert logged == 151 and streamed < logged, (streamed, logged)


def test_multi_job_stream_ends_when_all_are_terminal(client: httpx.Client) -> None:
    a = submit(client, "sleep", {"units": 4, "chunk_size": 1, "chunk_seconds": 0.05})
    b = submit(client, "sleep", {"units": 4, "chunk_size": 1, "chunk_seconds": 0.05})
    got = [m.json for m in messages(client, f"/api/stream?jobs={a},{b}")]
    assert {e["job_id"] for e in got if e["kind"] == "snapshot"} == {a, b}
    for job_id in (a, b):
        mine = [e for e in got if e["job_id"] == job_id]
        terminal = [e for e in mine if e["status"] in TERMINAL]
        assert (
            len(terminal) == 1 and terminal[0] is mine[-1] and terminal[0]["status"] == "complete"
        )
    resp = client.get("/api/stream", params={"jobs": f"{a},nope"})
    assert resp.status_code == 404 and resp.json()["code"] == "job_not_found"
    assert client.get("/api/jobs/nope/stream").status_code == 404
    bad = client.get(f"/api/jobs/{a}/stream", headers={"Last-Event-ID": "x"})
    assert bad.status_code == 422 and bad.json()["location"] == "Last-Event-ID"


def test_stream_of_all_jobs_shows_new_jobs(server: ServerProc, client: httpx.Client) -> None:
    got: list[dict] = []
    job_id = None
    with client.stream("GET", "/api/stream", timeout=30) as resp:
        assert resp.status_code == 200
        for msg in read_sse(resp.iter_lines()):
            if job_id is None:  # the first heartbeat: the stream is open
                job_id = submit(client, "sleep", {"units": 3, "chunk_size": 1})
            if msg.data:
                got.append(msg.json)
                if got[-1]["job_id"] == job_id and got[-1]["status"] in TERMINAL:
                    break
    mine = [e for e in got if e["job_id"] == job_id]
    assert [e["status"] for e in mine if e["kind"] == "status"] == ["queued", "running", "complete"]
    check_sequence(mine)


def test_websocket_same_events_and_cancel(server: ServerProc, client: httpx.Client) -> None:
    ws_url = server.url.replace("http://", "ws://")

    async def follow(job_id: str, cancel_after: int | None = None) -> list[dict]:
        got: list[dict] = []
        async with websockets.connect(f"{ws_url}/api/jobs/{job_id}/ws") as ws:
            sent = False
            async for text in ws:
                got.append(json.loads(text))
                progress = sum(e["kind"] == "progress" for e in got)
                if not sent and cancel_after is not None and progress == cancel_after:
                    await ws.send(json.dumps({"action": "cancel"}))
                    sent = True
            assert ws.close_code == 1000
        return got

    job_id = submit(client, "sleep", {"units": 20, "chunk_size": 1, "chunk_seconds": 0.05})
    got = asyncio.run(asyncio.wait_for(follow(job_id), 60))
    assert got[0]["kind"] == "snapshot"
    check_sequence(got[1:])
    assert got[-1]["status"] == "complete" and got[-1]["done"] == 20
    by_id = {e["id"]: e for e in log_events(client, job_id)}
    assert all(e == by_id[e["id"]] for e in got[1:])

    long_job = submit(client, "sleep", {"units": 50, "chunk_size": 1, "chunk_seconds": 0.2})
    got = asyncio.run(asyncio.wait_for(follow(long_job, cancel_after=2), 60))
    assert got[-1]["kind"] == "status" and got[-1]["status"] == "cancelled"
    assert any(e.get("stage") == "cancelling" for e in got), "the cancel request shows as a stage"
    assert client.get(f"/api/jobs/{long_job}").json()["status"] == "cancelled"


def test_hundred_sse_clients_all_get_the_terminal_event(
    client: httpx.Client, server: ServerProc, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"  # the job is held open until every client is counted
    spec = {"units": 40, "chunk_size": 1, "chunk_seconds": 0.01, "gate": str(gate)}
    job_id = submit(client, "sleep", spec)
    wait_for(client, job_id, statuses=("running",))
    n = 100

    async def main() -> tuple[list[list[dict]], float]:
        connected = asyncio.Semaphore(0)
        limits = httpx.Limits(max_connections=n + 10)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as ac:

            async def one() -> list[dict]:
                got: list[dict] = []
                async with ac.stream("GET", f"/api/jobs/{job_id}/stream") as resp:
                    async for msg in aread_sse(resp.aiter_lines()):
                        if msg.data:
                            got.append(msg.json)
                            if len(got) == 1:
                                connected.release()
                return got

            tasks = [asyncio.create_task(one()) for _ in range(n)]
            for _ in range(n):
                await connected.acquire()
            gauge = await ac.get("/metrics")
            gate.touch()
            results = await asyncio.gather(*tasks)
        return results, _gauge(gauge.text, 'montesim_stream_clients{transport="sse"}')

    results, clients_seen = asyncio.run(asyncio.wait_for(main(), 90))
    assert clients_seen >= n
    for got in results:
        check_sequence([e for e in got if e["kind"] != "snapshot"] or got)
        assert got[-1]["status"] == "complete" and got[-1]["done"] == 40


def _gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in metrics")
