"""Where chunks run: inline (a thread of this process), a local process pool, or Dask.

A chunk task gets the engine's name, the pickled plan (unpickled once per process and
job attempt) and the chunk. It returns ``(partial_bytes, seconds)``; the runner persists
the bytes. Cancellation reaches a running chunk through a flag file per job, which
``ctx.cancelled()`` checks; in-chunk reports travel back on a queue as stage messages.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing as mp
import os
import pickle
import queue as queue_mod
import signal
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Sequence
from concurrent.futures import (
    Future,
    InvalidStateError,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from montesim import portable
from montesim.config import Settings
from montesim.engines.base import Chunk, engine_names, get_engine
from montesim.errors import Cancelled, EngineError, ExecutorUnavailable
from montesim.heap import keep_freed_memory, loads_paused
from montesim.jobs import metrics as job_metrics
from montesim.jobs.model import job_of_key
from montesim.jobs.warming import start_warming
from montesim.logs import setup_logging

log = logging.getLogger("montesim.executor")

# -- worker side ------------------------------------------------------------------------

_reports: Any = None  # put_nowait of the report queue, set by the pool initializer
_thread_sink = threading.local()  # an inline executor's own report sink, per thread
_plan_cache: dict[str, Any] = {}


def _init_worker(
    reports: Any, warm: tuple[str, ...] = (), engines: tuple[str, ...] | None = None
) -> None:
    global _reports
    _reports = reports.put_nowait
    # Reports are informational: at exit this process drops those nobody read rather
    # than wait for room in the pipe (a run without a reader, run_now, never exited).
    reports.cancel_join_thread()
    # A stop signal sent to the whole process group (Ctrl-C, systemd) is the server's to
    # handle: it drains, letting chunks in flight here finish. The watchdog below ends
    # this process when the server is gone.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    setup_logging(Settings().log_format)  # worker lines in the server's format
    _watch_parent(os.getppid())
    atexit.register(_exit_now)  # last registered: the first exit hook to run
    keep_freed_memory()  # batches' temporaries reuse the heap instead of new pages
    # Import the engines as the worker starts, not inside the first job's first chunk:
    # every registered one, or only those named (a one-job pool imports its own).
    if engines is None:
        engine_names()
    for name in engines or ():
        get_engine(name)
    start_warming(warm)


def _exit_now() -> None:
    """A worker's exit, once its pool let it go: nothing of its own is left to save
    (results went back through the pool's queue), so the interpreter's teardown of every
    module is skipped; it would hold up a caller that waits for the pool to close."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()
    os._exit(0)


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


EVENT_CHECK_SECONDS = 0.5


def cancel_event_name(job_id: str) -> str:
    return f"montesim-cancel-{job_id}"


@dataclass(frozen=True)
class CancelSignal:
    """How a running chunk learns its job was cancelled: a flag file on this machine
    (local pool, inline) or, on Dask, a named Dask Event the scheduler holds (workers
    anywhere can read it). Neither: the chunk cannot be cancelled from outside."""

    flag_path: str | None = None
    dask_event: str | None = None


@dataclass(frozen=True)
class ChunkTask:
    """What an executor runs: one chunk of one attempt of a job."""

    engine: str
    key: str  # the attempt's key (``Hold.key``): its plan and reports are cached by it
    plan: bytes  # the pickled plan (Dask passes the scattered copy beside the task)
    chunk: Chunk
    cancel: CancelSignal = CancelSignal()
    previous: bytes | None = None  # a sequential engine's previous partial

    @property
    def job_id(self) -> str:
        return job_of_key(self.key)


class WorkerContext:
    """The ChunkContext a chunk sees inside a worker process."""

    def __init__(self, task: ChunkTask) -> None:
        self.job_key = task.key
        self.chunk = task.chunk
        self.cancel = task.cancel
        self.previous = pickle.loads(task.previous) if task.previous else None
        self._last_report = 0.0
        self._last_check = -EVENT_CHECK_SECONDS
        self._cancelled = False

    def cancelled(self) -> bool:
        if self.cancel.flag_path:
            return os.path.exists(self.cancel.flag_path)
        if not self.cancel.dask_event:
            return False
        t = time.monotonic()
        if not self._cancelled and t - self._last_check >= EVENT_CHECK_SECONDS:
            self._last_check = t  # one scheduler round trip per half second at most
            with contextlib.suppress(Exception):
                from distributed import Event

                self._cancelled = Event(self.cancel.dask_event).is_set()
        return self._cancelled

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
        plan = loads_paused(plan_bytes)
        _plan_cache[job_key] = plan
    return plan


def run_chunk_task(task: ChunkTask, plan: bytes | None = None) -> tuple[bytes | None, float]:
    """Run one chunk; returns the pickled partial (None if cancelled) and its seconds.
    ``plan``: the plan's bytes when they travel beside the task (Dask's scattered copy)."""
    t0 = time.perf_counter()
    engine = get_engine(task.engine)
    ctx = WorkerContext(task)
    if ctx.cancelled():
        return None, 0.0
    portable.ensure()  # a process that computes differently never runs a chunk
    chunk = task.chunk
    try:
        partial = engine.run_chunk(_plan(task.key, plan or task.plan), chunk, ctx)
    except Cancelled:
        return None, time.perf_counter() - t0
    return pickle.dumps(partial, protocol=pickle.HIGHEST_PROTOCOL), time.perf_counter() - t0


# -- parent side ------------------------------------------------------------------------


class Executor(Protocol):
    @property
    def workers(self) -> int: ...  # the chunk loop keeps twice this many in flight

    def submit(self, task: ChunkTask) -> Future: ...
    def alive(self) -> bool: ...
    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]: ...
    def shutdown(self, wait: bool = False) -> None: ...  # wait: for the workers to exit


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

    def submit(self, task: ChunkTask) -> Future:
        return self._pool.submit(self._run, task)

    def _run(self, task: ChunkTask) -> tuple[bytes | None, float]:
        _thread_sink.put = self._reports.put_nowait
        return run_chunk_task(task)

    def alive(self) -> bool:
        return True

    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]:
        out = []
        while True:
            try:
                out.append(self._reports.get_nowait())
            except queue_mod.Empty:
                return out

    def shutdown(self, wait: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)


