"""The ``horn`` engine: waveguide → closed mesh → one BEM solve per frequency → acoustics.

``validate`` is cheap (parameters, profile, a triangle-count estimate, user-mesh checks),
so it can run inside a request; the generated mesh is built with gmsh where the chunks
run, once per process, and is deterministic (gmsh single-threaded), so every process and
every resumed attempt solves the same mesh. Each frequency is one chunk.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from montesim.engines.base import Chunk, ChunkContext, Files, Result
from montesim.engines.horn import exports, results
from montesim.engines.horn.accuracy import judge
from montesim.engines.horn.ath import MAX_TEXT, origin_of, with_design
from montesim.engines.horn.mesh import (
    SOURCE,
    Mesh,
    check,
    check_baffled,
    from_arrays,
    from_msh,
    mirrored,
    to_msh,
    without_interface,
)
from montesim.engines.horn.spec import GeometrySpec, HornSpec, MeshSpec, parse_spec
from montesim.engines.horn.waveguide import Wall, build_wall
from montesim.errors import Cancelled, InputError

SPHERE_NODES = (16, 32)  # Gauss–Legendre in cos(theta) x azimuths, for the directivity index


@dataclass(frozen=True)
class Plan:
    frequencies: np.ndarray
    temperature_c: float
    distance: float
    angles: np.ndarray  # polar angles, degrees
    norm_angle: float
    planes: tuple[tuple[str, float], ...]  # (name, inclination in degrees)
    formula: str | None
    geometry: GeometrySpec | None
    mesh_spec: MeshSpec
    wall: Wall | None
    user_mesh: Mesh | None
    key: str  # digest of what the mesh depends on
    warnings: tuple[str, ...] = field(default_factory=tuple)
    baffled: bool = False  # the mesh ends on a rigid baffle z = 0 (solved with its image)
    origin: str = "mouth"  # where the polars are centred: "mouth" (z = 0) or "throat"
    origin_z: float = 0.0  # m: the polar centre on the axis


_meshes: dict[str, Mesh] = {}
_surfaces: dict[str, Any] = {}


def mesh_of(plan: Plan) -> Mesh:
    """The plan's mesh: the user's, or the waveguide meshed once per process."""
    if plan.user_mesh is not None:
        return plan.user_mesh
    found = _meshes.get(plan.key)
    if found is None:
        from montesim.engines.horn.meshing import mesh_waveguide

        assert plan.wall is not None
        found = check(
            mesh_waveguide(plan.wall, plan.mesh_spec),
            location="spec.mesh",
            max_triangles=plan.mesh_spec.max_triangles,
        )
        _meshes.clear()
        _meshes[plan.key] = found
    return found


def surface_of(plan: Plan):
    from montesim.engines.horn.solver import Surface

    found = _surfaces.get(plan.key)
    if found is None:
        mesh = mesh_of(plan)
        found = Surface(mirrored(mesh) if plan.baffled else mesh)
        _surfaces.clear()
        _surfaces[plan.key] = found
    return found


def design_text(spec: dict[str, Any], files: Files) -> tuple[str, str]:
    """``(field, text)`` of the spec's ATH design: inline ``cfg`` or ``cfg_file_id``."""
    if spec.get("cfg") is not None and spec.get("cfg_file_id"):
        raise InputError("give cfg or cfg_file_id, not both", location="spec.cfg_file_id")
    text = spec.get("cfg")
    if text is not None:
        if not isinstance(text, str):
            raise InputError("cfg must be the design's text", location="spec.cfg")
        return "cfg", text
    file_id = spec["cfg_file_id"]
    try:
        path = files[file_id]
    except (KeyError, TypeError):
        raise InputError(f"no uploaded file {file_id!r}", location="spec.cfg_file_id") from None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TEXT + 1)
    except OSError as exc:
        raise InputError(
            f"cannot read the uploaded file: {exc.strerror}", location="spec.cfg_file_id"
        ) from None
    if len(raw) > MAX_TEXT:
        raise InputError("the .cfg file is larger than 1 MB", location="spec.cfg_file_id")
    try:
        return "cfg_file_id", raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("the .cfg file is not UTF-8 text", location="spec.cfg_file_id") from None


