"""User meshes are checked before any job runs; generated meshes are bounded in size."""

from __future__ import annotations

import numpy as np
import pytest
from tests.engines.horn.spheres import hemisphere, icosphere

from montesim.engines.horn import HornEngine
from montesim.engines.horn.mesh import Mesh, check, from_msh, mirrored, signed_volume, to_msh
from montesim.errors import InputError

FREQS = {"values": [1000.0]}


def user(v, f, tags, **kw) -> dict:
    mesh = {
        "vertices": np.asarray(v).tolist(),
        "triangles": np.asarray(f).tolist(),
        "tags": list(tags),
    }
    return {"user_mesh": {**mesh, "units": "m", **kw}, "frequencies": FREQS}


def refused(spec: dict) -> InputError:
    with pytest.raises(InputError) as err:
        HornEngine().validate(spec, {})
    return err.value


def test_an_inward_sphere_is_flipped_outward() -> None:
    v, f = icosphere(0.1, 1)
    plan = HornEngine().validate(user(v, f[:, ::-1], [2] * len(f)), {})
    assert signed_volume(plan.user_mesh.vertices, plan.user_mesh.triangles) > 0


@pytest.mark.parametrize(
    ("mutate", "code", "location"),
    [
        (lambda v, f, t: (v, f, [1] * len(f)), "no_source", "spec.user_mesh.tags"),
        (lambda v, f, t: (v, f, [2] * (len(f) - 1)), "invalid_spec", "spec.user_mesh.tags"),
        (lambda v, f, t: (v, f, [7] * len(f)), "invalid_spec", "spec.user_mesh.tags"),
        (lambda v, f, t: (v, f[:-1], t[:-1]), "mesh_not_closed", "spec.user_mesh.triangles"),
        (
            lambda v, f, t: (v, np.vstack([f, f[:1]]), [*t, 2]),
            "duplicate_triangle",
            "spec.user_mesh.triangles",
        ),
        (
            lambda v, f, t: (v, np.vstack([f, [[0, 0, 1]]]), [*t, 2]),
            "degenerate_triangle",
            "spec.user_mesh.triangles",
        ),
        (
            lambda v, f, t: (v, np.vstack([f[:1, ::-1], f[1:]]), t),
            "inconsistent_orientation",
            "spec.user_mesh.triangles",
        ),
        (lambda v, f, t: (v, f + 1000, t), "invalid_spec", "spec.user_mesh.triangles"),
        (
            lambda v, f, t: (np.full_like(v, np.nan), f, t),
            "invalid_spec",
            "spec.user_mesh.vertices",
        ),
    ],
)
def test_bad_user_meshes_are_refused_naming_the_field(mutate, code, location) -> None:
    v, f = icosphere(0.1, 1)
    v2, f2, t2 = mutate(v, f, [2] * len(f))
    err = refused(user(v2, f2, t2))
    assert (err.code, err.location) == (code, location), err.message


def test_unknown_files_are_refused() -> None:
    spec = {"user_mesh": {"file_id": "nope"}, "frequencies": FREQS}
    assert refused(spec).location == "spec.user_mesh.file_id"


