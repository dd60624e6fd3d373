"""The process list: each montesim process heartbeats a row; operators read them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.tables import workers


class WorkersStore(StoreBase):
    def beat_worker(self, worker_id: str, **values: Any) -> None:
        """Insert or refresh this process's row (``values``: the columns that changed)."""
        t = now()
        with self._write() as conn:
            res = conn.execute(
                update(workers).where(workers.c.id == worker_id).values(heartbeat_at=t, **values)
            )
            if not res.rowcount:
                conn.execute(
                    insert(workers).values(id=worker_id, started_at=t, heartbeat_at=t, **values)
                )

    def remove_worker(self, worker_id: str) -> None:
        with self._write() as conn:
            conn.execute(delete(workers).where(workers.c.id == worker_id))

    def list_workers(self, *, forget_after: float) -> list[dict[str, Any]]:
        """Rows newest first; rows silent for ``forget_after`` seconds are deleted."""
        with self._write() as conn:
            conn.execute(delete(workers).where(workers.c.heartbeat_at < now() - forget_after))
        with self._read() as conn:
            rows = conn.execute(select(workers).order_by(workers.c.started_at.desc())).mappings()
            return [dict(r) for r in rows]

    def live_workers(self, within: float) -> list[dict[str, Any]]:
        """Rows that heartbeat in the last ``within`` seconds."""
        with self._read() as conn:
            rows = conn.execute(
                select(workers).where(workers.c.heartbeat_at >= now() - within)
            ).mappings()
            return [dict(r) for r in rows]
