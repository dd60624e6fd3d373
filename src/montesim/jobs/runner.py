"""One job, start to finish: validate → plan → chunks → persist partials → merge → result.

The runner holds the job's lease and heartbeats, plans the job once (stage
``validating``; see ``planning``), dispatches only the chunks that are not persisted yet
(so a resumed job does just the missing work), persists every finished chunk before it
counts as progress, and turns every failure into ``error``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, overload

from sqlalchemy.exc import DBAPIError

from montesim.engines.base import Chunk, Engine, Result, get_engine
from montesim.errors import Cancelled, EngineError, HandBack, InputError, LeaseLost
from montesim.heap import loads_paused
from montesim.jobs import metrics as job_metrics
from montesim.jobs import progress as progress_mod
from montesim.jobs.chunkloop import run_chunks
from montesim.jobs.executors import CancelSignal, ChunkTask, Executor, cancel_flag_path
from montesim.jobs.lease import TRANSIENT, Hold, LeaseKeeper, retrying
from montesim.jobs.model import Job, StoredFile
from montesim.jobs.objects import ObjectFiles
from montesim.jobs.planning import (
    Limits,
    PlanCache,
    PlannedJob,
    check_memory,
    plan_here,
    plan_isolated,
    rerun_planned,
    spec_file_ids,
)
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store
from montesim.jobs.views import input_error_detail

log = logging.getLogger("montesim.runner")


def internal_failure(exc: BaseException, job_id: str) -> tuple[str, str]:
    """The code and user message of an unexpected exception (its text stays in the log)."""
    if isinstance(exc, MemoryError):
        return "out_of_memory", (
            "The job ran out of memory; try fewer iterations or outputs, or a smaller chunk_size"
        )
    if isinstance(exc, RecursionError):
        return "too_deep", "The model is nested too deeply to compute"
    return "internal_error", (
        f"The job failed on an internal error ({type(exc).__name__}); the server log has "
        f"the details under job {job_id}"
    )


class FileMap(Mapping[str, Path]):
    """Uploaded files by id, resolved against the store (the engine's ``files`` argument).

    A file is read from this process's upload folder when it is there; otherwise (a
    worker on another machine) from the object store or the store's copy, cached here by
    content hash.
    """

    def __init__(
        self,
        store: Store,
        files_dir: Path,
        cache_dir: Path | None = None,
        objects: ObjectFiles | None = None,
    ) -> None:
        self.store = store
        self.files_dir = files_dir
        self.cache_dir = cache_dir or files_dir.parent / "file-cache"
        self.objects = objects

    def __contains__(self, file_id: object) -> bool:
        return isinstance(file_id, str) and self.store.get_file(file_id) is not None

    def __getitem__(self, file_id: str) -> Path:
        stored = self.store.get_file(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise KeyError(file_id)
        local = self.files_dir / file_id
        if local.exists():
            return local
        cached = self.cache_dir / stored.sha256
        if cached.exists():
            return cached
        if self.objects is not None:
            return self._fetch(stored, cached, self._object_reader(stored))
        if not self.store.has_blob(file_id):
            return local  # missing: the engine says so
        return self._fetch(stored, cached, lambda write: self.store.read_blob(file_id, write))

    def _object_reader(self, stored: StoredFile) -> Callable[[Callable[[bytes], object]], int]:
        objects = self.objects
        assert objects is not None

        def read(write: Callable[[bytes], object]) -> int:
            where = objects.where(stored.sha256)
            try:
                return objects.read(stored.sha256, write)
            except FileNotFoundError:
                raise EngineError(
                    f"{stored.filename} (file {stored.id}) is not in the file store: "
                    f"{where} does not exist (deleted, or MONTESIM_FILE_STORE differs "
                    "between the API server and this worker)",
                    code="file_missing",
                ) from None
            except Exception as exc:
                raise EngineError(
                    f"cannot read {stored.filename} (file {stored.id}) from the file store "
                    f"at {where}: {type(exc).__name__}: {str(exc)[:300]}",
                    code="file_store_unavailable",
                ) from exc

        return read

    # Waits between tries of a file store that could not be reached: an outage of seconds
    # (an S3 endpoint restarting) does not fail the job; a longer one does, saying so.
    RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)

    def _fetch(
        self, stored: StoredFile, cached: Path, read: Callable[[Callable[[bytes], object]], int]
    ) -> Path:
        for delay in (*self.RETRY_DELAYS, None):
            try:
                return self._fetch_once(stored, cached, read)
            except EngineError as exc:
                if exc.code != "file_store_unavailable" or delay is None:
                    raise
                log.warning("%s; trying again in %.1f s", exc.message, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _fetch_once(
        self, stored: StoredFile, cached: Path, read: Callable[[Callable[[bytes], object]], int]
    ) -> Path:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        sha256 = stored.sha256
        part = cached.with_name(f"{sha256}.{uuid.uuid4().hex[:8]}.part")
        digest = hashlib.sha256()
        try:
            with part.open("wb") as out:

                def write(data: bytes) -> None:
                    digest.update(data)
                    out.write(data)

                read(write)
            if digest.hexdigest() != sha256:
                raise EngineError(
                    f"the stored copy of file {stored.id} does not match its hash",
                    code="file_corrupt",
                )
            os.replace(part, cached)  # atomic: concurrent fetches of one file are harmless
        finally:
            part.unlink(missing_ok=True)
        log.info("fetched file %s from the store into the cache", stored.id)
        return cached

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.file_ids())

    def __len__(self) -> int:
        return len(self.store.file_ids())


class JobRunner:
    def __init__(
        self,
        store: Store,
        executor: Executor,
        *,
        owner: str,
        files_dir: Path,
        cancel_dir: Path,
        file_cache_dir: Path | None = None,
        file_objects: ObjectFiles | None = None,
        lease_seconds: float,
        heartbeat_seconds: float,
        limits: Limits | None = None,
        plan_cache: PlanCache | None = None,
        isolate_planning: bool = True,
        on_event: Callable[[Job], None] | None = None,
        on_result: Callable[[Result], None] | None = None,
        draining: Callable[[], float | None] = lambda: None,
        store_artifacts: bool = True,
    ) -> None:
        self.store = store
        self.executor = executor
        self.owner = owner
        self.files_dir = files_dir
        self.files = FileMap(store, files_dir, file_cache_dir, file_objects)
        self.cancel_dir = cancel_dir
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.limits = limits or Limits()
        self.plan_cache = plan_cache or PlanCache()
        self.isolate_planning = isolate_planning
        self.on_event = on_event or (lambda job: None)
        self.on_result = on_result
        self.draining = draining  # the drain deadline once this worker stops (SIGTERM)
        # False for a throwaway store (run_now): the caller reads the result's artifacts,
        # if it wants them, from ``on_result``; nothing builds them for the store.
        self.store_artifacts = store_artifacts
        self.chunks_done = 0  # persisted by this process (the workers list shows it)
        # Per running job: chunks already persisted, and whether the merge began, so a
        # late in-chunk report is dropped rather than moving the stage backwards.
        self.finished_chunks: dict[str, set[int]] = {}
        self.merging: set[str] = set()

    def accepts_report(self, job_id: str, chunk_index: int) -> bool:
        if job_id in self.merging:
            return False
        finished = self.finished_chunks.get(job_id)
        return finished is not None and chunk_index not in finished

    def run(self, job: Job) -> str:
        """Run a claimed (or taken-over) job to a terminal state; returns that state.

        Its lease is renewed for as long as this runs, and every write is fenced by the
        attempt it was claimed in (see ``lease``).
        """
        job_id = job.id
        flag = cancel_flag_path(self.cancel_dir, job_id)
        outcome = JobStatus.ERROR.value
        keeper = LeaseKeeper(
            self.store,
            Hold(job_id, self.owner, job.attempt),
            self.lease_seconds,
            self.heartbeat_seconds,
        ).start()
        try:
            outcome = self._run(job, flag, keeper)
            return outcome
        except LeaseLost:
            log.info(
                "job %s: lease lost, leaving it to its new owner", job_id, extra={"job_id": job_id}
            )
            return "lease_lost"
        except HandBack:
            released = retrying(
                lambda: self.store.release(job_id, self.owner, attempt=job.attempt),
                keeper,
                "handing the job back",
            )
            log.info(
                "job %s: handed back (this worker is stopping)", job_id, extra={"job_id": job_id}
            )
            return "handed_back" if released is not None else "lease_lost"
        except Cancelled:
            outcome = self._cancel(keeper)
            return outcome
        except DBAPIError:
            # The store cannot be written (disk full, database gone): stop heartbeating so
            # the lease expires, and let recovery resume the job once the store is back.
            log.exception(
                "job %s: the store failed; leaving the job to recovery",
                job_id,
                extra={"job_id": job_id},
            )
            return "store_failed"
        except InputError as exc:
            return self._fail(keeper, exc.code, exc.message, input_error_detail(exc))
        except EngineError as exc:
            detail = exc.detail if isinstance(exc.detail, str) else traceback.format_exc()
            log.error(
                "job %s failed: %s\n%s", job_id, exc.message, detail, extra={"job_id": job_id}
            )
            return self._fail(keeper, exc.code, exc.message, detail)
        except Exception as exc:  # every exception becomes `error` with message and detail
            # The traceback (paths, internals) goes to the log and to admins only; the
            # user gets what happened and where to look.
            log.exception("job %s failed", job_id, extra={"job_id": job_id})
            code, message = internal_failure(exc, job_id)
            return self._fail(keeper, code, message, traceback.format_exc())
        finally:
            keeper.stop()
            self.finished_chunks.pop(job_id, None)
            self.merging.discard(job_id)
            forget = getattr(self.executor, "forget", None)
            if forget is not None:
                forget(job_id)
            # A cancelled job's flag stays until in-flight chunks have seen it; the
            # scheduler's maintenance sweeps old flags.
            if outcome != JobStatus.CANCELLED.value:
                flag.unlink(missing_ok=True)

    def _fail(self, keeper: LeaseKeeper, code: str, message: str, detail: str | None) -> str:
        hold = keeper.hold
        job_id = hold.job_id
        try:
            row = retrying(
                lambda: self.store.fail(
                    job_id,
                    code=code,
                    message=message,
                    detail=detail,
                    owner=hold.owner,
                    attempt=hold.attempt,
                ),
                keeper,
                "recording its failure",
            )
            if row is None:
                # Cancelled meanwhile, or owned by someone else: finish a requested cancel.
                current = self.store.get_job(job_id)
                if self._cancel_requested(current, hold):
                    return self._cancel(keeper)
                return current.status.value if current else "deleted"
        except DBAPIError:
            log.exception("job %s: could not record its failure", job_id, extra={"job_id": job_id})
            return "store_failed"
        self.on_event(row)
        return JobStatus.ERROR.value

    def _cancel(self, keeper: LeaseKeeper) -> str:
        hold = keeper.hold
        row = retrying(
            lambda: self.store.finish_cancel(hold.job_id, owner=hold.owner, attempt=hold.attempt),
            keeper,
            "finishing its cancel",
        )
        if row is not None:
            self.on_event(row)
            return JobStatus.CANCELLED.value
        current = self.store.get_job(hold.job_id)
        return current.status.value if current else "deleted"

    @staticmethod
    def _cancel_requested(current: Job | None, hold: Hold) -> bool:
        """The job still runs in this attempt, and a cancel was asked for."""
        return (
            current is not None
            and current.status == JobStatus.RUNNING
            and current.attempt == hold.attempt
            and current.cancellation_requested
        )

    # -- the job ------------------------------------------------------------------------

    def _run(self, job: Job, flag: Path, keeper: LeaseKeeper) -> str:
        job_id = job.id
        hold = keeper.hold
        engine = get_engine(job.engine)
        spec = job.spec or {}

        def should_stop() -> bool:
            return self._check(keeper, flag)

        if job.stage != progress_mod.VALIDATING[0]:  # a claim records it; a take-over not
            retrying(
                lambda: self.store.set_stage(
                    job_id, *progress_mod.VALIDATING, owner=hold.owner, attempt=hold.attempt
                ),
                keeper,
                "recording its stage",
            )
        planned = self._plan(engine, spec, should_stop)
        check_memory(planned.memory_bytes, self.limits.job_memory_bytes)
        chunks = planned.chunks
        row = retrying(
            lambda: self.store.start_work(
                job_id,
                hold.owner,
                total_units=planned.total_units,
                chunks_total=len(chunks),
                unit=engine.unit,
                attempt=hold.attempt,
            ),
            keeper,
            "recording its plan",
        )
        if row is None:
            raise LeaseLost
        self.on_event(row)
        persisted = retrying(lambda: self.store.chunk_sizes(job_id), keeper, "reading its chunks")
        self.finished_chunks[job_id] = {i for i, size in persisted.items() if size}
        pending = [c for c in chunks if persisted.get(c.index) != c.size]

        def task(chunk: Chunk) -> ChunkTask:
            previous = None
            if engine.sequential and chunk.index:
                previous = retrying(
                    lambda: self.store.chunk_data(job_id, chunk.index - 1),
                    keeper,
                    "reading the previous chunk",
                )
            cancel = CancelSignal(flag_path=str(flag))
            return ChunkTask(engine.name, hold.key, planned.plan_bytes, chunk, cancel, previous)

        finished = run_chunks(
            self.executor,
            pending,
            task,
            lambda chunk, fut: self._persist(keeper, chunk, fut),
            should_stop,
            sequential=engine.sequential,
            # A job that cannot resume elsewhere runs to its end even while draining.
            draining=self.draining if engine.resumable else lambda: None,
        )
        if not finished:
            return self._cancel(keeper)
        return self._merge(keeper, engine, planned)

    def _plan(
        self, engine: Engine, spec: dict[str, Any], should_stop: Callable[[], bool]
    ) -> PlannedJob:
        """The job's plan and chunks: from the cache, or built once (isolated if heavy)."""
        files: dict[str, Path] = {}
        hashes: dict[str, str] = {}
        for file_id in spec_file_ids(spec):
            stored = self.store.get_file(file_id)
            if stored is not None:
                files[file_id] = self.files[file_id]
                hashes[file_id] = stored.sha256
        key = PlanCache.key(engine.name, spec, hashes)
        cached = self.plan_cache.get(key)
        if cached is not None:
            return cached
        # the same model run with other iterations, seed...: its compiled plan, re-cut
        run_fields = getattr(engine, "run_fields", ())
        model_key = None
        if run_fields:
            model = {k: v for k, v in spec.items() if k not in run_fields}
            model_key = PlanCache.key(engine.name, {**model, "@run": "any"}, hashes)
            compiled = self.plan_cache.get(model_key)
            if compiled is not None:
                planned = rerun_planned(engine, compiled, spec)
                self.plan_cache.put(key, planned)
                return planned
        if self.isolate_planning and getattr(engine, "heavy_validation", False):

            def cancelled() -> bool:
                if should_stop():
                    raise Cancelled()
                return False

            planned = plan_isolated(
                engine.name, spec, files, limits=self.limits, cancelled=cancelled
            )
        else:
            planned = plan_here(engine.name, spec, self.files)
        self.plan_cache.put(key, planned)
        if model_key is not None:
            self.plan_cache.put(model_key, planned)
        return planned

    def _merge(self, keeper: LeaseKeeper, engine: Engine, planned: PlannedJob) -> str:
        hold = keeper.hold
        job_id = hold.job_id
        sizes = retrying(lambda: self.store.chunk_sizes(job_id), keeper, "reading its chunks")
        check_coverage(planned.chunks, list(sizes.items()))
        if job_id not in self.merging:  # else the last chunk's write recorded the stage
            self.merging.add(job_id)
            retrying(
                lambda: self.store.set_stage(
                    job_id,
                    *progress_mod.merging(len(planned.chunks)),
                    owner=hold.owner,
                    attempt=hold.attempt,
                ),
                keeper,
                "recording its stage",
            )
        partials = StoredPartials(self.store, job_id, [c.index for c in planned.chunks])
        result = engine.merge(loads_paused(planned.plan_bytes), partials)
        if keeper.lost.is_set():
            raise LeaseLost  # another worker holds the job now: its result, not ours
        # Built here (an engine may build its artifacts lazily: a Parquet file of every
        # iteration), never inside the store's write transaction, where on SQLite every
        # other writer, heartbeats included, would wait for it.
        artifacts = dict(result.artifacts) if self.store_artifacts else {}
        row = retrying(
            lambda: self.store.complete(
                job_id, hold.owner, result.summary, artifacts, attempt=hold.attempt
            ),
            keeper,
            "storing its result",
        )
        if row is None:
            current = self.store.get_job(job_id)
            if self._cancel_requested(current, hold):
                return self._cancel(keeper)
            if (
                current is None
                or current.status != JobStatus.COMPLETE
                or current.attempt != hold.attempt
            ):
                raise LeaseLost
            row = current  # a retried write whose first try committed
        self.on_event(row)
        if self.on_result is not None:
            self.on_result(result)
        return JobStatus.COMPLETE.value

    # -- dispatch ---------------------------------------------------------------------

    def _check(self, keeper: LeaseKeeper, flag: Path) -> bool:
        """True when cancellation was requested; LeaseLost once another attempt holds
        the job. The lease itself is renewed by ``keeper``'s thread."""
        if keeper.lost.is_set():
            raise LeaseLost
        hold = keeper.hold
        try:
            row = self.store.get_job(hold.job_id)
        except TRANSIENT:
            if keeper.seconds_left() > 0:
                return False  # the store is away: the lease is still ours, carry on
            raise
        if (
            row is None
            or row.status != JobStatus.RUNNING
            or row.lease_owner != hold.owner
            or row.attempt != hold.attempt
        ):
            raise LeaseLost
        if row.time_limit and row.started_at and time.time() - row.started_at > row.time_limit:
            raise EngineError(
                f"the job ran past its time limit of {row.time_limit:g} s "
                "(time_limit_seconds when submitted, or MONTESIM_JOB_TIME_LIMIT_SECONDS)",
                code="time_limit",
            )
        if row.cancellation_requested:
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.touch()
            signal_cancel = getattr(self.executor, "signal_cancel", None)
            if signal_cancel is not None:  # chunks on other machines do not see the flag
                signal_cancel(hold.job_id)
            return True
        return False

    def _persist(self, keeper: LeaseKeeper, chunk: Chunk, fut: Future) -> None:
        data, seconds = fut.result()
        if data is None:  # the chunk saw the cancel flag
            return
        hold = keeper.hold
        job_id = hold.job_id
        row = retrying(
            lambda: self.store.put_chunk(
                job_id, hold.owner, chunk.index, chunk.size, data, seconds, attempt=hold.attempt
            ),
            keeper,
            f"persisting chunk {chunk.index}",
        )
        if row is None:
            if self._cancel_requested(self.store.get_job(job_id), hold):
                return
            raise LeaseLost
        self.finished_chunks.setdefault(job_id, set()).add(chunk.index)
        if row.stage == progress_mod.MERGING:
            self.merging.add(job_id)  # the store saw the last chunk in: no more reports
        self.chunks_done += 1
        job_metrics.chunk_persisted(row, chunk.size, seconds)
        log.debug("chunk persisted", extra={"job_id": job_id, "chunk": chunk.index})
        self.on_event(row)


