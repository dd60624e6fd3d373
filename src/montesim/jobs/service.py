"""The one way in to the jobs machinery: build it, submit, cancel, delete, subscribe.

``build(settings)`` assembles the store, the executor and the scheduler for ``serve``,
``worker`` and the tests; :func:`run_now` runs one job to its end in this process (for
``montesim run``, ``montesim risk``, ``montesim.simulate`` and the synchronous risk-tree
endpoint) through the same runner with an inline or local executor. The API and the
CLI only parse their input and render answers.

Submitting is cheap whatever the inputs' size: the engine's ``check`` looks at the
spec's shape and that its files exist; the worker validates and plans the job (stage
``validating``) and ends it in ``error`` with the same detail a 422 would carry.
"""

from __future__ import annotations

import hashlib
import math
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from montesim.config import Settings
from montesim.engines.base import Engine, Result, describe_spec, get_engine
from montesim.errors import Conflict, InputError, QuotaExceeded
from montesim.heap import return_large_blocks
from montesim.jobs.broker import EventBroker, Subscription
from montesim.jobs.executors import Executor, make_executor
from montesim.jobs.liveness import make_owner
from montesim.jobs.model import Batch, Job, StoredFile
from montesim.jobs.objects import object_files
from montesim.jobs.planning import (
    Limits,
    PlannedJob,
    check_memory,
    local_plan_cache,
    plan_here,
    plan_isolated,
    spec_file_ids,
    too_deep,
)
from montesim.jobs.presence import Presence
from montesim.jobs.runner import FileMap, JobRunner
from montesim.jobs.scheduler import Scheduler
from montesim.jobs.signing import Signer
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store, now
from montesim.jobs.tables import metadata


