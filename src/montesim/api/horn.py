"""The horn-solver API: thin aliases over montesim's jobs for the waveguide front end.

``POST /api/solve`` turns the front end's request into a ``horn`` job spec and submits
it like ``POST /api/jobs``; status, stop, results and the mesh artifact read the same
store. Errors keep montesim's problem+json, with locations in the request's own terms
(``options.a``, ``frequency_range``, ``mesh.tags``).
"""

from __future__ import annotations

import importlib.util
import pickle
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

from fastapi import APIRouter, Body, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from montesim import __version__
from montesim.api.deps import owner_of, services, visible_to
from montesim.api.jobs import get_or_404, not_complete
from montesim.api.problems import Problem
from montesim.engines.horn import results as horn_results
from montesim.engines.horn import wgcompat as wg
from montesim.engines.horn.spec import SIM_TYPES
from montesim.errors import Conflict, InputError
from montesim.jobs.model import Job
from montesim.jobs.progress import iso
from montesim.jobs.states import JobStatus

api = APIRouter(prefix="/api", tags=["horn"])

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
MAX_NOTES = 200
UNUSED_MESH = ("format", "boundaryConditions", "metadata")
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
    """The tool's ``polar_config`` (ATH's ABEC.Polars); what is not used is listed."""

    model_config = ConfigDict(extra="allow")
    angle_range: tuple[float, float, int] = (0.0, 180.0, 37)  # start, end, count
    norm_angle: float = 5.0  # the tool's default
    distance: float = 2.0
    enabled_axes: list[Literal["horizontal", "vertical", "diagonal"]] = Field(
        default=["horizontal", "vertical", "diagonal"], min_length=1
    )
    inclination: float | None = Field(None, gt=0, lt=90, description="the diagonal plane's")
    diagonal_angle: float | None = Field(None, gt=0, lt=90, description="as inclination")
    observation_origin: Literal["mouth", "throat"] = "mouth"


class SolveRequest(BaseModel):
    """``frequency_range`` requests: montesim's flat ``options``, or the tool's older body
    with ``options.mesh.waveguide_params`` (and a placeholder ``mesh``)."""

    model_config = ConfigDict(extra="allow")
    frequency_range: tuple[float, float]
    num_frequencies: int = Field(24, ge=1)
    frequency_spacing: Literal["linear", "log"] = "log"
    sim_type: str = Field("free_standing", max_length=40)
    polar_config: PolarConfig | None = None
    mesh: dict[str, Any] | None = None
    options: dict[str, Any] | None = Field(default_factory=dict)
    label: str | None = Field(None, max_length=200)
    # an ATH design: its text, or an upload's id (POST /api/files) for long designs;
    # options and polar_config, where given, override the design's values
    cfg: str | None = None
    cfg_file_id: str | None = Field(None, max_length=100)


# fields of the tool's requests that change nothing here: field -> why
IGNORED_FIELDS = {
    "advanced_settings": wg.SOLVER,
    "use_optimized": "a retired switch of the tool (its server ignored it too)",
    "verbose": "the job's events and result metadata always carry the solver's notes",
    "mesh_validation_mode": (
        "the mesh is always checked; elements per wavelength below 2 fail a frequency, below 6 warn"
    ),
    "device_mode": "the device is the server's choice (MONTESIM_HORN_DEVICE), recorded per result",
    "solver_backend": "solved with bempp-cl, recorded in the result",
    "solver_mode": "no axisymmetric solver here; every design is solved in 3-D",
    "engine": "solved with bempp-cl, recorded in the result",
    "symmetry": wg.SYMMETRY,
    "stage_delay_ms": "the tool's progress pacing; progress here counts solved frequencies",
    "design_snapshot": "the job keeps the spec it solved; the snapshot is not stored",
    "polar_config.spherical_sampling": wg.NO_BALLOON,
    "polar_config.spherical_theta_count": wg.NO_BALLOON,
    "polar_config.spherical_phi_count": wg.NO_BALLOON,
    "polar_config.field_plane": "no field plane is computed",
    "polar_config.angle_step": "angle_range (start, end, count) gives the angles",
    "options.mesh.strategy": "this engine meshes the design itself (gmsh)",
    "mesh": "a placeholder: the design is meshed here from waveguide_params",
}


def _ignored(field: str, reason: str | None = None) -> dict[str, str]:
    return {"field": field, "reason": reason or IGNORED_FIELDS.get(field, "not used here")}


