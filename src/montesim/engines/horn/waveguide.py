"""A waveguide's wall as a grid of 3-D points: profiles evaluated around the azimuth.

Parameters given as expressions in ``p`` are evaluated at each azimuth of the grid and
checked there, so a bad value is reported with its field and the azimuth it occurs at.
The horn axis is +z; the wall's foremost point lies at z = 0 and the throat behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from montesim.engines.horn import profiles
from montesim.engines.horn.expressions import parse_expression
from montesim.engines.horn.spec import GeometrySpec, MorphSpec
from montesim.errors import InputError

# ATH's defaults where OSSE and R-OSSE read one name differently
DEFAULT_Q = {"OSSE": 0.995, "R-OSSE": 3.4}

OSSE_PARAMS = ("r0", "a0", "a", "L", "k", "s", "n", "q")
ROSSE_PARAMS = ("R", "r0", "a0", "a", "k", "r", "b", "m", "q")


@dataclass(frozen=True)
class Wall:
    """Wall points (mm), shape (sections, azimuths, 3); section 0 is the throat."""

    points: np.ndarray
    azimuths: np.ndarray

    @property
    def throat(self) -> np.ndarray:
        return self.points[0]

    @property
    def mouth(self) -> np.ndarray:
        return self.points[-1]


# field -> (check, what it must be)
_RULES: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "r0": (lambda v: (v > 0) & (v <= 1000), "between 0 and 1000 mm (exclusive of 0)"),
    "a0": (lambda v: (v >= 0) & (v < 90), "at least 0 and below 90 degrees"),
    "a": (lambda v: (v > 0) & (v < 90), "above 0 and below 90 degrees (a half-angle)"),
    "L": (lambda v: (v > 0) & (v <= 5000), "above 0 and at most 5000 mm"),
    "R": (lambda v: (v > 0) & (v <= 5000), "above 0 and at most 5000 mm"),
    "k": (lambda v: (v > 0) & (v <= 100), "above 0 and at most 100"),
    "s": (lambda v: (v >= 0) & (v <= 100), "between 0 and 100"),
    "n": (lambda v: (v > 0) & (v <= 100), "above 0 and at most 100"),
    "r": (lambda v: (v >= 0) & (v <= 100), "between 0 and 100"),
    "b": (lambda v: (v >= -10) & (v <= 10), "between -10 and 10"),
    "m": (lambda v: (v >= 0) & (v <= 1), "between 0 and 1"),
    "tmax": (lambda v: (v > 0) & (v <= 1), "above 0 and at most 1"),
}


def evaluate(geometry: GeometrySpec, azimuths: np.ndarray) -> dict[str, np.ndarray]:
    """Every parameter of the formula at each azimuth (radians), checked against its range."""
    names = OSSE_PARAMS if geometry.formula == "OSSE" else (*ROSSE_PARAMS, "tmax")
    values: dict[str, np.ndarray] = {}
    for name in names:
        raw = getattr(geometry, name)
        location = f"spec.geometry.{name}"
        if raw is None and name == "q":
            raw = DEFAULT_Q[geometry.formula]
        if raw is None:
            raise InputError(f"{geometry.formula} needs {name}", location=location)
        if isinstance(raw, str):
            value = parse_expression(raw, location)(azimuths)
        else:
            value = np.asarray(float(raw))
        value = np.broadcast_to(value, azimuths.shape).astype(float)
        values[name] = value
        _check_range(name, value, azimuths, location, geometry.formula)
    return values


def _check_range(name, value, azimuths, location, formula) -> None:
    bad = ~np.isfinite(value)
    rule = _RULES.get(name)
    what = "finite"
    if name == "q":
        if formula == "OSSE":
            rule = (lambda v: (v > 0) & (v <= 1), "above 0 and at most 1 for OSSE")
        else:
            rule = (lambda v: (v > 0) & (v <= 100), "above 0 and at most 100 for R-OSSE")
    if rule is not None:
        bad |= ~rule[0](np.nan_to_num(value, nan=-1e300))
        what = rule[1]
    if bad.any():
        i = int(np.argmax(bad))
        at = "" if np.all(value == value[0]) else f" at p = {azimuths[i]:.4g} rad"
        raise InputError(
            f"{name} = {value[i]:.6g}{at}: must be {what}",
            location=location,
            code="invalid_geometry",
        )


def build_wall(geometry: GeometrySpec, angular_segments: int, length_segments: int) -> Wall:
    """The wall grid of a waveguide, mouth foremost point at z = 0."""
    azimuths = 2 * np.pi * np.arange(angular_segments) / angular_segments
    v = evaluate(geometry, azimuths)
    u = np.linspace(0.0, 1.0, length_segments + 1)
    if geometry.formula == "OSSE":
        prof = profiles.osse(u, v["r0"], v["a0"], v["a"], v["L"], v["k"], v["s"], v["n"], v["q"])
    else:
        R, r0 = v["R"], v["r0"]
        if np.any(r0 >= R):
            raise InputError(
                "R must exceed the throat radius r0",
                location="spec.geometry.R",
                code="invalid_geometry",
            )
        t = u[:, None] * v["tmax"][None, :]
        c = (v["R"], r0, v["a0"], v["a"], v["k"], v["r"], v["b"], v["m"], v["q"])
        prof = profiles.Profile(*(np.stack(arrs, axis=1)[:, :, 0] for arrs in _rosse_columns(t, c)))
    x, y = prof.x, prof.y
    if geometry.morph is not None and geometry.morph.target_shape:
        y = morphed(y, u, azimuths, geometry.morph)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))) or np.any(y <= 0):
        raise InputError(
            f"the {geometry.formula} profile is not finite and positive for these parameters",
            location="spec.geometry",
            code="invalid_geometry",
        )
    z = x - x.max()
    pts = np.stack([y * np.cos(azimuths), y * np.sin(azimuths), z], axis=-1)
    return Wall(points=pts, azimuths=azimuths)


def rounded_rectangle_radius(
    azimuths: np.ndarray, half_width: float, half_height: float, corner: float
) -> np.ndarray:
    """Distance from the centre to a rounded rectangle's edge along each azimuth."""
    c, s = np.abs(np.cos(azimuths)), np.abs(np.sin(azimuths))
    r = min(max(corner, 0.0), half_width, half_height)
    with np.errstate(divide="ignore", invalid="ignore"):
        to_side = np.where(c > 1e-12, half_width / c, np.inf)
        to_top = np.where(s > 1e-12, half_height / s, np.inf)
    sharp = np.minimum(to_side, to_top)
    if r <= 0:
        return sharp
    # where the sharp rectangle's hit lies in a corner's square, the arc is hit instead:
    # the ray t (c, s) meets the circle about (W - r, H - r) of radius r at its far root
    x, y = sharp * c, sharp * s
    in_corner = (x > half_width - r + 1e-12) & (y > half_height - r + 1e-12)
    cx, cy = half_width - r, half_height - r
    bb = c * cx + s * cy
    arc = bb + np.sqrt(np.maximum(bb**2 - (cx**2 + cy**2 - r**2), 0.0))
    return np.where(in_corner, arc, sharp)


