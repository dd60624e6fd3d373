"""Jobs: create, read, list, label, delete, cancel, fail, stage and stall flags, results."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from montesim.errors import Conflict
from montesim.jobs.model import Job
from montesim.jobs.progress import MERGING
from montesim.jobs.states import TERMINAL, JobStatus
from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.tables import files, job_artifacts, job_chunks, job_events, job_results, jobs

LATE_CANCEL = "The cancel came after every chunk was done: the result is kept"
# Stages a late in-chunk report may not overwrite: the merge has begun, or the job ends.
_AFTER_CHUNKS = ("merging", "complete", "error", "cancelled", "cancelling")


def request_hash(engine: str, spec: Any, label: str | None) -> str:
    body = json.dumps({"engine": engine, "spec": spec, "label": label}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def new_job_values(
    *,
    engine: str,
    spec: dict[str, Any],
    spec_summary: str = "",
    unit: str = "units",
    label: str | None = None,
    idempotency_key: str | None = None,
    batch_id: str | None = None,
    total_units: int = 0,
    owner: str | None = None,
    priority: int = 0,
    resource_class: str = "cpu",
    time_limit: float | None = None,
) -> dict[str, Any]:
    """The row of a new queued job (shared by single and batch submission)."""
    t = now()
    file_id = spec.get("file_id")
    return dict(
        id=str(uuid.uuid4()),
        engine=engine,
        status=JobStatus.QUEUED.value,
        label=label,
        spec=spec,
        spec_summary=spec_summary[:200],
        idempotency_key=idempotency_key,
        request_hash=request_hash(engine, spec, label),
        batch_id=batch_id,
        file_id=file_id if isinstance(file_id, str) and len(file_id) <= 36 else None,
        owner=owner[:200] if owner else None,
        priority=priority,
        resource_class=resource_class[:32],
        time_limit=time_limit,
        created_at=t,
        queued_at=t,
        updated_at=t,
        unit=unit,
        total_units=total_units,
        stage="waiting",
    )


class JobsStore(StoreBase):
    def get_job(self, job_id: str, visible: str | None = None) -> Job | None:
        """The job; with ``visible`` (an owner), None unless that owner's."""
        with self._read() as conn:
            return self._row(conn, job_id, visible)

    def submitted_since(self, owner: str | None, since: float) -> tuple[int, float | None]:
        """Jobs ``owner`` created since ``since``, and the oldest one's creation time (the
        per-minute submission limit)."""
        with self._read() as conn:
            query = select(func.count(), func.min(jobs.c.created_at)).where(
                jobs.c.owner == owner, jobs.c.created_at >= since
            )
            count, oldest = conn.execute(query).one()
            return int(count), oldest

    def count_queued(self, owner: str | None) -> int:
        """Jobs of ``owner`` waiting to start (the per-owner queue quota)."""
        with self._read() as conn:
            query = (
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.status == JobStatus.QUEUED.value, jobs.c.owner == owner)
            )
            return int(conn.execute(query).scalar_one())

    def create_job(
        self,
        *,
        engine: str,
        spec: dict[str, Any],
        spec_summary: str = "",
        unit: str = "units",
        label: str | None = None,
        idempotency_key: str | None = None,
        batch_id: str | None = None,
        owner: str | None = None,
        priority: int = 0,
        resource_class: str = "cpu",
        time_limit: float | None = None,
    ) -> tuple[Job, bool]:
        """Insert a queued job; with an idempotency key already used, return that job.

        Returns ``(job, created)``. Raises Conflict when the key was used for a different
        request.
        """
        rhash = request_hash(engine, spec, label)
        if idempotency_key:
            existing = self.find_by_idempotency_key(idempotency_key)
            if existing is not None:
                return self._same_request(existing, rhash), False
        values = new_job_values(
            engine=engine,
            spec=spec,
            spec_summary=spec_summary,
            unit=unit,
            label=label,
            idempotency_key=idempotency_key,
            batch_id=batch_id,
            owner=owner,
            priority=priority,
            resource_class=resource_class,
            time_limit=time_limit,
        )
        try:
            with self._write() as conn:
                conn.execute(insert(jobs).values(**values))
                row = self._must_row(conn, values["id"])
                self._event(conn, row, "status")
        except IntegrityError:
            # Lost a race with another request carrying the same key.
            existing = self.find_by_idempotency_key(idempotency_key or "")
            if existing is None:
                raise
            return self._same_request(existing, rhash), False
        return row, True

    @staticmethod
    def _same_request(existing: Job, rhash: str) -> Job:
        if existing.request_hash != rhash:
            raise Conflict(
                "This Idempotency-Key was already used for a different request",
                existing.status.value,
            )
        return existing

    def find_by_idempotency_key(self, key: str) -> Job | None:
        with self._read() as conn:
            job_id = conn.execute(select(jobs.c.id).where(jobs.c.idempotency_key == key)).scalar()
            return self._row(conn, job_id) if job_id else None

    def list_jobs(
        self,
        *,
        statuses: Iterable[JobStatus] = (),
        engine: str | None = None,
        batch_id: str | None = None,
        label: str | None = None,
        file_name: str | None = None,
        id_prefix: str | None = None,
        visible: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        """Newest first; list rows leave out the spec (it may be large).

        ``label`` and ``file_name`` match case-insensitive substrings; ``id_prefix`` the
        start of job ids (the CLI's short ids); ``visible`` keeps one owner's jobs.
        """

        conds: list[Any] = []
        if visible is not None:
            conds.append(jobs.c.owner == visible)
        values = [s.value for s in statuses]
        if values:
            conds.append(jobs.c.status.in_(values))
        if engine:
            conds.append(jobs.c.engine == engine)
        if batch_id:
            conds.append(jobs.c.batch_id == batch_id)
        if label:
            conds.append(func.lower(jobs.c.label).contains(label.lower(), autoescape=True))
        if id_prefix:
            conds.append(jobs.c.id.startswith(id_prefix.lower(), autoescape=True))
        if file_name:
            conds.append(func.lower(files.c.filename).contains(file_name.lower(), autoescape=True))
        base = jobs.outerjoin(files, files.c.id == jobs.c.file_id)
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(base).where(*conds)).scalar_one()
            rows = conn.execute(
                self._list_select()
                .where(*conds)
                .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).mappings()
            return [Job.from_row(r) for r in rows], int(total)

    def count_by_status(self) -> dict[JobStatus, int]:
        with self._read() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            counts = {JobStatus(r[0]): int(r[1]) for r in rows}
        return {s: counts.get(s, 0) for s in JobStatus}

    def set_label(self, job_id: str, label: str | None, visible: str | None = None) -> Job | None:
        conds = [jobs.c.id == job_id]
        if visible is not None:
            conds.append(jobs.c.owner == visible)
        with self._write() as conn:
            res = conn.execute(update(jobs).where(*conds).values(label=label, updated_at=now()))
            return self._row(conn, job_id) if res.rowcount else None

    def delete_job(self, job_id: str, visible: str | None = None) -> None:
        """Delete a terminal job and everything it owns; Conflict while active, KeyError if unknown
        (or, with ``visible``, not that owner's).

        Its biggest rows (chunks, artifacts) go first, each in its own transaction, so a
        store that is short of space can still free it.
        """
        row = self.get_job(job_id, visible)
        if row is None:
            raise KeyError(job_id)
        if not row.terminal:
            raise Conflict(
                f"Job is {row.status.value}; cancel it before deleting", row.status.value
            )
        for table in (job_chunks, job_artifacts, job_results):
            with self._write() as conn:
                conn.execute(delete(table).where(table.c.job_id == job_id))
        with self._write() as conn:
            res = conn.execute(
                delete(jobs).where(
                    jobs.c.id == job_id, jobs.c.status.in_([s.value for s in TERMINAL])
                )
            )
            if res.rowcount:
                self._delete_children(conn, [job_id])
                return
        raise KeyError(job_id)

    @staticmethod
    def _delete_children(conn: Connection, job_ids: list[str]) -> None:
        # Explicit deletes: SQLite only cascades with foreign_keys=ON, and events have no FK.
        for table in (job_results, job_artifacts, job_chunks):
            conn.execute(delete(table).where(table.c.job_id.in_(job_ids)))
        conn.execute(delete(job_events).where(job_events.c.job_id.in_(job_ids)))

    # -- transitions ----------------------------------------------------------------

    def request_cancel(
        self, job_id: str, visible: str | None = None, *, discard_merge: bool = False
    ) -> Job:
        """Queued → cancelled at once; running → cancellation_requested (runner finishes it).

        A cancel that comes while the job merges (every chunk is done) lets the merge
        finish: the job ends ``complete`` with ``cancel_late`` set, unless
        ``discard_merge`` asks to throw the finished work away.
        KeyError when unknown (or, with ``visible``, not that owner's); Conflict when ended.
        """
        with self._write() as conn:
            if visible is not None and self._row(conn, job_id, visible) is None:
                raise KeyError(job_id)
            row = self._transition(
                conn,
                job_id,
                JobStatus.CANCELLED,
                sources=frozenset({JobStatus.QUEUED}),
                stage="cancelled",
                cancellation_requested=True,
            )
            if row is not None:
                return row
            current = self._row(conn, job_id)
            if current is None:
                raise KeyError(job_id)
            if current.status != JobStatus.RUNNING:
                raise Conflict(f"Job is already {current.status.value}", current.status.value)
            running = [jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value]
            stopping = conn.execute(
                update(jobs)
                .where(*running, *([] if discard_merge else [jobs.c.stage != MERGING]))
                .values(cancellation_requested=True, stage="cancelling", updated_at=now())
            )
            if not stopping.rowcount:
                conn.execute(
                    update(jobs)
                    .where(*running)
                    .values(cancel_late=True, stage_message=LATE_CANCEL, updated_at=now())
                )
            current = self._must_row(conn, job_id)
            self._event(conn, current, "stage")
            return current

    def fail(
        self,
        job_id: str,
        *,
        code: str,
        message: str,
        detail: str | None = None,
        owner: str | None = None,
        attempt: int | None = None,
    ) -> Job | None:
        with self._write() as conn:
            return self._transition(
                conn,
                job_id,
                JobStatus.ERROR,
                owner=owner,
                in_attempt=attempt,
                stage="error",
                error_code=code[:64],
                error_message=message,
                error_detail=detail,
            )

    def finish_cancel(
        self, job_id: str, owner: str | None = None, attempt: int | None = None
    ) -> Job | None:
        """running → cancelled; a cancelled job's partial results are discarded."""
        with self._write() as conn:
            row = self._transition(
                conn,
                job_id,
                JobStatus.CANCELLED,
                owner=owner,
                in_attempt=attempt,
                stage="cancelled",
                stage_message=None,
            )
            if row is not None:
                conn.execute(delete(job_chunks).where(job_chunks.c.job_id == job_id))
            return row

    def set_stage(
        self,
        job_id: str,
        stage: str | None,
        message: str | None,
        *,
        owner: str | None = None,
        attempt: int | None = None,
        in_chunk: bool = False,
    ) -> Job | None:
        """Set a running job's stage and message; None when nothing changed.

        ``in_chunk`` reports (informational, from a running chunk) never overwrite a stage
        the job has moved past: once the merge began they are dropped.
        """
        values: dict[str, Any] = {"updated_at": now()}
        if stage:
            values["stage"] = stage[:64]
        if message is not None:
            values["stage_message"] = message[:500]
        conds = [
            jobs.c.id == job_id,
            jobs.c.status == JobStatus.RUNNING.value,
            jobs.c.cancellation_requested.is_(False),
        ]
        if owner is not None:
            conds.append(jobs.c.lease_owner == owner)
        if attempt is not None:
            conds.append(jobs.c.attempt == attempt)
        if in_chunk:
            conds.append(jobs.c.stage.not_in(_AFTER_CHUNKS))
        with self._write() as conn:
            res = conn.execute(update(jobs).where(*conds).values(**values))
            if not res.rowcount:
                return None
            row = self._must_row(conn, job_id)
            self._event(conn, row, "stage")
            return row

    def set_stalled(self, job_id: str, stalled: bool) -> Job | None:
        with self._write() as conn:
            res = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.status == JobStatus.RUNNING.value,
                    jobs.c.stalled == (not stalled),
                )
                .values(stalled=stalled, updated_at=now())
            )
            if not res.rowcount:
                return None
            row = self._must_row(conn, job_id)
            self._event(conn, row, "stage")
            return row

    # -- results --------------------------------------------------------------------

    def result(self, job_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            return conn.execute(
                select(job_results.c.summary).where(job_results.c.job_id == job_id)
            ).scalar()

    def artifact_names(self, job_id: str) -> list[tuple[str, str]]:
        with self._read() as conn:
            rows = conn.execute(
                select(job_artifacts.c.name, job_artifacts.c.media_type)
                .where(job_artifacts.c.job_id == job_id)
                .order_by(job_artifacts.c.name)
            )
            return [(r[0], r[1]) for r in rows]

    def artifact_size(self, job_id: str, name: str) -> tuple[str, int] | None:
        """An artifact's media type and size in bytes, without reading it."""
        with self._read() as conn:
            row = conn.execute(
                select(job_artifacts.c.media_type, func.length(job_artifacts.c.data)).where(
                    job_artifacts.c.job_id == job_id, job_artifacts.c.name == name
                )
            ).first()
            return (row[0], int(row[1] or 0)) if row else None

    def artifact_piece(self, job_id: str, name: str, offset: int, size: int) -> bytes:
        """``size`` bytes of an artifact from ``offset`` (fewer at its end): downloads
        stream an artifact piece by piece instead of holding it whole."""
        with self._read() as conn:
            data = conn.execute(
                select(func.substr(job_artifacts.c.data, offset + 1, size)).where(
                    job_artifacts.c.job_id == job_id, job_artifacts.c.name == name
                )
            ).scalar()
            return bytes(data) if data is not None else b""

    def artifact(self, job_id: str, name: str) -> tuple[str, bytes] | None:
        with self._read() as conn:
            row = conn.execute(
                select(job_artifacts.c.media_type, job_artifacts.c.data).where(
                    job_artifacts.c.job_id == job_id, job_artifacts.c.name == name
                )
            ).first()
            return (row[0], bytes(row[1])) if row else None
