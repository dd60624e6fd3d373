"""A user mesh declared baffled: solved as the mesh plus its image in the plane z = 0.

The fast test stubs the BEM solve (a monopole at the origin) to check what reaches the
solver and how the results treat the half space; the slow one solves a pulsating
hemisphere on the baffle, which by the image method is a pulsating sphere.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.engines.horn.spheres import hemisphere

from montesim.engines.base import NullContext
from montesim.engines.horn import HornEngine
from montesim.engines.horn import engine as engine_mod
from montesim.engines.horn import solver as solver_mod
from montesim.engines.horn.mesh import check, signed_volume

RADIUS = 0.1


def hemisphere_spec(frequencies: list[float], *, baffled: bool = True, rings: int = 4) -> dict:
    v, f = hemisphere(RADIUS, rings, 4 * rings)
    return {
        "user_mesh": {
            "vertices": v.tolist(),
            "triangles": f.tolist(),
            "tags": [2] * len(f),  # the whole dome pulsates
            "units": "m",
            "baffled": baffled,
        },
        "frequencies": {"values": frequencies},
        "polars": {"angles": {"start": 0, "stop": 180, "step": 15}},
    }


def run(spec: dict) -> dict:
    engine = HornEngine()
    plan = engine.validate(spec, {})
    partials = [engine.run_chunk(plan, c, NullContext()) for c in engine.chunks(plan)]
    return engine.merge(plan, partials).summary


def test_the_solver_gets_the_mirrored_body_and_the_results_the_half_space(monkeypatch) -> None:
    surfaces = []

    def fake_surface(mesh):
        surfaces.append(mesh)
        return mesh

    def monopole(surface, frequency, air, points, *, cancelled, report):
        k = 2 * np.pi * frequency / air.c
        r = np.linalg.norm(points, axis=0)
        return solver_mod.Field(surface_mean_source=1 + 0j, points=np.exp(-1j * k * r) / r)

    monkeypatch.setattr(engine_mod, "_surfaces", {})
    monkeypatch.setattr(solver_mod, "Surface", fake_surface)
    monkeypatch.setattr(solver_mod, "solve", monopole)
    monkeypatch.setattr(solver_mod, "device_note", lambda: "stub")
    out = run(hemisphere_spec([500.0, 1000.0]))

    body = surfaces[0]  # built once, reused for the second frequency
    assert len(surfaces) == 1 and body.triangle_count == 2 * (16 + 2 * 16 * 3)
    check(body, location="x", max_triangles=10_000)  # closed and consistently oriented
    assert signed_volume(body.vertices, body.triangles) > 0
    assert body.vertices[:, 2].min() == pytest.approx(-RADIUS)
    assert out["metadata"]["baffle"].startswith("rigid infinite baffle in the plane z = 0")
    # the artifact and the stats are the user's half, not the image
    assert out["metadata"]["mesh"]["triangles"] == body.triangle_count // 2
    for i in range(2):
        # a monopole fills the half space evenly: DI = 10 log10(4 pi / 2 pi)
        assert out["di"]["di"][i] == pytest.approx(10 * math.log10(2), abs=1e-6)
        for plane in ("horizontal", "vertical", "diagonal"):
            levels = dict(map(tuple, out["directivity"][plane][i]))
            assert all(levels[a] == pytest.approx(0.0, abs=1e-9) for a in range(0, 91, 15))
            assert all(levels[a] is None for a in range(105, 181, 15)), levels

    # the same stub, free-standing: a closed mesh, the whole sphere, DI 0 and no nulls
    surfaces.clear()
    closed = hemisphere_spec([500.0], baffled=False)
    closed["user_mesh"] = {**closed["user_mesh"], **_sphere_arrays(body)}
    out = run(closed)
    assert out["metadata"]["baffle"] is None
    assert out["di"]["di"][0] == pytest.approx(0.0, abs=1e-6)
    assert None not in dict(map(tuple, out["directivity"]["horizontal"][0])).values()


def _sphere_arrays(body) -> dict:
    return {
        "vertices": body.vertices.tolist(),
        "triangles": body.triangles.tolist(),
        "tags": body.tags.tolist(),
    }


@pytest.mark.slow
@pytest.mark.xdist_group("horn-bem")
@pytest.mark.timeout(3600)
def test_a_pulsating_hemisphere_on_a_baffle_radiates_as_a_pulsating_sphere() -> None:
    pytest.importorskip("bempp_cl")
    c = solver_mod.Air(20.0).c
    rho_c = solver_mod.Air(20.0).rho * c
    kas = [0.5, 1.5]
    out = run(hemisphere_spec([ka * c / (2 * math.pi * RADIUS) for ka in kas], rings=6))
    assert out["metadata"]["failures"] == []
    for i, ka in enumerate(kas):
        z = 1j * ka / (1 + 1j * ka)  # e^{+jwt}: the pulsating sphere's surface impedance
        spl = 20 * math.log10(abs(rho_c * z * RADIUS / 2.0) / math.sqrt(2) / 20e-6)
        assert out["spl_on_axis"]["spl"][i] == pytest.approx(spl, abs=0.5), ka
        got = complex(out["impedance"]["real"][i], out["impedance"]["imaginary"][i])
        assert abs(got - z) / abs(z) < 0.05, (ka, got, z)
        assert out["di"]["di"][i] == pytest.approx(10 * math.log10(2), abs=0.2)
        levels = dict(map(tuple, out["directivity"]["horizontal"][i]))
        assert max(abs(levels[a]) for a in range(0, 91, 15)) < 0.3
        assert levels[180] is None
