"""Validate and plan a job once, in the worker, off every request path.

Engines whose validation reads big inputs (``heavy_validation``: a workbook to read
and compile) plan in a child process forked from a clean fork server, under a CPU-time
and an address-space limit, and are killed at once when the job is cancelled. Light
engines plan in the calling thread. Either way the plan comes back pickled, with its
chunks, and is cached by the spec and the content hash of its files, so the same model
submitted again is not compiled again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing as mp
import os
import pickle
import tempfile
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from montesim.config import Settings
from montesim.engines.base import Chunk, get_engine
from montesim.errors import Cancelled, EngineError, InputError
from montesim.heap import gc_paused, loads_paused
from montesim.jobs.signing import Signer

log = logging.getLogger("montesim.planning")

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
    # reading, compiling and pickling a model make many small objects: see montesim.heap.
    # The plan is freed before the collector resumes, or its first pass would walk it all
    with gc_paused():
        try:
            plan = engine.validate(spec, files)
            chunks = engine.chunks(plan)
        except RecursionError:
            raise too_deep() from None
        estimate = getattr(engine, "memory_bytes", None)
        memory = int(estimate(plan)) if estimate is not None else 0
        data = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        del plan
    return PlannedJob(data, chunks, memory)


def rerun_planned(engine: Any, planned: PlannedJob, spec: dict[str, Any]) -> PlannedJob:
    """A plan compiled for the same model under other ``engine.run_fields`` (iterations,
    seed...), made the plan of ``spec`` by ``engine.rerun``: no reading or compiling."""
    plan = engine.rerun(loads_paused(planned.plan_bytes), spec)
    estimate = getattr(engine, "memory_bytes", None)
    memory = int(estimate(plan)) if estimate is not None else 0
    return PlannedJob(
        pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL), engine.chunks(plan), memory
    )


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


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The montesim code a plan was built by: the size and modification time of every
    module, so an upgraded or edited install never reuses an older plan."""
    root = Path(__file__).resolve().parents[1]  # the montesim package
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        h.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()