def build_plan(spec: HornSpec, files: Files, warnings: list[str] | None = None) -> Plan:
    user_mesh = None
    wall = None
    warnings = [*(warnings or []), *spec.notes]
    if spec.user_mesh is not None:
        um = spec.user_mesh
        if um.baffled and spec.polars.norm_angle > 90:
            raise InputError(
                "the norm angle is behind the baffle: with a baffled mesh, polar angles "
                "above 90 degrees have no field",
                location="spec.polars.norm_angle",
            )
        if um.file_id is not None:
            try:
                path = files[um.file_id]
            except KeyError:
                raise InputError(
                    f"no uploaded file {um.file_id!r}", location="spec.user_mesh.file_id"
                ) from None
            raw = from_msh(path, units=um.units, location="spec.user_mesh.file_id")
        else:
            raw = from_arrays(
                um.vertices, um.triangles, um.tags, units=um.units, location="spec.user_mesh"
            )
        raw, interface = without_interface(raw)
        if interface:
            warnings.append(
                f"{interface:,} interface triangles (tag 4) left out: an interface is air on "
                "both sides, and this engine solves a single exterior domain"
            )
        user_mesh = (check_baffled if um.baffled else check)(
            raw,
            location="spec.user_mesh",
            max_triangles=um.max_triangles,
            hint=" once the interface (tag 4) is left out" if interface else "",
        )
        digest = hashlib.sha256(
            user_mesh.vertices.tobytes() + user_mesh.triangles.tobytes() + bytes([um.baffled])
        )
    else:
        from montesim.engines.horn.meshing import estimate_triangles

        assert spec.geometry is not None
        wall = build_wall(spec.geometry, spec.mesh.angular_segments, spec.mesh.length_segments)
        estimate = estimate_triangles(wall, spec.mesh)
        if estimate > spec.mesh.max_triangles:
            raise InputError(
                f"about {estimate:,} triangles expected, above the limit of "
                f"{spec.mesh.max_triangles:,}: raise throat_size/mouth_size or max_triangles",
                location="spec.mesh.max_triangles",
                code="mesh_too_large",
            )
        digest = hashlib.sha256(wall.points.tobytes() + spec.mesh.model_dump_json().encode())
    try:
        angles = spec.polars.angles.degrees()
    except ValueError as exc:
        raise InputError(str(exc), location="spec.polars.angles.stop") from None
    origin_z = 0.0
    if spec.polars.origin == "throat":
        if user_mesh is not None and spec.user_mesh is not None and spec.user_mesh.baffled:
            raise InputError(
                "polars centred on the throat are refused for a baffled mesh: the arcs must "
                "be centred in the baffle plane",
                location="spec.polars.origin",
            )
        origin_z = throat_z(wall, user_mesh)
    return Plan(
        frequencies=spec.frequencies.hz(),
        temperature_c=spec.temperature_c,
        distance=spec.distance,
        angles=angles,
        norm_angle=spec.polars.norm_angle,
        planes=tuple(spec.polars.planes.items()),
        formula=spec.geometry.formula if spec.geometry else None,
        geometry=spec.geometry,
        mesh_spec=spec.mesh,
        wall=wall,
        user_mesh=user_mesh,
        key=digest.hexdigest(),
        warnings=tuple(warnings),
        baffled=bool(spec.user_mesh is not None and spec.user_mesh.baffled),
        origin=spec.polars.origin,
        origin_z=origin_z,
    )


def throat_z(wall: Wall | None, mesh: Mesh | None) -> float:
    """The throat's centre on the axis (m): the wall's first section, or the source's
    area-weighted centroid for a user mesh."""
    if wall is not None:
        return float(wall.throat[:, 2].mean()) * 1e-3
    assert mesh is not None
    source = mesh.tags == SOURCE
    areas = mesh.areas()[source]
    centroids = mesh.vertices[mesh.triangles[source]].mean(axis=1)
    return float((centroids[:, 2] * areas).sum() / areas.sum())


def field_points(plan: Plan) -> tuple[np.ndarray, dict[str, slice], np.ndarray]:
    """Observation points (3, n): on-axis, each polar plane, then a sphere for the DI.

    The DI's sphere is Gauss–Legendre in cos(theta) over [-1, 1], or over [0, 1] (the half
    space in front of the baffle) for a baffled mesh; its weights sum to the solid angle.
    """
    d = plan.distance
    blocks = [np.array([[0.0, 0.0, d]])]
    where: dict[str, slice] = {"axis": slice(0, 1)}
    start = 1
    theta = np.radians(plan.angles)
    for name, inclination in plan.planes:
        phi = np.radians(inclination)
        pts = d * np.stack(
            [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], axis=1
        )
        blocks.append(pts)
        where[name] = slice(start, start + len(pts))
        start += len(pts)
    nodes, weights = np.polynomial.legendre.leggauss(SPHERE_NODES[0])
    if plan.baffled:
        nodes, weights = (nodes + 1) / 2, weights / 2
    az = 2 * np.pi * np.arange(SPHERE_NODES[1]) / SPHERE_NODES[1]
    ct, a = np.meshgrid(nodes, az, indexing="ij")
    st = np.sqrt(1 - ct**2)
    sphere = d * np.stack([st * np.cos(a), st * np.sin(a), ct], axis=-1).reshape(-1, 3)
    w = np.repeat(weights * (2 * np.pi / SPHERE_NODES[1]), SPHERE_NODES[1])  # sums to 4π
    blocks.append(sphere)
    where["sphere"] = slice(start, start + len(sphere))
    points = np.concatenate(blocks)
    points[:, 2] += plan.origin_z  # arcs and sphere centred on the chosen origin
    return points.T, where, w


