"""The JSON view of a job that every client (API, streams, CLI) sees."""

from __future__ import annotations

import json
from typing import Any

from montesim.engines.base import get_engine
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


def _engine_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Fields some clients' job lists read; engines may add ``config_summary`` and artifacts."""
    try:
        engine = get_engine(row["engine"])
    except Exception:  # an engine that is no longer installed still lists
        engine = None
    summary: Any = {}
    if getattr(engine, "describe_spec", None):  # the engine wrote JSON into spec_summary
        try:
            summary = json.loads(row["spec_summary"] or "{}")
        except ValueError:
            summary = {}
    complete = row["status"] == "complete"
    return {
        "config_summary": summary if isinstance(summary, dict) else {},
        "has_results": complete,
        "has_mesh_artifact": complete and bool(getattr(engine, "mesh_artifact", None)),
        "error_message": row.get("error_message"),
    }


def job_view(row: dict[str, Any], *, with_spec: bool = False) -> dict[str, Any]:
    out = {
        "id": row["id"],
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
        **_engine_fields(row),
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
