"""The JSON view of a job that every client (API, streams, CLI) sees."""

from __future__ import annotations

from typing import Any

from montesim.jobs.progress import iso, record


def links(job_id: str) -> dict[str, str]:
    base = f"/api/jobs/{job_id}"
    return {
        "self": base,
        "result": f"{base}/result",
        "events": f"{base}/events",
        "stream": f"{base}/stream",
        "cancel": f"{base}/cancel",
    }


def job_view(row: dict[str, Any], *, with_spec: bool = False) -> dict[str, Any]:
    out = {
        "job_id": row["id"],
        "engine": row["engine"],
        "label": row["label"],
        "spec_summary": row["spec_summary"],
        "batch_id": row.get("batch_id"),
        "attempt": row["attempt"],
        "created_at": iso(row["created_at"]),
        "queued_at": iso(row["queued_at"]),
        "started_at": iso(row["started_at"]),
        "completed_at": iso(row["completed_at"]),
        "heartbeat_at": iso(row["heartbeat_at"]),
        **record(row),
        "links": links(row["id"]),
    }
    if row["status"] == "error":
        out["error"] = {
            "code": row["error_code"],
            "message": row["error_message"],
            "detail": row["error_detail"],
        }
    if with_spec:
        out["spec"] = row["spec"]
    return out
