"""The horn tool's parametric designs as ``horn`` specs (results: ``wgresult``).

The tool (waveguide-generator) sends a design two ways: its current ``design`` object
(ATH names: ``formula``, ``r0``, ``a``, ``mesh.throat_resolution``, ``simulation.f1``;
numbers as ``{value, raw}``) and its older ``waveguide_params`` (flat: ``formula_type``,
``n_angular``, ``throat_res``). Both map onto the same geometry here (ATH's text too,
through ``ath.design_from_cfg``), a morph included. A field that changes the shape this
engine cannot build (a guiding curve, an enclosure box) is refused naming it, unless it
holds its no-op value; a field that does not change the solved physics (symmetry,
mesher sampling, exports) is accepted and listed in ``ignored`` with the reason, never
a 422.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from montesim.engines.horn.expressions import parse_expression
from montesim.engines.horn.spec import DEFAULT_MAX_TRIANGLES
from montesim.errors import InputError

Ignored = list[dict[str, str]]

GEOMETRY = {
    "OSSE": ("r0", "a0", "a", "L", "k", "s", "n", "q"),
    "R-OSSE": ("R", "r0", "a0", "a", "k", "r", "b", "m", "q", "tmax"),
}
LENGTHS = ("r0", "L", "R")  # mm: what ATH's Scale multiplies (with the mesh sizes)
MESH_SIZES = ("throat_size", "mouth_size", "rear_size")

SYMMETRY = "the full model is solved (no symmetry reduction): the same result, more time"
MESHER = (
    "a sampling detail of ATH's mesher; this engine sizes elements from the throat, mouth "
    "and rear resolutions"
)
EXPORT = "an export setting; it does not change the solve"
SOLVER = "a setting of the tool's solver backends; this engine solves Burton-Miller with bempp-cl"
CLIENT = "the client's own bookkeeping, kept with the job"
NO_BALLOON = "no balloon grid is kept; the DI integrates a 16 x 32 Gauss sphere"
LOOSER_LIMIT = (
    f"above this server's default limit of {DEFAULT_MAX_TRIANGLES:,} triangles, which stands "
    "(a dense BEM's memory grows with the square of the mesh); a montesim spec may raise it "
    "with mesh.max_triangles"
)
THIN_WALL = (
    "the tool's free-standing horn is a thin wall; this engine closes the waveguide with a "
    "sleeve from the mouth back to a flat rear cap (enclosure_depth 40 mm): the geometry "
    "behind the mouth differs"
)

# current design fields: (path, no-op values, what refusing them says)
_SHAPE_FIELDS: tuple[tuple[str, tuple[Any, ...], str], ...] = (
    ("h", (0.0, None), "OSSE's h (a throat extension term) is not built"),
    ("throat_profile", (1.0, None), "only throat profile 1 is built"),
    ("throat_ext_angle", (0.0, None), "a throat extension is not built"),
    ("throat_ext_length", (0.0, None), "a throat extension is not built"),
    ("slot_length", (0.0, None), "a slot is not built"),
    ("rotation", (0.0, None), "a rotated profile is not built"),
    ("circ_arc_radius", (0.0, None), "a circular-arc termination is not built"),
    ("morph.target_exponent", (None,), "a morph target exponent is not built"),
    ("guiding_curve.curve_type", (0.0, None), "a guiding curve is not built"),
    ("source.contours", ("", None), "source contours are not built"),
    # ATH's Length.Mode total differs from profile only by a throat extension or slot,
    # which are refused above unless 0: then both modes give the same L
    ("length_mode", ("profile", "total", None), "L is the profile length"),
    ("coverage_mode", (None,), "the coverage angle is the profile's a"),
)
_IGNORED_DESIGN = {
    "mesh.quadrants": SYMMETRY,
    "mesh.corner_segments": MESHER,
    "mesh.throat_segments": MESHER,
    "mesh.throat_slice_density": MESHER,
    "mesh.sampling_mode": MESHER,
    "mesh.z_map_points": MESHER,
    "mesh.aperture_resolution_scale": MESHER,
    "mesh.allow_large_mesh": "max_triangles bounds the mesh",
    "mesh.max_edge": "the accuracy gate checks elements per wavelength on the radiating surfaces",
    "mesh.wall_thickness": THIN_WALL,
    "mesh.vertical_offset": EXPORT,
    "output": EXPORT,
    "extra_keys": "ATH keys the tool keeps verbatim for other programs",
    "extra_blocks": (
        "ATH blocks the tool keeps verbatim (its ABEC.Polars copies; the request's "
        "polar_config is what is solved)"
    ),
    "simulation.solver_mode": "no axisymmetric solver here; every design is solved in 3-D",
    "morph": "no morph target (target_shape 0)",
    "guiding_curve": "no guiding curve (curve_type 0)",
    "source.radius": "the source covers the throat",
    "source.velocity_convention": "the source moves normal to itself",
    "source.shape": (
        "solved with a flat disc across the throat (ATH's shape 2); a spherical cap (1) is "
        "not built, which changes the top octave somewhat"
    ),
    "source.curvature": "the source is a flat disc (a cap's curvature does not apply)",
    "source.velocity": (
        "a flat disc across the throat moves along the axis, which is its normal: normal (1) "
        "and axial (2) are the same motion"
    ),
    "enclosure": THIN_WALL,
}
MESH_FIELDS = {
    "angular_segments": "angular_segments",
    "length_segments": "length_segments",
    "throat_resolution": "throat_size",
    "mouth_resolution": "mouth_size",
    "rear_resolution": "rear_size",
    "max_triangles": "max_triangles",
}

# the values that describe exactly what this engine builds
_BUILT = {"source.shape": 2.0, "source.velocity": 1.0, "source.curvature": 0.0}

# v1 waveguide_params: flat names onto the current ones
_V1_RENAMES = {
    "rot": "rotation",
    "gcurve_type": "guiding_curve.curve_type",
    "morph_target": "morph.target_shape",
    "morph_width": "morph.target_width",
    "morph_height": "morph.target_height",
    "morph_corner": "morph.corner_radius",
    "morph_rate": "morph.rate",
    "morph_fixed": "morph.fixed_part",
    "morph_allow_shrinkage": "morph.allow_shrinkage",
    "source_shape": "source.shape",
    "source_velocity": "source.velocity",
    "source_curv": "source.curvature",
    "source_contours": "source.contours",
    "n_angular": "mesh.angular_segments",
    "n_length": "mesh.length_segments",
    "throat_res": "mesh.throat_resolution",
    "mouth_res": "mesh.mouth_resolution",
    "rear_res": "mesh.rear_resolution",
    "max_triangles": "mesh.max_triangles",
    "quadrants": "mesh.quadrants",
    "sampling_mode": "mesh.sampling_mode",
    "z_map_points": "mesh.z_map_points",
    "aperture_resolution_scale": "mesh.aperture_resolution_scale",
    "allow_large_mesh": "mesh.allow_large_mesh",
    "wall_thickness": "mesh.wall_thickness",
    "vertical_offset": "mesh.vertical_offset",
    "corner_segments": "mesh.corner_segments",
}
_V1_IGNORED = {
    "circ_arc_term_angle": "used only with circ_arc_radius, which is 0",
    "gcurve_": "used only with a guiding curve (gcurve_type), which is 0",
    "enc_": THIN_WALL,
    "source_radius": "the source covers the throat",
    "msh_version": EXPORT,
    "step_body": EXPORT,
    "overshoot_policy": "a FREEFORM setting",
    "inflection_policy": "a FREEFORM setting",
    "solver_mode": "no axisymmetric solver here; every design is solved in 3-D",
}
_V1_FREEFORM_ICW = (
    "profile_h",
    "profile_v",
    "cross_sections",
    "termination",
    "n_coeff",
    "theta1_deg",
    "coverage_angle",
    "hold_start",
    "hold_end",
    "depth",
)


def expr(value: Any, where: str) -> float | str | None:
    """A design number: a number, an expression in ``p``, or ``{value, raw}`` (raw wins)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InputError("must be a finite number", location=where)
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            pass
        try:
            parsed = parse_expression(text, where)
        except InputError:
            return text  # the waveguide builder reports it, naming the field
        if parsed.constant:  # "2*12.7": ATH writes constant expressions too
            number = float(parsed(0.0))
            if not math.isfinite(number):
                raise InputError(f"{text!r} is not a finite number", location=where)
            return number
        return text  # an expression in p: the waveguide builder evaluates and checks it
    if isinstance(value, Mapping):
        raw = value.get("raw")
        if isinstance(raw, str) and raw.strip():
            return expr(raw, where)
        return expr(value.get("value"), where)
    raise InputError("must be a number, an expression or {value, raw}", location=where)


