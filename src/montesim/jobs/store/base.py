"""The store's connection handling, commit hooks and the helpers every concern shares.

Every status change is a conditional UPDATE whose WHERE clause lists the states the
target may be entered from, so a terminal job can never change again, whatever Python
does around it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Engine as SAEngine
from sqlalchemy.exc import DBAPIError

from montesim.errors import StoreUnavailable
from montesim.jobs import progress as progress_mod
from montesim.jobs.model import Job
from montesim.jobs.signing import Signer
from montesim.jobs.states import JobStatus, sources_of
from montesim.jobs.tables import files, job_chunks, job_events, jobs, meta

log = logging.getLogger("montesim.store")

_EVENT_WRITTEN = "montesim_event_written"


def now() -> float:
    return time.time()


def _configure_sqlite(engine: SAEngine, *, throwaway: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event decide between BEGIN and BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if throwaway:
            # A store that lives as long as this process (run_now): nothing resumes from
            # it after a crash, so it needs no durability; transactions still roll back
            # (a journal file: one in memory would hold every page that the completing
            # transaction frees, the whole run's partials). Writing a run's partials
            # (160 MB for 200 kept inputs x 100,000 iterations) costs a third of what
            # WAL's write-then-checkpoint does.
            cur.execute("PRAGMA journal_mode=DELETE")
            cur.execute("PRAGMA synchronous=OFF")
        else:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# The job columns list rows carry (the spec may be large) and the file name joined in.
_LIST_COLUMNS = [c for c in jobs.c if c.name != "spec"]


class StoreBase:
    """Engine, transactions, commit hooks; one instance per process, thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        migrate: bool = True,
        signer: Signer | None = None,
        throwaway: bool = False,
    ) -> None:
        self.url = url
        # Signs what is later unpickled (chunk partials); None: a bare store for tests.
        self.signer = signer
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=16
            )
            _configure_sqlite(self.engine, throwaway=throwaway)
        else:
            self.engine = create_engine(url, pool_size=16, max_overflow=16, pool_pre_ping=True)
        self._commit_listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        # SQLite has one writer at a time; writers of this process queue on a lock rather
        # than in SQLite's busy handler, which sleeps (1 ms, 2 ms, 5 ms, ...) between tries.
        self._sqlite_writer = threading.RLock() if self.is_sqlite else None
        if migrate:
            from montesim.jobs.migrate import upgrade

            upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # -- hooks ------------------------------------------------------------------------

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (from the writing thread) after a transaction that wrote
        job events commits. The stream broker uses it to poll at once."""
        with self._lock:
            self._commit_listeners.append(listener)

    def _committed_events(self) -> None:
        for listener in list(self._commit_listeners):
            try:
                listener()
            except Exception:  # a listener must never fail a write
                log.exception("commit listener failed")

    # -- transactions ---------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: BEGIN IMMEDIATE on SQLite so writers queue up front."""
        with self._sqlite_writer or nullcontext(), self.engine.connect() as conn:
            conn.execution_options(immediate=True)
            with conn.begin():
                yield conn
            wrote_events = conn.info.pop(_EVENT_WRITTEN, False)
        if wrote_events:
            self._committed_events()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> bool:
        with self._read() as conn:
            conn.execute(select(1))
        return True

    def probe_write(self) -> None:
        """Commit a tiny write; raises StoreUnavailable when the store cannot be written."""
        try:
            with self._write() as conn:
                t = now()
                res = conn.execute(update(meta).where(meta.c.key == "probe").values(updated_at=t))
                if not res.rowcount:
                    conn.execute(insert(meta).values(key="probe", value=None, updated_at=t))
        except DBAPIError as exc:
            raise StoreUnavailable(_db_reason(exc)) from exc

    # -- shared helpers -------------------------------------------------------------

    def _row(self, conn: Connection, job_id: str, visible: str | None = None) -> Job | None:
        """The job, or None; with ``visible``, only a job of that owner (see Principal)."""
        conds = [jobs.c.id == job_id]
        if visible is not None:
            conds.append(jobs.c.owner == visible)
        row = (
            conn.execute(
                select(jobs, files.c.filename.label("file_name"))
                .select_from(jobs.outerjoin(files, files.c.id == jobs.c.file_id))
                .where(*conds)
            )
            .mappings()
            .first()
        )
        return Job.from_row(row) if row else None

    def _must_row(self, conn: Connection, job_id: str) -> Job:
        row = self._row(conn, job_id)
        assert row is not None, job_id
        return row

    @staticmethod
    def _list_select() -> Any:
        return select(*_LIST_COLUMNS, files.c.filename.label("file_name")).select_from(
            jobs.outerjoin(files, files.c.id == jobs.c.file_id)
        )

    def _event(self, conn: Connection, job: Job, kind: str) -> None:
        data = progress_mod.record(job)
        conn.execute(insert(job_events).values(job_id=job.id, ts=now(), kind=kind, data=data))
        conn.info[_EVENT_WRITTEN] = True

    def _transition(
        self,
        conn: Connection,
        job_id: str,
        target: JobStatus,
        *,
        owner: str | None = None,
        in_attempt: int | None = None,
        sources: frozenset[JobStatus] | None = None,
        **values: Any,
    ) -> Job | None:
        """Conditional UPDATE into ``target``; None when the job was not in a source state
        (or, with ``owner``/``in_attempt``, no longer held by them)."""
        t = now()
        allowed = sources_of(target) if sources is None else sources & sources_of(target)
        conds = [jobs.c.id == job_id, jobs.c.status.in_([s.value for s in allowed])]
        if owner is not None:
            conds.append(jobs.c.lease_owner == owner)
        if in_attempt is not None:
            conds.append(jobs.c.attempt == in_attempt)
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
        row = self._must_row(conn, job_id)
        self._event(conn, row, "status")
        return row

    @staticmethod
    def _held(job_id: str, owner: str, attempt: int | None) -> list[Any]:
        """The fence of a runner's write: the job runs, held by this owner in this attempt.

        A take-over bumps the attempt, so a stale runner's write matches no row, whatever
        its owner string; on PostgreSQL the matched row stays locked until the write
        commits, so no take-over can interleave with it.
        """
        conds = [
            jobs.c.id == job_id,
            jobs.c.lease_owner == owner,
            jobs.c.status == JobStatus.RUNNING.value,
        ]
        if attempt is not None:
            conds.append(jobs.c.attempt == attempt)
        return conds

    def _take_row(
        self, conn: Connection, job_id: str, owner: str, attempt: int | None, t: float
    ) -> bool:
        """Match (and on PostgreSQL lock until commit) the job's row while this attempt
        holds it and no cancel was asked for; False when it does not."""
        held = conn.execute(
            update(jobs)
            .where(*self._held(job_id, owner, attempt), jobs.c.cancellation_requested.is_(False))
            .values(heartbeat_at=t)
        )
        return bool(held.rowcount)

    def _update_owned(
        self,
        conn: Connection,
        job_id: str,
        owner: str,
        event: str | None,
        in_attempt: int | None = None,
        **values: Any,
    ) -> Job | None:
        """UPDATE a running job this owner holds; the job (and an event of kind ``event``),
        or None when the owner lost it or it ended."""
        res = conn.execute(
            update(jobs).where(*self._held(job_id, owner, in_attempt)).values(**values)
        )
        if not res.rowcount:
            return None
        row = self._must_row(conn, job_id)
        if event is not None:
            self._event(conn, row, event)
        return row

    @staticmethod
    def _persisted(conn: Connection, job_id: str) -> tuple[int, int]:
        done, count = conn.execute(
            select(func.coalesce(func.sum(job_chunks.c.size), 0), func.count()).where(
                job_chunks.c.job_id == job_id
            )
        ).one()
        return int(done), int(count)


def _db_reason(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.splitlines()[0][:300]
