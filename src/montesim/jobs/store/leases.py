"""Leases: claiming queued jobs under the cap, heartbeats, take-over after a crash."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import Connection, func, select, update

from montesim.jobs import progress as progress_mod
from montesim.jobs.model import Job
from montesim.jobs.states import JobStatus
from montesim.jobs.store.base import now
from montesim.jobs.store.settings import SettingsStore
from montesim.jobs.tables import jobs


class LeasesStore(SettingsStore):
    def claim_next(
        self,
        owner: str,
        lease_seconds: float,
        max_running: int,
        class_limits: Mapping[str, int] | None = None,
    ) -> Job | None:
        """Atomically take the next queued job if fewer than the cap run.

        The cap is the store-wide ``max_concurrent_jobs`` setting when set (``montesim
        config set``), else ``max_running`` (this process's environment); a resource class
        in ``class_limits`` runs at most that many jobs at once. The next job is the one
        of highest priority, then of the owner with the fewest jobs running (one owner's
        burst does not hold back another owner's first job), then the oldest.
        """
        with self._read() as conn:  # most wake-ups find nothing: no write lock for that
            queued = select(jobs.c.id).where(jobs.c.status == JobStatus.QUEUED.value).limit(1)
            if conn.execute(queued).first() is None:
                return None
        t = now()
        with self._write() as conn:
            if not self.is_sqlite:
                # One claimer at a time across servers, so the cap holds cluster-wide.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7243001)")
            stored = self._setting(conn, "max_concurrent_jobs")
            if stored is not None:
                max_running = int(stored)
            running = self._running_by_class(conn)
            if sum(running.values()) >= max_running:
                return None
            full = [c for c, most in (class_limits or {}).items() if running[c] >= most]
            mine = jobs.alias("mine")
            owner_running = (
                select(func.count())
                .select_from(mine)
                .where(mine.c.owner == jobs.c.owner, mine.c.status == JobStatus.RUNNING.value)
                .scalar_subquery()
            )
            q = (
                select(jobs.c.id)
                .where(jobs.c.status == JobStatus.QUEUED.value)
                .order_by(jobs.c.priority.desc(), owner_running, jobs.c.queued_at, jobs.c.id)
                .limit(1)
            )
            if full:
                q = q.where(jobs.c.resource_class.not_in(full))
            job_id = conn.execute(q).scalar()
            if job_id is None:
                return None
            return self._transition(
                conn,
                job_id,
                JobStatus.RUNNING,
                sources=frozenset({JobStatus.QUEUED}),
                started_at=t,
                attempt=jobs.c.attempt + 1,
                lease_owner=owner,
                lease_expires_at=t + lease_seconds,
                heartbeat_at=t,
                progress_at=t,
                attempt_started_at=t,
                attempt_done_units=0,
                rate_since=None,
                # The runner's first step, recorded with the claim (one write less).
                stage=progress_mod.VALIDATING[0],
                stage_message=progress_mod.VALIDATING[1],
            )

    @staticmethod
    def _running_by_class(conn: Connection) -> Counter[str]:
        rows = conn.execute(
            select(jobs.c.resource_class, func.count())
            .where(jobs.c.status == JobStatus.RUNNING.value)
            .group_by(jobs.c.resource_class)
        )
        return Counter({str(c): int(n) for c, n in rows})

    def wait_reason(
        self, job: Job, max_running: int, class_limits: Mapping[str, int] | None = None
    ) -> str:
        """Why a queued job has not started, in a sentence (what the job view shows)."""
        with self._read() as conn:
            stored = self._setting(conn, "max_concurrent_jobs")
            cap = int(stored) if stored is not None else max_running
            holders = conn.execute(
                select(jobs.c.id, jobs.c.resource_class)
                .where(jobs.c.status == JobStatus.RUNNING.value)
                .order_by(jobs.c.started_at)
            ).all()
            ahead = conn.execute(
                select(func.count()).where(
                    jobs.c.status == JobStatus.QUEUED.value,
                    jobs.c.id != job.id,
                    (jobs.c.priority > job.priority)
                    | ((jobs.c.priority == job.priority) & (jobs.c.queued_at <= job.queued_at)),
                )
            ).scalar_one()
        if len(holders) >= cap:
            names = ", ".join(h[0][:8] for h in holders[:3]) + ("…" if len(holders) > 3 else "")
            return (
                f"waiting for a slot: {len(holders)} of {cap} in use by "
                f"job{'s' if len(holders) > 1 else ''} {names}"
            )
        limit = (class_limits or {}).get(job.resource_class)
        same = [h[0] for h in holders if h[1] == job.resource_class]
        if limit is not None and len(same) >= limit:
            names = ", ".join(i[:8] for i in same[:3])
            return (
                f"waiting for a {job.resource_class} slot: {len(same)} of {limit} in use by "
                f"job{'s' if len(same) > 1 else ''} {names}"
            )
        if ahead:
            return f"waiting behind {ahead} earlier job{'s' if ahead > 1 else ''}"
        return "next to start: waiting for a worker to claim it"

    def running_jobs(self) -> list[Job]:
        with self._read() as conn:
            ids = conn.execute(
                select(jobs.c.id).where(jobs.c.status == JobStatus.RUNNING.value)
            ).scalars()
            return [job for i in list(ids) if (job := self._row(conn, i)) is not None]

    def take_over(
        self, job_id: str, old_owner: str | None, owner: str, lease_seconds: float
    ) -> Job | None:
        """Re-lease a running job whose owner is gone (compare-and-set on the old owner)."""
        t = now()
        with self._write() as conn:
            res = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.status == JobStatus.RUNNING.value,
                    (jobs.c.lease_owner == old_owner)
                    if old_owner is not None
                    else jobs.c.lease_owner.is_(None),
                )
                .values(
                    lease_owner=owner,
                    lease_expires_at=t + lease_seconds,
                    heartbeat_at=t,
                    attempt=jobs.c.attempt + 1,
                    attempt_started_at=t,
                    attempt_done_units=0,
                    rate_since=None,
                    progress_at=t,
                    stage="resuming",
                    stage_message="Resumed after the previous worker stopped; keeping persisted chunks",
                    updated_at=t,
                )
            )
            if not res.rowcount:
                return None
            row = self._must_row(conn, job_id)
            self._event(conn, row, "stage")
            return row

    def heartbeat(
        self, job_id: str, owner: str, lease_seconds: float, *, attempt: int | None = None
    ) -> Job | None:
        """Extend the lease; None when this owner (attempt) lost the job, or it ended."""
        t = now()
        with self._write() as conn:
            return self._update_owned(
                conn,
                job_id,
                owner,
                None,
                attempt,
                heartbeat_at=t,
                lease_expires_at=t + lease_seconds,
            )

    def start_work(
        self,
        job_id: str,
        owner: str,
        *,
        total_units: int,
        chunks_total: int,
        unit: str,
        attempt: int | None = None,
    ) -> Job | None:
        """Record the plan's size and the progress already persisted by earlier attempts."""
        with self._write() as conn:
            done, count = self._persisted(conn, job_id)
            return self._update_owned(
                conn,
                job_id,
                owner,
                "progress",
                attempt,
                total_units=total_units,
                chunks_total=chunks_total,
                unit=unit,
                done_units=done,
                chunks_done=count,
                progress=progress_mod.fraction(done, total_units),
                stage="running",
                stage_message=None,
                updated_at=now(),
            )

    def release(self, job_id: str, owner: str, *, attempt: int | None = None) -> Job | None:
        """Hand a running job back (a draining worker): its lease ends now, so another
        worker's recovery takes it over at once, keeping its persisted chunks."""
        with self._write() as conn:
            return self._update_owned(
                conn,
                job_id,
                owner,
                "stage",
                attempt,
                lease_expires_at=0.0,
                stage="handed back",
                stage_message="Its worker is stopping; another worker resumes it",
                updated_at=now(),
            )
