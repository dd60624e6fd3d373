"""The progress record clients see: fraction, done/total, rate, ETA, stall flag.

Everything here is derived from the stored job, so every reader (API, streams, CLI)
computes the same numbers from the same truth.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from montesim.jobs.states import JobStatus

if TYPE_CHECKING:
    from montesim.jobs.model import Job

# The stages the runner itself sets, as (stage, message). The store records the first
# with the claim and the merge with the last chunk, each in the same write.
VALIDATING = ("validating", "Reading and checking the inputs")


MERGING = "merging"


def merging(chunks: int) -> tuple[str, str]:
    return MERGING, f"Merging {chunks} chunks"


def fraction(done: int, total: int) -> float:
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, done / total))


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def rate(job: Job, at: float | None = None) -> float | None:
    """Units per second over the current attempt, from persisted work only; None (unknown)
    until a chunk of this attempt is persisted.

    The clock starts when the first chunk persisted in this attempt started
    (``rate_since``), so time spent waiting for a pool slot, or validating, is not taken
    for slow work (an ETA that says minutes for a job about to end).
    """
    started = job.rate_since or job.attempt_started_at
    done = job.attempt_done_units
    if not started or done <= 0:
        return None
    end = job.progress_at or at or time.time()
    elapsed = end - started
    return done / elapsed if elapsed > 0 else None


def record(job: Job, at: float | None = None) -> dict[str, Any]:
    """The progress record of a job (JSON-able)."""
    t = at or time.time()
    status = job.status
    total = job.total_units
    done = job.done_units
    r = rate(job, t)
    eta = None
    if status == JobStatus.RUNNING and r and total > done:
        eta = (total - done) / r
    started = job.started_at
    end = job.completed_at or t
    return {
        "status": status.value,
        "progress": fraction(done, total) if status != JobStatus.COMPLETE else 1.0,
        "done": done,
        "total": total,
        "unit": job.unit or "units",
        "chunks_done": job.chunks_done,
        "chunks_total": job.chunks_total,
        "stage": job.stage,
        "stage_message": job.stage_message,
        "rate": r,
        "eta_seconds": eta,
        "elapsed_seconds": (end - started) if started else None,
        "stalled": job.stalled,
        "cancellation_requested": job.cancellation_requested,
        "cancel_late": job.cancel_late,  # cancelled while merging: the result was kept
        "updated_at": iso(job.updated_at),
        "error": (
            {"code": job.error_code, "message": job.error_message}
            if status == JobStatus.ERROR
            else None
        ),
    }


def stall_threshold(chunk_seconds: list[float], floor: float) -> float:
    """No progress for longer than this means stalled: several times the slowest recent chunk."""
    if not chunk_seconds:
        return floor
    return max(floor, 5.0 * max(chunk_seconds))
