"""Retention: finished jobs older than the limit, or beyond their owner's newest N, are
deleted; none younger than the minimum age."""

from __future__ import annotations

from sqlalchemy import delete, func, select

from montesim.jobs.states import TERMINAL
from montesim.jobs.store.base import now
from montesim.jobs.store.jobs import JobsStore
from montesim.jobs.tables import jobs


class RetentionStore(JobsStore):
    def prune(self, *, max_age_seconds: float, max_jobs: int, min_age_seconds: float = 0) -> int:
        """Delete terminal jobs older than ``max_age_seconds``, or beyond their owner's
        newest ``max_jobs``; never one that finished less than ``min_age_seconds`` ago, so
        nobody can flush others' fresh results by submitting many jobs."""
        terminal = [s.value for s in TERMINAL]
        t = now()
        young = t - min_age_seconds
        cutoff = min(t - max_age_seconds, young)
        rank = (
            func.row_number()
            .over(partition_by=jobs.c.owner, order_by=(jobs.c.created_at.desc(), jobs.c.id.desc()))
            .label("rank")
        )
        ranked = (
            select(jobs.c.id, jobs.c.completed_at, rank)
            .where(jobs.c.status.in_(terminal))
            .subquery()
        )
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
                    select(ranked.c.id).where(
                        ranked.c.rank > max_jobs, ranked.c.completed_at < young
                    )
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
