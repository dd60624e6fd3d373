"""The mesh gate judges the radiating surfaces against the wavelength, the rear apart."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.engines.horn.accuracy import judge
from montesim.engines.horn.mesh import Mesh

C = 343.0


def strip(edge: float, tag: int, x0: float) -> tuple[np.ndarray, np.ndarray]:
    """One right triangle of legs ``edge`` (its longest edge edge*sqrt(2))."""
    v = np.array([[x0, 0, 0], [x0 + edge, 0, 0], [x0, edge, 0]], dtype=float)
    return v, np.array([tag])


def mesh_of(**edges: float) -> Mesh:
    """A mesh with one triangle per tag, legs as given (m): wall, source, rear."""
    tags = {"wall": 1, "source": 2, "rear": 3}
    vs, ts, tri = [], [], []
    for i, (name, edge) in enumerate(edges.items()):
        v, t = strip(edge, tags[name], 10.0 * i)
        tri.append([3 * i, 3 * i + 1, 3 * i + 2])
        vs.append(v)
        ts.append(t)
    return Mesh(np.concatenate(vs), np.array(tri, dtype=np.int32), np.concatenate(ts))


def test_a_coarse_rear_warns_but_does_not_fail_a_frequency() -> None:
    # the case: a 38 mm rear edge at 8 kHz (1.1 per wavelength), a fine wall
    mesh = mesh_of(wall=0.004 / np.sqrt(2), source=0.003 / np.sqrt(2), rear=0.038 / np.sqrt(2))
    verdict = judge(mesh, 8000.0, C)
    assert verdict.reason is None
    assert verdict.per_wavelength["wall"] == pytest.approx(C / 8000 / 0.004)
    assert verdict.per_wavelength["rear"] == pytest.approx(C / 8000 / 0.038)
    assert len(verdict.warnings) == 1 and "rear body" in verdict.warnings[0]
    assert verdict.view()["status"] == "warning"


@pytest.mark.parametrize(
    ("wall_mm", "status"),
    [(5.0, "ok"), (10.0, "warning"), (30.0, "failed")],  # 8.6, 4.3, 1.4 per wavelength at 8 kHz
)
def test_the_wall_decides(wall_mm: float, status: str) -> None:
    mesh = mesh_of(wall=wall_mm / 1e3 / np.sqrt(2), source=0.002, rear=0.004)
    verdict = judge(mesh, 8000.0, C)
    assert verdict.view()["status"] == status
    if status == "failed":
        assert "on the wall" in verdict.reason and "Mesh.MouthResolution" in verdict.reason
    if status == "warning":
        assert "on the wall" in verdict.warnings[0]


def test_a_coarse_source_fails_too() -> None:
    mesh = mesh_of(wall=0.002, source=0.03, rear=0.002)
    assert "on the source" in judge(mesh, 8000.0, C).reason


def test_aths_resolution_keys_refine_the_mesh_until_the_gate_passes() -> None:
    pytest.importorskip("gmsh")
    from montesim.engines.horn import HornEngine
    from montesim.engines.horn.engine import mesh_of as plan_mesh

    def design(mouth: float, rear: float) -> str:
        return (
            "R-OSSE = { R = 40  a = 45  a0 = 15.5  r0 = 12.7  k = 2 }\n"
            "Mesh.AngularSegments = 16\nMesh.LengthSegments = 6\n"
            f"Mesh.ThroatResolution = 8\nMesh.MouthResolution = {mouth}\n"
            f"Mesh.RearResolution = {rear}\n"
        )

    edges = {}
    for mouth, rear in ((24, 40), (8, 12)):
        plan = HornEngine().validate(
            {"cfg": design(mouth, rear), "frequencies": {"values": [1]}}, {}
        )
        edges[mouth] = plan_mesh(plan).max_edge_by_tag()
    coarse, fine = edges[24], edges[8]
    assert fine[1] < 0.6 * coarse[1] and fine[3] < 0.6 * coarse[3]  # wall and rear refined
    assert fine[1] <= 1.5 * 8e-3  # near the size asked for (a triangle's longest edge)
    f = 343.0 / (1.9 * coarse[1])  # under 2 per wavelength on the coarse wall
    assert judge_status(coarse, f) == "failed" and judge_status(fine, f) != "failed"


def judge_status(edges: dict[int, float], f: float) -> str:
    mesh = mesh_of(
        **{name: edges[tag] / np.sqrt(2) for tag, name in ((1, "wall"), (2, "source"), (3, "rear"))}
    )
    return judge(mesh, f, 343.0).view()["status"]
