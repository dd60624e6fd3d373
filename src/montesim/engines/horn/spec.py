"""The job spec of the ``horn`` engine (pydantic), and its errors as InputErrors naming the field.

Geometry lengths are millimetres and angles degrees (as in ATH); the observation
distance is metres. A parameter is a number or an expression in the azimuth ``p``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from montesim.errors import InputError

Param = float | str
MAX_FREQUENCIES = 400
MAX_TRIANGLES = 60_000  # dense BEM: memory grows with the square of the vertex count
DEFAULT_MAX_TRIANGLES = 20_000
# ATH/ABEC's SimType numbers and the names used for them
SIM_TYPES = {
    "free_standing": "free_standing",
    "freestanding": "free_standing",
    "2": "free_standing",
    "infinite_baffle": "infinite_baffle",
    "1": "infinite_baffle",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MorphSpec(_Model):
    """ATH's morph: the cross-section blends from the profile's own toward a target shape.

    Past ``fixed_part`` of the length the radius at azimuth p moves by
    (target(p) − mouth(p)) · ((t − fixed)/(1 − fixed))^rate, so the mouth is the target.
    """

    target_shape: Literal[0, 1, 2] = Field(0, description="0 none, 1 rectangle, 2 circle")
    target_width: float = Field(0.0, ge=0, le=10_000, description="mm; 0: the mouth's width")
    target_height: float = Field(0.0, ge=0, le=10_000, description="mm; 0: the mouth's height")
    corner_radius: float = Field(0.0, ge=0, le=10_000, description="rectangle's corners, mm")
    rate: float = Field(3.0, gt=0, le=100, description="how late the blend comes")
    fixed_part: float = Field(0.0, ge=0, lt=1, description="share of the length not morphed")
    allow_shrinkage: bool = Field(False, description="the target may be inside the mouth")


class GeometrySpec(_Model):
    """OSSE needs ``L``; R-OSSE needs ``R``. Unset shape parameters take ATH's defaults."""

    formula: Literal["OSSE", "R-OSSE"] = "R-OSSE"
    r0: Param = Field(12.7, description="throat radius, mm")
    a0: Param = Field(15.5, description="throat half-angle, degrees")
    a: Param = Field(45.0, description="coverage half-angle, degrees")
    L: Param | None = Field(None, description="OSSE length, mm")
    R: Param | None = Field(None, description="R-OSSE mouth radius, mm")
    k: Param = Field(1.0, description="throat expansion factor")
    s: Param = Field(0.0, description="OSSE termination strength")
    n: Param = Field(4.0, description="OSSE termination exponent")
    q: Param | None = Field(None, description="OSSE termination / R-OSSE throat shape")
    r: Param = Field(0.4, description="R-OSSE apex radius")
    b: Param = Field(0.2, description="R-OSSE bending")
    m: Param = Field(0.85, description="R-OSSE apex shift")
    tmax: Param = Field(1.0, description="R-OSSE truncation, 0 < tmax <= 1")
    morph: MorphSpec | None = Field(None, description="ATH's Morph.*: a rectangular mouth")


class MeshSpec(_Model):
    angular_segments: int = Field(48, ge=8, le=256, description="points around each section")
    length_segments: int = Field(16, ge=4, le=100, description="sections along the profile")
    throat_size: float = Field(6.0, gt=0.2, le=200, description="element size at the throat, mm")
    mouth_size: float = Field(20.0, gt=0.2, le=500, description="element size at the mouth, mm")
    rear_size: float | None = Field(None, gt=0.2, le=1000, description="element size behind")
    enclosure_depth: float = Field(40.0, gt=0, le=2000, description="body behind the throat, mm")
    max_triangles: int = Field(DEFAULT_MAX_TRIANGLES, ge=10, le=MAX_TRIANGLES)


class UserMeshSpec(_Model):
    """A mesh given by the user: inline arrays or an uploaded Gmsh ``.msh`` (``file_id``)."""

    vertices: list[list[float]] | None = None
    triangles: list[list[int]] | None = None
    tags: list[int] | None = None
    file_id: str | None = None
    units: Literal["mm", "m"] = "mm"
    baffled: bool = False
    max_triangles: int = Field(DEFAULT_MAX_TRIANGLES, ge=10, le=MAX_TRIANGLES)

    @model_validator(mode="after")
    def _one_source(self) -> UserMeshSpec:
        inline = self.vertices is not None or self.triangles is not None
        if inline == (self.file_id is not None):
            raise ValueError("give vertices, triangles and tags, or a file_id, not both")
        if inline and (self.vertices is None or self.triangles is None or self.tags is None):
            raise ValueError("an inline mesh needs vertices, triangles and tags")
        return self


