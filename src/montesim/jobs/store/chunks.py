"""Chunks: each finished chunk's partial, persisted before it counts; the final result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from montesim.jobs import progress as progress_mod
from montesim.jobs.model import Job
from montesim.jobs.states import JobStatus
from montesim.jobs.store.base import StoreBase, now
from montesim.jobs.store.jobs import LATE_CANCEL
from montesim.jobs.tables import job_artifacts, job_chunks, job_results, jobs


class ChunksStore(StoreBase):
    def put_chunk(
        self,
        job_id: str,
        owner: str,
        chunk_index: int,
        size: int,
        data: bytes,
        seconds: float = 0.0,
        *,
        attempt: int | None = None,
    ) -> Job | None:
        """Persist a chunk's partial, then move progress to what is persisted.

        Returns the updated job, or None when this owner (attempt) no longer holds a
        running job (cancelled, taken over): the partial is then not written.
        """
        t = now()
        with self._write() as conn:
            # The fence first: nothing below is written by a stale runner.
            if not self._take_row(conn, job_id, owner, attempt, t):
                return None
            row = self._must_row(conn, job_id)
            # Written again (a retried write whose first try committed): already counted.
            again = conn.execute(
                delete(job_chunks).where(
                    job_chunks.c.job_id == job_id, job_chunks.c.chunk_index == chunk_index
                )
            ).rowcount
            conn.execute(
                insert(job_chunks).values(
                    job_id=job_id,
                    chunk_index=chunk_index,
                    size=size,
                    data=data if self.signer is None else self.signer.sign(data),
                    seconds=seconds,
                    created_at=t,
                )
            )
            done, count = self._persisted(conn, job_id)
            stage: dict[str, Any] = {}
            if row.rate_since is None:  # the rate counts from this chunk's start
                stage["rate_since"] = t - max(0.0, seconds)
            if done == row.total_units and count == row.chunks_total:
                # Every chunk is in: the merge starts now (a late in-chunk report is dropped).
                stage["stage"], stage["stage_message"] = progress_mod.merging(count)
            conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id)
                .values(
                    **stage,
                    done_units=done,
                    chunks_done=count,
                    progress=progress_mod.fraction(done, row.total_units),
                    attempt_done_units=jobs.c.attempt_done_units + (0 if again else size),
                    progress_at=t,
                    stalled=False,
                    updated_at=t,
                )
            )
            new = self._must_row(conn, job_id)
            self._event(conn, new, "progress")
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
            data = conn.execute(
                select(job_chunks.c.data).where(
                    job_chunks.c.job_id == job_id, job_chunks.c.chunk_index == chunk_index
                )
            ).scalar()
            return None if data is None else self._unsealed(bytes(data), chunk_index)

    def chunk_partials(self, job_id: str) -> list[tuple[int, int, bytes]]:
        """All persisted ``(index, size, data)`` in chunk order."""
        with self._read() as conn:
            rows = conn.execute(
                select(job_chunks.c.chunk_index, job_chunks.c.size, job_chunks.c.data)
                .where(job_chunks.c.job_id == job_id)
                .order_by(job_chunks.c.chunk_index)
            )
            return [(int(i), int(s), self._unsealed(bytes(d), int(i))) for i, s, d in rows]

    def _unsealed(self, blob: bytes, chunk_index: int) -> bytes:
        if self.signer is None:
            return blob
        return self.signer.verify(blob, f"the stored partial of chunk {chunk_index}")

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
        artifacts: Mapping[str, tuple[str, bytes]],
        *,
        attempt: int | None = None,
    ) -> Job | None:
        """Store the result and enter ``complete`` in one transaction, exactly once.

        None, with nothing written, unless this owner (attempt) still holds the running
        job; only when every chunk is persisted (done == total): anything less is not
        complete.
        """
        t = now()
        with self._write() as conn:
            if not self._take_row(conn, job_id, owner, attempt, t):
                return None
            row = self._must_row(conn, job_id)
            done, count = self._persisted(conn, job_id)
            if done != row.total_units or count != row.chunks_total:
                raise RuntimeError(
                    f"result covers {done} of {row.total_units} {row.unit} "
                    f"({count} of {row.chunks_total} chunks)"
                )
            # A running job has no result rows yet: terminal states are final.
            conn.execute(insert(job_results).values(job_id=job_id, summary=summary, created_at=t))
            for name, (media_type, data) in artifacts.items():
                conn.execute(
                    insert(job_artifacts).values(
                        job_id=job_id, name=name, media_type=media_type, data=data
                    )
                )
            new = self._transition(
                conn,
                job_id,
                JobStatus.COMPLETE,
                owner=owner,
                in_attempt=attempt,
                stage="complete",
                stage_message=LATE_CANCEL if row.cancel_late else None,
            )
            if new is None:  # cannot happen while the row is held; never commit half
                raise RuntimeError(f"job {job_id} left its running state while completing")
            conn.execute(delete(job_chunks).where(job_chunks.c.job_id == job_id))
            return new
