"""The append-only event log every transport reads (polling, SSE, WebSocket, CLI)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from montesim.jobs.store.base import StoreBase
from montesim.jobs.tables import job_events

Event = dict[str, Any]


def _event_dict(r: Any) -> Event:
    return {"id": r["id"], "job_id": r["job_id"], "ts": r["ts"], "kind": r["kind"], **r["data"]}


class EventsStore(StoreBase):
    def events(self, job_id: str, after: int = 0, limit: int = 1000) -> list[Event]:
        with self._read() as conn:
            rows = conn.execute(
                select(job_events)
                .where(job_events.c.job_id == job_id, job_events.c.id > after)
                .order_by(job_events.c.id)
                .limit(limit)
            ).mappings()
            return [_event_dict(r) for r in rows]

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
    ) -> list[Event]:
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
            return [_event_dict(r) for r in rows]

    def latest_events(self, job_ids: Iterable[str], upto: int | None = None) -> dict[str, Event]:
        """Each job's newest event up to ``upto`` (its state as the log recorded it then)."""
        ids = list(job_ids)
        if not ids:
            return {}
        conds: list[Any] = [job_events.c.job_id.in_(ids)]
        if upto is not None:
            conds.append(job_events.c.id <= upto)
        newest = select(func.max(job_events.c.id)).where(*conds).group_by(job_events.c.job_id)
        with self._read() as conn:
            rows = conn.execute(select(job_events).where(job_events.c.id.in_(newest))).mappings()
            return {r["job_id"]: _event_dict(r) for r in rows}
