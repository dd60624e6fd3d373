"""Is a job's owner still alive? Failover in seconds instead of a lease.

A lease only says a worker stopped renewing; waiting it out costs a whole lease on every
crash. Each process that runs jobs therefore shows a sign of life that vanishes with it:

- On PostgreSQL, a session advisory lock keyed by its owner id, held on a connection of
  its own. When the process dies (``kill -9``, OOM, a crash), its socket closes and the
  server drops the lock at once; ``pg_locks`` shows every live owner's lock.
- On one machine (SQLite), its process id: a dead pid is a dead owner (``owner_is_dead``).

A missing lock is not enough on its own: a database restart or dropped connections take
every lock away, and live owners take theirs again only once they reconnect. So another
worker takes a job over only when its owner's lock has been missing *and* the job's
heartbeat (renewed every ``heartbeat_seconds`` by a live runner, see ``lease``) has not
moved for ``grace`` seconds of its own clock. A live owner keeps renewing through such an
outage and is never taken for dead; a dead one is found in about ``grace`` plus one
recovery tick. The lease stays as the last resort (a machine that vanished without
closing its sockets is found when TCP gives up or the lease expires).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid

from sqlalchemy import Connection, text

from montesim.jobs.model import Job
from montesim.jobs.store import Store

log = logging.getLogger("montesim.liveness")


def make_owner() -> str:
    """A unique owner id for this process: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_dead(owner: str | None, live_here: set[str] | frozenset[str] = frozenset()) -> bool:
    """True when ``owner`` names a process on this host that no longer exists (or this
    very process, when ``owner`` is not one of its ``live_here`` owners)."""
    if not owner:
        return True
    try:
        host, pid_text, _ = owner.split(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False  # another machine: its liveness lock or its lease tells
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return pid == os.getpid() and owner not in live_here


def lock_key(owner: str) -> int:
    """The signed 64-bit advisory lock key of an owner id."""
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:8], "big", signed=True)


def _signed(classid: int, objid: int) -> int:
    """The 64-bit key pg_locks shows split into two 32-bit halves."""
    key = (int(classid) << 32) | int(objid)
    return key - (1 << 64) if key >= 1 << 63 else key


class Liveness:
    """This process's sign of life in the store, and the test of another owner's."""

    def __init__(self, store: Store, owner: str, *, grace: float, every: float = 1.0) -> None:
        self.store = store
        self.owner = owner
        self.grace = grace
        self.every = every
        self.uses_locks = not store.is_sqlite
        self._conn: Connection | None = None
        self.held = threading.Event()  # our lock is held now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # job id -> (when its owner's lock was first seen missing, its heartbeat then)
        self._missing: dict[str, tuple[float, float | None]] = {}

    # -- our own sign of life -----------------------------------------------------------

    def start(self) -> None:
        if not self.uses_locks:
            return
        self._hold()
        self._thread = threading.Thread(target=self._loop, name="liveness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._drop()

    def _hold(self) -> bool:
        """Take our lock on a connection of its own; False while the store is away."""
        try:
            if self._conn is None:
                self._conn = self.store.engine.connect()
            taken = self._conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(self.owner)}
            ).scalar()
            self._conn.commit()
        except Exception as exc:
            self._drop()
            if self.held.is_set():
                log.warning("liveness lock lost (%s); taking it again", str(exc)[:200])
            self.held.clear()
            return False
        if taken:
            self.held.set()
        return bool(taken)

    def _check(self) -> bool:
        """Our lock is still held on our connection."""
        assert self._conn is not None
        held = self._conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND pid = pg_backend_pid() AND objsubid = 1"
            )
        ).scalar()
        self._conn.commit()
        return bool(held)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if self._conn is not None and self._check():
                    continue
            except Exception:
                self._drop()
            self.held.clear()
            self._hold()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # a session lock must not go back to the pool
                conn.close()
            except Exception:
                pass

    # -- others' ------------------------------------------------------------------------

    def live_keys(self) -> set[int] | None:
        """The lock keys of every live owner; None where the store has no such locks."""
        if not self.uses_locks:
            return None
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT classid, objid FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                )
            ).all()
        return {_signed(c, o) for c, o in rows}

    def gone(self, job: Job, live: set[int] | None) -> bool:
        """True once ``job``'s owner has shown no lock and no heartbeat for ``grace``."""
        if live is None or not self.held.is_set() or not job.lease_owner:
            self._missing.pop(job.id, None)
            return False
        if lock_key(job.lease_owner) in live:
            self._missing.pop(job.id, None)
            return False
        t = time.monotonic()
        first, beat = self._missing.setdefault(job.id, (t, job.heartbeat_at))
        if beat != job.heartbeat_at:  # it still renews: alive, reconnecting
            self._missing[job.id] = (t, job.heartbeat_at)
            return False
        return t - first >= self.grace

    def forget(self, job_ids: set[str]) -> None:
        """Drop what we noted of jobs no longer running elsewhere."""
        for job_id in [j for j in self._missing if j not in job_ids]:
            del self._missing[job_id]