def morphed(y: np.ndarray, u: np.ndarray, azimuths: np.ndarray, morph: MorphSpec) -> np.ndarray:
    """Radii (sections × azimuths) blended toward ATH's morph target by the mouth.

    A target dimension of 0 is the mouth's own extent (rounded up to a whole mm, as ATH
    does); without ``allow_shrinkage`` the target is never inside the mouth's extent. The
    blend starts at the first section at or past ``fixed_part``.
    """
    mouth = y[-1]
    raw_w = float(np.max(np.abs(mouth * np.cos(azimuths))))
    raw_h = float(np.max(np.abs(mouth * np.sin(azimuths))))
    half_w = morph.target_width / 2 if morph.target_width > 0 else math.ceil(raw_w - 1e-9)
    half_h = morph.target_height / 2 if morph.target_height > 0 else math.ceil(raw_h - 1e-9)
    if not morph.allow_shrinkage:
        half_w, half_h = max(half_w, raw_w), max(half_h, raw_h)
    if morph.target_shape == 2:
        target = np.full_like(mouth, max(half_w, half_h))
    else:
        target = rounded_rectangle_radius(azimuths, half_w, half_h, morph.corner_radius)
    start_at = np.flatnonzero(u >= morph.fixed_part - 1e-12)
    start = float(u[start_at[0]]) if len(start_at) else float(u[-1])
    factor = np.clip((u - start) / max(1e-9, 1.0 - start), 0.0, 1.0) ** morph.rate
    return y + factor[:, None] * (target - mouth)[None, :]


def _rosse_columns(t: np.ndarray, c: tuple) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """R-OSSE per azimuth column (its own t range when tmax varies with p)."""
    xs, ys = [], []
    for j in range(t.shape[1]):
        prof = profiles.rosse(t[:, j], *(np.asarray(a)[j] for a in c))
        xs.append(prof.x)
        ys.append(prof.y)
    return xs, ys


def surface_area_mm2(wall: Wall) -> float:
    """Approximate wall area from the grid (for a triangle-count estimate before meshing)."""
    p = wall.points
    q = np.concatenate([p, p[:, :1]], axis=1)
    a = q[1:, :-1] - q[:-1, :-1]
    b = q[:-1, 1:] - q[:-1, :-1]
    return float(np.linalg.norm(np.cross(a, b), axis=-1).sum())