@dataclass
class Service:
    settings: Settings
    store: Store
    scheduler: Scheduler | None = None
    role: str = "serve"  # serve (API and jobs) | api (serve --no-jobs) | worker
    broker: EventBroker = field(init=False)

    def __post_init__(self) -> None:
        return_large_blocks()  # a merge's large arrays go back to the system when freed
        self.broker = EventBroker(self.store, poll_seconds=self.settings.stream_poll_seconds)
        self.objects = object_files(self.settings.file_store, self.settings.file_store_options)
        self.files = FileMap(
            self.store, self.settings.files_dir, self.settings.file_cache_dir, self.objects
        )
        if self.settings.files_in_store:
            files_dir = self.settings.files_dir
            self.store.blob_source = lambda file_id: files_dir / file_id
        self.presence = Presence(
            self.store,
            role=self.role,
            executor=self.settings.executor if self.scheduler is not None else None,
            scheduler=self.scheduler,
            every=self.settings.heartbeat_seconds,
        )

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        if self.scheduler is not None:
            warm = getattr(self.scheduler.executor, "warm_up", None)
            if warm:
                warm()
            self.scheduler.start()
        self.presence.start()

    def drain(self) -> bool:
        """Stop taking jobs and hand the running ones back (SIGTERM); see Scheduler.drain."""
        if self.scheduler is None:
            return True
        return self.scheduler.drain(self.settings.drain_seconds)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        self.presence.stop()
        self.store.close()

    def wake(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()

    # -- submitting -----------------------------------------------------------------

    def check(
        self, engine_name: str, spec: dict[str, Any], visible: str | None = None
    ) -> tuple[Engine, int]:
        """The cheap checks of a submission (shape, files exist); its planned work units.

        Engines whose full validation is heavy define ``check``; the others validate
        fully here, which is cheap for them. With ``visible`` (an owner), files of other
        owners do not exist.
        """
        engine = get_engine(engine_name)
        if not isinstance(spec, dict):
            raise InputError("spec must be a JSON object", location="spec")
        if visible is not None:
            self.require_files(spec, visible)
        check = getattr(engine, "check", None)
        estimate = getattr(engine, "spec_memory_bytes", None)
        if check is not None:
            if estimate is not None:  # from the spec alone: before anything is read
                check_memory(int(estimate(spec)), self.limits.job_memory_bytes)
            try:
                return engine, int(check(spec, self.files) or 0)
            except RecursionError:
                raise too_deep() from None
        planned = plan_here(engine.name, spec, self.files)
        check_memory(planned.memory_bytes, self.limits.job_memory_bytes)
        return engine, planned.total_units

    def require_files(self, spec: dict[str, Any], visible: str) -> None:
        """InputError (as the engines word it) for a file the spec names that is not
        ``visible``'s: another owner's upload cannot be run, nor probed."""
        for key, value in spec.items():
            if not (key == "file_id" or key.endswith("_file_id")) or not isinstance(value, str):
                continue
            if value and self.store.get_file(value[:36], visible) is None:
                raise InputError(
                    f"no uploaded file with id {value[:80]!r}; upload it with POST /api/files",
                    code="unknown_file",
                    location=f"spec.{key}",
                )

    def validate(
        self, engine_name: str, spec: dict[str, Any], visible: str | None = None
    ) -> PlannedJob:
        """Full validation now (for ``POST /api/jobs/validate``): isolated when heavy."""
        engine, _ = self.check(engine_name, spec, visible)
        if not getattr(engine, "heavy_validation", False):
            return plan_here(engine.name, spec, self.files)
        files = {
            f: self.files[f] if f in self.files else self.settings.files_dir / f
            for f in spec_file_ids(spec)
        }
        return plan_isolated(engine.name, spec, files, limits=self.limits)

    @property
    def limits(self) -> Limits:
        return Limits.of(self.settings)

    def submit(
        self,
        engine_name: str,
        spec: dict[str, Any],
        *,
        label: str | None = None,
        idempotency_key: str | None = None,
        owner: str | None = None,
        visible: str | None = None,
        priority: int = 0,
        time_limit: float | None = None,
    ) -> tuple[Job, bool]:
        """Check and store a queued job; ``(job, created)`` (False: an idempotent replay).

        QuotaExceeded when ``owner`` already has its quota of queued jobs, or of jobs
        submitted in the last minute. ``visible``: see :meth:`check`.
        """
        engine, _ = self.check(engine_name, spec, visible)
        if idempotency_key and self.settings.auth == "tokens" and owner:
            # Keys are per owner: another owner's key neither finds nor blocks its job.
            scoped = hashlib.sha256(f"{owner}\0{idempotency_key}".encode()).hexdigest()
            idempotency_key = f"owner:{scoped}"
        if not (idempotency_key and self.store.find_by_idempotency_key(idempotency_key)):
            self.check_quota(owner, 1)
        job, created = self.store.create_job(
            engine=engine.name,
            spec=spec,
            spec_summary=summarize_spec(engine, spec),
            unit=engine.unit,
            label=label,
            idempotency_key=idempotency_key,
            owner=owner,
            priority=priority,
            resource_class=getattr(engine, "resource_class", "cpu"),
            time_limit=time_limit or self.settings.job_time_limit_seconds or None,
        )
        if created:
            self.wake()
        return job, created

    def wait_reason(self, job: Job) -> str:
        """Why a queued job has not started yet (the job view's stage message)."""
        s = self.settings
        return self.store.wait_reason(job, s.max_concurrent_jobs, s.class_limits)

    def check_quota(self, owner: str | None, adding: int) -> None:
        """QuotaExceeded when ``adding`` more queued jobs would put ``owner`` over its quota
        of queued jobs or of submissions per minute."""
        self.check_rate(owner, adding)
        most = self.settings.max_queued_per_owner
        if most <= 0:
            return
        queued = self.store.count_queued(owner)
        if queued + adding > most:
            raise QuotaExceeded(
                f"{queued} of your jobs are already queued; the limit is {most} queued jobs "
                "per client (MONTESIM_MAX_QUEUED_PER_OWNER): wait for some to start",
                code="queue_quota",
                limit=most,
                value=queued + adding,
                retry_after=self.settings.quota_retry_seconds,
            )

    def check_rate(self, owner: str | None, adding: int) -> None:
        """QuotaExceeded when ``owner`` submitted too many jobs in the last minute
        (``MONTESIM_SUBMITS_PER_MINUTE``), counted in the store: it holds across servers."""
        most = self.settings.submits_per_minute
        if most <= 0:
            return
        t = now()
        count, oldest = self.store.submitted_since(owner, t - 60.0)
        if count + adding <= most:
            return
        wait = math.ceil(oldest + 60.0 - t) if oldest is not None else 60
        raise QuotaExceeded(
            f"{count} jobs submitted in the last minute; the limit is {most} per minute "
            "(MONTESIM_SUBMITS_PER_MINUTE): try again shortly",
            code="submit_rate",
            limit=most,
            value=count + adding,
            retry_after=max(1, min(60, wait)),
        )

    def submit_batch(
        self,
        jobs: list[dict[str, Any]],
        *,
        label: str | None,
        fail_fast: bool,
        owner: str | None = None,
        visible: str | None = None,
    ) -> tuple[Batch, list[Job]]:
        """Check every child first, then store them all at once.

        ``jobs`` items are ``{"engine", "spec", "label"?}``. One InputError lists every
        invalid child by index and field (in its ``detail``).
        """
        children, errors = [], []
        for i, item in enumerate(jobs):
            try:
                engine, units = self.check(item["engine"], item["spec"], visible)
            except InputError as exc:
                where = f"jobs[{i}]" + (f".{exc.location}" if exc.location else "")
                errors.append({"location": where, "code": exc.code, "message": exc.message})
                continue
            children.append(
                dict(
                    engine=engine.name,
                    spec=item["spec"],
                    spec_summary=summarize_spec(engine, item["spec"]),
                    unit=engine.unit,
                    label=item.get("label"),
                    total_units=units,
                    owner=owner,
                )
            )
        if errors:
            first = errors[0]
            more = f" (and {len(errors) - 1} more invalid jobs)" if len(errors) > 1 else ""
            raise InputError(
                f"{first['location']}: {first['message']}{more}",
                code=first["code"],
                location=first["location"],
                detail=errors,
            )
        self.check_quota(owner, len(children))
        batch, rows = self.store.create_batch(
            label=label, fail_fast=fail_fast, children=children, owner=owner
        )
        self.wake()
        return batch, rows

    def cancel_batch(self, batch_id: str, visible: str | None = None) -> list[str]:
        """Cancel a batch's active children; KeyError when unknown (or not ``visible``'s)."""
        if self.store.get_batch(batch_id, visible) is None:
            raise KeyError(batch_id)
        cancelled = self.store.request_batch_cancel(batch_id)
        self.wake()
        return cancelled

    def add_file(self, name: str, path: Path, owner: str | None = None) -> StoredFile:
        """Move a file already written under ``files_dir`` into the store's records."""
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        return self.record_file(path.name, name, path.stat().st_size, digest.hexdigest(), owner)

    def record_file(
        self, file_id: str, name: str, size: int, sha256: str, owner: str | None = None
    ) -> StoredFile:
        """Record an upload written to ``files_dir``; its bytes go to the object store first
        when there is one (ObjectStoreError if it cannot take them)."""
        if self.objects is not None:
            self.objects.put(sha256, self.settings.files_dir / file_id)
        return self.store.add_file(file_id, name, size, sha256, owner)

    def copy_in(self, path: Path) -> StoredFile:
        """Copy a local file into the store (in-process runs)."""
        file_id = str(uuid.uuid4())
        folder = self.settings.files_dir
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / file_id)
        return self.add_file(path.name, folder / file_id)

    # -- acting on jobs -------------------------------------------------------------

    # ``visible`` (an owner) on these: another owner's job is a KeyError, as an unknown one.

    def get(self, job_id: str, visible: str | None = None) -> Job:
        job = self.store.get_job(job_id, visible)
        if job is None:
            raise KeyError(job_id)
        return job

    def cancel(self, job_id: str, visible: str | None = None, *, discard: bool = False) -> Job:
        """Queued: cancelled at once. Running: cancelled within a second; while merging the
        finished result is kept unless ``discard``. KeyError, Conflict."""
        job = self.store.request_cancel(job_id, visible, discard_merge=discard)
        self.wake()
        return job

    def delete(self, job_id: str, visible: str | None = None) -> None:
        """Delete a finished job and everything it owns. KeyError, Conflict while active."""
        self.store.delete_job(job_id, visible)

    async def subscribe(self, job_ids: frozenset[str] | None) -> tuple[Subscription, int]:
        """Follow some jobs' events (None: all); the queue and the cursor it starts after."""
        return await self.broker.subscribe(job_ids)

    def unsubscribe(self, sub: Subscription) -> None:
        self.broker.unsubscribe(sub)


