"""ATH designs read as data (never executed) into a ``horn`` spec.

The text is ``key = value`` lines and ``Name = { ... }`` blocks (``;`` or ``//`` starts
a comment). An assignment splits on its first ``=`` (``Morph.FutureOption = alpha=beta``
is one key); a block may hold several ``key = value`` pairs on a line. The waveguide is an
``OSSE = { ... }`` or ``R-OSSE = { ... }`` block or, for OSSE, ATH's flat keys
(``Length``, ``Coverage.Angle``, ``Throat.Diameter``, ``Throat.Angle``, ``Term.s/n/q``,
``OS.k``); ``Scale`` multiplies the lengths and the mesh sizes; ``Morph.*``,
``Mesh.*``, ``Source.*`` and ``ABEC.SimType/f1/f2/NumFrequencies`` are read as ATH means
them. Values may be expressions (in ``p`` for the profile). ``ABEC.Polars:SPL_H|V|D =
{ MapAngleRange = start,end,count NormAngle = deg Distance = m Inclination = deg }`` gives
the polar planes: the block's name says which plane, else its inclination does
(0 or 180 horizontal, 90 or 270 vertical, anything else diagonal). Every key is used or
listed in ``ignored`` with the reason, and reported as a warning; a key that would build
a shape this engine does not (an enclosure box, a guiding curve) is refused naming it.

A job takes a design as ``cfg`` (the text) or ``cfg_file_id`` (an uploaded file):
``with_design`` lays the spec's own fields over the design's, and ``origin_of`` turns
a later error at ``spec.geometry.a`` back into the key it came from (``cfg.OSSE.a``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from montesim.engines.horn import wgcompat
from montesim.errors import InputError

MAX_TEXT = 1_000_000
_KEY = re.compile(r"([A-Za-z_][\w.:\-]*)\s*=(?!=)\s*")


@dataclass
class Design:
    spec: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    ignored: dict[str, Any] = field(default_factory=dict)
    # spec path ("geometry.a") -> the design key it came from ("OSSE.a")
    origins: dict[str, str] = field(default_factory=dict)
    # every key not used -> why
    reasons: dict[str, str] = field(default_factory=dict)


def _strip_comments(text: str) -> str:
    return "\n".join(line.split(";", 1)[0].split("//", 1)[0] for line in text.splitlines())


def _pairs(text: str, where: str, *, several: bool) -> list[tuple[str, str]]:
    """``key = value`` pairs in order. Each line splits on its first ``=``; with
    ``several`` (inside a block) a later ``key =`` after a value starts another pair."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        first = _KEY.match(line.strip()) if line.strip() else None
        if first is None:
            if line.strip() and not several:
                raise InputError(
                    f"cannot read {line.strip()!r} (expected key = value)", location=where
                )
            if line.strip():  # a block's raw row (contours, points): kept, keyed by its place
                out.append((f"{ROW}{len(out) + 1}", line.strip()))
            continue
        line = line.strip()
        starts = [first]
        if several:
            for m in _KEY.finditer(line, first.end()):
                before = line[starts[-1].end() : m.start()]
                if before.strip() and line[m.start() - 1].isspace():
                    starts.append(m)
        for i, m in enumerate(starts):
            end = starts[i + 1].start() if i + 1 < len(starts) else len(line)
            out.append((m.group(1), line[m.end() : end].strip().strip('"')))
    return out


def parse_entries(text: str) -> list[tuple[str, str | list[tuple[str, str]]]]:
    """Top-level entries: (key, value) or (block name, its pairs)."""
    if len(text) > MAX_TEXT:
        raise InputError("the .cfg file is larger than 1 MB", location="cfg")
    text = _strip_comments(text)
    entries: list[tuple[str, str | list[tuple[str, str]]]] = []
    pos = 0
    block = re.compile(r"([A-Za-z_][\w.:\-]*)\s*=\s*\{", re.S)
    while pos < len(text):
        m = block.search(text, pos)
        head = text[pos : m.start()] if m else text[pos:]
        for key, value in _pairs(head, "cfg", several=False):
            entries.append((key, value))
        if not m:
            break
        close = text.find("}", m.end())
        if close < 0:
            raise InputError(
                f"block {m.group(1)} is not closed with }}", location=f"cfg.{m.group(1)}"
            )
        inner = text[m.end() : close]
        entries.append((m.group(1), _pairs(inner, f"cfg.{m.group(1)}", several=True)))
        pos = close + 1
    return entries


