"""The horn-solver API: thin aliases over montesim's jobs for the waveguide front end.

``POST /api/solve`` turns the front end's request into a ``horn`` job spec and submits
it like ``POST /api/jobs``; status, stop, results and the mesh artifact read the same
store. Errors keep montesim's problem+json, with locations in the request's own terms
(``options.a``, ``frequency_range``, ``mesh.tags``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from montesim.api.deps import owner_of, services, visible_to
from montesim.api.jobs import get_or_404, not_complete
from montesim.api.problems import Problem
from montesim.errors import Conflict, InputError
from montesim.jobs.model import Job
from montesim.jobs.states import JobStatus

router = APIRouter(prefix="/api", tags=["horn"])

MESH_OPTIONS = {
    "angular_segments": "angular_segments",
    "length_segments": "length_segments",
    "throat_resolution": "throat_size",
    "mouth_resolution": "mouth_size",
    "rear_resolution": "rear_size",
    "throat_size": "throat_size",
    "mouth_size": "mouth_size",
    "rear_size": "rear_size",
    "enclosure_depth": "enclosure_depth",
    "max_triangles": "max_triangles",
}
GEOMETRY_OPTIONS = ("r0", "a0", "a", "L", "R", "k", "s", "n", "q", "r", "b", "m", "tmax")
# spec location prefix -> the request's own name for it
LOCATIONS = (
    ("spec.cfg_file_id", "cfg_file_id"),
    ("spec.cfg", "cfg"),
    ("spec.geometry.formula", "options.formula_type"),
    ("spec.geometry", "options"),
    ("spec.mesh", "options"),
    ("spec.user_mesh", "mesh"),
    ("spec.frequencies", "frequency_range"),
    ("spec.polars.angles", "polar_config.angle_range"),
    ("spec.polars", "polar_config"),
    ("spec.distance", "polar_config.distance"),
    ("spec.temperature_c", "options.temperature"),
    ("spec.sim_type", "sim_type"),
)


class PolarConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    angle_range: tuple[float, float, int] = (0.0, 180.0, 37)  # start, end, count
    norm_angle: float = 0.0
    distance: float = 2.0
    enabled_axes: list[Literal["horizontal", "vertical", "diagonal"]] = Field(
        default=["horizontal", "vertical", "diagonal"], min_length=1
    )
    diagonal_angle: float = Field(45.0, gt=0, lt=90)


class SolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frequency_range: tuple[float, float]
    num_frequencies: int = Field(24, ge=1)
    frequency_spacing: Literal["linear", "log"] = "log"
    sim_type: str = Field("free_standing", max_length=40)
    polar_config: PolarConfig = PolarConfig()  # type: ignore[call-arg]  # defaults
    mesh: dict[str, Any] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, max_length=200)
    # an ATH design: its text, or an upload's id (POST /api/files) for long designs;
    # options and polar_config, where given, override the design's values
    cfg: str | None = None
    cfg_file_id: str | None = Field(None, max_length=100)


def solve_spec(body: SolveRequest) -> dict[str, Any]:
    """The ``horn`` job spec of a horn-solver request."""
    opts = dict(body.options)
    start, end, count = body.polar_config.angle_range
    step = (end - start) / (count - 1) if count > 1 else 180.0
    inclination = {
        "horizontal": 0.0,
        "vertical": 90.0,
        "diagonal": body.polar_config.diagonal_angle,
    }
    design = body.cfg is not None or body.cfg_file_id is not None
    spec: dict[str, Any] = {
        "frequencies": {
            "start": body.frequency_range[0],
            "stop": body.frequency_range[1],
            "count": body.num_frequencies,
            "spacing": body.frequency_spacing,
        },
        "sim_type": body.sim_type,
        "distance": body.polar_config.distance,
        "polars": {
            "angles": {"start": start, "stop": end, "step": step if step > 0 else 180.0},
            "norm_angle": body.polar_config.norm_angle,
            "planes": {axis: inclination[axis] for axis in body.polar_config.enabled_axes},
        },
    }
    if "temperature" in opts:
        spec["temperature_c"] = opts.pop("temperature")
    mesh_opts = {MESH_OPTIONS[k]: opts.pop(k) for k in list(opts) if k in MESH_OPTIONS}
    if design:
        if body.mesh is not None:
            raise InputError("give a cfg design or a mesh, not both", location="mesh")
        for key in ("cfg", "cfg_file_id"):
            if getattr(body, key) is not None:
                spec[key] = getattr(body, key)
        if "polar_config" not in body.model_fields_set:  # the design's polars stand
            del spec["distance"], spec["polars"]
    if body.mesh is not None:
        m = body.mesh
        spec["user_mesh"] = {
            k: v
            for k, v in {
                "vertices": _triples(m.get("vertices")),
                "triangles": _triples(m.get("triangles", m.get("indices"))),
                "tags": m.get("tags", m.get("surfaceTags")),
                "file_id": m.get("file_id"),
                "units": m.get("units", "mm"),
                "baffled": m.get("baffled", False),
                **(
                    {"max_triangles": mesh_opts["max_triangles"]}
                    if "max_triangles" in mesh_opts
                    else {}
                ),
            }.items()
            if v is not None
        }
        return spec
    formula = opts.pop("formula_type", opts.pop("formula", None))
    unknown = sorted(set(opts) - set(GEOMETRY_OPTIONS))
    if unknown:
        raise InputError(
            f"unknown waveguide option(s): {', '.join(unknown)}", location=f"options.{unknown[0]}"
        )
    geometry = dict(opts)
    if formula is not None or not design:
        geometry["formula"] = formula or "R-OSSE"
    if geometry or not design:  # with a design: only what overrides it
        spec["geometry"] = geometry
    if mesh_opts or not design:
        spec["mesh"] = mesh_opts
    return spec


def _triples(values: Any) -> Any:
    """A flat [x0, y0, z0, x1, ...] list as [[x0, y0, z0], ...]; anything else unchanged."""
    if isinstance(values, list) and values and not isinstance(values[0], list):
        return [values[i : i + 3] for i in range(0, len(values), 3)]
    return values


def _request_location(location: str | None) -> str | None:
    if not location:
        return location
    for prefix, name in LOCATIONS:
        if location == prefix or location.startswith(prefix + "."):
            return name + location[len(prefix) :]
    return location


@router.post("/solve", status_code=202)
def solve(body: SolveRequest, request: Request) -> dict[str, Any]:
    """Queue a horn simulation; the id works with every /api/jobs route too."""
    svc = services(request)
    try:
        spec = solve_spec(body)
        job, _ = svc.submit(
            "horn", spec, label=body.label, owner=owner_of(request), visible=visible_to(request)
        )
    except InputError as exc:
        exc.location = _request_location(exc.location)
        if isinstance(exc.detail, list):
            for item in exc.detail:
                if isinstance(item, dict) and "location" in item:
                    item["location"] = _request_location(item["location"])
        raise
    return {"job_id": job.id}


def _horn_job(request: Request, job_id: str) -> Job:
    row = get_or_404(request, job_id)
    if row.engine != "horn":
        raise Problem(404, "job_not_found", f"No horn job with id {job_id!r}", location="job_id")
    return row


@router.get("/status/{job_id}")
def status(job_id: str, request: Request) -> dict[str, Any]:
    row = _horn_job(request, job_id)
    total = row.total_units
    done = row.done_units
    progress = 1.0 if row.status == JobStatus.COMPLETE else (done / total if total else 0.0)
    message = row.error_message if row.status == JobStatus.ERROR else row.stage_message
    return {
        "status": row.status.value,
        "progress": progress,
        "stage": row.stage,
        "stage_message": row.stage_message,
        "message": message,
    }


@router.post("/stop/{job_id}")
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


@router.get("/results/{job_id}")
def results(job_id: str, request: Request) -> dict[str, Any]:
    svc = services(request)
    row = _horn_job(request, job_id)
    if row.status != JobStatus.COMPLETE:
        raise not_complete(row)
    summary = svc.store.result(job_id)
    if summary is None:
        raise Problem(404, "result_not_found", f"Job {job_id!r} has no stored result")
    return summary


@router.get("/mesh-artifact/{job_id}")
def mesh_artifact(job_id: str, request: Request) -> Response:
    svc = services(request)
    _horn_job(request, job_id)
    found = svc.store.artifact(job_id, "mesh.msh")
    if found is None:
        raise Problem(
            404, "mesh_not_found", f"Job {job_id!r} has no mesh artifact (yet)", location="job_id"
        )
    return Response(found[1], media_type="text/plain; charset=utf-8")