def cap_tags(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    """A source cap around the top of a hemisphere, the rest wall."""
    return np.where(v[f].mean(axis=1)[:, 2] > 0.08, 2, 1)


def test_a_baffled_hemisphere_is_accepted_and_solved_with_its_image() -> None:
    v, f = hemisphere(0.1, 4, 12)
    plan = HornEngine().validate(user(v, f[:, ::-1], cap_tags(v, f), baffled=True), {})
    assert plan.baffled and plan.user_mesh.triangle_count == len(f)
    assert np.array_equal(plan.user_mesh.triangles, f)  # turned outward, into the air
    body = mirrored(plan.user_mesh)
    rim = np.sum(np.abs(v[:, 2]) == 0.0)
    assert (len(body.vertices), len(body.triangles)) == (2 * len(v) - rim, 2 * len(f))
    assert signed_volume(body.vertices, body.triangles) > 0
    # closed, consistently oriented: the free-space checks pass on the mirrored body
    check(body, location="x", max_triangles=10_000)
    # the image is the mirror: z flipped, tags repeated
    assert np.allclose(
        np.sort(body.vertices[:, 2])[: len(v) - rim], -np.sort(v[v[:, 2] > 0, 2])[::-1]
    )
    assert np.array_equal(body.tags, np.concatenate([plan.user_mesh.tags] * 2))
    # the same mesh declared free-standing is open, and refused as such
    err = refused(user(v, f, cap_tags(v, f)))
    assert (err.code, err.location) == ("mesh_not_closed", "spec.user_mesh.triangles")
    assert "declare baffled" in err.message


def test_a_baffled_msh_upload_is_accepted(tmp_path) -> None:
    v, f = hemisphere(100.0, 3, 10)  # millimetres, as ATH writes them
    path = tmp_path / "cap.msh"
    path.write_bytes(to_msh(Mesh(v, f.astype(np.int32), cap_tags(v / 1000, f))))
    spec = {"user_mesh": {"file_id": "m", "baffled": True}, "frequencies": FREQS}
    plan = HornEngine().validate(spec, {"m": path})
    assert plan.baffled and np.isclose(plan.user_mesh.vertices[:, 2].max(), 0.1)


@pytest.mark.parametrize(
    ("mutate", "code", "location", "words"),
    [
        # the rim lifted off the plane
        (lambda v, f: (v + [0, 0, 0.01], f), "mesh_not_closed", "triangles", "off the baffle"),
        # a hole in the dome: open edges above the plane
        (lambda v, f: (v, f[1:]), "mesh_not_closed", "triangles", "off the baffle"),
        # the whole cap behind the baffle (a flush-mounted body)
        (lambda v, f: (v * [1, 1, -1], f[:, ::-1]), "mesh_behind_baffle", "vertices", "behind"),
        # a lid in the baffle plane
        (
            lambda v, f: (v, np.vstack([f, [[len(v) - 1, len(v) - 2, len(v) - 3]]])),
            "triangle_in_baffle",
            "triangles",
            "leave its triangles out",
        ),
    ],
)
def test_bad_baffled_meshes_are_refused_naming_the_field(mutate, code, location, words) -> None:
    v, f = hemisphere(0.1, 4, 12)
    v2, f2 = mutate(v, f)
    tags = np.ones(len(f2), dtype=int)
    tags[0] = 2
    err = refused(user(v2, f2, tags, baffled=True))
    assert (err.code, err.location) == (code, f"spec.user_mesh.{location}"), err.message
    assert words in err.message


def test_a_baffled_norm_angle_must_be_in_front() -> None:
    v, f = hemisphere(0.1, 4, 12)
    spec = user(v, f, cap_tags(v, f), baffled=True)
    err = refused({**spec, "polars": {"norm_angle": 120}})
    assert err.location == "spec.polars.norm_angle"


def test_geometry_or_mesh_not_both_or_neither() -> None:
    v, f = icosphere(0.1, 1)
    both = {**user(v, f, [2] * len(f)), "geometry": {"formula": "OSSE", "L": 100}}
    assert refused(both).location == "spec"
    assert refused({"frequencies": FREQS}).location == "spec"


def test_the_triangle_limit_is_a_422_before_meshing() -> None:
    spec = {
        "geometry": {"formula": "R-OSSE", "R": 150},
        "mesh": {"throat_size": 1, "mouth_size": 2, "max_triangles": 5000},
        "frequencies": FREQS,
    }
    err = refused(spec)
    assert (err.code, err.location, err.status) == (
        "mesh_too_large",
        "spec.mesh.max_triangles",
        422,
    )
    v, f = icosphere(0.1, 2)
    err = refused(user(v, f, [2] * len(f), max_triangles=100))
    assert err.code == "mesh_too_large"


def test_msh_round_trip_keeps_triangles_and_tags(tmp_path) -> None:
    v, f = icosphere(0.1, 1)
    tags = np.where(v[f].mean(axis=1)[:, 2] > 0.08, 2, 1)
    plan = HornEngine().validate(user(v, f, tags), {})
    path = tmp_path / "mesh.msh"
    path.write_bytes(to_msh(plan.user_mesh))
    back = from_msh(path, units="m", location="x")
    assert np.allclose(back.vertices, plan.user_mesh.vertices)
    assert np.array_equal(back.triangles, plan.user_mesh.triangles)
    assert np.array_equal(back.tags, plan.user_mesh.tags)
    files = {"f1": path}
    spec = {"user_mesh": {"file_id": "f1", "units": "m"}, "frequencies": FREQS}
    assert HornEngine().validate(spec, files).user_mesh.triangle_count == len(f)


def test_interface_triangles_are_left_out_with_a_warning() -> None:
    """Tag 4 is air on both sides (ATH's mouth interface): not a boundary of the solve."""
    v, f = icosphere(0.1, 1)
    tags = np.where(v[f].mean(axis=1)[:, 2] > 0.08, 2, 1)
    # an interface disc across the sphere, fanned from the top vertex: non-manifold edges
    # and all, it must not reach the closed-surface checks
    top = int(np.argmax(v[:, 2]))
    ring = [int(i) for i in np.unique(f[(f == top).any(axis=1)]) if i != top]
    disc = [[top, ring[i], ring[(i + 1) % len(ring)]] for i in range(len(ring))]
    spec = user(np.asarray(v), np.vstack([f, disc]), [*tags, *[4] * len(disc)])
    plan = HornEngine().validate(spec, {})
    assert plan.user_mesh.triangle_count == len(f)
    assert set(np.unique(plan.user_mesh.tags)) == {1, 2}
    assert any("interface" in w and f"{len(disc)}" in w for w in plan.warnings)


def test_a_mesh_closed_only_by_its_interface_is_refused() -> None:
    v, f = icosphere(0.1, 1)
    mouth = v[f].mean(axis=1)[:, 2] < -0.08  # the bottom cap is an "interface"
    tags = np.where(mouth, 4, np.where(v[f].mean(axis=1)[:, 2] > 0.08, 2, 1))
    err = refused(user(v, f, tags))
    assert err.code == "mesh_not_closed" and err.location == "spec.user_mesh.triangles"
    assert "interface (tag 4) is left out" in err.message