class LocalExecutor:
    """A ProcessPoolExecutor sized to the cores; restarts itself if a worker dies.

    A worker killed mid-chunk (OOM killer, kill -9) breaks the whole pool and fails every
    chunk in flight. The pool is then replaced and those chunks are run again, up to
    ``MAX_WORKER_DEATHS`` times each, so a chunk that itself kills its worker ends the
    job in error rather than looping.
    """

    MAX_WORKER_DEATHS = 2

    def __init__(
        self,
        workers: int | None = None,
        warm: Sequence[str] = (),
        engines: Sequence[str] | None = None,
    ) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.warm = tuple(warm)  # engines each new worker process warms up (start_warming)
        # engines each new worker imports as it starts (None: every registered one)
        self.engines = None if engines is None else tuple(engines)
        self._ctx = mp.get_context("spawn")  # no forked copies of the server's threads/DB
        self._lock = threading.Lock()
        self._closed = False
        self._reports = self._ctx.Queue()
        self._starting: list[Future] = []  # start_workers' futures
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self._ctx,
            initializer=_init_worker,
            initargs=(self._reports, self.warm, self.engines),
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

    def submit(self, task: ChunkTask) -> Future:
        out: Future = Future()
        self._dispatch(out, task, 0)
        return out

    def _dispatch(self, out: Future, task: ChunkTask, deaths: int) -> None:
        pool = self._pool
        try:
            inner = pool.submit(run_chunk_task, task)
        except (BrokenProcessPool, RuntimeError):
            if self._closed:
                raise
            pool = self._replace(pool)
            inner = pool.submit(run_chunk_task, task)
        # ``out`` holds ``inner`` weakly: a strong reference both ways is a cycle that keeps
        # the chunk's result (tens of MB) alive until the cyclic GC runs, which in a main
        # process that allocates little can be after every chunk of the job came back.
        running = weakref.ref(inner)

        def cancel_inner(f: Future) -> None:
            found = running()
            if f.cancelled() and found is not None:
                found.cancel()

        out.add_done_callback(cancel_inner)
        inner.add_done_callback(lambda f: self._settle(out, f, pool, task, deaths))

    def _settle(
        self, out: Future, inner: Future, pool: ProcessPoolExecutor, task: ChunkTask, deaths: int
    ) -> None:
        if out.done():
            return  # the runner cancelled it
        if inner.cancelled():
            out.cancel()
            return
        exc = inner.exception()
        if isinstance(exc, BrokenProcessPool) and not self._closed:
            extra = {"job_id": task.job_id, "chunk": task.chunk.index}
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
                self._dispatch(out, task, deaths + 1)
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

    def start_workers(self) -> list[Future]:
        """Start every worker process now (without waiting) rather than on the first chunk."""
        self._starting = [self._pool.submit(os.getpid) for _ in range(self.workers)]
        return self._starting

    def warm_up(self) -> None:
        """Start every worker process now rather than on the first job, and wait for them."""
        for f in self.start_workers():
            f.result()

    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]:
        out = []
        while True:
            try:
                out.append(self._reports.get_nowait())
            except (queue_mod.Empty, OSError, ValueError):
                return out

    def shutdown(self, wait: bool = False) -> None:
        """``wait``: until the workers exited (a caller about to exit: the pool's exit
        hook may otherwise race its own manager thread and print an OSError)."""
        self._closed = True
        # A worker still starting reads its set-up from this process: let it finish
        # (a second or so), or one that outlives a quick exit here fails noisily.
        wait_for(self._starting, timeout=30)
        self._pool.shutdown(wait=wait, cancel_futures=True)


