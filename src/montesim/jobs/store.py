"""The store: every job's state, progress, partials, results and events.

It is the single source of truth (SQLite in WAL mode by default, PostgreSQL for clusters).
Every status change is a conditional UPDATE whose WHERE clause lists the states the
target may be entered from, so a terminal job can never change again, whatever Python
does around it.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import IntegrityError

from montesim.errors import Conflict
from montesim.jobs import progress as progress_mod
from montesim.jobs.states import ACTIVE, TERMINAL, JobStatus, sources_of
from montesim.jobs.tables import (
    batches,
    files,
    job_artifacts,
    job_chunks,
    job_events,
    job_results,
    jobs,
)


def now() -> float:
    return time.time()


def request_hash(engine: str, spec: Any, label: str | None) -> str:
    body = json.dumps({"engine": engine, "spec": spec, "label": label}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _configure_sqlite(engine: SAEngine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's begin event decide between BEGIN and BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
) -> dict[str, Any]:
    """The row of a new queued job (shared by single and batch submission)."""
    t = now()
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
        created_at=t,
        queued_at=t,
        updated_at=t,
        unit=unit,
        total_units=total_units,
        stage="waiting",
    )


class Store:
    """Tables and queries; one instance per process, safe to share between threads."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=16
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)
        if migrate:
            from montesim.jobs.migrate import upgrade

            upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: BEGIN IMMEDIATE on SQLite so writers queue up front."""
        with self.engine.connect() as conn:
            conn.execution_options(immediate=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> bool:
        with self._read() as conn:
            conn.execute(select(1))
        return True

    # -- events ---------------------------------------------------------------------

    def _event(self, conn: Connection, job_id: str, kind: str, row: dict[str, Any]) -> None:
        data = progress_mod.record(row)
        conn.execute(insert(job_events).values(job_id=job_id, ts=now(), kind=kind, data=data))

    def events(self, job_id: str, after: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                select(job_events)
                .where(job_events.c.job_id == job_id, job_events.c.id > after)
                .order_by(job_events.c.id)
                .limit(limit)
            ).mappings()
            return [
                {
                    "id": r["id"],
                    "job_id": r["job_id"],
                    "ts": r["ts"],
                    "kind": r["kind"],
                    **r["data"],
                }
                for r in rows
            ]

    # -- jobs -----------------------------------------------------------------------

    def _row(self, conn: Connection, job_id: str) -> dict[str, Any] | None:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return dict(row) if row else None

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            return self._row(conn, job_id)

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
    ) -> tuple[dict[str, Any], bool]:
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
        )
        job_id = values["id"]
        try:
            with self._write() as conn:
                conn.execute(insert(jobs).values(**values))
                row = self._row(conn, job_id)
                assert row is not None
                self._event(conn, job_id, "status", row)
        except IntegrityError:
            # Lost a race with another request carrying the same key.
            existing = self.find_by_idempotency_key(idempotency_key or "")
            if existing is None:
                raise
            return self._same_request(existing, rhash), False
        return row, True

    @staticmethod
    def _same_request(existing: dict[str, Any], rhash: str) -> dict[str, Any]:
        if existing["request_hash"] != rhash:
            raise Conflict(
                "This Idempotency-Key was already used for a different request",
                existing["status"],
            )
        return existing

    def find_by_idempotency_key(self, key: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.idempotency_key == key)).mappings().first()
            return dict(row) if row else None

    def list_jobs(
        self,
        *,
        statuses: Iterable[JobStatus] = (),
        engine: str | None = None,
        batch_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """Newest first; list rows leave out the spec (it may be large)."""
        conds = []
        statuses = [s.value for s in statuses]
        if statuses:
            conds.append(jobs.c.status.in_(statuses))
        if engine:
            conds.append(jobs.c.engine == engine)
        if batch_id:
            conds.append(jobs.c.batch_id == batch_id)
        cols = [c for c in jobs.c if c.name != "spec"]
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(jobs).where(*conds)).scalar_one()
            rows = conn.execute(
                select(*cols)
                .where(*conds)
                .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).mappings()
            return [dict(r) for r in rows], int(total)

    def count_by_status(self) -> dict[str, int]:
        with self._read() as conn:
            rows = conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
            return {s.value: 0 for s in JobStatus} | {r[0]: int(r[1]) for r in rows}

    def set_label(self, job_id: str, label: str | None) -> dict[str, Any] | None:
        with self._write() as conn:
            res = conn.execute(
                update(jobs).where(jobs.c.id == job_id).values(label=label, updated_at=now())
            )
            return self._row(conn, job_id) if res.rowcount else None

    def delete_job(self, job_id: str) -> None:
        """Delete a terminal job and everything it owns; Conflict while active, KeyError if unknown."""
        with self._write() as conn:
            res = conn.execute(
                delete(jobs).where(
                    jobs.c.id == job_id, jobs.c.status.in_([s.value for s in TERMINAL])
                )
            )
            if res.rowcount:
                self._delete_children(conn, [job_id])
                return
            row = self._row(conn, job_id)
        if row is None:
            raise KeyError(job_id)
        raise Conflict(f"Job is {row['status']}; cancel it before deleting", row["status"])

    @staticmethod
    def _delete_children(conn: Connection, job_ids: list[str]) -> None:
        # Explicit deletes: SQLite only cascades with foreign_keys=ON, and events have no FK.
        for table in (job_results, job_artifacts, job_chunks):
            conn.execute(delete(table).where(table.c.job_id.in_(job_ids)))
        conn.execute(delete(job_events).where(job_events.c.job_id.in_(job_ids)))

    # -- transitions ----------------------------------------------------------------

    def _transition(
        self,
        conn: Connection,
        job_id: str,
        target: JobStatus,
        *,
        owner: str | None = None,
        sources: frozenset[JobStatus] | None = None,
        **values: Any,
    ) -> dict[str, Any] | None:
        """Conditional UPDATE into ``target``; None when the job was not in a source state."""
        t = now()
        allowed = sources_of(target) if sources is None else sources & sources_of(target)
        conds = [jobs.c.id == job_id, jobs.c.status.in_([s.value for s in allowed])]
        if owner is not None:
            conds.append(jobs.c.lease_owner == owner)
        if target.terminal:
            values.setdefault("completed_at", t)
            values.setdefault("lease_owner", None)
            values.setdefault("lease_expires_at", None)
            values.setdefault("stalled", False)
        res = conn.execute(
            update(jobs).where(*conds).values(status=target.value, updated_at=t, **values)
        )
        if not res.rowcount:
            return None
        row = self._row(conn, job_id)
        assert row is not None
        self._event(conn, job_id, "status", row)
        return row

    def request_cancel(self, job_id: str) -> dict[str, Any]:
        """Queued → cancelled at once; running → cancellation_requested (runner finishes it)."""
        with self._write() as conn:
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
            if current["status"] != JobStatus.RUNNING.value:
                raise Conflict(f"Job is already {current['status']}", current["status"])
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.status == JobStatus.RUNNING.value)
                .values(cancellation_requested=True, stage="cancelling", updated_at=now())
            )
            current = self._row(conn, job_id)
            assert current is not None
            self._event(conn, job_id, "stage", current)
            return current

    def claim_next(
        self, owner: str, lease_seconds: float, max_running: int
    ) -> dict[str, Any] | None:
        """Atomically take the oldest queued job if fewer than ``max_running`` run."""
        t = now()
        with self._write() as conn:
            if not self.is_sqlite:
                # One claimer at a time across servers, so the cap holds cluster-wide.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7243001)")
            running = conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.status == JobStatus.RUNNING.value)
            ).scalar_one()
            if running >= max_running:
                return None
            q = (
                select(jobs.c.id)
                .where(jobs.c.status == JobStatus.QUEUED.value)
                .order_by(jobs.c.queued_at, jobs.c.id)
                .limit(1)
            )
            if not self.is_sqlite:
                q = q.with_for_update(skip_locked=True)
            job_id = conn.execute(q).scalar()
            if job_id is None:
                return None
            return self._transition(
                conn,
                job_id,
                JobStatus.RUNNING,
                started_at=t,
                attempt=jobs.c.attempt + 1,
                lease_owner=owner,
                lease_expires_at=t + lease_seconds,
                heartbeat_at=t,
                progress_at=t,
                attempt_started_at=t,
                attempt_done_units=0,
                stage="starting",
            )

    def expired_jobs(self, at: float | None = None) -> list[dict[str, Any]]:
        t = now() if at is None else at
        with self._read() as conn:
            rows = conn.execute(
                select(jobs).where(
                    jobs.c.status == JobStatus.RUNNING.value,
                    (jobs.c.lease_expires_at < t) | jobs.c.lease_expires_at.is_(None),
                )
            ).mappings()
            return [dict(r) for r in rows]

    def running_jobs(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = conn.execute(
                select(jobs).where(jobs.c.status == JobStatus.RUNNING.value)
            ).mappings()
            return [dict(r) for r in rows]

    def take_over(
        self, job_id: str, old_owner: str | None, owner: str, lease_seconds: float
    ) -> dict[str, Any] | None:
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
                    progress_at=t,
                    stage="resuming",
                    stage_message="Resumed after the previous worker stopped; keeping persisted chunks",
                    updated_at=t,
                )
            )
            if not res.rowcount:
                return None
            row = self._row(conn, job_id)
            assert row is not None
            self._event(conn, job_id, "stage", row)
            return row

    def heartbeat(self, job_id: str, owner: str, lease_seconds: float) -> dict[str, Any] | None:
        """Extend the lease; None when this owner lost the job (or it ended)."""
        t = now()
        with self._write() as conn:
            res = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.lease_owner == owner,
                    jobs.c.status == JobStatus.RUNNING.value,
                )
                .values(heartbeat_at=t, lease_expires_at=t + lease_seconds)
            )
            return self._row(conn, job_id) if res.rowcount else None

    def set_stalled(self, job_id: str, stalled: bool) -> dict[str, Any] | None:
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
            row = self._row(conn, job_id)
            assert row is not None
            self._event(conn, job_id, "stage", row)
            return row

    def start_work(
        self, job_id: str, owner: str, *, total_units: int, chunks_total: int, unit: str
    ) -> dict[str, Any] | None:
        """Record the plan's size and the progress already persisted by earlier attempts."""
        with self._write() as conn:
            done, count = self._persisted(conn, job_id)
            res = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.lease_owner == owner,
                    jobs.c.status == JobStatus.RUNNING.value,
                )
                .values(
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
            )
            if not res.rowcount:
                return None
            row = self._row(conn, job_id)
            assert row is not None
            self._event(conn, job_id, "progress", row)
            return row

    def set_stage(self, job_id: str, stage: str | None, message: str | None) -> None:
        values: dict[str, Any] = {"updated_at": now()}
        if stage:
            values["stage"] = stage[:64]
        if message is not None:
            values["stage_message"] = message[:500]
        with self._write() as conn:
            res = conn.execute(
                update(jobs)
                .where(
                    jobs.c.id == job_id,
                    jobs.c.status == JobStatus.RUNNING.value,
                    jobs.c.cancellation_requested.is_(False),
                )
                .values(**values)
            )
            if res.rowcount:
                row = self._row(conn, job_id)
                assert row is not None
                self._event(conn, job_id, "stage", row)

    @staticmethod
    def _persisted(conn: Connection, job_id: str) -> tuple[int, int]:
        done, count = conn.execute(
            select(func.coalesce(func.sum(job_chunks.c.size), 0), func.count()).where(
                job_chunks.c.job_id == job_id
            )
        ).one()
        return int(done), int(count)

    def put_chunk(
        self,
        job_id: str,
        owner: str,
        chunk_index: int,
        size: int,
        data: bytes,
        seconds: float = 0.0,
    ) -> dict[str, Any] | None:
        """Persist a chunk's partial, then move progress to what is persisted.

        Returns the updated job, or None when this owner no longer holds a running job
        (cancelled, taken over): the partial is then not written.
        """
        t = now()
        with self._write() as conn:
            row = self._row(conn, job_id)
            if (
                row is None
                or row["status"] != JobStatus.RUNNING.value
                or row["lease_owner"] != owner
                or row["cancellation_requested"]
            ):
                return None
            conn.execute(
                delete(job_chunks).where(
                    job_chunks.c.job_id == job_id, job_chunks.c.chunk_index == chunk_index
                )
            )
            conn.execute(
                insert(job_chunks).values(
                    job_id=job_id,
                    chunk_index=chunk_index,
                    size=size,
                    data=data,
                    seconds=seconds,
                    created_at=t,
                )
            )
            done, count = self._persisted(conn, job_id)
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    done_units=done,
                    chunks_done=count,
                    progress=progress_mod.fraction(done, row["total_units"]),
                    attempt_done_units=jobs.c.attempt_done_units + size,
                    progress_at=t,
                    heartbeat_at=t,
                    stalled=False,
                    updated_at=t,
                )
            )
            new = self._row(conn, job_id)
            assert new is not None
            self._event(conn, job_id, "progress", new)
            return new

    def chunk_sizes(self, job_id: str) -> dict[int, int]:
        with self._read() as conn:
            rows = conn.execute(
                select(job_chunks.c.chunk_index, job_chunks.c.size).where(
                    job_chunks.c.job_id == job_id
                )
            )
            return {int(i): int(s) for i, s in rows}

    def chunk_data(self, job_id: str, chunk_index: int) -> bytes | None:
        with self._read() as conn:
            return conn.execute(
                select(job_chunks.c.data).where(
                    job_chunks.c.job_id == job_id, job_chunks.c.chunk_index == chunk_index
                )
            ).scalar()

    def chunk_partials(self, job_id: str) -> list[tuple[int, int, bytes]]:
        """All persisted ``(index, size, data)`` in chunk order."""
        with self._read() as conn:
            rows = conn.execute(
                select(job_chunks.c.chunk_index, job_chunks.c.size, job_chunks.c.data)
                .where(job_chunks.c.job_id == job_id)
                .order_by(job_chunks.c.chunk_index)
            )
            return [(int(i), int(s), bytes(d)) for i, s, d in rows]

    def chunk_seconds(self, job_id: str, limit: int = 20) -> list[float]:
        with self._read() as conn:
            rows = conn.execute(
                select(job_chunks.c.seconds)
                .where(job_chunks.c.job_id == job_id)
                .order_by(job_chunks.c.created_at.desc())
                .limit(limit)
            )
            return [float(r[0]) for r in rows]

    def complete(
        self,
        job_id: str,
        owner: str,
        summary: dict[str, Any],
        artifacts: dict[str, tuple[str, bytes]],
    ) -> dict[str, Any] | None:
        """Store the result and enter ``complete`` in one transaction.

        Only when every chunk is persisted (done == total): anything less is not complete.
        """
        t = now()
        with self._write() as conn:
            row = self._row(conn, job_id)
            if (
                row is None
                or row["status"] != JobStatus.RUNNING.value
                or row["lease_owner"] != owner
            ):
                return None
            if row["cancellation_requested"]:
                return None
            done, count = self._persisted(conn, job_id)
            if done != row["total_units"] or count != row["chunks_total"]:
                raise RuntimeError(
                    f"result covers {done} of {row['total_units']} {row['unit']} "
                    f"({count} of {row['chunks_total']} chunks)"
                )
            conn.execute(delete(job_results).where(job_results.c.job_id == job_id))
            conn.execute(insert(job_results).values(job_id=job_id, summary=summary, created_at=t))
            conn.execute(delete(job_artifacts).where(job_artifacts.c.job_id == job_id))
            for name, (media_type, data) in artifacts.items():
                conn.execute(
                    insert(job_artifacts).values(
                        job_id=job_id, name=name, media_type=media_type, data=data
                    )
                )
            new = self._transition(
                conn, job_id, JobStatus.COMPLETE, owner=owner, stage="complete", stage_message=None
            )
            conn.execute(delete(job_chunks).where(job_chunks.c.job_id == job_id))
            return new

    def fail(
        self,
        job_id: str,
        *,
        code: str,
        message: str,
        detail: str | None = None,
        owner: str | None = None,
    ) -> dict[str, Any] | None:
        with self._write() as conn:
            return self._transition(
                conn,
                job_id,
                JobStatus.ERROR,
                owner=owner,
                stage="error",
                error_code=code[:64],
                error_message=message,
                error_detail=detail,
            )

    def finish_cancel(self, job_id: str, owner: str | None = None) -> dict[str, Any] | None:
        """running → cancelled; a cancelled job's partial results are discarded."""
        with self._write() as conn:
            row = self._transition(
                conn,
                job_id,
                JobStatus.CANCELLED,
                owner=owner,
                stage="cancelled",
                stage_message=None,
            )
            if row is not None:
                conn.execute(delete(job_chunks).where(job_chunks.c.job_id == job_id))
            return row

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

    def artifact(self, job_id: str, name: str) -> tuple[str, bytes] | None:
        with self._read() as conn:
            row = conn.execute(
                select(job_artifacts.c.media_type, job_artifacts.c.data).where(
                    job_artifacts.c.job_id == job_id, job_artifacts.c.name == name
                )
            ).first()
            return (row[0], bytes(row[1])) if row else None

    # -- retention ------------------------------------------------------------------

    def prune(self, *, max_age_seconds: float, max_jobs: int) -> int:
        """Delete terminal jobs older than ``max_age_seconds`` or beyond the newest ``max_jobs``."""
        terminal = [s.value for s in TERMINAL]
        cutoff = now() - max_age_seconds
        with self._write() as conn:
            old = (
                conn.execute(
                    select(jobs.c.id).where(
                        jobs.c.status.in_(terminal), jobs.c.completed_at < cutoff
                    )
                )
                .scalars()
                .all()
            )
            beyond = (
                conn.execute(
                    select(jobs.c.id)
                    .where(jobs.c.status.in_(terminal))
                    .order_by(jobs.c.created_at.desc(), jobs.c.id.desc())
                    .offset(max_jobs)
                )
                .scalars()
                .all()
            )
            ids = sorted(set(old) | set(beyond))
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                conn.execute(delete(jobs).where(jobs.c.id.in_(part)))
                self._delete_children(conn, part)
            return len(ids)

    # -- files ----------------------------------------------------------------------

    def add_file(self, file_id: str, filename: str, size: int, sha256: str) -> dict[str, Any]:
        values = dict(id=file_id, filename=filename, size=size, sha256=sha256, created_at=now())
        with self._write() as conn:
            conn.execute(insert(files).values(**values))
        return values

    def file_ids(self) -> list[str]:
        with self._read() as conn:
            return list(conn.execute(select(files.c.id).order_by(files.c.created_at)).scalars())

    def get_file(self, file_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(files).where(files.c.id == file_id)).mappings().first()
            return dict(row) if row else None

    # -- event log readers (streams) -----------------------------------------------

    @staticmethod
    def _event_dict(r: Any) -> dict[str, Any]:
        return {"id": r["id"], "job_id": r["job_id"], "ts": r["ts"], "kind": r["kind"], **r["data"]}

    def last_event_id(self) -> int:
        with self._read() as conn:
            return int(
                conn.execute(select(func.coalesce(func.max(job_events.c.id), 0))).scalar_one()
            )

    def events_range(
        self,
        job_ids: Iterable[str] | None,
        after: int,
        upto: int | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Events with ``after < id <= upto`` in id order, of some jobs (None: all jobs)."""
        conds = [job_events.c.id > after]
        if upto is not None:
            conds.append(job_events.c.id <= upto)
        if job_ids is not None:
            conds.append(job_events.c.job_id.in_(list(job_ids)))
        with self._read() as conn:
            rows = conn.execute(
                select(job_events).where(*conds).order_by(job_events.c.id).limit(limit)
            ).mappings()
            return [self._event_dict(r) for r in rows]

    def latest_events(
        self, job_ids: Iterable[str], upto: int | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each job's newest event up to ``upto`` (its state as the log recorded it then)."""
        ids = list(job_ids)
        if not ids:
            return {}
        conds = [job_events.c.job_id.in_(ids)]
        if upto is not None:
            conds.append(job_events.c.id <= upto)
        newest = select(func.max(job_events.c.id)).where(*conds).group_by(job_events.c.job_id)
        with self._read() as conn:
            rows = conn.execute(select(job_events).where(job_events.c.id.in_(newest))).mappings()
            return {r["job_id"]: self._event_dict(r) for r in rows}

    # -- batches --------------------------------------------------------------------

    def create_batch(
        self, *, label: str | None, fail_fast: bool, children: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Insert a batch and its queued children in one transaction.

        ``children`` are keyword arguments of :func:`new_job_values` (with the planned
        ``total_units``, so the batch's weights are known before a child starts).
        """
        t = now()
        batch_id = str(uuid.uuid4())
        with self._write() as conn:
            conn.execute(
                insert(batches).values(
                    id=batch_id, label=label, fail_fast=fail_fast, created_at=t, updated_at=t
                )
            )
            rows = []
            for child in children:
                values = new_job_values(**child, batch_id=batch_id)
                conn.execute(insert(jobs).values(**values))
                row = self._row(conn, values["id"])
                assert row is not None
                self._event(conn, row["id"], "status", row)
                rows.append(row)
            batch = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().one()
            return dict(batch), rows

    def get_batch(self, batch_id: str) -> dict[str, Any] | None:
        with self._read() as conn:
            row = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().first()
            return dict(row) if row else None

    def list_batches(self, *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        with self._read() as conn:
            total = conn.execute(select(func.count()).select_from(batches)).scalar_one()
            rows = conn.execute(
                select(batches)
                .order_by(batches.c.created_at.desc(), batches.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).mappings()
            return [dict(r) for r in rows], int(total)

    def batch_children(self, batch_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Children rows (without spec) per batch, oldest first."""
        ids = list(batch_ids)
        out: dict[str, list[dict[str, Any]]] = {b: [] for b in ids}
        if not ids:
            return out
        cols = [c for c in jobs.c if c.name != "spec"]
        with self._read() as conn:
            rows = conn.execute(
                select(*cols).where(jobs.c.batch_id.in_(ids)).order_by(jobs.c.created_at, jobs.c.id)
            ).mappings()
            for r in rows:
                out[r["batch_id"]].append(dict(r))
        return out

    def request_batch_cancel(self, batch_id: str) -> list[str]:
        """Mark the batch cancelled and cancel every active child; returns their ids."""
        with self._write() as conn:
            res = conn.execute(
                update(batches)
                .where(batches.c.id == batch_id)
                .values(cancellation_requested=True, updated_at=now())
            )
            if not res.rowcount:
                raise KeyError(batch_id)
        return self._cancel_active_children([batch_id])

    def _cancel_active_children(self, batch_ids: list[str]) -> list[str]:
        active = [s.value for s in ACTIVE]
        with self._read() as conn:
            ids = (
                conn.execute(
                    select(jobs.c.id).where(
                        jobs.c.batch_id.in_(batch_ids), jobs.c.status.in_(active)
                    )
                )
                .scalars()
                .all()
            )
        cancelled = []
        for job_id in ids:
            try:
                self.request_cancel(job_id)
                cancelled.append(job_id)
            except (KeyError, Conflict):
                pass  # it ended meanwhile
        return cancelled

    def enforce_fail_fast(self) -> list[str]:
        """Cancel the active children of fail-fast batches where a child errored."""
        errored = (
            select(jobs.c.batch_id)
            .join(batches, batches.c.id == jobs.c.batch_id)
            .where(batches.c.fail_fast.is_(True), jobs.c.status == JobStatus.ERROR.value)
        )
        active = [s.value for s in ACTIVE]
        with self._read() as conn:
            ids = (
                conn.execute(
                    select(jobs.c.batch_id)
                    .where(jobs.c.batch_id.in_(errored), jobs.c.status.in_(active))
                    .distinct()
                )
                .scalars()
                .all()
            )
        return self._cancel_active_children(list(ids)) if ids else []


__all__ = ["ACTIVE", "TERMINAL", "Conflict", "Store"]
