"""/api/jobs: submit, status, list, cancel, label, delete, result, artifacts, events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from montesim.api.deps import Services, services
from montesim.api.problems import Problem
from montesim.engines.base import InputError, describe_spec, get_engine
from montesim.errors import Conflict
from montesim.jobs.runner import FileMap
from montesim.jobs.setups import job_file_names
from montesim.jobs.states import parse_statuses
from montesim.jobs.views import job_view, links

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MAX_LIMIT = 200


class JobCreate(BaseModel, extra="forbid"):
    engine: str = Field(min_length=1, max_length=64)
    spec: dict[str, Any]
    label: str | None = Field(default=None, max_length=200)


class JobPatch(BaseModel, extra="forbid"):
    label: str | None = Field(default=None, max_length=200)


def get_or_404(svc: Services, job_id: str) -> dict[str, Any]:
    row = svc.store.get_job(job_id)
    if row is None:
        raise Problem(404, "job_not_found", f"No job with id {job_id!r}", location="job_id")
    return row


def prepare_job(svc: Services, body: JobCreate, *, plan: bool = False) -> dict[str, Any]:
    """Validate a job with its engine (InputError if invalid); the new job's store fields.

    With ``plan``, the engine also splits it into chunks so the planned work units are
    known before it runs (batches weigh their children by them).
    """
    engine = get_engine(body.engine)
    validated = engine.validate(body.spec, FileMap(svc.store, svc.settings.files_dir))
    fields: dict[str, Any] = dict(
        engine=engine.name,
        spec=body.spec,
        spec_summary=describe_spec(body.spec),
        unit=engine.unit,
        label=body.label,
    )
    if plan:
        fields["total_units"] = sum(c.size for c in engine.chunks(validated))
    return fields


def submit_job(
    svc: Services,
    body: JobCreate,
    idempotency_key: str | None = None,
    batch_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Validate with the engine and store a queued job."""
    try:
        row, created = svc.store.create_job(
            **prepare_job(svc, body), idempotency_key=idempotency_key, batch_id=batch_id
        )
    except Conflict as exc:
        raise Problem(
            409, "idempotency_conflict", exc.message, location="Idempotency-Key"
        ) from None
    if created:
        svc.wake()
    return row, created


@router.post("", status_code=202)
def create_job(
    body: JobCreate,
    request: Request,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    svc = services(request)
    row, created = submit_job(svc, body, idempotency_key)
    if not created:
        response.status_code = 200
    response.headers["Location"] = f"/api/jobs/{row['id']}"
    return {
        "job_id": row["id"],
        "status": row["status"],
        "created": created,
        "links": links(row["id"]),
    }


@router.get("")
def list_jobs(
    request: Request,
    status: str | None = None,
    engine: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    svc = services(request)
    try:
        statuses = parse_statuses(status) if status else []
    except ValueError as exc:
        raise InputError(str(exc), code="invalid_status", location="status") from None
    rows, total = svc.store.list_jobs(statuses=statuses, engine=engine, limit=limit, offset=offset)
    names = job_file_names(svc.store.engine, [r["id"] for r in rows])
    items = [{**job_view(r), "file_name": names.get(r["id"])} for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{job_id}")
async def get_job(job_id: str, request: Request) -> dict[str, Any]:
    # The hottest endpoint is one primary-key SELECT (well under a millisecond); running
    # it inline skips a threadpool hand-off that costs more than the query itself.
    return job_view(get_or_404(services(request), job_id), with_spec=True)


@router.post("/{job_id}/cancel", status_code=202)
def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    try:
        row = svc.store.request_cancel(job_id)
    except KeyError:
        raise Problem(
            404, "job_not_found", f"No job with id {job_id!r}", location="job_id"
        ) from None
    except Conflict as exc:
        raise Problem(
            409, "job_terminal", f"Cannot cancel: {exc.message}", job_status=exc.status
        ) from None
    svc.wake()
    return job_view(row)


@router.patch("/{job_id}")
def patch_job(job_id: str, body: JobPatch, request: Request) -> dict[str, Any]:
    svc = services(request)
    row = svc.store.set_label(job_id, body.label)
    if row is None:
        raise Problem(404, "job_not_found", f"No job with id {job_id!r}", location="job_id")
    return job_view(row)


@router.delete("/{job_id}")
def delete_job(job_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    try:
        svc.store.delete_job(job_id)
    except KeyError:
        raise Problem(
            404, "job_not_found", f"No job with id {job_id!r}", location="job_id"
        ) from None
    except Conflict as exc:
        raise Problem(409, "job_active", exc.message, job_status=exc.status) from None
    return {"deleted": True, "job_id": job_id}


def _not_complete(row: dict[str, Any]) -> Problem:
    if row["status"] == "error":
        return Problem(
            409,
            "job_failed",
            f"Job failed: {row['error_message']}",
            job_status=row["status"],
            error={"code": row["error_code"], "message": row["error_message"]},
        )
    return Problem(
        409, "job_not_complete", f"Job is {row['status']}, not complete", job_status=row["status"]
    )


@router.get("/{job_id}/result")
def get_result(job_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    row = get_or_404(svc, job_id)
    if row["status"] != "complete":
        raise _not_complete(row)
    summary = svc.store.result(job_id)
    artifacts = [
        {"name": name, "media_type": mt, "href": f"/api/jobs/{job_id}/artifacts/{name}"}
        for name, mt in svc.store.artifact_names(job_id)
    ]
    return {"job_id": job_id, "engine": row["engine"], "result": summary, "artifacts": artifacts}


@router.get("/{job_id}/artifacts/{name}")
def get_artifact(job_id: str, name: str, request: Request) -> Response:
    svc = services(request)
    row = get_or_404(svc, job_id)
    if row["status"] != "complete":
        raise _not_complete(row)
    found = svc.store.artifact(job_id, name)
    if found is None:
        raise Problem(404, "artifact_not_found", f"Job has no artifact {name!r}", location="name")
    media_type, data = found
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{job_id}/events")
def get_events(
    job_id: str,
    request: Request,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> dict[str, Any]:
    svc = services(request)
    get_or_404(svc, job_id)
    events = svc.store.events(job_id, after=after, limit=limit)
    return {"job_id": job_id, "events": events, "last_id": events[-1]["id"] if events else after}