def run_chunk_caught(task: ChunkTask, plan: Any = None) -> tuple[str, Any]:
    """``run_chunk_task`` whose own exceptions come back as values.

    On Dask, then, an exception from the future itself always means the cluster lost the
    chunk (scheduler gone, worker died): that is retried, while the engine's own
    exception fails the job.
    """
    try:
        return "ok", run_chunk_task(task, plan)
    except Exception as exc:
        exc.add_note(traceback.format_exc())
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:
            exc = EngineError(f"{type(exc).__name__}: {exc}", detail=traceback.format_exc())
        return "error", exc


class DaskExecutor:
    """Chunks on a Dask distributed cluster (``MONTESIM_DASK_SCHEDULER``) or a LocalCluster.

    Dask futures are adapted to concurrent.futures so the runner treats both alike. The
    cluster may change under a job: a chunk lost to it (scheduler restart, worker death,
    ``KilledWorker``) is sent again with backoff, up to ``chunk_attempts`` times, and
    while the client reconnects chunks wait without spending attempts. ``workers`` is the
    cluster's current thread count, refreshed in the background, so the chunk loop uses
    workers added later. Each job's plan is scattered to the workers once; a chunk the
    runner abandons (lost lease, cancel) is cancelled on the cluster.
    """

    REFRESH_SECONDS = 1.0
    CANCEL_SIGNAL_SECONDS = 120.0

    def __init__(
        self,
        address: str = "",
        workers: int | None = None,
        *,
        chunk_attempts: int = 5,
        connect_seconds: float = 10.0,
        warm: Sequence[str] = (),
        reference_digest: str | None = None,
    ) -> None:
        from dask.distributed import Client, LocalCluster

        self.address = address
        self.warm = tuple(warm)
        self.reference_digest = reference_digest
        self.chunk_attempts = max(1, chunk_attempts)
        self.connect_seconds = connect_seconds
        self._closed = False
        self._lock = threading.Lock()
        self._plans: dict[str, Any] = {}  # job key -> the scattered plan's future
        self._to_cancel: list[Any] = []
        self._signals: dict[str, float] = {}  # job id -> when its cancel signal was set
        self._wake = threading.Event()
        self._threads = 1
        self._dask_workers = 0
        self._dashboard: str | None = None
        # Sending to the cluster can block (a scatter waits for workers, a dropped
        # connection for its timeout): never in the runner's thread, whose heartbeats
        # keep the job's lease.
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dask-send")
        if address:
            self._client = self.connect(address, connect_seconds)
        else:
            self._cluster = LocalCluster(
                n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True
            )
            self._client = Client(self._cluster)
        self._refresh()
        self._refresher = threading.Thread(target=self._maintain, name="dask-info", daemon=True)
        self._refresher.start()

    @staticmethod
    def connect(address: str, seconds: float) -> Any:
        """A client of the scheduler at ``address``; ExecutorUnavailable in one line."""
        from dask.distributed import Client

        try:
            return Client(address, timeout=seconds)
        except (OSError, ValueError, TypeError) as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ExecutorUnavailable(
                f"cannot reach the Dask scheduler at {address!r} "
                f"(MONTESIM_DASK_SCHEDULER) within {seconds:g} s: {first}"
            ) from None

    # -- the cluster as it is now ---------------------------------------------------

    @property
    def workers(self) -> int:
        """Worker threads the cluster has now (the chunk loop keeps twice that in flight)."""
        return max(1, self._threads)

    def connected_workers(self) -> int:
        return self._dask_workers

    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard (None when it has none: bokeh missing, or disabled)."""
        return self._dashboard

    def _refresh(self) -> None:
        client = self._client
        if client.status != "running":
            return
        try:
            info = client.scheduler_info(n_workers=-1)
        except Exception:  # the scheduler just went away; the client reconnects
            return
        found = info.get("workers", {})
        self._dashboard = self._link(client, info)
        self._dask_workers = len(found)
        self._threads = sum(int(w.get("nthreads", 1)) for w in found.values())

    @staticmethod
    def _link(client: Any, info: dict[str, Any]) -> str | None:
        from distributed.utils import format_dashboard_link

        port = info.get("services", {}).get("dashboard")
        if not port:
            return None
        host = str(info.get("address") or client.scheduler.address).split("://")[-1]
        return str(format_dashboard_link(host.rsplit(":", 1)[0], port))

    def _maintain(self) -> None:
        """Background: refresh the worker count, flush cancels, replace a closed client."""
        while not self._closed:
            self._wake.wait(self.REFRESH_SECONDS)
            self._wake.clear()
            if self._closed:
                return
            try:
                self._maintain_once()
            except Exception:  # this thread must outlive any one failure
                log.exception("Dask executor maintenance failed")

    def _maintain_once(self) -> None:
        """Flush abandoned chunks' cancels, expire cancel signals, reconnect, refresh."""
        with self._lock:
            doomed, self._to_cancel = self._to_cancel, []
            old = time.monotonic() - self.CANCEL_SIGNAL_SECONDS
            expired = [j for j, t in self._signals.items() if t < old]
            for job_id in expired:
                del self._signals[job_id]
        if doomed and self._client.status == "running":
            with contextlib.suppress(Exception):
                self._client.cancel(doomed)
        for job_id in expired:
            self._event(job_id, "clear")
        if self._client.status == "closed" and self.address:
            # Reconnecting gave up (the scheduler was away longer than its timeout).
            with contextlib.suppress(ExecutorUnavailable):
                self._client = self.connect(self.address, self.connect_seconds)
                log.warning("reconnected to the Dask scheduler at %s", self.address)
        self._refresh()

    # -- chunks -------------------------------------------------------------------

    def submit(self, task: ChunkTask) -> Future:
        out: Future = Future()
        current: list[Any] = []  # the Dask future now running this chunk

        def abandoned(f: Future) -> None:
            if f.cancelled() and current:
                with self._lock:
                    self._to_cancel.append(current[-1])
                self._wake.set()

        out.add_done_callback(abandoned)
        self._send(out, current, task, 1)
        return out

    def _send(self, out: Future, current: list[Any], task: ChunkTask, attempt: int) -> None:
        try:
            self._sender.submit(self._dispatch, out, current, task, attempt)
        except RuntimeError:  # shut down meanwhile
            with contextlib.suppress(InvalidStateError):
                out.set_exception(ExecutorUnavailable("the Dask executor was shut down"))

    def _dispatch(self, out: Future, current: list[Any], task: ChunkTask, attempt: int) -> None:
        if out.done():
            return
        if self._closed:
            with contextlib.suppress(InvalidStateError):
                out.set_exception(ExecutorUnavailable("the Dask executor was shut down"))
            return
        client = self._client
        if client.status != "running" or not self._dask_workers:
            # Reconnecting to a restarted scheduler, or no workers yet: wait, without
            # spending an attempt.
            self._later(0.25, out, current, task, attempt)
            return
        # The plan travels as the scattered copy beside the task (Dask resolves futures in
        # a task's arguments, not inside its objects); the cancel signal is a Dask Event.
        remote = replace(
            task, plan=b"", cancel=CancelSignal(dask_event=cancel_event_name(task.job_id))
        )
        try:
            plan = self._plan(client, task.key, task.plan)
            fut = client.submit(run_chunk_caught, remote, plan, pure=False)
        except Exception as exc:  # the connection dropped between the check and the send
            self._lost(out, current, task, attempt, exc)
            return
        current.append(fut)
        if len(current) > 1:
            del current[:-1]
        fut.add_done_callback(lambda f: self._settle(out, current, f, task, attempt))

    def _plan(self, client: Any, job_key: str, plan_bytes: bytes) -> Any:
        """The job's plan on the cluster, scattered once (again if the cluster lost it)."""
        with self._lock:
            held = self._plans.get(job_key)
            if held is not None and held.client is client and held.status == "finished":
                return held
        fut = client.scatter(plan_bytes, broadcast=True, hash=False)
        with self._lock:
            self._plans[job_key] = fut
        return fut

    def forget(self, job_id: str) -> None:
        """Drop the scattered plans (and the cancel signal) of a job that ended here."""
        with self._lock:
            for key in [k for k in self._plans if job_of_key(k) == job_id]:
                self._to_cancel.append(self._plans.pop(key))
        self._wake.set()

    def signal_cancel(self, job_id: str) -> None:
        """Tell the job's running chunks, on whichever Dask worker, to stop.

        The signal stays up for ``CANCEL_SIGNAL_SECONDS`` so chunks still running after
        the job ended see it too, then the scheduler forgets it.
        """
        self._event(job_id, "set")
        with self._lock:
            self._signals[job_id] = time.monotonic()

    def _event(self, job_id: str, action: str) -> None:
        from distributed import Event

        if self._client.status != "running":
            return
        try:
            getattr(Event(cancel_event_name(job_id), client=self._client), action)()
        except Exception:
            log.warning("could not %s the cancel signal of job %s", action, job_id, exc_info=True)

    def _settle(
        self, out: Future, current: list[Any], fut: Any, task: ChunkTask, attempt: int
    ) -> None:
        if out.done():
            return  # the runner abandoned it
        try:
            if fut.status == "finished":
                kind, value = fut.result()
                with contextlib.suppress(InvalidStateError):  # abandoned meanwhile
                    if kind == "ok":
                        out.set_result(value)
                    else:
                        out.set_exception(value)
                return
            reason = fut.exception() if fut.status == "error" else None
        except Exception as exc:
            reason = exc
        self._lost(out, current, task, attempt, reason or RuntimeError(f"task {fut.status}"))

    def _lost(
        self, out: Future, current: list[Any], task: ChunkTask, attempt: int, reason: BaseException
    ) -> None:
        extra = {"job_id": task.job_id, "chunk": task.chunk.index}
        what = f"{type(reason).__name__}: {reason}"
        if attempt >= self.chunk_attempts:
            log.error("chunk lost %d times on the Dask cluster; giving up", attempt, extra=extra)
            with contextlib.suppress(InvalidStateError):
                out.set_exception(
                    EngineError(
                        f"chunk {extra['chunk']} was lost {attempt} times on the Dask cluster "
                        f"(last: {what[:300]})",
                        code="chunk_lost",
                    )
                )
            return
        delay = min(10.0, 0.5 * 2 ** (attempt - 1))
        log.warning(
            "chunk lost on the Dask cluster (%s); retrying in %.1f s",
            what[:200],
            delay,
            extra=extra,
        )
        job_metrics.CHUNK_RETRIES.inc()
        self._later(delay, out, current, task, attempt + 1)

    def _later(
        self, delay: float, out: Future, current: list[Any], task: ChunkTask, attempt: int
    ) -> None:
        timer = threading.Timer(delay, self._send, (out, current, task, attempt))
        timer.daemon = True
        timer.start()

    def warm_up(self) -> None:
        """Import the engines on every Dask worker, including those that join later."""
        from montesim.jobs.dask_plugin import EnginePreload

        try:
            self._client.register_plugin(
                EnginePreload(self.warm, self.reference_digest), name=EnginePreload.name
            )
        except Exception:  # the chunks import the engines themselves anyway
            log.warning("could not preload the engines on the Dask workers", exc_info=True)

    def alive(self) -> bool:
        """Usable: connected, or reconnecting to a restarted scheduler."""
        return not self._closed and self._client.status in ("running", "connecting", "closed")

    def drain_reports(self) -> list[tuple[str, int, int, str | None, str | None]]:
        return []

    def shutdown(self, wait: bool = False) -> None:
        self._closed = True
        self._wake.set()
        self._sender.shutdown(wait=False, cancel_futures=True)
        self._client.close()
        cluster = getattr(self, "_cluster", None)
        if cluster is not None:
            cluster.close()


def make_executor(
    kind: str,
    *,
    workers: int | None = None,
    address: str = "",
    chunk_attempts: int = 5,
    connect_seconds: float = 10.0,
    warm: Sequence[str] = (),
    engines: Sequence[str] | None = None,
    reference_digest: str | None = None,
) -> Executor:
    """``warm``: engines whose ``warm_up`` each worker process runs as it starts (not
    inline: that process is the caller's, already running its job). ``engines``: the
    engines a local worker imports as it starts (default: every registered one)."""
    if kind == "inline":
        return InlineExecutor()
    if kind == "local":
        return LocalExecutor(workers, warm=warm, engines=engines)
    if kind == "dask":
        return DaskExecutor(
            address,
            workers,
            chunk_attempts=chunk_attempts,
            connect_seconds=connect_seconds,
            warm=warm,
            reference_digest=reference_digest,
        )
    raise ValueError(f"unknown executor {kind!r}; expected 'inline', 'local' or 'dask'")


def cancel_flag_path(cancel_dir: Path, job_id: str) -> Path:
    return cancel_dir / job_id
