"""FIFO admission under a concurrency cap, leases, crash recovery, stall flags, retention.

One scheduler runs in each server (or worker) process, in its own thread; jobs run in
runner threads that dispatch chunks to the executor. Nothing here runs on the API's
event loop.
"""

from __future__ import annotations

import logging
import threading
import time

from montesim import portable
from montesim.config import Settings
from montesim.engines.base import get_engine
from montesim.errors import InputError
from montesim.jobs import metrics as job_metrics
from montesim.jobs.executors import Executor, make_executor
from montesim.jobs.liveness import Liveness, make_owner, owner_is_dead
from montesim.jobs.model import Job, job_of_key
from montesim.jobs.objects import object_files
from montesim.jobs.planning import Limits, disk_plan_cache
from montesim.jobs.progress import stall_threshold
from montesim.jobs.runner import JobRunner
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store

log = logging.getLogger("montesim.scheduler")

RESTART_MESSAGE = "Server restarted during execution"
# Stages with their own limits and a lease renewed throughout: never flagged as stalls.
_OWN_STAGES = frozenset({"validating", "resuming", "merging", "cancelling"})


# The owners of the schedulers alive in this process (an owner with this pid that is not
# among them is a stopped scheduler's, and so dead).
_live_owners: set[str] = set()


class Scheduler:
    def __init__(self, settings: Settings, store: Store, executor: Executor | None = None) -> None:
        self.settings = settings
        self.store = store
        # This process computes as the store's reference says, or it claims no job (its
        # pool children inherit its environment; Dask workers check for themselves).
        mine = portable.digest() if portable.default_environment() else None
        reference = store.reference_digest(mine)
        self.refusal = portable.compare(reference)
        if self.refusal is not None:
            log.error("claiming no jobs: %s", self.refusal)
        self.executor = executor or make_executor(
            settings.executor,
            workers=settings.workers,
            address=settings.dask_scheduler,
            chunk_attempts=settings.chunk_attempts,
            connect_seconds=settings.dask_connect_seconds,
            warm=settings.warm_engine_names,
            reference_digest=reference,
        )
        self.owner = make_owner()
        _live_owners.add(self.owner)
        self.liveness = Liveness(store, self.owner, grace=settings.liveness_grace_seconds)
        self.runner = JobRunner(
            store,
            self.executor,
            owner=self.owner,
            files_dir=settings.files_dir,
            cancel_dir=settings.cancel_dir,
            file_cache_dir=settings.file_cache_dir,
            file_objects=object_files(settings.file_store, settings.file_store_options),
            lease_seconds=settings.lease_seconds,
            heartbeat_seconds=settings.heartbeat_seconds,
            limits=Limits.of(settings),
            plan_cache=disk_plan_cache(settings),
            on_event=job_metrics.observe_job,
            draining=lambda: self._drain_deadline,
        )
        self._active: set[str] = set()
        self._drain_deadline: float | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_recovery = 0.0
        self._last_prune = 0.0
        self._last_stage: dict[str, float] = {}
        self._last_report: dict[str, float] = {}  # wall clock of each job's last report

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        self.liveness.start()
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def drain(self, seconds: float) -> bool:
        """Stop claiming; let chunks in flight finish for up to ``seconds``, then hand each
        running job back (its lease released, so another worker resumes it at once).
        True when every job here ended or was handed back in time."""
        if self._drain_deadline is None:
            self._drain_deadline = time.monotonic() + seconds
            log.info("draining: no new jobs; handing back the running ones")
        # Chunks past the deadline are abandoned; the hand-back itself takes a moment more.
        give_up = self._drain_deadline + max(5.0, self.settings.heartbeat_seconds * 2)
        while self.active_jobs and time.monotonic() < give_up:
            time.sleep(0.05)
        return not self.active_jobs

    @property
    def draining(self) -> bool:
        return self._drain_deadline is not None

    def stop(self) -> None:
        self.drain(self.settings.drain_seconds)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.executor.shutdown()
        self.liveness.stop()
        _live_owners.discard(self.owner)

    def wake(self) -> None:
        """Look for queued jobs now (called after a submit in this process)."""
        self._wake.set()

    def alive(self) -> bool:
        return self.looping() and self.executor.alive()

    def looping(self) -> bool:
        """The scheduler thread runs (whatever the executor's connection is doing)."""
        return bool(self._thread and self._thread.is_alive())

    @property
    def active_jobs(self) -> set[str]:
        with self._lock:
            return set(self._active)

    # -- the loop -----------------------------------------------------------------

    def _loop(self) -> None:
        failing = 0  # ticks failed in a row: one traceback per outage, not one per tick
        while not self._stop.is_set():
            try:
                self.tick()
                if failing:
                    log.warning("scheduler ticks again after %d failed ticks", failing)
                failing = 0
            except Exception as exc:
                if not failing:
                    log.exception("scheduler tick failed")
                elif failing % 100 == 0:
                    log.warning("scheduler tick still failing (%d in a row): %s", failing, exc)
                failing += 1
            self._wake.wait(self.settings.poll_seconds)
            self._wake.clear()

    def tick(self) -> None:
        t = time.monotonic()
        if t - self._last_recovery >= self.settings.recovery_seconds:
            self._last_recovery = t
            self.recover()
            self.flag_stalls()
        if t - self._last_prune >= 60.0:
            self._last_prune = t
            self.prune()
        self._relay_reports()
        self.enforce_fail_fast()
        self.admit()

    def admit(self) -> None:
        """Claim queued jobs in FIFO order while the cap allows."""
        while not self._stop.is_set() and not self.draining and self.refusal is None:
            job = self.store.claim_next(
                self.owner,
                self.settings.lease_seconds,
                self.settings.max_concurrent_jobs,
                self.settings.class_limits,
            )
            if job is None:
                return
            log.info("job claimed", extra={"job_id": job.id})
            self._launch(job)

    def _launch(self, job: Job) -> None:
        with self._lock:
            self._active.add(job.id)
        threading.Thread(
            target=self._run, args=(job,), name=f"job-{job.id[:8]}", daemon=True
        ).start()

    def _run(self, job: Job) -> None:
        try:
            outcome = self.runner.run(job)
            log.info("job finished: %s", outcome, extra={"job_id": job.id})
        finally:
            self._last_report.pop(job.id, None)
            self._last_stage.pop(job.id, None)
            with self._lock:
                self._active.discard(job.id)
            self._wake.set()  # a slot is free: admit the next queued job

    # -- recovery -----------------------------------------------------------------

    def recover(self) -> int:
        """Resume (or fail, for non-resumable engines) running jobs whose owner is gone:
        its lease expired, its process is dead on this host, or its liveness lock and
        heartbeat have been gone for the grace period (see ``liveness``)."""
        count = 0
        if self.draining:
            return 0
        running = [j for j in self.store.running_jobs() if j.id not in self.active_jobs]
        self.liveness.forget({j.id for j in running})
        live = self.liveness.live_keys() if running else None
        for job in running:
            expired = (job.lease_expires_at or 0) < time.time()
            if not (
                expired
                or owner_is_dead(job.lease_owner, _live_owners)
                or self.liveness.gone(job, live)
            ):
                continue
            count += 1
            try:
                engine = get_engine(job.engine)
                resumable = engine.resumable
            except InputError:
                resumable = False
            if job.cancellation_requested:
                self.store.finish_cancel(job.id)
                continue
            if not resumable:
                failed = self.store.fail(
                    job.id,
                    code="server_restarted",
                    message=RESTART_MESSAGE,
                    detail=f"previous owner: {job.lease_owner}; this engine cannot resume",
                )
                if failed is not None:
                    job_metrics.observe_job(failed)
                continue
            taken = self.store.take_over(
                job.id, job.lease_owner, self.owner, self.settings.lease_seconds
            )
            if taken is not None:
                log.warning(
                    "job resumed after its worker stopped (%s)",
                    "lease expired" if expired else "its owner is gone",
                    extra={"job_id": job.id},
                )
                self._launch(taken)
        return count

    def flag_stalls(self) -> None:
        """Alive but not advancing for longer than the job's own chunk pace allows.

        Advancing means a chunk persisted or a chunk reporting from inside (a solver
        compiling its kernels, a long chunk counting its steps). Validating, resuming and
        merging are stages of their own, bounded by their limits, with the lease renewed
        throughout: they are not stalls.
        """
        now = time.time()
        for job_id in self.active_jobs:
            job = self.store.get_job(job_id)
            if job is None or job.status != JobStatus.RUNNING or job.stage in _OWN_STAGES:
                continue
            limit = stall_threshold(
                self.store.chunk_seconds(job_id), self.settings.stall_floor_seconds
            )
            last = max(job.progress_at or now, self._last_report.get(job_id, 0.0))
            idle = now - last
            if idle > limit and not job.stalled:
                self.store.set_stalled(job_id, True)
                log.warning("job stalled: no progress for %.0f s", idle, extra={"job_id": job_id})
            elif idle <= limit and job.stalled:
                self.store.set_stalled(job_id, False)

    def enforce_fail_fast(self) -> None:
        """A fail-fast batch whose child errored cancels its other children."""
        for job_id in self.store.enforce_fail_fast():
            log.info("cancelled: a job in its fail-fast batch failed", extra={"job_id": job_id})

    def prune(self) -> int:
        removed = self.store.prune(
            max_age_seconds=self.settings.retention_days * 86400,
            max_jobs=self.settings.retention_max_jobs,
            min_age_seconds=self.settings.retention_min_age,
        )
        cancel_dir = self.settings.cancel_dir
        if cancel_dir.exists():
            for flag in cancel_dir.iterdir():
                if time.time() - flag.stat().st_mtime > 300:
                    flag.unlink(missing_ok=True)
        return removed

    def _relay_reports(self) -> None:
        """In-chunk reports become the job's stage message (progress stays persisted-only).

        A report from a chunk already persisted, or arriving after the merge began, is
        dropped: stages only move forward.
        """
        latest: dict[str, tuple[int, int, str | None, str | None]] = {}
        for job_key, chunk_index, done, stage, message in self.executor.drain_reports():
            job_id = job_of_key(job_key)
            if self.runner.accepts_report(job_id, chunk_index):
                latest[job_id] = (chunk_index, done, stage, message)
                self._last_report[job_id] = time.time()  # a sign of life (flag_stalls)
        now = time.monotonic()
        for job_id, (chunk_index, done, stage, message) in latest.items():
            if now - self._last_stage.get(job_id, 0.0) < 1.0:
                continue
            self._last_stage[job_id] = now
            self.store.set_stage(
                job_id,
                stage,
                message or f"chunk {chunk_index}: {done} done (not yet persisted)",
                owner=self.owner,
                in_chunk=True,
            )
