"""/api/jobs: submit, validate, status, list, cancel, label, delete, result, artifacts, events.

Handlers parse HTTP and render answers; the job service does the work. Another owner's
job answers 404, as an unknown one (``visible_to``: see montesim.api.auth).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from montesim.api.deps import owner_of, principal_of, services, visible_to
from montesim.api.problems import Problem
from montesim.errors import Conflict, InputError
from montesim.jobs import artifacts as derived
from montesim.jobs.model import Job
from montesim.jobs.states import JobStatus, parse_statuses
from montesim.jobs.store import Store
from montesim.jobs.views import error_view, job_view, links

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MAX_LIMIT = 200
MAX_OFFSET = 10**9


class JobCreate(BaseModel, extra="forbid"):
    engine: str = Field(min_length=1, max_length=64)
    spec: dict[str, Any]
    label: str | None = Field(default=None, max_length=200)
    priority: int = Field(
        default=0,
        ge=-100,
        le=100,
        description="admission order: higher first; above 0 needs an admin token when "
        "tokens are on",
    )
    time_limit_seconds: float | None = Field(
        default=None,
        gt=0,
        le=30 * 86400,
        description="seconds from the job's start after which it ends in error "
        "(time_limit); default MONTESIM_JOB_TIME_LIMIT_SECONDS, if set",
    )


class JobPatch(BaseModel, extra="forbid"):
    label: str | None = Field(default=None, max_length=200)


def not_found(job_id: str) -> Problem:
    return Problem(404, "job_not_found", f"No job with id {job_id[:80]!r}", location="job_id")


def get_or_404(request: Request, job_id: str) -> Job:
    """The job, if the one asking may see it; 404 otherwise."""
    row = services(request).store.get_job(job_id, visible_to(request))
    if row is None:
        raise not_found(job_id)
    return row


@router.post("", status_code=202)
def create_job(
    body: JobCreate,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    """Queue a job after cheap checks (shape, files); the worker validates it fully."""
    svc = services(request)
    if body.priority > 0 and svc.settings.auth == "tokens" and not principal_of(request).admin:
        raise Problem(
            403,
            "priority_forbidden",
            "Only an admin token may raise a job's priority above 0",
            location="priority",
        )
    try:
        job, created = svc.submit(
            body.engine,
            body.spec,
            label=body.label,
            idempotency_key=idempotency_key,
            owner=owner_of(request),
            visible=visible_to(request),
            priority=body.priority,
            time_limit=body.time_limit_seconds,
        )
    except Conflict as exc:
        raise Problem(
            409, "idempotency_conflict", exc.message, location="Idempotency-Key"
        ) from None
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return {
        "job_id": job.id,
        "status": job.status.value,
        "created": created,
        "links": links(job.id),
    }


@router.post("/validate")
def validate_job(body: JobCreate, request: Request) -> dict[str, Any]:
    """Validate and plan a job now, without queueing it: 200 with its size, or the 422.

    It runs in a child process with a time and memory limit, never on the event loop.
    """
    planned = services(request).validate(body.engine, body.spec, visible_to(request))
    return {
        "valid": True,
        "engine": body.engine,
        "chunks": len(planned.chunks),
        "total_units": planned.total_units,
    }


@router.get("")
def list_jobs(
    request: Request,
    status: Annotated[str | None, Query(max_length=200)] = None,
    engine: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[str | None, Query(max_length=200)] = None,
    file_name: Annotated[str | None, Query(max_length=255)] = None,
    id_prefix: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    svc = services(request)
    try:
        statuses = parse_statuses(status) if status else []
    except ValueError as exc:
        raise InputError(str(exc), code="invalid_status", location="status") from None
    rows, total = svc.store.list_jobs(
        statuses=statuses,
        engine=engine,
        label=label,
        file_name=file_name,
        id_prefix=id_prefix,
        visible=visible_to(request),
        limit=limit,
        offset=offset,
    )
    return {"items": [job_view(r) for r in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{job_id}")
async def get_job(job_id: str, request: Request) -> dict[str, Any]:
    # The hottest endpoint is one primary-key SELECT (well under a millisecond); running
    # it inline skips a threadpool hand-off that costs more than the query itself.
    admin = principal_of(request).admin
    job = get_or_404(request, job_id)
    view = job_view(job, with_spec=True, admin=admin)
    if job.status == JobStatus.QUEUED:
        view["stage_message"] = services(request).wait_reason(job)
    return view


@router.post("/{job_id}/cancel", status_code=202)
def cancel_job(
    job_id: str,
    request: Request,
    discard: Annotated[
        bool,
        Query(
            description="also throw away a result being merged (by default a cancel that "
            "comes after every chunk is done lets the job complete, with cancel_late set)"
        ),
    ] = False,
) -> dict[str, Any]:
    try:
        job = services(request).cancel(job_id, visible_to(request), discard=discard)
    except KeyError:
        raise not_found(job_id) from None
    except Conflict as exc:
        raise Problem(
            409, "job_terminal", f"Cannot cancel: {exc.message}", job_status=exc.status
        ) from None
    return job_view(job)


@router.patch("/{job_id}")
def patch_job(job_id: str, body: JobPatch, request: Request) -> dict[str, Any]:
    row = services(request).store.set_label(job_id, body.label, visible_to(request))
    if row is None:
        raise not_found(job_id)
    return job_view(row)


@router.delete("/{job_id}")
def delete_job(job_id: str, request: Request) -> dict[str, Any]:
    try:
        services(request).delete(job_id, visible_to(request))
    except KeyError:
        raise not_found(job_id) from None
    except Conflict as exc:
        raise Problem(409, "job_active", exc.message, job_status=exc.status) from None
    return {"deleted": True, "job_id": job_id}


def not_complete(job: Job) -> Problem:
    if job.status == JobStatus.ERROR:
        return Problem(
            409,
            "job_failed",
            f"Job failed: {job.error_message}",
            job_status=job.status.value,
            error=error_view(job),
        )
    return Problem(
        409,
        "job_not_complete",
        f"Job is {job.status.value}, not complete",
        job_status=job.status.value,
    )


@router.get("/{job_id}/result")
def get_result(job_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    job = get_or_404(request, job_id)
    if job.status != JobStatus.COMPLETE:
        raise not_complete(job)
    summary = svc.store.result(job_id)
    artifacts = [
        {"name": name, "media_type": mt, "href": f"/api/jobs/{job_id}/artifacts/{name}"}
        for name, mt in derived.listed(svc.store.artifact_names(job_id))
    ]
    return {"job_id": job_id, "engine": job.engine, "result": summary, "artifacts": artifacts}


@router.get("/{job_id}/artifacts/{name}")
def get_artifact(job_id: str, name: str, request: Request) -> Response:
    svc = services(request)
    job = get_or_404(request, job_id)
    if job.status != JobStatus.COMPLETE:
        raise not_complete(job)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    # Streamed piece by piece from the store: a download holds one piece in memory,
    # whatever the artifact's size (a Parquet file of 10^6 iterations is 100+ MB).
    found = stored_blob(svc.store, job_id, name)
    if found is None:
        # a CSV is written from the stored Parquet as it is downloaded
        source = derived.parquet_source(name)
        parquet = stored_blob(svc.store, job_id, source) if source else None
        if parquet is None:
            raise Problem(
                404, "artifact_not_found", f"Job has no artifact {name[:200]!r}", location="name"
            )
        return StreamingResponse(
            derived.csv_chunks(parquet[1]), media_type=derived.CSV, headers=headers
        )
    media_type, blob = found
    headers["Content-Length"] = str(blob.size)
    return StreamingResponse(blob.pieces(), media_type=media_type, headers=headers)


def stored_blob(store: Store, job_id: str, name: str) -> tuple[str, derived.StoredBlob] | None:
    """An artifact's media type and a reader over it, or None when there is none."""
    found = store.artifact_size(job_id, name)
    if found is None:
        return None
    media_type, size = found
    return media_type, derived.StoredBlob(
        lambda offset, n: store.artifact_piece(job_id, name, offset, n), size
    )


@router.get("/{job_id}/events")
def get_events(
    job_id: str,
    request: Request,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> dict[str, Any]:
    svc = services(request)
    get_or_404(request, job_id)
    events = svc.store.events(job_id, after=after, limit=limit)
    return {"job_id": job_id, "events": events, "last_id": events[-1]["id"] if events else after}
