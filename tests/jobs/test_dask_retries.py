"""DaskExecutor's retries without a cluster: a chunk the cluster keeps losing is sent
again with backoff up to ``chunk_attempts`` times, then fails the job with ``chunk_lost``;
a chunk lost once and then run comes back as if nothing happened."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from montesim.errors import EngineError
from montesim.jobs.executors import ChunkTask, DaskExecutor, run_chunk_caught
from montesim.jobs.service import run_now


class LostTask:
    """A Dask future whose worker died (what ``KilledWorker`` leaves)."""

    status = "error"

    def exception(self) -> BaseException:
        return RuntimeError("KilledWorker: worker tcp://10.0.0.9:4000 died running the task")

    def add_done_callback(self, fn: Any) -> None:
        fn(self)


class RanTask:
    """A Dask future that ran its task here, at once."""

    status = "finished"

    def __init__(self, fn: Any, args: tuple[Any, ...]) -> None:
        self.value = fn(*args)

    def result(self) -> Any:
        return self.value

    def add_done_callback(self, fn: Any) -> None:
        fn(self)


class FlakyClient:
    """Loses the first ``lose`` sends of every chunk, runs the later ones in this process."""

    status = "running"

    def __init__(self, lose: int) -> None:
        self.lose = lose
        self.sends: dict[int, int] = {}
        self.lock = threading.Lock()

    def close(self) -> None:
        pass

    def scatter(self, data: Any, **_kw: Any) -> Any:
        return data  # the task receives the plan's bytes themselves

    def submit(self, fn: Any, *args: Any, **_kw: Any) -> Any:
        chunk = args[0].chunk
        with self.lock:
            self.sends[chunk.index] = self.sends.get(chunk.index, 0) + 1
            lost = self.sends[chunk.index] <= self.lose
        assert fn is run_chunk_caught
        return LostTask() if lost else RanTask(fn, args)


def fake_executor(client: FlakyClient, attempts: int, delays: list[float]) -> DaskExecutor:
    """A DaskExecutor around ``client``; backoff delays are recorded, not slept."""
    ex = DaskExecutor.__new__(DaskExecutor)
    ex.address = "tcp://fake:8786"
    ex.chunk_attempts = attempts
    ex.connect_seconds = 1.0
    ex._closed = False
    ex._lock = threading.Lock()
    ex._plans = {}
    ex._to_cancel = []
    ex._signals = {}
    ex._wake = threading.Event()
    ex._threads = 2
    ex._dask_workers = 1
    ex._dashboard = None
    ex._sender = ThreadPoolExecutor(max_workers=1)
    ex._client = client
    ex._plan = lambda client, job_key, plan_bytes: plan_bytes  # type: ignore[method-assign]
    ex._event = lambda job_id, action: None  # type: ignore[method-assign]

    def later(delay: float, out: Any, current: Any, args: Any, attempt: int) -> None:
        delays.append(delay)
        ex._send(out, current, args, attempt)

    ex._later = later  # type: ignore[method-assign]
    return ex


def test_chunk_lost_every_time_ends_the_job_with_chunk_lost() -> None:
    delays: list[float] = []
    client = FlakyClient(lose=10**9)
    ex = fake_executor(client, attempts=4, delays=delays)
    outcome = run_now("sleep", {"units": 4, "chunk_size": 2, "seed": 1}, executor=ex)
    job = outcome.job
    assert job.status.value == "error" and job.error_code == "chunk_lost"
    assert "was lost 4 times on the Dask cluster" in (job.error_message or "")
    assert "KilledWorker" in (job.error_message or "")
    # each chunk sent 4 times at most (the first failing one ends the job), backoff doubling
    assert max(client.sends.values()) == 4
    assert sorted(set(delays)) == [0.5, 1.0, 2.0]


def test_chunk_lost_then_run_completes_identically() -> None:
    delays: list[float] = []
    client = FlakyClient(lose=2)
    ex = fake_executor(client, attempts=3, delays=delays)
    spec = {"units": 6, "chunk_size": 2, "seed": 5}
    outcome = run_now("sleep", spec, executor=ex)
    assert outcome.job.status.value == "complete", outcome.job
    assert client.sends == {0: 3, 1: 3, 2: 3}
    assert sorted(delays) == [0.5] * 3 + [1.0] * 3
    assert outcome.result is not None
    assert outcome.result.summary == run_now("sleep", spec).result.summary  # type: ignore[union-attr]


def test_backoff_is_capped() -> None:
    delays: list[float] = []
    ex = fake_executor(FlakyClient(lose=10**9), attempts=8, delays=delays)
    from concurrent.futures import Future

    from montesim.engines.base import Chunk

    out: Future = Future()
    chunk = Chunk(index=0, start=0, size=1)
    ex._send(out, [], ChunkTask("sleep", "j:1", b"", chunk), 1)
    with pytest.raises(EngineError, match="lost 8 times") as caught:
        out.result(timeout=30)
    assert caught.value.code == "chunk_lost"
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
