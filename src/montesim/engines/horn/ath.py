"""ATH-style ``.cfg`` designs read as data (never executed) into a ``horn`` spec.

The text is ``key = value`` lines and ``Name = { ... }`` blocks (``;`` starts a
comment). ``OSSE = { ... }`` or ``R-OSSE = { ... }`` gives the waveguide, ``Mesh.*`` the
resolution, ``ABEC.Polars:SPL_H|V|D = { MapAngleRange = start,end,count NormAngle = deg
Distance = m Inclination = deg }`` the polar planes (no Inclination: horizontal; 90:
vertical; anything else: diagonal). Keys this engine does not use are kept in the
returned ``ignored`` mapping and reported as warnings.
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
                else:
                    design.ignored[f"{key}.{k}"] = v
        elif key in MESH_KEYS and isinstance(value, str):
            mesh[MESH_KEYS[key]] = _number(value, f"cfg.{key}")
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
                start, end = _number(parts[0], where), _number(parts[1], where)
                count = int(_number(parts[2], where))
                polars["angles"] = {
                    "start": start,
                    "stop": end,
                    "step": (end - start) / (count - 1) if count > 1 else 180.0,
                }
            if "NormAngle" in fields:
                polars["norm_angle"] = _number(fields["NormAngle"], f"{where}.NormAngle")
            if "Distance" in fields:
                distance = _number(fields["Distance"], f"{where}.Distance")
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
    if polars:
        design.spec["polars"] = polars
    if distance is not None:
        design.spec["distance"] = distance
    design.warnings = [f"{k}: not used by the horn engine (kept, ignored)" for k in design.ignored]
    return design