def _number(value: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(f"expected a number, got {value!r}", location=where) from None


# ATH's keys, as paths in the tool's design object (read by wgcompat.from_design)
OSSE_FLAT = {
    "Coverage.Angle": "a",
    "Length": "L",
    "Throat.Angle": "a0",
    "Term.s": "s",
    "Term.n": "n",
    "Term.q": "q",
    "OS.k": "k",
    "OS.h": "h",
    "Throat.Profile": "throat_profile",
    "Rot": "rotation",
    "CircArc.Radius": "circ_arc_radius",
    "GCurve.Type": "guiding_curve.curve_type",
}
COMMON = {
    "Scale": "scale",
    "Coverage.Mode": "coverage_mode",
    "Length.Mode": "length_mode",
    "Throat.Ext.Angle": "throat_ext_angle",
    "Throat.Ext.Length": "throat_ext_length",
    "Slot.Length": "slot_length",
    "Morph.TargetShape": "morph.target_shape",
    "Morph.Exponent": "morph.target_exponent",
    "Morph.TargetWidth": "morph.target_width",
    "Morph.TargetHeight": "morph.target_height",
    "Morph.CornerRadius": "morph.corner_radius",
    "Morph.Rate": "morph.rate",
    "Morph.FixedPart": "morph.fixed_part",
    "Morph.AllowShrinkage": "morph.allow_shrinkage",
    "Mesh.AngularSegments": "mesh.angular_segments",
    "Mesh.LengthSegments": "mesh.length_segments",
    "Mesh.ThroatResolution": "mesh.throat_resolution",
    "Mesh.MouthResolution": "mesh.mouth_resolution",
    "Mesh.RearResolution": "mesh.rear_resolution",
    "Mesh.MaxTriangles": "mesh.max_triangles",
    "Mesh.Quadrants": "mesh.quadrants",
    "Mesh.CornerSegments": "mesh.corner_segments",
    "Mesh.ThroatSegments": "mesh.throat_segments",
    "Mesh.ThroatSliceDensity": "mesh.throat_slice_density",
    "Mesh.SamplingMode": "mesh.sampling_mode",
    "Mesh.ZMapPoints": "mesh.z_map_points",
    "Mesh.ZMap": "mesh.z_map_points",
    "Mesh.VerticalOffset": "mesh.vertical_offset",
    "Mesh.WallThickness": "mesh.wall_thickness",
    "Mesh.ApertureResolutionScale": "mesh.aperture_resolution_scale",
    "Mesh.MaxEdge": "mesh.max_edge",
    "Source.Shape": "source.shape",
    "Source.Radius": "source.radius",
    "Source.Curv": "source.curvature",
    "Source.Velocity": "source.velocity",
    "Source.Contours": "source.contours",
    "ABEC.f1": "simulation.f1",
    "ABEC.F1": "simulation.f1",
    "Simulation.F1": "simulation.f1",
    "ABEC.f2": "simulation.f2",
    "ABEC.F2": "simulation.f2",
    "Simulation.F2": "simulation.f2",
    "ABEC.NumFrequencies": "simulation.num_frequencies",
    "Simulation.NumFrequencies": "simulation.num_frequencies",
    "ABEC.SimType": "simulation.sim_type",
    "Simulation.SimType": "simulation.sim_type",
}
# other keys this engine knows and does not use: prefix -> why
IGNORED = {
    "GCurve.": "used only with a guiding curve (GCurve.Type), which is not built",
    "CircArc.": "used only with a circular-arc termination (CircArc.Radius)",
    "Output.": "an output setting of ATH (files to write); it does not change the solve",
    "Report": "a report setting of ATH",
    "ABEC.MeshFrequency": "ABEC's mesh subdivision trigger; this engine meshes at the resolutions",
    "ABEC.": "an ABEC project setting; this engine runs its own BEM solve",
    "Mesh.SubdomainSlices": "ABEC's subdomains; this engine solves one exterior domain",
    "Mesh.Interface": "ABEC's interface surfaces; this engine solves one exterior domain",
    "Mesh.": "a setting of ATH's mesher; this engine sizes elements from the resolutions",
    "Morph.": "not a morph setting this engine knows; no morph is built unless TargetShape",
    "Source.": "not a source setting this engine knows; the source is a flat throat disc",
    "WG.": "the horn tool's own settings block (its solve options)",
    "CadLink": "the horn tool's CAD identity block",
    "_": "commented out (a leading _ disables a key in ATH)",
}
ROW = "row "  # the key of a block's raw row (no key can contain a space)
PLANES = {"SPL_H": "horizontal", "SPL_V": "vertical", "SPL_D": "diagonal"}
ABSCISSA = {"1": "log", "2": "linear"}


def _put(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[last] = value


def _why(key: str) -> str:
    return next(
        (why for prefix, why in IGNORED.items() if key.startswith(prefix)),
        "not an ATH key this engine reads",
    )


# ATH's section blocks, the same keys as their flat dotted spellings (Mesh = { ... })
SECTIONS = {"mesh": "Mesh", "morph": "Morph", "source": "Source", "simulation": "Simulation"}


def _sections_flattened(
    entries: list[tuple[str, str | list[tuple[str, str]]]],
) -> list[tuple[str, str | list[tuple[str, str]]]]:
    """``Mesh = { AngularSegments = 80 }`` read as ``Mesh.AngularSegments = 80``."""
    out: list[tuple[str, str | list[tuple[str, str]]]] = []
    for key, value in entries:
        section = SECTIONS.get(key.lower())
        if section and isinstance(value, list):
            for k, v in value:
                if k.startswith(ROW):
                    raise InputError(
                        f"cannot read {v!r} (expected key = value)", location=f"cfg.{key}"
                    )
                out.append((f"{section}.{k}", v))
        else:
            out.append((key, value))
    return out


def _plane(name: str, inclination: float | None) -> str:
    """The plane an ABEC.Polars block describes: its name, else its inclination."""
    named = PLANES.get(name.rsplit(":", 1)[-1].upper())
    if named:
        return named
    if inclination is None or inclination % 180 == 0:
        return "horizontal"
    return "vertical" if inclination % 180 == 90 else "diagonal"


def design_from_cfg(text: str) -> Design:
    """The ``horn`` spec (without frequencies unless ABEC gives them) of an ATH design."""
    tree: dict[str, Any] = {}
    at: dict[str, str] = {}  # design path -> the ATH key that gave it
    formula: str | None = None
    flat_osse = False
    planes: dict[str, float] = {}
    polars: dict[str, Any] = {}
    distance: float | None = None
    spacing: str | None = None
    design = Design(spec={})
    reasons: dict[str, str] = {}
    for key, value in _sections_flattened(parse_entries(text)):
        if key in ("OSSE", "R-OSSE") and isinstance(value, list):
            if formula is not None:
                raise InputError(
                    "the design has more than one waveguide block", location=f"cfg.{key}"
                )
            formula = key
            for k, v in value:
                if k in wgcompat.GEOMETRY[key] or k == "h":
                    _put(tree, k, v)
                    at[k] = f"{key}.{k}"
                elif k == "Scale":
                    _put(tree, "scale", v)
                    at["scale"] = f"{key}.Scale"
                elif k.startswith(ROW):
                    raise InputError(
                        f"cannot read {v!r} (expected key = value)", location=f"cfg.{key}"
                    )
                else:
                    design.ignored[f"{key}.{k}"] = v
                    reasons[f"{key}.{k}"] = f"not a parameter of ATH's {key} profile"
        elif key.startswith("ABEC.Polars:") and isinstance(value, list):
            where = f"cfg.{key}"
            fields = dict(value)
            inclination = (
                _number(fields["Inclination"], f"{where}.Inclination")
                if "Inclination" in fields
                else None
            )
            plane = _plane(key, inclination)
            planes[plane] = float(inclination or 0.0) if plane != "horizontal" else 0.0
            if plane == "vertical" and inclination is None:
                planes[plane] = 90.0
            if "MapAngleRange" in fields:
                parts = [p.strip() for p in fields["MapAngleRange"].split(",")]
                at_range = f"{where}.MapAngleRange"
                if len(parts) != 3:
                    raise InputError("MapAngleRange is start,end,count", location=at_range)
                start, end = _number(parts[0], at_range), _number(parts[1], at_range)
                count = int(_number(parts[2], at_range))
                design.origins["polars.angles"] = f"{key}.MapAngleRange"
                polars["angles"] = {
                    "start": start,
                    "stop": end,
                    "step": (end - start) / (count - 1) if count > 1 else 180.0,
                }
            if "NormAngle" in fields:
                polars["norm_angle"] = _number(fields["NormAngle"], f"{where}.NormAngle")
                design.origins["polars.norm_angle"] = f"{key}.NormAngle"
            if "Distance" in fields:
                distance = _number(fields["Distance"], f"{where}.Distance")
                design.origins["distance"] = f"{key}.Distance"
            for k, v in value:
                if k not in ("MapAngleRange", "NormAngle", "Distance", "Inclination"):
                    design.ignored[f"{key}.{k}"] = v
                    reasons[f"{key}.{k}"] = "not a polar setting this engine reads"
        elif key == "Mesh.Enclosure" and isinstance(value, list):
            raise InputError(
                "an enclosure box (Mesh.Enclosure) is not built: this engine closes the "
                "waveguide with a sleeve from the mouth back to a flat rear cap",
                location=f"cfg.{key}",
            )
        elif isinstance(value, list):
            design.ignored[key] = dict(value)
            reasons[key] = _why(key)
        elif key in OSSE_FLAT:
            flat_osse = True
            _put(tree, OSSE_FLAT[key], value)
            at[OSSE_FLAT[key]] = key
        elif key == "Throat.Diameter":
            flat_osse = True
            _put(tree, "r0", f"({value}) / 2")
            at["r0"] = key
        elif key in COMMON:
            _put(tree, COMMON[key], value)
            at[COMMON[key]] = key
        elif key == "ABEC.Abscissa":
            spacing = ABSCISSA.get(value.strip())
            if spacing is None:
                raise InputError(
                    f"ABEC.Abscissa is 1 (log) or 2 (linear), not {value!r}",
                    location=f"cfg.{key}",
                )
            design.origins["frequencies.spacing"] = key
        else:
            design.ignored[key] = value
            reasons[key] = _why(key)
    if formula is None and flat_osse:
        formula = "OSSE"
    if formula is None:
        raise InputError(
            "the design has no waveguide: an OSSE = { ... } or R-OSSE = { ... } block, or "
            "ATH's flat OSSE keys (Coverage.Angle, Length, Throat.Diameter, ...)",
            location="cfg",
        )
    tree["formula"] = formula
    try:
        fields, ignored = wgcompat.from_design(tree, "cfg")
    except InputError as exc:
        exc.location = _ath_location(exc.location, at, formula)
        raise
    for item in ignored:
        key = _ath_location(item["field"], at, formula).removeprefix("cfg.")
        reasons[key] = item["reason"]
    design.spec.update(fields)
    geometry = design.spec["geometry"]
    for name in geometry:
        if name in at:
            design.origins[f"geometry.{name}"] = at[name]
    design.origins["geometry"] = formula if formula in ("OSSE", "R-OSSE") else "cfg"
    for path, key in at.items():
        if path.startswith("morph."):
            design.origins[f"geometry.{path}"] = key
        if path.startswith("mesh."):
            target = wgcompat.MESH_FIELDS.get(path.removeprefix("mesh."))
            if target:
                design.origins[f"mesh.{target}"] = key
    for path, spec_path in (
        ("simulation.num_frequencies", "frequencies.count"),
        ("simulation.f2", "frequencies.stop"),
        ("simulation.f1", "frequencies.start"),
        ("simulation.f1", "frequencies"),
        ("simulation.sim_type", "sim_type"),
    ):
        if path in at:
            design.origins[spec_path] = at[path]
    if "mesh" in design.spec:
        design.spec["mesh"] = dict(design.spec["mesh"])
    if spacing is not None and "frequencies" in design.spec:
        design.spec["frequencies"]["spacing"] = spacing
    if planes:
        polars["planes"] = planes
        design.origins["polars.planes"] = "ABEC.Polars"
    if polars:
        design.spec["polars"] = polars
    if distance is not None:
        design.spec["distance"] = distance
    design.reasons = reasons
    design.warnings = [f"{k}: not used ({why})" for k, why in reasons.items()]
    return design


def _ath_location(location: str | None, at: dict[str, str], formula: str) -> str:
    """``cfg.mesh.throat_resolution`` → ``cfg.Mesh.ThroatResolution`` (the key written)."""
    path = (location or "cfg").removeprefix("cfg").removeprefix(".")
    if path in at:
        return f"cfg.{at[path]}"
    if path in wgcompat.GEOMETRY.get(formula, ()):
        return f"cfg.{formula}.{path}"
    return f"cfg.{path}" if path else "cfg"


def with_design(spec: dict[str, Any], text: str, field_name: str) -> tuple[dict[str, Any], Design]:
    """The spec with the design underneath: its own fields win, section by section."""
    try:
        design = design_from_cfg(text)
    except InputError as exc:
        exc.location = relocate(exc.location, field_name)
        raise
    merged = _overlay(design.spec, {k: v for k, v in spec.items() if k != field_name})
    for path in list(design.origins):
        if _has(spec, path.split(".")):
            del design.origins[path]  # the spec's own value won: errors are the spec's
    return merged, design


def relocate(location: str | None, field_name: str) -> str:
    """A parser location (``cfg.OSSE``) under the spec field that held the text."""
    rest = (location or "cfg").removeprefix("cfg")
    return f"spec.{field_name}{rest}"


def origin_of(location: str | None, design: Design, field_name: str) -> str | None:
    """``spec.geometry.a`` → ``spec.cfg.OSSE.a`` when the design gave that value."""
    if not location or not location.startswith("spec."):
        return location
    path = location.removeprefix("spec.")
    found = [
        (len(spec_path), key)
        for spec_path, key in design.origins.items()
        if path == spec_path or path.startswith(spec_path + ".")
    ]
    if found:  # the most specific origin: geometry.morph.rate before geometry
        return f"spec.{field_name}.{max(found)[1]}"
    return location


def _overlay(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _overlay(out[k], v)
        else:
            out[k] = v
    return out


def _has(spec: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(spec, dict) or part not in spec:
            return False
        spec = spec[part]
    return True
