"""The horn tool's request bodies as ``horn`` job specs, and their errors in its terms.

Three shapes reach ``POST /api/solve``: ``frequency_range`` bodies (montesim's flat
``options``, or the tool's older ``options.mesh.waveguide_params`` with a placeholder
``mesh``), and the tool's current ``{design, options}`` and ``{geometry: {type:
"parametric", design}, options}``. Each becomes a spec and the list of fields it did not
use, with the reason; an error's location is translated back to the body's own field
(``options.a``, ``design.mesh.throat_resolution``, ``options.mesh.waveguide_params.n_angular``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from montesim.engines.horn import wgcompat as wg
from montesim.engines.horn.spec import SIM_TYPES
from montesim.errors import InputError

Ignored = list[dict[str, str]]
Locations = tuple[tuple[str, str], ...]


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
    ("spec.polars.origin", "polar_config.observation_origin"),
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
    sim_type: str | int = Field("free_standing", description="2 free-standing, 1 baffle")
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


def ignored_field(field: str, reason: str | None = None) -> dict[str, str]:
    return {"field": field, "reason": reason or IGNORED_FIELDS.get(field, "not used here")}


def _extras(model: BaseModel, prefix: str = "") -> list[dict[str, str]]:
    return [ignored_field(f"{prefix}{k}") for k in sorted(model.model_extra or {})]


def polar_spec(
    polar: PolarConfig | None, at: str = "polar_config"
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``distance`` and ``polars`` of a horn spec from the tool's polar_config."""
    polar = polar or PolarConfig()  # type: ignore[call-arg]  # all defaults
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
            "origin": polar.observation_origin,
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
        "sim_type": SIM_TYPES.get(str(body.sim_type).strip().lower(), str(body.sim_type)[:40]),
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
        ignored += [
            ignored_field(f"options.mesh.{k}") for k in mesh_opts if k != "waveguide_params"
        ]
        ignored += [ignored_field(f"options.{k}") for k in opts if k != "mesh"]
        if body.mesh is not None:
            ignored.append(ignored_field("mesh"))
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
        ignored += [
            ignored_field(f"mesh.{k}", "not used by this engine") for k in m if k in UNUSED_MESH
        ]
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
            ignored_field(f"geometry.{k}", IGNORED_FIELDS.get(k))
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
    ignored += [ignored_field(k) for k in sorted(options.model_extra or {})]
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
        ("spec.polars.origin", "options.polar_config.observation_origin"),
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


def request_location(
    location: str | None, table: tuple[tuple[str, str], ...] = LOCATIONS
) -> str | None:
    if not location:
        return location
    for prefix, name in table:
        if location == prefix or location.startswith(prefix + "."):
            return name + location[len(prefix) :]
    return location


def _request_error(exc: ValidationError) -> InputError:
    """A pydantic error on the top-level body, at the request's own field name."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return InputError(f"{loc}: {message}", location=loc or "body")


def parse(body: dict[str, Any]) -> tuple[dict[str, Any], Ignored, str | None]:
    """``(spec, ignored, label)`` of any of the tool's bodies (InputError naming the field)."""
    if "design" in body or "geometry" in body:
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
        spec["client"] = {
            "solve_options": {
                k: body[k]
                for k in ("frequency_spacing", "mesh_validation_mode", "verbose", "solver_mode")
                if k in body
            }
        }
    notes = [f"{i['field']}: not used ({i['reason']})" for i in ignored]
    spec["notes"] = notes[:MAX_NOTES]  # the spec's bound; the response lists them all
    return spec, ignored, label


def locations_of(body: dict[str, Any]) -> Locations:
    """How spec locations read in this body's own terms."""
    if "design" in body or "geometry" in body:
        return design_locations(
            "geometry.design" if isinstance(body.get("geometry"), dict) else "design"
        )
    options = body.get("options")
    mesh = options.get("mesh") if isinstance(options, dict) else None
    if isinstance(mesh, dict) and "waveguide_params" in mesh:
        return V1_LOCATIONS
    return LOCATIONS


def relocated(exc: InputError, table: Locations) -> InputError:
    exc.location = request_location(exc.location, table)
    if isinstance(exc.detail, list):
        for item in exc.detail:
            if isinstance(item, dict) and "location" in item:
                item["location"] = request_location(item["location"], table)
    return exc
