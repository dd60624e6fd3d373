"""Batches: a parent row over queued children created in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select, update

from montesim.errors import Conflict
from montesim.jobs.model import Batch, Job
from montesim.jobs.states import ACTIVE, JobStatus
from montesim.jobs.store.base import now
from montesim.jobs.store.jobs import JobsStore, new_job_values
from montesim.jobs.tables import batches, jobs


class BatchesStore(JobsStore):
    def create_batch(
        self,
        *,
        label: str | None,
        fail_fast: bool,
        children: list[dict[str, Any]],
        owner: str | None = None,
    ) -> tuple[Batch, list[Job]]:
        """Insert a batch and its queued children in one transaction.

        ``children`` are keyword arguments of :func:`new_job_values` (with the planned
        ``total_units``, so the batch's weights are known before a child starts).
        """
        t = now()
        batch_id = str(uuid.uuid4())
        with self._write() as conn:
            conn.execute(
                insert(batches).values(
                    id=batch_id,
                    label=label,
                    fail_fast=fail_fast,
                    owner=owner[:200] if owner else None,
                    created_at=t,
                    updated_at=t,
                )
            )
            rows = []
            for child in children:
                values = new_job_values(**child, batch_id=batch_id)
                conn.execute(insert(jobs).values(**values))
                row = self._must_row(conn, values["id"])
                self._event(conn, row, "status")
                rows.append(row)
            batch = conn.execute(select(batches).where(batches.c.id == batch_id)).mappings().one()
            return Batch.from_row(batch), rows

    def get_batch(self, batch_id: str, visible: str | None = None) -> Batch | None:
        """The batch; with ``visible`` (an owner), None unless that owner's."""
        conds = [batches.c.id == batch_id]
        if visible is not None:
            conds.append(batches.c.owner == visible)
        with self._read() as conn:
            row = conn.execute(select(batches).where(*conds)).mappings().first()
            return Batch.from_row(row) if row else None

    def list_batches(
        self, *, visible: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Batch], int]:
        conds = [] if visible is None else [batches.c.owner == visible]
        with self._read() as conn:
            count = select(func.count()).select_from(batches).where(*conds)
            total = conn.execute(count).scalar_one()
            rows = conn.execute(
                select(batches)
                .where(*conds)
                .order_by(batches.c.created_at.desc(), batches.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).mappings()
            return [Batch.from_row(r) for r in rows], int(total)

    def batch_children(self, batch_ids: Iterable[str]) -> dict[str, list[Job]]:
        """Children (without spec) per batch, oldest first."""
        ids = list(batch_ids)
        out: dict[str, list[Job]] = {b: [] for b in ids}
        if not ids:
            return out
        with self._read() as conn:
            rows = conn.execute(
                self._list_select()
                .where(jobs.c.batch_id.in_(ids))
                .order_by(jobs.c.created_at, jobs.c.id)
            ).mappings()
            for r in rows:
                out[r["batch_id"]].append(Job.from_row(r))
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
