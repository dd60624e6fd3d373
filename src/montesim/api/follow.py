"""What one stream client receives: a snapshot or a replay from Last-Event-ID, then live events.

Both transports (SSE and WebSocket) iterate :func:`follow`; it reads only the event log
(through the broker) and the store, never a side channel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

import anyio.to_thread

from montesim.jobs.broker import Event, EventBroker
from montesim.jobs.states import ACTIVE, TERMINAL
from montesim.jobs.store import Store

TERMINAL_STATUSES = frozenset(s.value for s in TERMINAL)
MAX_SNAPSHOT_JOBS = 500


class Coalescer:
    """At most one progress event per job per ``interval``; the newest one wins.

    Other events (status changes, stages, stall flags) pass at once, and a pending
    progress event is dropped when a newer event of its job passes: that event carries
    the job's whole, newer state. So a terminal event is never held or dropped.
    """

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._sent: dict[str, float] = {}
        self._pending: dict[str, Event] = {}

    def offer(self, ev: Event) -> list[Event]:
        job_id = ev["job_id"]
        if ev["kind"] != "progress":
            self._pending.pop(job_id, None)
            return [ev]
        now = self.clock()
        if now - self._sent.get(job_id, -1e18) >= self.interval:
            self._sent[job_id] = now
            self._pending.pop(job_id, None)
            return [ev]
        self._pending[job_id] = ev
        return []

    def due(self) -> list[Event]:
        now = self.clock()
        out = [ev for job, ev in self._pending.items() if now - self._sent[job] >= self.interval]
        for ev in out:
            del self._pending[ev["job_id"]]
            self._sent[ev["job_id"]] = now
        return sorted(out, key=lambda e: e["id"])

    def wait_seconds(self) -> float | None:
        """Seconds until the next held event is due (None: nothing held)."""
        if not self._pending:
            return None
        now = self.clock()
        return max(0.0, min(self._sent[j] + self.interval - now for j in self._pending))


@dataclass
class Outgoing:
    event: Event
    # The resume id to send with it, or None where it would not be monotonic.
    resume_id: int | None


async def follow(
    broker: EventBroker,
    store: Store,
    job_ids: Iterable[str] | None,
    *,
    after: int | None = None,
    coalesce_seconds: float = 0.1,
    visible: str | None = None,
) -> AsyncIterator[Outgoing]:
    """Events of ``job_ids`` (None: every job ``visible`` may see, or every job when that
    is None); ends once each listed job is terminal. Listed jobs are checked by the caller.

    Without ``after`` the client first gets each job's current state (``kind:
    "snapshot"``, with the cursor as its id); with it, the log after that id is replayed.
    """
    ids = frozenset(job_ids) if job_ids is not None else None
    owners = OwnerFilter(store, visible if ids is None else None)
    sub, cursor = await broker.subscribe(ids)
    coalescer = Coalescer(coalesce_seconds)
    open_jobs = set(ids) if ids is not None else None
    last_id = -1 if after is None else after
    floor = cursor if after is None else max(after, 0)

    def emit(ev: Event) -> Outgoing:
        nonlocal last_id
        if open_jobs is not None and ev.get("status") in TERMINAL_STATUSES:
            open_jobs.discard(ev["job_id"])
        resume = ev["id"] if ev["id"] > last_id else None
        if resume is not None:
            last_id = resume
        return Outgoing(ev, resume)

    def finished() -> bool:
        return open_jobs is not None and not open_jobs

    try:
        if after is None:
            for ev in await anyio.to_thread.run_sync(_snapshots, store, ids, cursor, visible):
                yield emit(ev)
        else:
            async for ev in _replay(store, ids, after, cursor):
                if await owners.sees(ev):
                    yield emit(ev)
            if open_jobs:
                # Jobs whose terminal event the client saw before it reconnected.
                latest = await anyio.to_thread.run_sync(store.latest_events, open_jobs, cursor)
                open_jobs -= {j for j, ev in latest.items() if ev["status"] in TERMINAL_STATUSES}
        while not finished():
            live: Event | None
            try:
                live = await asyncio.wait_for(sub.queue.get(), coalescer.wait_seconds())
            except TimeoutError:
                live = None
            out = coalescer.due()
            if live is not None and live["id"] > floor and await owners.sees(live):
                out += coalescer.offer(live)
            for item in out:
                yield emit(item)
                if finished():
                    return
            if sub.overflowed and sub.queue.empty():
                return  # too slow: the client resumes from the log with its last id
    finally:
        broker.unsubscribe(sub)


class OwnerFilter:
    """Which events of the every-job stream one owner may see (None: all): those of its
    own jobs. A job's owner never changes, so each is looked up once per stream."""

    def __init__(self, store: Store, visible: str | None) -> None:
        self.store = store
        self.visible = visible
        self._owners: dict[str, str | None] = {}

    async def sees(self, ev: Event) -> bool:
        if self.visible is None:
            return True
        job_id = ev["job_id"]
        if job_id not in self._owners:
            job = await anyio.to_thread.run_sync(self.store.get_job, job_id)
            self._owners[job_id] = job.owner if job is not None else None
        return self._owners[job_id] == self.visible


def _snapshots(
    store: Store, ids: frozenset[str] | None, cursor: int, visible: str | None = None
) -> list[Event]:
    if ids is None:
        rows, _ = store.list_jobs(statuses=ACTIVE, visible=visible, limit=MAX_SNAPSHOT_JOBS)
        job_ids: Iterable[str] = [r.id for r in rows]
    else:
        job_ids = ids
    latest = store.latest_events(job_ids, upto=cursor)
    return [
        {**ev, "kind": "snapshot", "event_id": ev["id"], "id": cursor}
        for ev in sorted(latest.values(), key=lambda e: e["id"])
    ]


async def _replay(
    store: Store, ids: frozenset[str] | None, after: int, upto: int
) -> AsyncIterator[Event]:
    while after < upto:
        page = await anyio.to_thread.run_sync(store.events_range, ids, after, upto, 1000)
        if not page:
            return
        for ev in page:
            yield ev
        after = page[-1]["id"]