class PlanCache:
    """Recently built plans by (engine, spec, file contents); bounded by total bytes.

    In memory, and with ``directory`` on disk too, so a second run of the same model in
    another process (the CLI, a restarted worker) skips reading and compiling. A disk
    entry is ``signer.sign(pickle)`` and is checked before it is unpickled: an entry that
    is unsigned, signed with another key, truncated or unreadable is deleted and the plan
    built again, never trusted. The folder is bounded by ``max_disk_bytes`` (the entries
    used longest ago go first). ``hits``, ``disk_hits`` and ``misses`` count lookups.
    """

    def __init__(
        self,
        max_bytes: int = 256 << 20,
        *,
        directory: Path | None = None,
        signer: Signer | None = None,
        max_disk_bytes: int = 1 << 30,
    ) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, PlannedJob] = OrderedDict()
        self._lock = threading.Lock()
        if directory is not None and signer is None:
            raise ValueError("a plan cache on disk needs a signer")
        self.directory = directory if max_disk_bytes > 0 else None
        self.signer = signer
        self.max_disk_bytes = max_disk_bytes
        self.hits = 0  # in memory
        self.disk_hits = 0
        self.misses = 0
        self.rejected = 0  # disk entries that failed their check (deleted)

    @staticmethod
    def key(engine_name: str, spec: dict[str, Any], file_hashes: Mapping[str, str]) -> str:
        """The cache key: the spec with each file id replaced by its file's content hash
        (the same workbook uploaded twice is the same model), the day (a plan may hold
        TODAY()) and the code that builds plans."""
        body = {
            k: f"sha256:{file_hashes[v]}"
            if (k == "file_id" or k.endswith("_file_id"))
            and isinstance(v, str)
            and v in file_hashes
            else v
            for k, v in spec.items()
        }
        text = json.dumps(
            [
                engine_name,
                body,
                sorted(file_hashes.values()),
                date.today().isoformat(),
                code_fingerprint(),
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> PlannedJob | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
        found = self._load(key)
        with self._lock:
            if found is None:
                self.misses += 1
                return None
            self.disk_hits += 1
        self._remember(key, found)
        return found

    def put(self, key: str, planned: PlannedJob) -> None:
        self._remember(key, planned)
        self._store(key, planned)

    def _remember(self, key: str, planned: PlannedJob) -> None:
        if len(planned.plan_bytes) > self.max_bytes // 4:
            return
        with self._lock:
            self._items[key] = planned
            self._items.move_to_end(key)
            while sum(len(p.plan_bytes) for p in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)

    # -- on disk --------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{key}.plan"

    def _load(self, key: str) -> PlannedJob | None:
        if self.directory is None or self.signer is None:
            return None
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except OSError:
            return None
        try:
            data = self.signer.verify(blob, f"cached plan {path.name}")
            planned = pickle.loads(data)
            if not isinstance(planned, PlannedJob):
                raise TypeError(type(planned).__name__)
        except Exception as exc:  # noqa: BLE001 - a bad entry is rebuilt, never trusted
            log.warning("ignoring the cached plan %s: %s", path, exc)
            with self._lock:
                self.rejected += 1
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        log.info("plan %s from the disk cache", key[:12])
        return planned

    def _store(self, key: str, planned: PlannedJob) -> None:
        if self.directory is None or self.signer is None:
            return
        blob = self.signer.sign(pickle.dumps(planned, protocol=pickle.HIGHEST_PROTOCOL))
        if len(blob) > self.max_disk_bytes // 4:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            os.replace(tmp, self._path(key))
            self._evict()
        except OSError as exc:  # a full or read-only disk: the cache is an optimisation
            log.warning("could not cache the plan in %s: %s", self.directory, exc)
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    def _evict(self) -> None:
        """Delete the entries used longest ago until the folder fits ``max_disk_bytes``."""
        assert self.directory is not None
        entries = []
        for path in self.directory.glob("*.plan"):
            with contextlib.suppress(OSError):
                st = path.stat()
                entries.append((st.st_mtime_ns, st.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_disk_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
            total -= size


def disk_plan_cache(settings: Settings, directory: Path | None = None) -> PlanCache:
    """A PlanCache in memory and in ``directory`` (default: MONTESIM_PLAN_CACHE_DIR, else
    ``<data_dir>/plan-cache``), its entries signed with the data folder's key (or
    MONTESIM_SECRET_KEY). MONTESIM_PLAN_CACHE_DISK_MB=0 keeps plans in memory only."""
    memory = settings.plan_cache_mb << 20
    disk = settings.plan_cache_disk_mb << 20
    if disk <= 0:
        return PlanCache(memory)
    folder = directory or settings.plan_cache_path
    return PlanCache(
        memory, directory=folder, signer=Signer.from_settings(settings), max_disk_bytes=disk
    )


def local_plan_cache() -> PlanCache:
    """The plan cache of runs in this process (``montesim.simulate``, the CLI), whose data
    folder is a throwaway: on disk in MONTESIM_PLAN_CACHE_DIR, else in the user's cache
    folder ($XDG_CACHE_HOME/montesim/plans), signed with MONTESIM_SECRET_KEY or a key
    generated into that folder."""
    settings = Settings()
    folder = settings.plan_cache_dir
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "montesim" / "plans"
    data_dir = folder if not settings.secret_key else settings.data_dir
    try:
        return disk_plan_cache(settings.model_copy(update={"data_dir": data_dir}), folder)
    except (OSError, RuntimeError) as exc:  # no writable cache folder: memory only
        log.warning("plans are not cached on disk (%s): %s", folder, exc)
        return PlanCache(settings.plan_cache_mb << 20)


def spec_file_ids(spec: Mapping[str, Any]) -> list[str]:
    """The uploaded files a spec names (``file_id`` and any ``*_file_id`` key)."""
    return [
        v
        for k, v in spec.items()
        if (k == "file_id" or k.endswith("_file_id")) and isinstance(v, str) and v
    ]


def worker_count() -> int:
    return os.cpu_count() or 1
