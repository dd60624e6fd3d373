"""Retention: finished jobs older than the limit, or beyond the newest N, are deleted."""

from __future__ import annotations

from sqlalchemy import delete, select

from montesim.jobs.states import TERMINAL
from montesim.jobs.store.base import now
from montesim.jobs.store.jobs import JobsStore
from montesim.jobs.tables import jobs


class RetentionStore(JobsStore):
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
