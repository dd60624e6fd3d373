"""One event-log poller per process, fanned out to every stream client.

A single task reads new rows of ``job_events`` (``id > cursor``) in a worker thread and
hands each event to the queues of the subscribers that follow its job, so a hundred
clients cost one query, not a hundred. Events always come from the log; when this
process itself commits an event, the store's ``on_commit`` hook wakes the poller at
once instead of at its next tick, which only cuts latency.

``cursor`` is a safe horizon: every event id at or below it is published (or known
never to exist). On PostgreSQL ids come from a sequence and concurrent transactions
may commit out of order, so an event that arrives above a gap waits until the gap
fills or is old enough to be a rolled-back id; that keeps ids a valid resume point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import anyio.to_thread

from montesim.jobs.store import Store

log = logging.getLogger("montesim.streams")

Event = dict[str, Any]


class Subscription:
    """One client's queue of live events (of some jobs, or of all when ``job_ids`` is None)."""

    def __init__(self, job_ids: frozenset[str] | None, max_backlog: int) -> None:
        self.job_ids = job_ids
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.max_backlog = max_backlog
        # A client too slow to keep up is cut off; it resumes from the log with Last-Event-ID.
        self.overflowed = False

    def deliver(self, ev: Event) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= self.max_backlog:
            self.overflowed = True
            return
        self.queue.put_nowait(ev)


class EventBroker:
    def __init__(
        self,
        store: Store,
        *,
        poll_seconds: float = 0.1,
        gap_seconds: float = 2.0,
        page: int = 1000,
        max_backlog: int = 10_000,
    ) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.gap_seconds = gap_seconds
        # SQLite serialises writers, so ids commit in order and a gap never fills later.
        self.hold_gaps = not store.is_sqlite
        self.page = page
        self.max_backlog = max_backlog
        self.cursor = 0
        self.polls = 0
        self._pending: dict[int, Event] = {}
        self._gap_since: float | None = None
        self._subs: set[Subscription] = set()
        self._by_job: dict[str, set[Subscription]] = {}
        self._all: set[Subscription] = set()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._start_lock: asyncio.Lock | None = None
        store.on_commit(self.hint)

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    # -- subscribers --------------------------------------------------------------

    async def subscribe(self, job_ids: frozenset[str] | None) -> tuple[Subscription, int]:
        """Register a client; returns its queue and the cursor its live events start after."""
        await self._ensure_running()
        assert self._start_lock is not None
        async with self._start_lock:
            if not self._subs:
                # The poller idles without subscribers; start from the log's end again.
                self.cursor = await anyio.to_thread.run_sync(self.store.last_event_id)
                self._pending.clear()
            sub = Subscription(job_ids, self.max_backlog)
            # No await between reading the cursor and registering: nothing slips between.
            self._register(sub)
            cursor = self.cursor
        assert self._wake is not None
        self._wake.set()
        return sub, cursor

    def _register(self, sub: Subscription) -> None:
        job_ids = sub.job_ids
        self._subs.add(sub)
        if job_ids is None:
            self._all.add(sub)
        else:
            for job_id in job_ids:
                self._by_job.setdefault(job_id, set()).add(sub)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        self._all.discard(sub)
        for job_id in sub.job_ids or ():
            subs = self._by_job.get(job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_job[job_id]

    def hint(self) -> None:
        """Thread-safe: an event was committed in this process; poll now."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or not self._subs:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(wake.set)

    # -- the poller ---------------------------------------------------------------

    async def _ensure_running(self) -> None:
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._task is not None and not self._task.done():
                return
            self._loop = asyncio.get_running_loop()
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="event-broker")

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._subs:
                # Idle: no queries until someone subscribes; then catch up from the log.
                await self._wake.wait()
                self._wake.clear()
                if not self._subs:
                    continue
            self._wake.clear()
            try:
                rows = await anyio.to_thread.run_sync(
                    self.store.events_range, None, self.cursor, None, self.page
                )
            except Exception:
                log.warning("event poll failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            self.polls += 1
            published = self.absorb(rows, time.monotonic())
            for ev in published:
                self._fan_out(ev)
            if published and len(rows) >= self.page:
                continue  # more waiting in the log
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)

    def absorb(self, rows: list[Event], now: float) -> list[Event]:
        """Move the cursor over newly read events; returns those now safe to publish."""
        for ev in rows:
            if ev["id"] > self.cursor:
                self._pending.setdefault(ev["id"], ev)
        out = []
        for event_id in sorted(self._pending):
            if self.hold_gaps and event_id != self.cursor + 1:
                if self._gap_since is None:
                    self._gap_since = now
                if now - self._gap_since < self.gap_seconds:
                    break  # an earlier id may still commit
            self._gap_since = None
            out.append(self._pending.pop(event_id))
            self.cursor = event_id
        return out

    def _fan_out(self, ev: Event) -> None:
        for sub in self._by_job.get(ev["job_id"], ()):
            sub.deliver(ev)
        for sub in self._all:
            sub.deliver(ev)
