"""The JSON view of a job that every client (API, streams, CLI) sees."""

from __future__ import annotations

import json
from typing import Any

from montesim.engines.base import get_engine
from montesim.errors import InputError
from montesim.jobs.model import Job
from montesim.jobs.progress import iso, record
from montesim.jobs.states import JobStatus


def links(job_id: str) -> dict[str, str]:
    base = f"/api/jobs/{job_id}"
    return {
        "self": base,
        "result": f"{base}/result",
        "events": f"{base}/events",
        "stream": f"{base}/stream",
        "cancel": f"{base}/cancel",
    }


def _engine_fields(job: Job) -> dict[str, Any]:
    """Fields some clients' job lists read; engines may add ``config_summary`` and artifacts."""
    try:
        engine = get_engine(job.engine)
    except Exception:  # an engine that is no longer installed still lists
        engine = None
    summary: Any = {}
    if getattr(engine, "describe_spec", None):  # the engine wrote JSON into spec_summary
        try:
            summary = json.loads(job.spec_summary or "{}")
        except ValueError:
            summary = {}
    complete = job.status == JobStatus.COMPLETE
    return {
        "config_summary": summary if isinstance(summary, dict) else {},
        "has_results": complete,
        "has_mesh_artifact": complete and bool(getattr(engine, "mesh_artifact", None)),
        "error_message": job.error_message,
    }


def job_view(job: Job, *, with_spec: bool = False, admin: bool = False) -> dict[str, Any]:
    out = {
        "id": job.id,
        "job_id": job.id,
        "engine": job.engine,
        "label": job.label,
        "spec_summary": job.spec_summary,
        "file_id": job.file_id,
        "file_name": job.file_name,
        "batch_id": job.batch_id,
        "attempt": job.attempt,
        "created_at": iso(job.created_at),
        "queued_at": iso(job.queued_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at),
        "heartbeat_at": iso(job.heartbeat_at),
        "priority": job.priority,
        "resource_class": job.resource_class,
        "time_limit_seconds": job.time_limit,
        **record(job),
        **_engine_fields(job),
        "links": links(job.id),
    }
    if job.status == JobStatus.ERROR:
        out["error"] = error_view(job, admin=admin)
    if with_spec:
        out["spec"] = job.spec
    return out


def error_view(job: Job, *, admin: bool = False) -> dict[str, Any]:
    """A failed job's error: code, message and, for input errors found while planning,
    the ``location`` (field, sheet and cell, tree node) a 422 would have named.

    Other failures' detail (a traceback, with the server's paths) is for admins only;
    the server log has it under the job id.
    """
    out: dict[str, Any] = {"code": job.error_code, "message": job.error_message}
    problem = _input_problem(job)
    if problem is not None:
        out["location"] = problem.get("location")
        out["detail"] = problem.get("detail")
        out["input_error"] = True
    elif admin:
        out["detail"] = job.error_detail
    return out


def input_error_detail(exc: InputError) -> str:
    """How the runner stores an InputError found while planning (JSON text)."""
    return json.dumps({"input_error": exc.to_dict()}, default=str)


def input_error_of(job: Job) -> InputError | None:
    problem = _input_problem(job)
    if problem is None:
        return None
    return InputError(
        job.error_message or "",
        code=job.error_code or "invalid_spec",
        location=problem.get("location"),
        detail=problem.get("detail"),
    )


def _input_problem(job: Job) -> dict[str, Any] | None:
    text = job.error_detail
    if not text or not text.startswith('{"input_error"'):
        return None
    try:
        found = json.loads(text)["input_error"]
    except (ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, dict) else None
