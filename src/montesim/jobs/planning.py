"""Validate and plan a job once, in the worker, off every request path.

Engines whose validation reads big inputs (``heavy_validation``: a workbook to read
and compile) plan in a child process forked from a clean fork server, under a CPU-time
and an address-space limit, and are killed at once when the job is cancelled. Light
engines plan in the calling thread. Either way the plan comes back pickled, with its
chunks, and is cached by the spec and the content hash of its files, so the same model
submitted again is not compiled again.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import pickle
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from montesim.config import Settings
from montesim.engines.base import Chunk, get_engine
from montesim.errors import Cancelled, EngineError, InputError

PRELOAD = ["montesim.engines.base", "montesim.engines.excel", "numpy", "openpyxl"]


@dataclass(frozen=True)
class PlannedJob:
    plan_bytes: bytes
    chunks: list[Chunk]
    memory_bytes: int = 0  # the engine's estimate of what the job needs (0: no estimate)

    @property
    def total_units(self) -> int:
        return sum(c.size for c in self.chunks)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 600  # of the planning child
    memory_bytes: int = 8 << 30  # of the planning child
    job_memory_bytes: int = 8 << 30  # a job's own estimate (MONTESIM_JOB_MEMORY)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.validate_cpu_seconds, settings.validate_memory_mb << 20, settings.job_memory
        )


def check_memory(estimate: int, limit: int) -> None:
    """InputError when a job's memory estimate is over the limit (MONTESIM_JOB_MEMORY)."""
    if estimate > limit:
        raise InputError(
            f"the job would need about {estimate / 2**30:,.1f} GiB of memory for its results "
            f"(iterations x outputs x 8 bytes); the limit is {limit / 2**30:,.1f} GiB "
            "(MONTESIM_JOB_MEMORY): use fewer iterations or outputs",
            code="job_too_large",
            location="spec.iterations",
            detail={"limit": "job_memory", "max": limit, "value": estimate},
        )


def plan_here(engine_name: str, spec: dict[str, Any], files: Mapping[str, Path]) -> PlannedJob:
    engine = get_engine(engine_name)
    try:
        plan = engine.validate(spec, files)
        chunks = engine.chunks(plan)
    except RecursionError:
        raise too_deep() from None
    estimate = getattr(engine, "memory_bytes", None)
    memory = int(estimate(plan)) if estimate is not None else 0
    return PlannedJob(pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL), chunks, memory)


def too_deep() -> InputError:
    return InputError("the input is nested too deeply to read", code="too_deep")


# -- the isolated child -------------------------------------------------------------------


def _child(
    conn: Any, engine_name: str, spec: dict[str, Any], files: dict[str, str], limits: Limits
) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    try:
        planned = plan_here(engine_name, spec, {k: Path(v) for k, v in files.items()})
        conn.send(("ok", planned))
    except InputError as exc:
        conn.send(("input", exc))
    except MemoryError:
        conn.send(("limit", f"planning needed more than {limits.memory_bytes >> 20} MiB of memory"))
    except RecursionError:
        conn.send(("input", too_deep()))
    except BaseException as exc:
        conn.send(("engine", type(exc).__name__, traceback.format_exc()))
    finally:
        conn.close()


_ctx_lock = threading.Lock()
_ctx: Any = None


def _context() -> Any:
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            _ctx = mp.get_context("forkserver")
            _ctx.set_forkserver_preload(PRELOAD)
        return _ctx


def plan_isolated(
    engine_name: str,
    spec: dict[str, Any],
    files: Mapping[str, Path],
    *,
    limits: Limits,
    cancelled: Callable[[], bool] = lambda: False,
) -> PlannedJob:
    """Plan in a child process under ``limits``; Cancelled (child killed) when ``cancelled()``."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(
        target=_child,
        args=(child, engine_name, spec, {k: str(v) for k, v in files.items()}, limits),
        daemon=True,
    )
    proc.start()
    child.close()
    started = time.monotonic()
    try:
        while True:
            if parent.poll(0.1):
                try:
                    message = parent.recv()
                except EOFError:
                    message = None
                break
            if cancelled():
                raise Cancelled()
            if not proc.is_alive() and not parent.poll(0):
                message = None
                break
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
        parent.close()
    if message is None:
        elapsed = time.monotonic() - started
        reason = (
            f"it used more than its {limits.cpu_seconds} s of CPU time"
            if proc.exitcode in (-24, -9) and elapsed >= limits.cpu_seconds * 0.9
            else f"the planning process died (exit code {proc.exitcode}; out of memory?)"
        )
        raise EngineError(f"Could not validate the job: {reason}", code="validation_limit")
    kind = message[0]
    if kind == "ok":
        return message[1]
    if kind == "input":
        raise message[1]
    if kind == "limit":
        raise EngineError(f"Could not validate the job: {message[1]}", code="validation_limit")
    raise EngineError(
        f"Validating the job failed on an internal error ({message[1]}); the server log "
        "has the details",
        code="internal_error",
        detail=message[2],
    )


# -- cache ------------------------------------------------------------------------------


class PlanCache:
    """Recently built plans by (engine, spec, file contents); bounded by total bytes."""

    def __init__(self, max_bytes: int = 256 << 20) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, PlannedJob] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(engine_name: str, spec: dict[str, Any], file_hashes: Mapping[str, str]) -> str:
        body = json.dumps([engine_name, spec, sorted(file_hashes.items())], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    def get(self, key: str) -> PlannedJob | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: str, planned: PlannedJob) -> None:
        if len(planned.plan_bytes) > self.max_bytes // 4:
            return
        with self._lock:
            self._items[key] = planned
            self._items.move_to_end(key)
            while sum(len(p.plan_bytes) for p in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)


def spec_file_ids(spec: Mapping[str, Any]) -> list[str]:
    """The uploaded files a spec names (``file_id`` and any ``*_file_id`` key)."""
    return [
        v
        for k, v in spec.items()
        if (k == "file_id" or k.endswith("_file_id")) and isinstance(v, str) and v
    ]


def worker_count() -> int:
    return os.cpu_count() or 1