def _get(tree: Mapping[str, Any], path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _noop(value: Any, allowed: tuple[Any, ...], where: str) -> bool:
    """Whether a shape field holds a value that builds nothing (its default)."""
    if isinstance(value, str) and value.strip() in allowed:
        return True
    try:
        number = expr(value, where)
    except InputError:
        return False
    return number is None or number in allowed


def _geometry(formula: Any, values: Mapping[str, Any], where: str) -> dict[str, Any]:
    if formula not in GEOMETRY:
        raise InputError(
            f"formula {formula!r} is not solved here: give OSSE or R-OSSE (ICW and FREEFORM "
            "profiles are not built by this engine)",
            location=where,
        )
    geometry: dict[str, Any] = {"formula": formula}
    for name in GEOMETRY[formula]:
        value = expr(values.get(name), f"{where.rsplit('.', 1)[0]}.{name}")
        if value is not None:
            geometry[name] = value
    return geometry


MORPH_FIELDS = (
    "target_shape",
    "target_width",
    "target_height",
    "corner_radius",
    "rate",
    "fixed_part",
    "allow_shrinkage",
)
MORPH_LENGTHS = ("target_width", "target_height", "corner_radius")


def _morph(block: Any, where: str) -> dict[str, Any] | None:
    """ATH's morph as the geometry's ``morph``; None when its target shape is 0 (none)."""
    if not isinstance(block, Mapping):
        return None
    shape = expr(block.get("target_shape"), f"{where}.target_shape")
    if shape in (None, 0.0):
        return None
    if shape not in (1.0, 2.0):
        raise InputError(
            f"the morph target shape is 0 (none), 1 (rectangle) or 2 (circle), not {shape!r}",
            location=f"{where}.target_shape",
        )
    morph: dict[str, Any] = {"target_shape": int(shape)}
    for name in MORPH_FIELDS[1:]:
        value = expr(block.get(name), f"{where}.{name}")
        if isinstance(value, str):
            raise InputError(
                "must be a number (not an expression in p)", location=f"{where}.{name}"
            )
        if value is not None:
            morph[name] = bool(value) if name == "allow_shrinkage" else value
    return morph


def _scaled(value: float | str, scale: float) -> float | str:
    if scale == 1.0:
        return value
    return value * scale if isinstance(value, float) else f"({value}) * {scale!r}"


def from_design(design: Any, where: str = "design") -> tuple[dict[str, Any], Ignored]:
    """The spec fields (geometry, mesh, frequencies, sim_type) of the tool's design object."""
    if not isinstance(design, Mapping):
        raise InputError("the design must be an object", location=where)
    ignored: Ignored = []
    geometry = _geometry(design.get("formula"), design, f"{where}.formula")
    for path, allowed, why in _SHAPE_FIELDS:
        value = _get(design, path)
        if not _noop(value, allowed, f"{where}.{path}"):
            raise InputError(
                f"{path} = {value!r} is not solved here: {why}", location=f"{where}.{path}"
            )
    enclosure = design.get("enclosure")
    if isinstance(enclosure, Mapping):
        depth = expr(enclosure.get("depth"), f"{where}.enclosure.depth")
        if depth not in (None, 0.0):
            raise InputError(
                "an enclosure box (enclosure.depth > 0) is not built: this engine closes the "
                "waveguide with a sleeve from the mouth back to a flat rear cap",
                location=f"{where}.enclosure.depth",
            )
    morph = _morph(design.get("morph"), f"{where}.morph")
    scale_value = expr(design.get("scale"), f"{where}.scale")
    if isinstance(scale_value, str) or (scale_value is not None and scale_value <= 0):
        raise InputError("scale must be a number above 0", location=f"{where}.scale")
    scale = 1.0 if scale_value is None else float(scale_value)
    for name in LENGTHS:
        if name in geometry:
            geometry[name] = _scaled(geometry[name], scale)
    if morph is not None:
        for name in MORPH_LENGTHS:
            if name in morph:
                morph[name] *= scale
        geometry["morph"] = morph
    spec: dict[str, Any] = {"geometry": geometry}
    mesh_in = design.get("mesh") if isinstance(design.get("mesh"), Mapping) else {}
    mesh: dict[str, Any] = {}
    for key, value in mesh_in.items():
        at = f"{where}.mesh.{key}"
        if key in MESH_FIELDS:
            number = expr(value, at)
            if number is None:
                continue
            if isinstance(number, str):
                raise InputError("must be a number, not an expression", location=at)
            target = MESH_FIELDS[key]
            if target == "max_triangles" and number > DEFAULT_MAX_TRIANGLES:
                # the tool's own guard is looser than this server's: memory grows with the
                # square of the vertex count, so a larger mesh is asked for explicitly
                ignored.append({"field": at, "reason": LOOSER_LIMIT})
                continue
            if target.endswith("segments") or target == "max_triangles":
                mesh[target] = int(round(number))
            else:
                mesh[target] = number * scale
        elif value is not None and f"mesh.{key}" in _IGNORED_DESIGN:
            ignored.append({"field": at, "reason": _IGNORED_DESIGN[f"mesh.{key}"]})
        elif value is not None:
            ignored.append({"field": at, "reason": "not a mesh setting of this engine"})
    if mesh:
        spec["mesh"] = mesh
    simulation = design.get("simulation") if isinstance(design.get("simulation"), Mapping) else {}
    f1 = expr(simulation.get("f1"), f"{where}.simulation.f1")
    f2 = expr(simulation.get("f2"), f"{where}.simulation.f2")
    count = expr(simulation.get("num_frequencies"), f"{where}.simulation.num_frequencies")
    if f1 is not None and f2 is not None:
        spec["frequencies"] = {"start": f1, "stop": f2}
        if count is not None:
            spec["frequencies"]["count"] = count
    if simulation.get("sim_type") is not None:
        spec["sim_type"] = str(simulation["sim_type"])
    checked = {path for path, _, _ in _SHAPE_FIELDS} | {"enclosure.depth", "morph.target_shape"}
    for section in ("morph", "guiding_curve", "source", "enclosure"):
        block = design.get(section)
        for key, value in block.items() if isinstance(block, Mapping) else ():
            path = f"{section}.{key}"
            if path in _BUILT and _noop(value, (_BUILT[path],), f"{where}.{path}"):
                continue  # what this engine builds: used, not ignored
            if section == "morph" and morph is not None:
                continue  # a morph is built: its keys are used
            if path not in checked and value is not None:
                reason = _IGNORED_DESIGN.get(path) or _IGNORED_DESIGN[section]
                ignored.append({"field": f"{where}.{path}", "reason": reason})
    for path in ("simulation.solver_mode", "output", "extra_keys", "extra_blocks"):
        if _get(design, path):
            ignored.append({"field": f"{where}.{path}", "reason": _IGNORED_DESIGN[path]})
    return spec, ignored


def from_waveguide_params(params: Any, where: str) -> tuple[dict[str, Any], Ignored]:
    """The spec fields of the tool's older ``options.mesh.waveguide_params``."""
    if not isinstance(params, Mapping):
        raise InputError("waveguide_params must be an object", location=where)
    for key in _V1_FREEFORM_ICW:
        if params.get(key) is not None:
            raise InputError(
                f"{key} belongs to an ICW or FREEFORM design, which this engine does not build",
                location=f"{where}.{key}",
            )
    design: dict[str, Any] = {"formula": params.get("formula_type", "R-OSSE")}
    ignored: Ignored = []
    notes_at = {}
    for key, value in params.items():
        if key == "formula_type":
            continue
        if key in _V1_RENAMES:
            node = design
            *parents, last = _V1_RENAMES[key].split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[last] = value
            notes_at[_V1_RENAMES[key]] = key
        elif (
            key in GEOMETRY["OSSE"]
            or key in GEOMETRY["R-OSSE"]
            or key
            in (
                "h",
                "throat_profile",
                "throat_ext_angle",
                "throat_ext_length",
                "slot_length",
                "circ_arc_radius",
                "length_mode",
            )
        ):
            design[key] = value
        elif key == "sim_type":
            design.setdefault("simulation", {})["sim_type"] = value
        elif key == "enc_depth":
            depth = expr(value, f"{where}.enc_depth")
            if depth not in (None, 0.0):
                raise InputError(
                    "an enclosure box (enc_depth > 0) is not built: this engine closes the "
                    "waveguide with a sleeve from the mouth back to a flat rear cap",
                    location=f"{where}.enc_depth",
                )
            ignored.append({"field": f"{where}.enc_depth", "reason": THIN_WALL})
        else:
            reason = next(
                (why for prefix, why in _V1_IGNORED.items() if key.startswith(prefix)),
                "not a field this engine reads",
            )
            if value is not None:
                ignored.append({"field": f"{where}.{key}", "reason": reason})
    try:
        spec, more = from_design(design, where)
    except InputError as exc:  # name the field as the request spelt it
        path = (exc.location or "").removeprefix(f"{where}.")
        if path in notes_at:
            exc.location = f"{where}.{notes_at[path]}"
        elif path == "formula":
            exc.location = f"{where}.formula_type"
        elif path.startswith("simulation."):
            exc.location = f"{where}.{path.split('.', 1)[1]}"
        raise
    for item in more:
        path = item["field"].removeprefix(f"{where}.")
        item["field"] = f"{where}.{notes_at.get(path, path)}"
    ignored.extend(more)
    return spec, ignored
