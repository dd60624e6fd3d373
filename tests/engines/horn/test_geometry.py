"""OSSE/R-OSSE profiles, the expression evaluator, meshing with tags, and 422s naming fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from montesim.engines.horn.expressions import parse_expression
from montesim.engines.horn.profiles import osse, rosse, rosse_length
from montesim.engines.horn.spec import GeometrySpec, MeshSpec
from montesim.engines.horn.waveguide import build_wall
from montesim.errors import InputError

ROSSE = {"formula": "R-OSSE", "R": 90, "a": 40, "a0": 15.5, "r0": 12.7, "k": 2, "q": 4}
OSSE = {"formula": "OSSE", "L": 100, "a": 45, "a0": 10, "r0": 12.7, "k": 1, "s": 0.0, "n": 4}


# -- profiles ---------------------------------------------------------------------------


def test_osse_has_the_throat_radius_at_the_throat_and_the_coverage_slope_at_the_mouth() -> None:
    t = np.linspace(0, 1, 2001)
    prof = osse(t, r0=12.7, a0=10.0, a=45.0, L=300.0, k=1.0, s=0.0, n=4.0, q=0.995)
    x, y = prof.x[:, 0], prof.y[:, 0]
    assert y[0] == pytest.approx(12.7)
    assert x[-1] == pytest.approx(300.0)
    slope = (y[-1] - y[-2]) / (x[-1] - x[-2])
    # the OS term tends to the coverage angle's slope far from the throat
    assert math.degrees(math.atan(slope)) == pytest.approx(45.0, abs=1.0)
    # and starts at the throat angle
    start = (y[1] - y[0]) / (x[1] - x[0])
    assert math.degrees(math.atan(start)) == pytest.approx(10.0, abs=0.5)


def test_osse_termination_flares_the_mouth() -> None:
    t = np.linspace(0, 1, 101)
    plain = osse(t, 12.7, 10.0, 45.0, 120.0, 1.0, 0.0, 4.0, 0.995).y[:, 0]
    flared = osse(t, 12.7, 10.0, 45.0, 120.0, 1.0, 0.7, 4.0, 0.995).y[:, 0]
    assert flared[0] == pytest.approx(plain[0])
    assert flared[-1] > plain[-1] + 10


def test_rosse_matches_an_independent_evaluation_of_batiks_equations() -> None:
    # Written out by hand from "R-OSSE Waveguide" rev. 7 (and cross-checked with the
    # public TypeScript implementation of the same equations in waveguide designers)
    R, r0, a0, a, k, r, b, m, q = 90.0, 12.7, 15.5, 40.0, 2.0, 0.4, 0.2, 0.85, 4.0
    c1 = (k * r0) ** 2
    c2 = 2 * k * r0 * math.tan(math.radians(a0))
    c3 = math.tan(math.radians(a)) ** 2
    L = (math.sqrt(c2 * c2 - 4 * c3 * (c1 - (R + r0 * (k - 1)) ** 2)) - c2) / (2 * c3)
    assert rosse_length(R, r0, a0, a, k) == pytest.approx(L)
    for t in (0.0, 0.25, 0.5, 0.9, 1.0):
        x = (
            L * (math.hypot(r, m) - math.hypot(r, t - m))
            + b * L * (math.hypot(r, 1 - m) - math.hypot(r, m)) * t * t
        )
        y = (1 - t**q) * (math.sqrt(c1 + c2 * L * t + c3 * L * L * t * t) + r0 * (1 - k)) + t**q * (
            R + L * (1 - math.sqrt(1 + c3 * (t - 1) ** 2))
        )
        prof = rosse(np.array([t]), R, r0, a0, a, k, r, b, m, q)
        assert prof.x[0, 0] == pytest.approx(x)
        assert prof.y[0, 0] == pytest.approx(y)
    ends = rosse(np.array([0.0, 1.0]), R, r0, a0, a, k, r, b, m, q)
    assert ends.y[0, 0] == pytest.approx(r0)  # the throat radius at the throat
    assert ends.y[1, 0] == pytest.approx(R)  # the mouth radius at t = 1


def test_wall_grid_has_the_stated_length_and_an_azimuth_dependent_section() -> None:
    g = GeometrySpec(**{**OSSE, "a": "45 - 15*abs(sin(p))"})
    wall = build_wall(g, angular_segments=16, length_segments=10)
    assert wall.points.shape == (11, 16, 3)
    # throat plane at z = -L, mouth at z = 0
    assert np.allclose(wall.throat[:, 2], -100.0)
    assert np.allclose(wall.mouth[:, 2], 0.0)
    assert np.allclose(np.hypot(wall.throat[:, 0], wall.throat[:, 1]), 12.7)
    r_mouth = np.hypot(wall.mouth[:, 0], wall.mouth[:, 1])
    assert r_mouth[0] > r_mouth[4] + 20  # wider horizontally (p = 0) than vertically


# -- expressions --------------------------------------------------------------------------


def test_expressions_evaluate_over_the_azimuth() -> None:
    e = parse_expression("22 * (abs(cos(p)/1.2)^8 + abs(sin(p)/1)^4)^(-1/4)", "x")
    p = np.array([0.0, np.pi / 2])
    got = e(p)
    assert got[0] == pytest.approx(22 * (1 / 1.2**8) ** -0.25)
    assert got[1] == pytest.approx(22.0)
    assert parse_expression("max(2, p) + pi", "x")(np.array([1.0]))[0] == pytest.approx(2 + np.pi)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "unknown function"),
        ("sin('x')", "not allowed"),
        ("q + 1", "unknown name 'q'"),
        ("open(p)", "unknown function 'open'"),
        ("p.real", "not allowed"),
        ("[p]", "not allowed"),
        ("lambda: 1", "not allowed"),
        ("sin(p, p)", "takes 1"),
        ("2 ^ 1000", "exponent"),
        ("1 +", "cannot parse"),
        ("abs(" * 60 + "p" + ")" * 60, "deeper"),
        ("p" + " + p" * 200, "longer"),
    ],
)
def test_expressions_outside_the_whitelist_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_expression(text, "spec.geometry.a")
    assert message in err.value.message
    assert err.value.location == "spec.geometry.a"


# -- bad parameters name their field ------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        ({**OSSE, "L": -10}, "spec.geometry.L"),
        ({**OSSE, "a": 95}, "spec.geometry.a"),
        ({**OSSE, "a": "45 + 50*cos(p)"}, "spec.geometry.a"),
        ({**OSSE, "r0": 0}, "spec.geometry.r0"),
        ({**OSSE, "q": 1.5}, "spec.geometry.q"),
        ({**ROSSE, "a": "40 + zz"}, "spec.geometry.a"),
        ({**ROSSE, "R": 5}, "spec.geometry.R"),
        ({**ROSSE, "tmax": 0}, "spec.geometry.tmax"),
        ({"formula": "OSSE", "a": 45}, "spec.geometry.L"),
    ],
)
def test_bad_parameters_name_the_field(geometry: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        build_wall(GeometrySpec(**geometry), 16, 8)
    assert err.value.location == field, err.value.message
    assert err.value.status == 422


# -- meshing ------------------------------------------------------------------------------


@pytest.mark.parametrize("geometry", [ROSSE, OSSE])
def test_meshing_gives_a_closed_outward_mesh_with_the_surface_tags(geometry: dict) -> None:
    pytest.importorskip("gmsh")
    from montesim.engines.horn.mesh import check, signed_volume
    from montesim.engines.horn.meshing import mesh_waveguide

    spec = MeshSpec(throat_size=10, mouth_size=30, angular_segments=24, length_segments=8)
    wall = build_wall(GeometrySpec(**geometry), spec.angular_segments, spec.length_segments)
    mesh = check(mesh_waveguide(wall, spec), location="spec.mesh", max_triangles=10_000)
    assert set(np.unique(mesh.tags)) == {1, 2, 3}
    assert signed_volume(mesh.vertices, mesh.triangles) > 0
    # the source is the throat disc: its triangles lie in the throat plane, within r0
    source = mesh.vertices[np.unique(mesh.triangles[mesh.tags == 2])]
    throat_z = wall.throat[0, 2] * 1e-3
    assert np.allclose(source[:, 2], throat_z, atol=1e-9)
    assert np.hypot(source[:, 0], source[:, 1]).max() == pytest.approx(0.0127, rel=1e-3)
    assert mesh.areas()[mesh.tags == 2].sum() == pytest.approx(np.pi * 0.0127**2, rel=0.1)
    # the wall reaches the mouth at z = 0
    wall_z = mesh.vertices[np.unique(mesh.triangles[mesh.tags == 1])][:, 2]
    assert wall_z.max() == pytest.approx(0.0, abs=1e-3)


def test_meshing_is_deterministic() -> None:
    pytest.importorskip("gmsh")
    from montesim.engines.horn.meshing import mesh_waveguide

    spec = MeshSpec(throat_size=10, mouth_size=30, angular_segments=16, length_segments=6)
    wall = build_wall(GeometrySpec(**ROSSE), spec.angular_segments, spec.length_segments)
    a, b = mesh_waveguide(wall, spec), mesh_waveguide(wall, spec)
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.triangles, b.triangles)


def test_generated_meshes_have_no_interface_and_every_triangle_tagged() -> None:
    """Wall, throat source and enclosure only: the mouth stays open to the exterior air."""
    pytest.importorskip("gmsh")
    from montesim.engines.horn.meshing import mesh_waveguide

    spec = MeshSpec(throat_size=10, mouth_size=30, angular_segments=16, length_segments=6)
    wall = build_wall(GeometrySpec(**OSSE), spec.angular_segments, spec.length_segments)
    mesh = mesh_waveguide(wall, spec)
    assert len(mesh.tags) == mesh.triangle_count
    assert 4 not in set(mesh.tags.tolist())
    # the enclosure (tag 3): a sleeve at the mouth's radius, then a flat back cap
    centroids = mesh.vertices[mesh.triangles].mean(axis=1)
    enclosure = centroids[mesh.tags == 3]
    assert enclosure[:, 2].max() <= 1e-9
    r_mouth = np.hypot(wall.mouth[:, 0], wall.mouth[:, 1]).max() * 1e-3
    back = enclosure[:, 2].min()
    sleeve = enclosure[enclosure[:, 2] > back + 1e-6]
    assert np.hypot(sleeve[:, 0], sleeve[:, 1]).min() > 0.5 * r_mouth
    # no triangle covers the mouth opening: nothing at z = 0 inside the mouth radius
    at_mouth = np.abs(centroids[:, 2]) < 1e-6
    assert not np.any(at_mouth & (np.hypot(centroids[:, 0], centroids[:, 1]) < 0.9 * r_mouth))


# -- ATH's morph: the cross-section blends toward a (rounded) rectangle or circle ------------

from montesim.engines.horn.spec import MorphSpec  # noqa: E402
from montesim.engines.horn.waveguide import morphed, rounded_rectangle_radius  # noqa: E402


def test_a_rounded_rectangles_radius_along_each_azimuth() -> None:
    W, H, r = 100.0, 60.0, 20.0
    p = np.array([0.0, np.pi / 2, np.pi, np.arctan2(30.0, 100.0), np.arctan2(H, W)])
    got = rounded_rectangle_radius(p, W, H, r)
    assert got[0] == pytest.approx(W) and got[1] == pytest.approx(H) and got[2] == pytest.approx(W)
    assert got[3] == pytest.approx(np.hypot(100.0, 30.0))  # on the straight side
    # towards the sharp corner the ray meets the arc about (W - r, H - r): solve directly
    c = np.array([W - r, H - r])
    u = np.array([np.cos(p[4]), np.sin(p[4])])
    t = u @ c + np.sqrt((u @ c) ** 2 - (c @ c - r * r))
    assert got[4] == pytest.approx(t) and got[4] < np.hypot(W, H)
    sharp = rounded_rectangle_radius(p[4:], W, H, 0.0)
    assert sharp[0] == pytest.approx(np.hypot(W, H))


def test_the_morph_blends_from_the_profile_to_the_target_by_the_mouth() -> None:
    az = 2 * np.pi * np.arange(16) / 16
    u = np.linspace(0, 1, 5)
    y = np.outer(10 + 90 * u, np.ones_like(az))  # a round cone: the mouth radius 100
    morph = MorphSpec(target_shape=1, target_width=300, target_height=200, rate=2, fixed_part=0.3)
    out = morphed(y, u, az, morph)
    target = rounded_rectangle_radius(az, 150.0, 100.0, 0.0)
    assert np.allclose(out[0], y[0]) and np.allclose(out[1], y[1])  # before the fixed part
    assert np.allclose(out[-1], target)  # the mouth is the target
    start = 0.5  # the first section at or past 0.3
    f = ((u[3] - start) / (1 - start)) ** 2
    assert np.allclose(out[3], y[3] + f * (target - y[-1]))
    # 0 width/height: the mouth's own extent rounded up, never inside the mouth
    implicit = morphed(y, u, az, MorphSpec(target_shape=1))
    assert np.allclose(implicit[-1], rounded_rectangle_radius(az, 100.0, 100.0, 0.0))
    circle = morphed(y, u, az, MorphSpec(target_shape=2, target_width=240))
    assert np.allclose(circle[-1], 120.0)
    smaller = MorphSpec(target_shape=2, target_width=100, target_height=100)
    assert np.allclose(morphed(y, u, az, smaller)[-1], 100.0)  # not shrunk below the mouth
    shrunk = morphed(y, u, az, smaller.model_copy(update={"allow_shrinkage": True}))
    assert np.allclose(shrunk[-1], 50.0)


def test_a_morphed_waveguide_has_a_rectangular_mouth() -> None:
    geometry = GeometrySpec(
        **ROSSE, morph=MorphSpec(target_shape=1, target_width=260, target_height=180)
    )
    wall = build_wall(geometry, 32, 8)
    mouth = wall.mouth
    assert np.max(np.abs(mouth[:, 0])) == pytest.approx(130.0)
    assert np.max(np.abs(mouth[:, 1])) == pytest.approx(90.0)
    assert np.allclose(wall.throat, build_wall(GeometrySpec(**ROSSE), 32, 8).throat)


def test_polars_centred_on_the_throat_move_every_observation_point() -> None:
    from montesim.engines.horn import HornEngine
    from montesim.engines.horn.engine import field_points

    spec = {"geometry": ROSSE, "mesh": {"angular_segments": 16}, "frequencies": {"values": [1e3]}}
    mouth = HornEngine().validate(spec, {})
    throat = HornEngine().validate({**spec, "polars": {"origin": "throat"}}, {})
    assert mouth.origin_z == 0.0
    assert throat.origin_z == pytest.approx(throat.wall.throat[:, 2].mean() / 1e3)
    assert throat.origin_z < -0.03  # the throat lies behind the mouth
    a, _, _ = field_points(mouth)
    b, _, _ = field_points(throat)
    assert np.allclose(b - a, [[0.0], [0.0], [throat.origin_z]])
    assert b[2, 0] == pytest.approx(2.0 + throat.origin_z)  # on axis, 2 m from the throat