class FrequencySpec(_Model):
    start: float | None = Field(None, ge=1, le=100_000, description="Hz")
    stop: float | None = Field(None, ge=1, le=100_000, description="Hz")
    count: int = Field(24, ge=1, le=MAX_FREQUENCIES)
    spacing: Literal["log", "linear"] = "log"
    values: list[float] | None = Field(None, max_length=MAX_FREQUENCIES)

    @model_validator(mode="after")
    def _range_or_list(self) -> FrequencySpec:
        if self.values is not None:
            if not self.values:
                raise ValueError("values must list at least one frequency")
            if any(not (1 <= f <= 100_000) for f in self.values):
                raise ValueError("every frequency must be between 1 Hz and 100 kHz")
            return self
        if self.start is None or self.stop is None:
            raise ValueError("give start and stop (Hz), or a list of values")
        if self.stop < self.start:
            raise ValueError("stop must not be below start")
        return self

    def hz(self) -> np.ndarray:
        if self.values is not None:
            return np.asarray(self.values, dtype=float)
        if self.count == 1:
            return np.asarray([self.start], dtype=float)
        if self.spacing == "log":
            return np.geomspace(self.start, self.stop, self.count)
        return np.linspace(self.start, self.stop, self.count)


class AnglesSpec(_Model):
    start: float = Field(0.0, ge=0, le=180)
    stop: float = Field(180.0, ge=0, le=180)
    step: float = Field(5.0, gt=0, le=180)

    def degrees(self) -> np.ndarray:
        if self.stop < self.start:
            raise ValueError("stop below start")
        n = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return self.start + self.step * np.arange(n)


class PolarSpec(_Model):
    angles: AnglesSpec = Field(default_factory=AnglesSpec)
    norm_angle: float = Field(0.0, ge=0, le=180, description="0 dB at this angle")
    planes: dict[Literal["horizontal", "vertical", "diagonal"], float] = Field(
        default_factory=lambda: {"horizontal": 0.0, "vertical": 90.0, "diagonal": 45.0},
        description="plane -> inclination (degrees from the horizontal)",
    )
    origin: Literal["mouth", "throat"] = Field(
        "mouth",
        description=(
            "where the polar arcs are centred and the distance is measured from: the mouth "
            "(the coordinate origin; the mouth centre of a generated waveguide) or the throat "
            "(its centre on the axis; a user mesh's source centroid)"
        ),
    )


class HornSpec(_Model):
    cfg: str | None = Field(
        None,
        max_length=1_000_000,
        description="an ATH .cfg design as text; the spec's own fields override it",
    )
    cfg_file_id: str | None = Field(
        None, description="an uploaded ATH .cfg design (POST /api/files); as cfg"
    )
    geometry: GeometrySpec | None = None
    mesh: MeshSpec = Field(default_factory=MeshSpec)
    user_mesh: UserMeshSpec | None = None
    frequencies: FrequencySpec
    temperature_c: float = Field(20.0, ge=-50, le=80, description="air temperature, °C")
    distance: float = Field(2.0, gt=0.01, le=1000, description="observation distance, m")
    polars: PolarSpec = Field(default_factory=PolarSpec)
    sim_type: str = Field(
        "free_standing",
        max_length=40,
        description="free_standing (ATH/ABEC 2) or infinite_baffle (1: a user_mesh with baffled)",
    )
    client: dict[str, Any] | None = Field(
        None, description="what the horn tool's front end sent alongside; echoed in its views"
    )
    notes: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="warnings carried into the result (what a request gave that is not used)",
    )

    @field_validator("sim_type")
    @classmethod
    def _sim_type(cls, value: str) -> str:
        kind = SIM_TYPES.get(value.strip().lower().replace("-", "_"))
        if kind is None:
            raise ValueError(
                f"sim_type must be free_standing (or 2) or infinite_baffle (or 1), not {value!r}"
            )
        return kind

    @model_validator(mode="after")
    def _geometry_or_mesh(self) -> HornSpec:
        if (self.geometry is None) == (self.user_mesh is None):
            raise ValueError("give a waveguide geometry or a user_mesh, not both")
        return self


def parse_spec(spec: Mapping[str, Any]) -> HornSpec:
    if not isinstance(spec, Mapping):
        raise InputError("the spec must be a JSON object", location="spec")
    try:
        parsed = HornSpec.model_validate(dict(spec))
    except ValidationError as exc:
        items = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            items.append({"location": f"spec.{loc}" if loc else "spec", "message": msg})
        first = items[0]
        raise InputError(
            f"{first['location']}: {first['message']}", location=first["location"], detail=items
        ) from None
    return _mounted(parsed)


def _mounted(spec: HornSpec) -> HornSpec:
    """Infinite baffle only where this engine can solve one: a user mesh in front of it."""
    baffled_mesh = spec.user_mesh is not None and spec.user_mesh.baffled
    if spec.sim_type == "infinite_baffle" and not baffled_mesh:
        raise InputError(
            "sim_type infinite_baffle (ATH's 1) is refused for a generated waveguide: a horn "
            "flush in an infinite baffle has its inside behind the baffle plane, which this "
            "engine's image-method baffle cannot represent (it solves bodies in front of the "
            "baffle: a user_mesh with baffled: true); solve it free-standing (2) instead",
            location="spec.sim_type",
            code="unsupported_sim_type",
        )
    if baffled_mesh:
        spec.sim_type = "infinite_baffle"  # a baffled mesh is solved as one, whatever it says
    return spec