class StoredPartials(Sequence[Any]):
    """A job's persisted partials in chunk order, read and unpickled one at a time.

    ``merge`` may iterate them without holding every chunk's bytes at once.
    """

    # Partials kept once read, up to this many stored bytes in all: an engine may go over
    # them more than once (small merges then read the store once, big ones stay bounded:
    # 64 MiB here was a fifth of the main process's peak at 10^7 iterations).
    KEEP_BYTES = 16 * 2**20

    def __init__(self, store: Store, job_id: str, indices: list[int]) -> None:
        self.store = store
        self.job_id = job_id
        self.indices = sorted(indices)
        self._kept: dict[int, Any] = {}
        self._kept_bytes = 0

    def __len__(self) -> int:
        return len(self.indices)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        index = self.indices[i]
        if index in self._kept:
            return self._kept[index]
        data = self.store.chunk_data(self.job_id, index)
        if data is None:
            raise EngineError(f"chunk {index} is missing from the store")
        partial = pickle.loads(data)
        if self._kept_bytes + len(data) <= self.KEEP_BYTES:
            self._kept[index] = partial
            self._kept_bytes += len(data)
        return partial


def check_coverage(planned: list[Chunk], persisted: list[tuple[int, int]]) -> None:
    """The persisted chunks are exactly the planned ones: every unit, once."""
    want = {c.index: c.size for c in planned}
    have = dict(persisted)
    if have != want:
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        wrong = sorted(i for i in set(want) & set(have) if want[i] != have[i])
        raise EngineError(
            f"the persisted chunks do not cover the planned work (missing {missing[:5]}, "
            f"unplanned {extra[:5]}, wrong size {wrong[:5]})",
            code="incomplete_result",
        )