def solve_frequency(plan: Plan, index: int, ctx: ChunkContext) -> dict[str, Any]:
    """One frequency's partial; a failure is recorded in it, not raised (except cancel)."""
    from montesim.engines.horn.solver import Air, device_note, solve

    f = float(plan.frequencies[index])
    n = len(plan.frequencies)
    label = f"f = {f:,.0f} Hz ({index + 1}/{n})"
    t0 = time.perf_counter()
    partial: dict[str, Any] = {"index": index, "frequency": f, "ok": False, "warnings": []}
    air = Air(plan.temperature_c)
    try:
        if plan.user_mesh is None and plan.key not in _meshes:
            ctx.report(0, "meshing", f"meshing for {label}")
        mesh = mesh_of(plan)
        verdict = judge(mesh, f, air.c)
        partial["accuracy"] = verdict.view()
        if verdict.reason:
            partial["reason"] = verdict.reason
            return partial
        partial["warnings"].extend(verdict.warnings)
        surface = surface_of(plan)
        points, where, weights = field_points(plan)
        field = solve(
            surface,
            f,
            air,
            points,
            cancelled=ctx.cancelled,
            report=lambda stage: ctx.report(0, stage, f"{stage} {label}"),
        )
    except Cancelled:
        raise
    except InputError:
        raise
    except Exception as exc:  # one frequency failing must not end the job
        partial["reason"] = f"{type(exc).__name__}: {exc}"
        partial["seconds"] = time.perf_counter() - t0
        return partial
    values = field.points
    if not (np.all(np.isfinite(values)) and np.isfinite(field.surface_mean_source)):
        partial["reason"] = "the solver returned non-finite pressures"
        return partial
    sphere = np.abs(values[where["sphere"]]) ** 2
    axis = values[where["axis"]][0]
    levels = np.abs(values).astype(object)
    if plan.baffled:  # behind the baffle there is no field (the image's is not one)
        levels[points[2] < -1e-9 * plan.distance] = None
    partial.update(
        ok=True,
        axis=(float(axis.real), float(axis.imag)),
        surface=(field.surface_mean_source.real, field.surface_mean_source.imag),
        planes={name: levels[where[name]].tolist() for name, _ in plan.planes},
        power=float(np.sum(weights * sphere)),
        polar={"angles": plan.angles.tolist(), "norm_angle": plan.norm_angle},
        rho_c=air.rho * air.c,
        device=device_note(),
        seconds=time.perf_counter() - t0,
    )
    return partial


class HornEngine:
    """Acoustic waveguides (OSSE, R-OSSE or a user mesh) by BEM, one frequency per chunk."""

    name: ClassVar[str] = "horn"
    unit: ClassVar[str] = "frequencies"
    resumable: ClassVar[bool] = True
    sequential: ClassVar[bool] = False
    mesh_artifact: ClassVar[str] = "mesh.msh"
    # minutes per chunk: MONTESIM_CLASS_LIMITS='{"bem": 1}' keeps slots for other jobs
    resource_class: ClassVar[str] = "bem"

    def spec_schema(self) -> dict[str, Any]:
        return HornSpec.model_json_schema()

    def example_spec(self) -> dict[str, Any]:
        return {
            "geometry": {"formula": "R-OSSE", "R": 90, "a": 40, "a0": 15.5, "r0": 12.7, "k": 2},
            "mesh": {"throat_size": 12, "mouth_size": 30, "angular_segments": 16},
            "frequencies": {"values": [1000]},
        }

    def validate(self, spec: dict[str, Any], files: Files) -> Plan:
        if not isinstance(spec, dict) or (spec.get("cfg") is None and not spec.get("cfg_file_id")):
            return build_plan(parse_spec(spec), files)
        field_name, text = design_text(spec, files)
        merged, design = with_design(spec, text, field_name)
        try:
            return build_plan(parse_spec(merged), files, warnings=design.warnings)
        except InputError as exc:
            exc.location = origin_of(exc.location, design, field_name)
            if isinstance(exc.detail, list):
                for item in exc.detail:
                    if isinstance(item, dict) and "location" in item:
                        item["location"] = origin_of(item["location"], design, field_name)
            raise

    def warm_up(self) -> None:
        """Compile bempp's kernels in this process now (MONTESIM_WARM_ENGINES=horn)."""
        from montesim.engines.horn.solver import warm_up

        warm_up()

    def chunks(self, plan: Plan) -> list[Chunk]:
        return [Chunk(index=i, start=i, size=1) for i in range(len(plan.frequencies))]

    def run_chunk(self, plan: Plan, chunk: Chunk, ctx: ChunkContext) -> dict[str, Any]:
        if ctx.cancelled():
            raise Cancelled
        return solve_frequency(plan, chunk.index, ctx)

    def merge(self, plan: Plan, partials: list[dict[str, Any]]) -> Result:
        mesh = mesh_of(plan)
        summary = results.merge(plan, partials, mesh)
        files = {self.mesh_artifact: ("text/plain", to_msh(mesh)), **exports.artifacts(summary)}
        return Result(summary, files)

    def describe_spec(self, spec: dict[str, Any]) -> str:
        """The job list's summary: JSON of ``config_summary`` (formula, frequencies, type)."""
        text = json.dumps(results.config_summary(spec), separators=(",", ":"))
        return text if len(text) <= 200 else "{}"  # the column holds 200 characters