def summarize_spec(engine: Engine, spec: dict[str, Any]) -> str:
    """The job list's one-line summary: the engine's own ``describe_spec`` if it has one."""
    describe = getattr(engine, "describe_spec", None) or describe_spec
    return str(describe(spec))


def build(
    settings: Settings,
    *,
    run_jobs: bool = True,
    executor: Executor | None = None,
    role: str | None = None,
) -> Service:
    """The store and, with ``run_jobs``, a scheduler with its executor (not started).

    Raises ExecutorUnavailable when the executor cannot start (no Dask scheduler there).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.url)
    store.signer = Signer.for_deployment(settings, store.signing_key())
    scheduler = None
    if run_jobs:
        try:
            scheduler = Scheduler(settings, store, executor)
        except BaseException:
            store.close()
            raise
    return Service(settings, store, scheduler, role=role or ("serve" if run_jobs else "api"))


# -- one job in this process --------------------------------------------------------------


@dataclass
class Outcome:
    job: Job
    result: Result | None  # the engine's full result (with in-memory data) when complete


def run_now(
    engine_name: str,
    spec: dict[str, Any],
    *,
    files: Mapping[str, Path] | None = None,
    executor: str | Executor = "inline",
    workers: int | None = None,
    on_update: Callable[[Job], None] | None = None,
) -> Outcome:
    """Run one job to its end here, through the runner, against a throwaway store.

    ``files`` maps the spec's file ids to local paths (copied in). ``on_update`` gets the
    job after every persisted chunk and at the end. Planning runs in this process: the
    caller is the trusted user at their own machine.
    """
    tmp = Path(tempfile.mkdtemp(prefix="montesim-run-"))
    settings = Settings(data_dir=tmp, database_url="", max_concurrent_jobs=1)
    store = Store(settings.url, migrate=False, signer=Signer.random(), throwaway=True)
    metadata.create_all(store.engine)  # a throwaway store: no migration history needed
    chosen = (
        make_executor(executor, workers=workers or settings.workers, engines=(engine_name,))
        if isinstance(executor, str)
        else executor
    )
    try:
        start = getattr(chosen, "start_workers", None)
        if start is not None:
            start()  # the workers import while this process reads and compiles the model
        service = Service(settings, store)
        spec = dict(spec)
        for key, path in (files or {}).items():
            if not Path(path).is_file():
                raise InputError(
                    f"cannot read {path}: no such file", code="file_missing", location="file"
                )
            stored = service.copy_in(Path(path))
            for k, v in list(spec.items()):
                if v == key and (k == "file_id" or k.endswith("_file_id")):
                    spec[k] = stored.id
        engine, _ = service.check(engine_name, spec)
        job, _ = store.create_job(
            engine=engine.name,
            spec=spec,
            spec_summary=summarize_spec(engine, spec),
            unit=engine.unit,
        )
        owner = make_owner()
        claimed = store.claim_next(owner, settings.lease_seconds, 1)
        assert claimed is not None and claimed.id == job.id
        results: list[Result] = []
        runner = JobRunner(
            store,
            chosen,
            owner=owner,
            files_dir=settings.files_dir,
            cancel_dir=settings.cancel_dir,
            lease_seconds=settings.lease_seconds,
            heartbeat_seconds=settings.heartbeat_seconds,
            isolate_planning=False,
            plan_cache=local_plan_cache(),  # a second run of the same model skips compiling
            on_event=on_update,
            on_result=results.append,
            store_artifacts=False,  # the store is thrown away; the result keeps them
        )
        if on_update is not None:
            on_update(claimed)
        done = threading.Event()

        def work() -> None:
            try:
                runner.run(claimed)
            finally:
                done.set()

        thread = threading.Thread(target=work, name="run-now", daemon=True)
        thread.start()
        try:
            done.wait()
        except KeyboardInterrupt:
            store.request_cancel(job.id)
            done.wait()
            raise
        final = store.get_job(job.id)
        assert final is not None
        if on_update is not None:
            on_update(final)
        result = results[0] if results and final.status == JobStatus.COMPLETE else None
        return Outcome(final, result)
    finally:
        chosen.shutdown(wait=True)  # the caller may exit next: no worker left behind
        store.close()
        shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["Conflict", "Outcome", "Service", "build", "run_now"]
