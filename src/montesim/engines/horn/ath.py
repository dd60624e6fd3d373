"""ATH-style ``.cfg`` designs read as data (never executed) into a ``horn`` spec.

The text is ``key = value`` lines and ``Name = { ... }`` blocks (``;`` starts a
comment). ``OSSE = { ... }`` or ``R-OSSE = { ... }`` gives the waveguide, ``Mesh.*`` the
resolution, ``ABEC.Polars:SPL_H|V|D = { MapAngleRange = start,end,count NormAngle = deg
Distance = m Inclination = deg }`` the polar planes (no Inclination: horizontal; 90:
vertical; anything else: diagonal). Keys this engine does not use are kept in the
returned ``ignored`` mapping and reported as warnings.

A job takes a design as ``cfg`` (the text) or ``cfg_file_id`` (an uploaded file):
``with_design`` lays the spec's own fields over the design's, and ``origin_of`` turns
a later error at ``spec.geometry.a`` back into the key it came from (``cfg.OSSE.a``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from montesim.errors import InputError

MAX_TEXT = 1_000_000
GEOMETRY_KEYS = {"r0", "a0", "a", "L", "R", "k", "s", "n", "q", "r", "b", "m", "tmax"}
MESH_KEYS = {
    "Mesh.AngularSegments": "angular_segments",
    "Mesh.LengthSegments": "length_segments",
    "Mesh.ThroatResolution": "throat_size",
    "Mesh.MouthResolution": "mouth_size",
    "Mesh.RearResolution": "rear_size",
}
_KEY = re.compile(r"([A-Za-z_][\w.:\-]*)\s*=\s*")


@dataclass
class Design:
    spec: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    ignored: dict[str, Any] = field(default_factory=dict)
    # spec path ("geometry.a") -> the design key it came from ("OSSE.a")
    origins: dict[str, str] = field(default_factory=dict)


def _strip_comments(text: str) -> str:
    return "\n".join(line.split(";", 1)[0].split("//", 1)[0] for line in text.splitlines())


def _pairs(text: str, where: str) -> list[tuple[str, str]]:
    """``key = value`` pairs in order; a value runs to the next ``key =`` or line end."""
    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        matches = list(_KEY.finditer(line))
        if not matches and line.strip():
            raise InputError(f"cannot read {line.strip()!r} (expected key = value)", location=where)
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
            if i == 0 and line[: m.start()].strip():
                raise InputError(f"cannot read {line.strip()!r}", location=where)
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
        for key, value in _pairs(head, "cfg"):
            entries.append((key, value))
        if not m:
            break
        close = text.find("}", m.end())
        if close < 0:
            raise InputError(
                f"block {m.group(1)} is not closed with }}", location=f"cfg.{m.group(1)}"
            )
        entries.append((m.group(1), _pairs(text[m.end() : close], f"cfg.{m.group(1)}")))
        pos = close + 1
    return entries


def _number(value: str, where: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(f"expected a number, got {value!r}", location=where) from None


def _param(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value  # an expression in p; checked by the expression evaluator later


def design_from_cfg(text: str) -> Design:
    """The ``horn`` spec (without frequencies unless given) of an ATH design."""
    geometry: dict[str, Any] | None = None
    mesh: dict[str, Any] = {}
    planes: dict[str, float] = {}
    polars: dict[str, Any] = {}
    distance: float | None = None
    design = Design(spec={})
    for key, value in parse_entries(text):
        if key in ("OSSE", "R-OSSE") and isinstance(value, list):
            if geometry is not None:
                raise InputError(
                    "the design has more than one waveguide block", location=f"cfg.{key}"
                )
            geometry = {"formula": key}
            for k, v in value:
                if k in GEOMETRY_KEYS:
                    geometry[k] = _param(v)
                    design.origins[f"geometry.{k}"] = f"{key}.{k}"
                else:
                    design.ignored[f"{key}.{k}"] = v
            design.origins["geometry"] = key  # after its keys: the most specific wins
        elif key in MESH_KEYS and isinstance(value, str):
            mesh[MESH_KEYS[key]] = _number(value, f"cfg.{key}")
            design.origins[f"mesh.{MESH_KEYS[key]}"] = key
        elif key.startswith("ABEC.Polars:") and isinstance(value, list):
            fields = dict(value)
            where = f"cfg.{key}"
            inclination = _number(fields.get("Inclination", "0"), f"{where}.Inclination")
            plane = (
                "horizontal"
                if "Inclination" not in fields or inclination == 0
                else "vertical"
                if inclination == 90
                else "diagonal"
            )
            planes[plane] = inclination
            if "MapAngleRange" in fields:
                parts = [p.strip() for p in fields["MapAngleRange"].split(",")]
                if len(parts) != 3:
                    raise InputError(
                        "MapAngleRange is start,end,count", location=f"{where}.MapAngleRange"
                    )
                at = f"{where}.MapAngleRange"
                start, end = _number(parts[0], at), _number(parts[1], at)
                count = int(_number(parts[2], at))
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
        else:
            design.ignored[key] = value if isinstance(value, str) else dict(value)
    if geometry is None:
        raise InputError(
            "the design has no OSSE = { ... } or R-OSSE = { ... } block", location="cfg"
        )
    design.spec["geometry"] = geometry
    if mesh:
        design.spec["mesh"] = {k: int(v) if k.endswith("segments") else v for k, v in mesh.items()}
    if planes:
        polars["planes"] = planes
        design.origins["polars.planes"] = "ABEC.Polars"
    if polars:
        design.spec["polars"] = polars
    if distance is not None:
        design.spec["distance"] = distance
    design.warnings = [f"{k}: not used by the horn engine (kept, ignored)" for k in design.ignored]
    return design


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
    for spec_path, key in design.origins.items():
        if path == spec_path or path.startswith(spec_path + "."):
            return f"spec.{field_name}.{key}"
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
