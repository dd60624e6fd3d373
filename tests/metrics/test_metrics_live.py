"""Metrics, stall flags, worker deaths and JSON logs, against a real server."""

from __future__ import annotations

import json
import os
import re
import signal
import time

import httpx
import numpy as np
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import ServerProc, submit, wait_for

from montesim.sampling.seeding import rng_for

pytestmark = [pytest.mark.xdist_group("live"), pytest.mark.timeout(120)]

# what montesim's text formatter writes: "2026-01-01 10:00:00,123 INFO montesim.x: ..."
TEXT_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ montesim")


def scrape(client: httpx.Client) -> dict[tuple[str, tuple], float]:
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_jobs_work_and_failures(client: httpx.Client) -> None:
    before = scrape(client)
    ok = submit(client, "sleep", {"units": 30, "chunk_size": 10})
    bad = submit(client, "sleep", {"units": 30, "chunk_size": 10, "fail_at_chunk": 1})
    third = submit(client, "sleep", {"units": 10, "chunk_size": 10, "chunk_seconds": 0.5})
    for job_id in (ok, bad, third):
        wait_for(client, job_id)
    after = scrape(client)
    jobs = client.get("/api/jobs", params={"limit": 200}).json()
    by_status = {s: sum(j["status"] == s for j in jobs["items"]) for s in ("complete", "error")}
    assert value(after, "montesim_jobs", status="complete") == by_status["complete"]
    assert value(after, "montesim_jobs", status="error") == by_status["error"]
    assert value(after, "montesim_queue_depth") == 0 and value(after, "montesim_jobs_running") == 0
    units = ("montesim_work_units_processed_total", {"engine": "sleep", "unit": "units"})
    assert value(after, units[0], **units[1]) - value(before, units[0], **units[1]) == 30 + 10 + 10
    failures = "montesim_job_failures_total"
    assert (
        value(after, failures, code="deliberate_failure")
        - value(before, failures, code="deliberate_failure")
        == 1
    )
    chunks = "montesim_chunk_duration_seconds_count"
    assert value(after, chunks, engine="sleep") - value(before, chunks, engine="sleep") == 5
    durations = "montesim_job_duration_seconds_count"
    assert (
        value(after, durations, engine="sleep", status="complete")
        - value(before, durations, engine="sleep", status="complete")
        == 2
    )
    assert ("montesim_stream_clients", (("transport", "websocket"),)) in after


def test_queue_depth_and_running_come_from_the_store(client: httpx.Client) -> None:
    running = submit(client, "sleep", {"units": 20, "chunk_size": 1, "chunk_seconds": 0.2})
    queued = [submit(client, "sleep", {"units": 1, "chunk_size": 1}) for _ in range(3)]
    wait_for(client, running, statuses=("running",))
    now = scrape(client)
    assert value(now, "montesim_jobs_running") == 1
    assert value(now, "montesim_queue_depth") == 3
    assert value(now, "montesim_job_stall_threshold_seconds", job_id=running, engine="sleep") >= 0.5
    for job_id in [running, *queued]:
        client.post(f"/api/jobs/{job_id}/cancel")


def test_silent_engine_is_flagged_stalled_then_unflagged(client: httpx.Client) -> None:
    # Two 2-second chunks, one worker, no in-chunk reports; the stall floor is 0.5 s.
    job_id = submit(
        client, "sleep", {"units": 2, "chunk_size": 1, "chunk_seconds": 2, "report": False}
    )
    deadline = time.monotonic() + 20
    while not client.get(f"/api/jobs/{job_id}").json()["stalled"]:
        assert time.monotonic() < deadline, "never flagged stalled"
        time.sleep(0.05)
    samples = scrape(client)
    assert value(samples, "montesim_jobs_stalled") == 1
    idle = value(samples, "montesim_job_seconds_since_progress", job_id=job_id, engine="sleep")
    limit = value(samples, "montesim_job_stall_threshold_seconds", job_id=job_id, engine="sleep")
    assert idle > limit == 0.5, "the alert expression holds for this job"
    job = wait_for(client, job_id)
    assert job["status"] == "complete" and job["stalled"] is False
    events = client.get(f"/api/jobs/{job_id}/events").json()["events"]
    flags = [(e["kind"], e["stalled"], e["done"]) for e in events]
    first_stall = next(i for i, f in enumerate(flags) if f[1])
    assert flags[first_stall][0] == "stage" and flags[first_stall][2] == 0
    resumed = flags[first_stall + 1 :]
    assert resumed[0] == ("progress", False, 1), "the next chunk clears the flag"
    # the second chunk took as long, but the threshold now follows the job's own pace
    assert not any(stalled for _, stalled, _ in resumed)
    assert value(scrape(client), "montesim_jobs_stalled") == 0


def worker_pids(server: ServerProc) -> list[int]:
    assert server.proc is not None
    kids = psutil.Process(server.proc.pid).children(recursive=True)
    return [
        p.pid
        for p in kids
        if "spawn_main" in " ".join(p.cmdline()) and "resource_tracker" not in " ".join(p.cmdline())
    ]


def test_killed_worker_is_replaced_and_its_chunk_rerun(
    server: ServerProc, client: httpx.Client
) -> None:
    before = scrape(client)
    spec = {"units": 8, "chunk_size": 1, "chunk_seconds": 0.4, "seed": 7}
    job_id = submit(client, "sleep", spec)
    deadline = time.monotonic() + 20
    while client.get(f"/api/jobs/{job_id}").json()["done"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    victims = worker_pids(server)
    assert len(victims) == 1, victims  # MONTESIM_WORKERS=1: the one busy worker
    os.kill(victims[0], signal.SIGKILL)
    job = wait_for(client, job_id, timeout=60)
    assert job["status"] == "complete", job.get("error")
    assert job["attempt"] == 1, "the job itself was not restarted, only the lost chunk"
    result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
    expected = float(np.sum([rng_for(7, i).random(1).sum() for i in range(8)]))
    assert result["n"] == 8 and result["sum"] == pytest.approx(expected, rel=1e-12)
    after = scrape(client)
    assert value(after, "montesim_chunk_retries_total") > value(
        before, "montesim_chunk_retries_total"
    )
    new = worker_pids(server)
    assert new and victims[0] not in new
    assert client.get("/api/healthz").json()["ok"] is True
    # the retry is logged as JSON with the job and the chunk
    lines = [
        json.loads(x)
        for x in (server.data_dir / "server.log").read_text().splitlines()
        if x.startswith("{")
    ]
    died = [x for x in lines if x.get("job_id") == job_id and "worker process died" in x["message"]]
    assert died and all(isinstance(x["chunk"], int) for x in died)


def test_job_log_lines_are_json_with_job_id(server: ServerProc, client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 2, "chunk_size": 1})
    wait_for(client, job_id)
    time.sleep(0.3)  # the "finished" line follows the terminal state
    text = (server.data_dir / "server.log").read_text()
    records = []
    for line in text.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
        else:
            assert not TEXT_LOG_LINE.match(line), f"a montesim log line is not JSON: {line}"
    mine = [r for r in records if r.get("job_id") == job_id]
    assert {"job claimed", "job finished: complete"} <= {r["message"] for r in mine}
    assert all({"ts", "level", "logger", "message"} <= r.keys() for r in records)
    assert all(r["logger"].startswith("montesim") for r in records)