def _extras(model: BaseModel, prefix: str = "") -> list[dict[str, str]]:
    return [_ignored(f"{prefix}{k}") for k in sorted(model.model_extra or {})]


def polar_spec(
    polar: PolarConfig | None, at: str = "polar_config"
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``distance`` and ``polars`` of a horn spec from the tool's polar_config."""
    polar = polar or PolarConfig()  # type: ignore[call-arg]  # all defaults
    if polar.observation_origin == "throat":
        raise InputError(
            "observation_origin throat is not solved here: angles and distance are measured "
            "from the mouth centre",
            location=f"{at}.observation_origin",
        )
    start, end, count = polar.angle_range
    if count < 1 or end < start:
        raise InputError(
            "angle_range is start, end (not below start), count (at least 1)",
            location=f"{at}.angle_range",
        )
    step = (end - start) / (count - 1) if count > 1 else 180.0
    diagonal = polar.inclination or polar.diagonal_angle or 45.0
    inclination = {"horizontal": 0.0, "vertical": 90.0, "diagonal": diagonal}
    spec = {
        "distance": polar.distance,
        "polars": {
            "angles": {"start": start, "stop": end, "step": step if step > 0 else 180.0},
            "norm_angle": polar.norm_angle,
            "planes": {axis: inclination[axis] for axis in polar.enabled_axes},
        },
    }
    return spec, _extras(polar, f"{at}.")


def solve_spec(body: SolveRequest) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The ``horn`` job spec of a ``frequency_range`` request, and what it did not use."""
    opts = dict(body.options or {})
    ignored = _extras(body)
    spec: dict[str, Any] = {
        "frequencies": {
            "start": body.frequency_range[0],
            "stop": body.frequency_range[1],
            "count": body.num_frequencies,
            "spacing": body.frequency_spacing,
        },
        "sim_type": SIM_TYPES.get(body.sim_type.strip().lower(), body.sim_type),
    }
    polars, more = polar_spec(body.polar_config)
    ignored += more
    design = body.cfg is not None or body.cfg_file_id is not None
    if not design or body.polar_config is not None:  # else the design's polars stand
        spec.update(polars)
    mesh_opts = opts.get("mesh")
    if isinstance(mesh_opts, dict) and "waveguide_params" in mesh_opts:
        # the tool's older body: the design is its waveguide_params, any mesh a placeholder
        where = "options.mesh.waveguide_params"
        fields, more = wg.from_waveguide_params(mesh_opts["waveguide_params"], where)
        ignored += more
        ignored += [_ignored(f"options.mesh.{k}") for k in mesh_opts if k != "waveguide_params"]
        ignored += [_ignored(f"options.{k}") for k in opts if k != "mesh"]
        if body.mesh is not None:
            ignored.append(_ignored("mesh"))
        fields.pop("frequencies", None)  # frequency_range is the request's sweep
        if "sim_type" in fields and "sim_type" not in body.model_fields_set:
            spec["sim_type"] = SIM_TYPES.get(fields["sim_type"], fields["sim_type"])
        fields.pop("sim_type", None)
        spec.update(fields)
        return spec, ignored
    if "temperature" in opts:
        spec["temperature_c"] = opts.pop("temperature")
    mesh_opts = {MESH_OPTIONS[k]: opts.pop(k) for k in list(opts) if k in MESH_OPTIONS}
    if design:
        if body.mesh is not None:
            raise InputError("give a cfg design or a mesh, not both", location="mesh")
        for key in ("cfg", "cfg_file_id"):
            if getattr(body, key) is not None:
                spec[key] = getattr(body, key)
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
        ignored += [_ignored(f"mesh.{k}", "not used by this engine") for k in m if k in UNUSED_MESH]
        return spec, ignored
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
    return spec, ignored


class DesignSolveRequest(BaseModel):
    """The tool's current bodies: ``{design, options, ...}`` from its front end, or
    ``{geometry: {type: "parametric", design, ...}, options, ...}`` per its OpenAPI."""

    model_config = ConfigDict(extra="allow")
    design: dict[str, Any] | None = None
    geometry: dict[str, Any] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    label: str | None = Field(None, max_length=200)
    design_revision: int = Field(0, ge=0)
    client_request_id: str | None = Field(None, max_length=200)
    client_metadata: dict[str, Any] = Field(default_factory=dict)
    parent_job_id: str | None = Field(None, max_length=100)


class DesignOptions(BaseModel):
    """The tool's ``SolveOptions``."""

    model_config = ConfigDict(extra="allow")
    frequencies_hz: list[float] | None = Field(None, min_length=1)
    frequency_range: tuple[float, float] | None = None
    num_frequencies: int | None = Field(None, ge=1)
    frequency_spacing: Literal["log", "linear"] = "log"
    polar_config: PolarConfig | None = None


def design_spec(body: DesignSolveRequest) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The ``horn`` job spec of a design body, and what it did not use."""
    ignored = _extras(body)
    if (body.design is None) == (body.geometry is None):
        raise InputError("give design, or geometry {type, design}, not both", location="design")
    where = "design"
    revision = body.design_revision
    if body.geometry is not None:
        kind = body.geometry.get("type")
        if kind != "parametric":
            raise InputError(
                f"geometry type {kind!r} is not solved here: only parametric designs (imported "
                "CAD geometry needs the tool's own ingest)",
                location="geometry.type",
            )
        where = "geometry.design"
        design = body.geometry.get("design")
        revision = body.geometry.get("design_revision", revision)
        if not isinstance(revision, int) or revision < 0:
            raise InputError("must be a whole number >= 0", location="geometry.design_revision")
        ignored += [
            _ignored(f"geometry.{k}", IGNORED_FIELDS.get(k))
            for k in body.geometry
            if k not in ("type", "design", "design_revision")
        ]
    else:
        design = body.design
    spec, more = wg.from_design(design, where)
    ignored += more
    try:
        options = DesignOptions.model_validate(body.options)
    except ValidationError as exc:
        raise _validation_error(exc, "options") from None
    ignored += [_ignored(k) for k in sorted(options.model_extra or {})]
    frequencies = spec.pop("frequencies", None)
    if options.frequencies_hz is not None:
        frequencies = {"values": options.frequencies_hz}
    elif options.frequency_range is not None:
        frequencies = {
            "start": options.frequency_range[0],
            "stop": options.frequency_range[1],
            "count": options.num_frequencies or (frequencies or {}).get("count", 24),
        }
    if frequencies is None:
        raise InputError(
            "no sweep: give design.simulation f1, f2 (and num_frequencies), or "
            "options.frequencies_hz",
            location=f"{where}.simulation.f1",
        )
    if "values" not in frequencies:
        frequencies["spacing"] = options.frequency_spacing
    spec["frequencies"] = frequencies
    polars, more = polar_spec(options.polar_config, "options.polar_config")
    spec.update(polars)
    ignored += more
    spec["client"] = {
        "design_revision": revision,
        "client_request_id": body.client_request_id,
        "client_metadata": body.client_metadata,
        "parent_job_id": body.parent_job_id,
        "solve_options": body.options,
    }
    return spec, ignored


def _validation_error(exc: ValidationError, prefix: str) -> InputError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    where = f"{prefix}.{loc}" if loc else prefix
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return InputError(f"{where}: {message}", location=where)


def _triples(values: Any) -> Any:
    """A flat [x0, y0, z0, x1, ...] list as [[x0, y0, z0], ...]; anything else unchanged."""
    if isinstance(values, list) and values and not isinstance(values[0], list):
        return [values[i : i + 3] for i in range(0, len(values), 3)]
    return values


def design_locations(where: str) -> tuple[tuple[str, str], ...]:
    """Spec locations → a design body's own names (``design.a``, ``options.polar_config``)."""
    mesh = {v: k for k, v in wg.MESH_FIELDS.items()}
    return (
        *((f"spec.mesh.{size}", f"{where}.mesh.{name}") for size, name in mesh.items()),
        ("spec.geometry.formula", f"{where}.formula"),
        ("spec.geometry.morph", f"{where}.morph"),
        ("spec.geometry", where),
        ("spec.mesh", f"{where}.mesh"),
        ("spec.frequencies.values", "options.frequencies_hz"),
        ("spec.frequencies", f"{where}.simulation"),
        ("spec.polars.angles", "options.polar_config.angle_range"),
        ("spec.polars", "options.polar_config"),
        ("spec.distance", "options.polar_config.distance"),
        ("spec.sim_type", f"{where}.simulation.sim_type"),
    )


V1_WHERE = "options.mesh.waveguide_params"
V1_LOCATIONS = (
    *(
        (f"spec.mesh.{size}", f"{V1_WHERE}.{name}")
        for size, name in (
            ("angular_segments", "n_angular"),
            ("length_segments", "n_length"),
            ("throat_size", "throat_res"),
            ("mouth_size", "mouth_res"),
            ("rear_size", "rear_res"),
            ("max_triangles", "max_triangles"),
        )
    ),
    ("spec.geometry.formula", f"{V1_WHERE}.formula_type"),
    *(
        (f"spec.geometry.morph.{name}", f"{V1_WHERE}.{flat}")
        for flat, name in (
            ("morph_target", "target_shape"),
            ("morph_width", "target_width"),
            ("morph_height", "target_height"),
            ("morph_corner", "corner_radius"),
            ("morph_rate", "rate"),
            ("morph_fixed", "fixed_part"),
            ("morph_allow_shrinkage", "allow_shrinkage"),
        )
    ),
    ("spec.geometry", V1_WHERE),
    ("spec.mesh", V1_WHERE),
    *(pair for pair in LOCATIONS if not pair[0].startswith(("spec.geometry", "spec.mesh"))),
)


def _request_location(
    location: str | None, table: tuple[tuple[str, str], ...] = LOCATIONS
) -> str | None:
    if not location:
        return location
    for prefix, name in table:
        if location == prefix or location.startswith(prefix + "."):
            return name + location[len(prefix) :]
    return location


@api.post("/solve", status_code=202)
def solve(request: Request, body: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
    """Queue a horn simulation from any body the horn tool sends; the id works with every
    /api/jobs route too. ``ignored`` lists the fields that change nothing here, and why."""
    svc = services(request)
    table = LOCATIONS
    try:
        if "design" in body or "geometry" in body:
            where = "geometry.design" if isinstance(body.get("geometry"), dict) else "design"
            table = design_locations(where)
            try:
                parsed = DesignSolveRequest.model_validate(body)
            except ValidationError as exc:
                raise _validation_error(exc, "body") from None
            spec, ignored = design_spec(parsed)
            label = parsed.label
        else:
            try:
                legacy = SolveRequest.model_validate(body)
            except ValidationError as exc:
                raise _request_error(exc) from None
            spec, ignored = solve_spec(legacy)
            label = legacy.label
            if "waveguide_params" in ((legacy.options or {}).get("mesh") or {}):
                table = V1_LOCATIONS
            spec["client"] = {
                "solve_options": {
                    k: body[k]
                    for k in ("frequency_spacing", "mesh_validation_mode", "verbose", "solver_mode")
                    if k in body
                }
            }
        notes = [f"{i['field']}: not used ({i['reason']})" for i in ignored]
        spec["notes"] = notes[:MAX_NOTES]  # the spec's bound; the response lists them all
        job, _ = svc.submit(
            "horn", spec, label=label, owner=owner_of(request), visible=visible_to(request)
        )
    except InputError as exc:
        exc.location = _request_location(exc.location, table)
        if isinstance(exc.detail, list):
            for item in exc.detail:
                if isinstance(item, dict) and "location" in item:
                    item["location"] = _request_location(item["location"], table)
        raise
    client = spec.get("client") or {}
    return {
        "job_id": job.id,
        "client_request_id": client.get("client_request_id"),
        "ignored": ignored,
    }


def _request_error(exc: ValidationError) -> InputError:
    """A pydantic error on the top-level body, at the request's own field name."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return InputError(f"{loc}: {message}", location=loc or "body")


def _horn_job(request: Request, job_id: str) -> Job:
    row = get_or_404(request, job_id)
    if row.engine != "horn":
        raise Problem(404, "job_not_found", f"No horn job with id {job_id!r}", location="job_id")
    return row


def job_item(row: Job) -> dict[str, Any]:
    """A horn job as the tool's ``JobItem`` (the fields its job list and status read)."""
    spec = row.spec or {}
    client = spec.get("client") if isinstance(spec.get("client"), dict) else {}
    polars = spec.get("polars") if isinstance(spec.get("polars"), dict) else {}
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
    client = spec.get("client") if isinstance(spec.get("client"), dict) else {}
    return wg.to_tool_result(summary, client)


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
    client = spec.get("client") if isinstance(spec.get("client"), dict) else {}
    return {
        "job_id": job_id,
        "revision": sum(x is not None for x in summary["spl_on_axis"]["spl"]),
        "result": wg.to_tool_result(summary, client),
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
    ignored = [_ignored(k, "the tool's own export bookkeeping") for k in body.model_extra or {}]
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
