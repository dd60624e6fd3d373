"""The progress record clients see: fraction, done/total, rate, ETA, stall flag.

Everything here is derived from the stored job row, so every reader (API, streams, CLI)
computes the same numbers from the same truth.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def fraction(done: int, total: int) -> float:
    if total <= 0:
        return 0.0
    return min(1.0, max(0.0, done / total))


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def rate(row: dict[str, Any], at: float | None = None) -> float | None:
    """Units per second over the current attempt, from persisted work only."""
    started = row.get("attempt_started_at")
    done = row.get("attempt_done_units") or 0
    if not started or done <= 0:
        return None
    end = row.get("progress_at") or at or time.time()
    elapsed = end - started
    return done / elapsed if elapsed > 0 else None


def record(row: dict[str, Any], at: float | None = None) -> dict[str, Any]:
    """The progress record of a job row (JSON-able)."""
    t = at or time.time()
    status = row["status"]
    total = int(row.get("total_units") or 0)
    done = int(row.get("done_units") or 0)
    r = rate(row, t)
    eta = None
    if status == "running" and r and total > done:
        eta = (total - done) / r
    started = row.get("started_at")
    end = row.get("completed_at") or t
    return {
        "status": status,
        "progress": fraction(done, total) if status != "complete" else 1.0,
        "done": done,
        "total": total,
        "unit": row.get("unit") or "units",
        "chunks_done": int(row.get("chunks_done") or 0),
        "chunks_total": int(row.get("chunks_total") or 0),
        "stage": row.get("stage"),
        "stage_message": row.get("stage_message"),
        "rate": r,
        "eta_seconds": eta,
        "elapsed_seconds": (end - started) if started else None,
        "stalled": bool(row.get("stalled")),
        "cancellation_requested": bool(row.get("cancellation_requested")),
        "updated_at": iso(row.get("updated_at")),
        "error": (
            {
                "code": row.get("error_code"),
                "message": row.get("error_message"),
            }
            if status == "error"
            else None
        ),
    }


def stall_threshold(chunk_seconds: list[float], floor: float) -> float:
    """No progress for longer than this means stalled: several times the slowest recent chunk."""
    if not chunk_seconds:
        return floor
    return max(floor, 5.0 * max(chunk_seconds))
