"""One job, start to finish: plan → chunks → persist partials → merge → result.

The runner holds the job's lease, heartbeats, dispatches only the chunks that are not
persisted yet (so a resumed job does just the missing work), persists every finished
chunk before it counts as progress, and turns every failure into ``error``.
"""

from __future__ import annotations

import logging
import pickle
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from pathlib import Path
from typing import Any

from montesim.engines.base import Chunk, EngineError, InputError, get_engine
from montesim.jobs import metrics as job_metrics
from montesim.jobs.executors import Executor, cancel_flag_path
from montesim.jobs.store import Store

log = logging.getLogger("montesim.runner")


class FileMap(Mapping[str, Path]):
    """Uploaded files by id, resolved against the store (the engine's ``files`` argument)."""

    def __init__(self, store: Store, files_dir: Path) -> None:
        self.store = store
        self.files_dir = files_dir

    def __getitem__(self, file_id: str) -> Path:
        if not isinstance(file_id, str) or self.store.get_file(file_id) is None:
            raise KeyError(file_id)
        return self.files_dir / file_id

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.file_ids())

    def __len__(self) -> int:
        return len(self.store.file_ids())


class LeaseLost(Exception):
    """Another worker took the job over, or it ended elsewhere: stop quietly."""


class JobRunner:
    def __init__(
        self,
        store: Store,
        executor: Executor,
        *,
        owner: str,
        files_dir: Path,
        cancel_dir: Path,
        lease_seconds: float,
        heartbeat_seconds: float,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.store = store
        self.executor = executor
        self.owner = owner
        self.files = FileMap(store, files_dir)
        self.cancel_dir = cancel_dir
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.on_event = on_event or (lambda row: None)

    def run(self, job: dict[str, Any]) -> str:
        """Run a claimed (or taken-over) job to a terminal state; returns that state."""
        job_id = job["id"]
        flag = cancel_flag_path(self.cancel_dir, job_id)
        outcome = "error"
        try:
            outcome = self._run(job, flag)
            return outcome
        except LeaseLost:
            log.info(
                "job %s: lease lost, leaving it to its new owner", job_id, extra={"job_id": job_id}
            )
            return "lease_lost"
        except InputError as exc:
            return self._fail(job_id, exc.code, exc.message, _detail(exc))
        except EngineError as exc:
            return self._fail(job_id, exc.code, exc.message, traceback.format_exc())
        except Exception as exc:  # every exception becomes `error` with message and detail
            log.exception("job %s failed", job_id, extra={"job_id": job_id})
            return self._fail(
                job_id, "engine_error", f"{type(exc).__name__}: {exc}", traceback.format_exc()
            )
        finally:
            # A cancelled job's flag stays until in-flight chunks have seen it; the
            # scheduler's maintenance sweeps old flags.
            if outcome != "cancelled":
                flag.unlink(missing_ok=True)

    def _fail(self, job_id: str, code: str, message: str, detail: str | None) -> str:
        row = self.store.fail(job_id, code=code, message=message, detail=detail, owner=self.owner)
        if row is None:
            # Cancelled meanwhile, or owned by someone else: finish a requested cancel.
            current = self.store.get_job(job_id)
            if current and current["status"] == "running" and current["cancellation_requested"]:
                return self._cancel(job_id)
            return current["status"] if current else "deleted"
        self.on_event(row)
        return "error"

    def _cancel(self, job_id: str) -> str:
        row = self.store.finish_cancel(job_id, owner=self.owner)
        if row is not None:
            self.on_event(row)
        return "cancelled"

    def _run(self, job: dict[str, Any], flag: Path) -> str:
        job_id = job["id"]
        engine = get_engine(job["engine"])
        plan = engine.validate(job["spec"], self.files)
        chunks = engine.chunks(plan)
        total = sum(c.size for c in chunks)
        row = self.store.start_work(
            job_id, self.owner, total_units=total, chunks_total=len(chunks), unit=engine.unit
        )
        if row is None:
            raise LeaseLost
        self.on_event(row)
        plan_bytes = pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL)
        job_key = f"{job_id}:{job['attempt']}"
        persisted = self.store.chunk_sizes(job_id)
        pending = [c for c in chunks if persisted.get(c.index) != c.size]
        args = (engine.name, job_key, plan_bytes)
        if engine.sequential:
            outcome = self._run_sequential(job_id, args, pending, flag)
        else:
            outcome = self._run_parallel(job_id, args, pending, flag)
        if outcome != "done":
            return outcome
        partials = [pickle.loads(data) for _, _, data in self.store.chunk_partials(job_id)]
        self.store.set_stage(job_id, "merging", f"Merging {len(partials)} chunks")
        result = engine.merge(plan, partials)
        row = self.store.complete(job_id, self.owner, result.summary, result.artifacts)
        if row is None:
            current = self.store.get_job(job_id)
            if current and current["status"] == "running" and current["cancellation_requested"]:
                return self._cancel(job_id)
            raise LeaseLost
        self.on_event(row)
        return "complete"

    # -- dispatch -----------------------------------------------------------------

    def _check(self, job_id: str, flag: Path, last_beat: list[float]) -> bool:
        """Heartbeat when due; True when cancellation was requested."""
        t = time.monotonic()
        if t - last_beat[0] >= self.heartbeat_seconds:
            last_beat[0] = t
            row = self.store.heartbeat(job_id, self.owner, self.lease_seconds)
            if row is None:
                raise LeaseLost
        else:
            row = self.store.get_job(job_id)
            if row is None or row["status"] != "running" or row["lease_owner"] != self.owner:
                raise LeaseLost
        if row["cancellation_requested"]:
            flag.parent.mkdir(parents=True, exist_ok=True)
            flag.touch()
            return True
        return False

    def _persist(self, job_id: str, chunk: Chunk, fut: Future) -> None:
        data, seconds = fut.result()
        if data is None:  # the chunk saw the cancel flag
            return
        row = self.store.put_chunk(job_id, self.owner, chunk.index, chunk.size, data, seconds)
        if row is None:
            current = self.store.get_job(job_id)
            if current and current["status"] == "running" and current["cancellation_requested"]:
                return
            raise LeaseLost
        job_metrics.chunk_persisted(row, chunk.size, seconds)
        log.debug("chunk persisted", extra={"job_id": job_id, "chunk": chunk.index})
        self.on_event(row)

    def _run_parallel(self, job_id: str, args: tuple, pending: list[Chunk], flag: Path) -> str:
        in_flight: dict[Future, Chunk] = {}
        queue = list(pending)
        limit = max(1, self.executor.workers) * 2  # keep workers busy without flooding
        last_beat = [time.monotonic()]
        try:
            while queue or in_flight:
                if self._check(job_id, flag, last_beat):
                    return self._cancel(job_id)
                while queue and len(in_flight) < limit:
                    chunk = queue.pop(0)
                    in_flight[self.executor.submit(*args, chunk, str(flag), None)] = chunk
                done, _ = wait(list(in_flight), timeout=0.1, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: in_flight[f].index):
                    self._persist(job_id, in_flight.pop(fut), fut)
            if self._check(job_id, flag, [0.0]):
                return self._cancel(job_id)
            return "done"
        finally:
            for fut in in_flight:
                fut.cancel()

    def _run_sequential(self, job_id: str, args: tuple, pending: list[Chunk], flag: Path) -> str:
        """Checkpointed solvers: chunk k starts from chunk k-1's persisted partial."""
        last_beat = [time.monotonic()]
        for chunk in sorted(pending, key=lambda c: c.index):
            previous = self.store.chunk_data(job_id, chunk.index - 1) if chunk.index else None
            fut = self.executor.submit(*args, chunk, str(flag), previous)
            while True:
                if self._check(job_id, flag, last_beat):
                    fut.cancel()
                    return self._cancel(job_id)
                done, _ = wait([fut], timeout=0.1)
                if done:
                    break
            self._persist(job_id, chunk, fut)
        if self._check(job_id, flag, [0.0]):
            return self._cancel(job_id)
        return "done"


def _detail(exc: InputError) -> str | None:
    return None if exc.location is None else f"location: {exc.location}"
