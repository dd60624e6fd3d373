"""The horn tool's API (waveguide-generator's front end speaks it) over montesim's jobs.

``POST /api/solve`` turns any of its bodies into a ``horn`` job (``horn_requests``) and
submits it like ``POST /api/jobs``; status (its job item), stop, results and partial
results (in its convention: ``wgcompat.to_tool_result``), the mesh artifact,
capabilities, ``/health``, clear-failed and the metadata patch read the same store and
keep montesim's owners. Errors keep montesim's problem+json (its front end reads
``detail``), with locations in the body's own terms (``options.a``, ``design.mesh...``).
"""

from __future__ import annotations

import importlib.util
import pickle
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from montesim import __version__
from montesim.api import horn_requests as requests
from montesim.api.deps import owner_of, services, visible_to
from montesim.api.jobs import get_or_404, not_complete
from montesim.api.problems import Problem
from montesim.engines.horn import results as horn_results
from montesim.engines.horn import wgresult
from montesim.errors import Conflict, InputError
from montesim.jobs.model import Job
from montesim.jobs.progress import iso
from montesim.jobs.states import JobStatus

api = APIRouter(prefix="/api", tags=["horn"])


@api.post("/solve", status_code=202)
def solve(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    """Queue a horn simulation from any body the horn tool sends; the id works with every
    /api/jobs route too. ``ignored`` lists the fields that change nothing here, and why."""
    svc = services(request)
    table = requests.locations_of(body)
    try:
        spec, ignored, label = requests.parse(body)
        job, _ = svc.submit(
            "horn", spec, label=label, owner=owner_of(request), visible=visible_to(request)
        )
    except InputError as exc:
        raise requests.relocated(exc, table) from None
    client = spec.get("client") or {}
    return {
        "job_id": job.id,
        "client_request_id": client.get("client_request_id"),
        "ignored": ignored,
    }


def client_of(spec: dict[str, Any]) -> dict[str, Any]:
    """What the tool's front end sent alongside the design (kept in the spec)."""
    client = spec.get("client")
    return client if isinstance(client, dict) else {}


def _horn_job(request: Request, job_id: str) -> Job:
    row = get_or_404(request, job_id)
    if row.engine != "horn":
        raise Problem(404, "job_not_found", f"No horn job with id {job_id!r}", location="job_id")
    return row


def job_item(row: Job) -> dict[str, Any]:
    """A horn job as the tool's ``JobItem`` (the fields its job list and status read)."""
    spec = row.spec or {}
    client = client_of(spec)
    found = spec.get("polars")
    polars: dict[str, Any] = found if isinstance(found, dict) else {}
    complete = row.status == JobStatus.COMPLETE
    progress = 1.0 if complete else (row.done_units / row.total_units if row.total_units else 0.0)
    return {
        "id": row.id,
        "run_number": 1,
        "parent_job_id": client.get("parent_job_id"),
        "status": row.status.value,
        "progress": min(max(progress, 0.0), 1.0),
        "stage": row.stage,
        "stage_message": row.stage_message,
        "created_at": iso(row.created_at),
        "queued_at": iso(row.queued_at),
        "started_at": iso(row.started_at),
        "completed_at": iso(row.completed_at),
        "updated_at": iso(row.updated_at),
        "config_summary": horn_results.config_summary(spec),
        "solve_options": dict(client.get("solve_options") or {}),
        "has_results": complete,
        "has_mesh_artifact": complete,
        "label": row.label,
        "error_message": row.error_message,
        "cancellation_requested": row.cancellation_requested,
        "mesh_stats": None,
        "script_snapshot": None,
        "design_revision": int(client.get("design_revision") or 0),
        "polar_grid": {
            "angles": polars.get("angles", {}),
            "planes": polars.get("planes", {}),
            "norm_angle": polars.get("norm_angle"),
            "distance_m": spec.get("distance"),
        },
        "rating": None,
        "exported_files": [],
        "auto_export_completed_at": None,
        "auto_export_formats": {},
        "raw_results_file": None,
        "mesh_artifact_file": None,
        "log_tail": [],
        "client_request_id": client.get("client_request_id"),
        "client_metadata": dict(client.get("client_metadata") or {}),
        "solve_path": "full-3d",
        "symmetry": {"domain": "full"},
    }


@api.get("/status/{job_id}")
def status(job_id: str, request: Request) -> dict[str, Any]:
    """The tool's ``JobStatusResponse``: its job item, with ``message`` (the error, if any)."""
    row = _horn_job(request, job_id)
    message = row.error_message if row.status == JobStatus.ERROR else row.stage_message
    return {**job_item(row), "message": message}


@api.post("/stop/{job_id}")
def stop(job_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    _horn_job(request, job_id)
    try:
        row = svc.cancel(job_id, visible_to(request))
    except KeyError:
        raise Problem(
            404, "job_not_found", f"No job with id {job_id!r}", location="job_id"
        ) from None
    except Conflict as exc:
        raise Problem(
            409, "job_terminal", f"Cannot stop: {exc.message}", job_status=exc.status
        ) from None
    if row.status == JobStatus.CANCELLED:
        return {"message": "Job cancelled", "status": "cancelled"}
    return {"message": "Cancellation requested; stopping", "status": "cancelling"}


@api.get("/results/{job_id}")
def results(job_id: str, request: Request) -> dict[str, Any]:
    """The result in the tool's contract: unit acceleration, amplitude SPL, exp(-iwt)."""
    svc = services(request)
    row = _horn_job(request, job_id)
    if row.status != JobStatus.COMPLETE:
        raise not_complete(row)
    summary = svc.store.result(job_id)
    if summary is None:
        raise Problem(404, "result_not_found", f"Job {job_id!r} has no stored result")
    spec = row.spec or {}
    client = client_of(spec)
    return wgresult.to_tool_result(summary, client)


@api.get("/mesh-artifact/{job_id}")
def mesh_artifact(job_id: str, request: Request) -> Response:
    svc = services(request)
    _horn_job(request, job_id)
    found = svc.store.artifact(job_id, "mesh.msh")
    if found is None:
        raise Problem(
            404, "mesh_not_found", f"Job {job_id!r} has no mesh artifact (yet)", location="job_id"
        )
    return Response(found[1], media_type="text/plain; charset=utf-8")


@api.get("/partial-results/{job_id}")
def partial_results(job_id: str, request: Request) -> dict[str, Any]:
    """The frequencies solved so far, as a result (404 while there are none)."""
    svc = services(request)
    row = _horn_job(request, job_id)
    summary = None
    if row.status == JobStatus.COMPLETE:  # its chunks' partials are gone: the result stands
        summary = svc.store.result(job_id)
    else:
        parts = [pickle.loads(data) for _, _, data in svc.store.chunk_partials(job_id)]  # signed
        summary = horn_results.provisional(parts)
    if summary is None:
        raise Problem(404, "no_partial_results", f"Job {job_id!r} has no solved frequency yet")
    spec = row.spec or {}
    client = client_of(spec)
    return {
        "job_id": job_id,
        "revision": sum(x is not None for x in summary["spl_on_axis"]["spl"]),
        "result": wgresult.to_tool_result(summary, client),
    }


def _bempp() -> tuple[bool, str | None, str | None]:
    if importlib.util.find_spec("bempp_cl") is None:
        return False, "bempp-cl is not installed (pip install 'montesim[horn]')", None
    try:
        return True, None, version("bempp-cl")
    except PackageNotFoundError:
        return True, None, None


@api.get("/capabilities")
def capabilities() -> dict[str, Any]:
    """The solver the tool's front end may choose: one, bempp-cl, full 3-D."""
    ready, reason, found = _bempp()
    return {
        "engines": [
            {
                "name": "bempp",
                "available": ready,
                "reason": reason,
                "version": found,
                "fast_paths": [],
                "formulations": ["burton_miller"],
                "mountings": ["freestanding"],
                "symmetry_domains": ["full"],
                "field_traces": False,
                "di_sphere": True,
                "cancellation_granularity": "frequency",
            }
        ]
    }


@api.delete("/jobs/clear-failed")
def clear_failed(request: Request) -> dict[str, Any]:
    """Delete the caller's failed horn jobs (other engines' jobs are left alone)."""
    svc = services(request)
    visible = visible_to(request)
    rows, _ = svc.store.list_jobs(
        statuses=[JobStatus.ERROR], engine="horn", visible=visible, limit=10_000
    )
    deleted = []
    for row in rows:
        try:
            svc.delete(row.id, visible)
        except (KeyError, Conflict):
            continue  # gone or changed meanwhile
        deleted.append(row.id)
    return {"deleted": bool(deleted), "deleted_count": len(deleted), "deleted_ids": deleted}


class MetadataPatch(BaseModel):
    model_config = ConfigDict(extra="allow")
    label: str | None = Field(None, max_length=200)


@api.patch("/jobs/{job_id}/metadata")
def patch_metadata(job_id: str, body: MetadataPatch, request: Request) -> dict[str, Any]:
    """The tool's metadata patch: the label is kept; its export bookkeeping is not."""
    _horn_job(request, job_id)
    if "label" in body.model_fields_set:
        label = (body.label or "").strip() or None
        services(request).store.set_label(job_id, label, visible_to(request))
    ignored = [
        requests.ignored_field(k, "the tool's own export bookkeeping")
        for k in body.model_extra or {}
    ]
    return {"status": "ok", "ignored": ignored}


health_router = APIRouter(tags=["horn"])


@health_router.get("/health")
def health() -> dict[str, Any]:
    """The tool's readiness check: a solver and a mesher."""
    ready, reason, _ = _bempp()
    mesher = importlib.util.find_spec("gmsh") is not None
    return {
        "status": "ok" if ready and mesher else "degraded",
        "version": __version__,
        "solverReady": ready,
        "mesherReady": mesher,
        "solverBackends": {"bempp": {"ready": ready, "reason": reason}},
    }


# included before montesim's /api/jobs routes, so that clear-failed is not taken for a job id
router = APIRouter()
router.include_router(api)
router.include_router(health_router)
