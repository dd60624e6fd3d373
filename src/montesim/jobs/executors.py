"""Where chunks run: inline (a thread of this process), a local process pool, or Dask.

A chunk task gets the engine's name, the pickled plan (unpickled once per process and
job attempt) and the chunk. It returns ``(partial_bytes, seconds)``; the runner persists
the bytes. Cancellation reaches a running chunk through a flag file per job, which
``ctx.cancelled()`` checks; in-chunk reports travel back on a queue as stage messages.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import pickle
import queue as queue_mod
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Protocol

from montesim.config import Settings
from montesim.engines.base import Chunk, engine_names, get_engine
from montesim.errors import Cancelled, EngineError
from montesim.jobs import metrics as job_metrics
from montesim.logs import setup_logging

log = logging.getLogger("montesim.executor")

# -- worker side ------------------------------------------------------------------------

_reports: Any = None  # put_nowait of the report queue, set by the pool initializer
_thread_sink = threading.local()  # an inline executor's own report sink, per thread
_plan_cache: dict[str, Any] = {}


def _init_worker(reports: Any) -> None:
    global _reports
    _reports = reports.put_nowait
    setup_logging(Settings().log_format)  # worker lines in the server's format
    _watch_parent(os.getppid())
    # Import the engines as the worker starts, not inside the first job's first chunk.
    engine_names()


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """Exit when the server that started this worker is gone (even after kill -9).

    A killed parent leaves its children to init; without this they would live on.
    """

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class WorkerContext:
    """The ChunkContext a chunk sees inside a worker process."""

    def __init__(self, job_key: str, chunk: Chunk, cancel_flag: str | None, previous: Any):
        self.job_key = job_key
        self.chunk = chunk
        self.cancel_flag = cancel_flag
        self.previous = previous
        self._last_report = 0.0

    def cancelled(self) -> bool:
        return bool(self.cancel_flag) and os.path.exists(self.cancel_flag)  # type: ignore[arg-type]

    def report(self, done: int, stage: str | None = None, message: str | None = None) -> None:
        t = time.monotonic()
        sink = getattr(_thread_sink, "put", None) or _reports
        if sink is None or t - self._last_report < 0.25:
            return
        self._last_report = t
        # A full or closed queue must never fail the chunk.
        with contextlib.suppress(Exception):
            sink((self.job_key, self.chunk.index, int(done), stage, message))


def _plan(job_key: str, plan_bytes: bytes) -> Any:
    plan = _plan_cache.get(job_key)
    if plan is None:
        _plan_cache.clear()  # one job's plan at a time per process keeps memory bounded
        plan = pickle.loads(plan_bytes)
        _plan_cache[job_key] = plan
    return plan


def run_chunk_task(
    engine_name: str,
    job_key: str,
    plan_bytes: bytes,
    chunk: Chunk,
    cancel_flag: str | None,
    previous: bytes | None,
) -> tuple[bytes | None, float]:
    """Run one chunk; returns the pickled partial (None if cancelled) and its seconds."""
    t0 = time.perf_counter()
    engine = get_engine(engine_name)
    ctx = WorkerContext(job_key, chunk, cancel_flag, pickle.loads(previous) if previous else None)
    if ctx.cancelled():
        return None, 0.0
    try:
        partial = engine.run_chunk(_plan(job_key, plan_bytes), chunk, ctx)
    except Cancelled:
        return None, time.perf_counter() - t0
    return pickle.dumps(partial, protocol=pickle.HIGHEST_PROTOCOL), time.perf_counter() - t0


# -- parent side ------------------------------------------------------------------------


class Executor(Protocol):
    workers: int

    def submit(self, *args: Any) -> Future: ...
    def alive(self) -> bool: ...
    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]: ...
    def shutdown(self) -> None: ...


class InlineExecutor:
    """Chunks in this process, one at a time, on a background thread.

    The in-process twin of the pool (as httpx's mock transport is a drop-in transport):
    ``montesim run``, ``montesim risk``, ``montesim.simulate`` and the synchronous
    risk-tree endpoint use it. The runner keeps polling while a chunk runs, so a cancel
    still reaches the chunk through its flag.
    """

    workers = 1

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inline-chunk")
        self._reports: queue_mod.SimpleQueue[Any] = queue_mod.SimpleQueue()

    def submit(self, *args: Any) -> Future:
        return self._pool.submit(self._run, args)

    def _run(self, args: tuple[Any, ...]) -> tuple[bytes | None, float]:
        _thread_sink.put = self._reports.put_nowait
        return run_chunk_task(*args)

    def alive(self) -> bool:
        return True

    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]:
        out = []
        while True:
            try:
                out.append(self._reports.get_nowait())
            except queue_mod.Empty:
                return out

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class LocalExecutor:
    """A ProcessPoolExecutor sized to the cores; restarts itself if a worker dies.

    A worker killed mid-chunk (OOM killer, kill -9) breaks the whole pool and fails every
    chunk in flight. The pool is then replaced and those chunks are run again, up to
    ``MAX_WORKER_DEATHS`` times each, so a chunk that itself kills its worker ends the
    job in error rather than looping.
    """

    MAX_WORKER_DEATHS = 2

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._ctx = mp.get_context("spawn")  # no forked copies of the server's threads/DB
        self._lock = threading.Lock()
        self._closed = False
        self._reports = self._ctx.Queue()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._ctx,
            initializer=_init_worker,
            initargs=(self._reports,),
        )

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A working pool in place of ``broken`` (once, however many chunks noticed)."""
        with self._lock:
            if self._pool is broken and not self._closed:
                if not getattr(broken, "_broken", False):
                    broken.shutdown(wait=False, cancel_futures=True)
                # A killed worker may have died holding the report queue's lock.
                self._reports = self._ctx.Queue()
                self._pool = self._new_pool()
            return self._pool

    def submit(self, *args: Any) -> Future:
        out: Future = Future()
        self._dispatch(out, args, 0)
        return out

    def _dispatch(self, out: Future, args: tuple[Any, ...], deaths: int) -> None:
        pool = self._pool
        try:
            inner = pool.submit(run_chunk_task, *args)
        except (BrokenProcessPool, RuntimeError):
            if self._closed:
                raise
            pool = self._replace(pool)
            inner = pool.submit(run_chunk_task, *args)
        out.add_done_callback(lambda f: inner.cancel() if f.cancelled() else None)
        inner.add_done_callback(lambda f: self._settle(out, f, pool, args, deaths))

    def _settle(
        self, out: Future, inner: Future, pool: ProcessPoolExecutor, args: tuple, deaths: int
    ) -> None:
        if out.done():
            return  # the runner cancelled it
        if inner.cancelled():
            out.cancel()
            return
        exc = inner.exception()
        if isinstance(exc, BrokenProcessPool) and not self._closed:
            chunk = args[3]
            job_id = str(args[1]).split(":", 1)[0]
            extra = {"job_id": job_id, "chunk": getattr(chunk, "index", None)}
            if deaths + 1 > self.MAX_WORKER_DEATHS:
                log.error("worker died again on this chunk; giving up", extra=extra)
                out.set_exception(
                    EngineError(
                        f"a worker process died {deaths + 1} times while running chunk "
                        f"{extra['chunk']} (out of memory, or a crash in native code?)",
                        code="worker_died",
                    )
                )
                return
            log.warning(
                "worker process died; restarting the pool and re-running the chunk", extra=extra
            )
            job_metrics.CHUNK_RETRIES.inc()
            try:
                self._replace(pool)
                self._dispatch(out, args, deaths + 1)
            except Exception as again:  # never leave the runner waiting on a lost future
                if not out.done():
                    out.set_exception(again)
            return
        if exc is not None:
            out.set_exception(exc)
        else:
            out.set_result(inner.result())

    def alive(self) -> bool:
        return not getattr(self._pool, "_broken", False)

    def warm_up(self) -> None:
        """Start every worker process now rather than on the first job."""
        futures = [self._pool.submit(os.getpid) for _ in range(self.workers)]
        for f in futures:
            f.result()

    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]:
        out = []
        while True:
            try:
                out.append(self._reports.get_nowait())
            except (queue_mod.Empty, OSError, ValueError):
                return out

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor:
    """Chunks on a Dask distributed cluster (``MONTESIM_DASK_SCHEDULER``) or a LocalCluster.

    Dask futures are adapted to concurrent.futures so the runner treats both alike.
    Cancellation flags are files, so mid-chunk cancel reaches workers sharing the
    data folder; elsewhere a chunk finishes and its result is discarded.
    """

    def __init__(self, address: str = "", workers: int | None = None) -> None:
        from dask.distributed import Client, LocalCluster

        if address:
            self._client = Client(address)
        else:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True
            )
            self._client = Client(self._cluster)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})) or 1)

    def submit(self, *args: Any) -> Future:
        out: Future = Future()
        fut = self._client.submit(run_chunk_task, *args, pure=False)

        def _done(f: Any) -> None:
            try:
                out.set_result(f.result())
            except BaseException as exc:
                out.set_exception(exc)

        fut.add_done_callback(_done)
        return out

    def alive(self) -> bool:
        return self._client.status == "running"

    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]:
        return []

    def shutdown(self) -> None:
        self._client.close()
        cluster = getattr(self, "_cluster", None)
        if cluster is not None:
            cluster.close()


def make_executor(kind: str, *, workers: int | None = None, address: str = "") -> Executor:
    if kind == "inline":
        return InlineExecutor()
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(address, workers)
    raise ValueError(f"unknown executor {kind!r}; expected 'inline', 'local' or 'dask'")


def cancel_flag_path(cancel_dir: Path, job_id: str) -> Path:
    return cancel_dir / job_id
