"""BEM correctness on spheres: a pulsating sphere against the analytic monopole, and a
rigid sphere with a small source cap (symmetric polars, DI rising with frequency).

Small meshes keep the solves short; the first solve in a process pays numba's
compilation of bempp's kernels, so every solving test shares one xdist group.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("bempp_cl")

from tests.engines.horn.spheres import icosphere  # noqa: E402

from montesim.engines.base import Chunk, NullContext  # noqa: E402
from montesim.engines.horn import HornEngine  # noqa: E402
from montesim.engines.horn.solver import Air  # noqa: E402

# the first solve in a process compiles bempp's kernels: minutes on a busy 2-core machine
# BEM solves compile bempp-cl kernels for minutes: `make test-all` runs them, `make test` not
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("horn-bem"),
    pytest.mark.timeout(3600),
]

RADIUS = 0.1
KA = [0.1, 0.5, 1.0, 2.0, 3.0]
C = Air(20.0).c


def run(spec: dict) -> dict:
    engine = HornEngine()
    plan = engine.validate(spec, {})
    partials = [engine.run_chunk(plan, c, NullContext()) for c in engine.chunks(plan)]
    return engine.merge(plan, partials).summary


def sphere_spec(tags: np.ndarray, v: np.ndarray, f: np.ndarray, frequencies: list[float]) -> dict:
    return {
        "user_mesh": {
            "vertices": v.tolist(),
            "triangles": f.tolist(),
            "tags": tags.tolist(),
            "units": "m",
        },
        "frequencies": {"values": frequencies},
        "distance": 2.0,
        "polars": {"angles": {"start": 0, "stop": 180, "step": 15}},
    }


@pytest.fixture(scope="module")
def pulsating() -> dict:
    v, f = icosphere(RADIUS, 2)
    freqs = [ka * C / (2 * math.pi * RADIUS) for ka in KA]
    return run(sphere_spec(np.full(len(f), 2), v, f, freqs))


def test_pulsating_sphere_matches_the_analytic_monopole(pulsating: dict) -> None:
    air = Air(20.0)
    rho_c = air.rho * air.c
    assert pulsating["metadata"]["failures"] == []
    for i, ka in enumerate(KA):
        # e^{+jwt}: surface pressure rho c v (j ka)/(1 + j ka), spreading as (a/r) e^{-jk(r-a)}
        z = 1j * ka / (1 + 1j * ka)
        p_axis = rho_c * z * (RADIUS / 2.0)
        spl = 20 * math.log10(abs(p_axis) / math.sqrt(2) / 20e-6)
        assert pulsating["spl_on_axis"]["spl"][i] == pytest.approx(spl, abs=0.5), ka
        got = complex(pulsating["impedance"]["real"][i], pulsating["impedance"]["imaginary"][i])
        assert abs(got - z) / abs(z) < 0.05, (ka, got, z)
        # the surface pressure (the impedance times rho c v) within 0.5 dB too
        assert 20 * math.log10(abs(got) / abs(z)) == pytest.approx(0.0, abs=0.5), ka
        # a monopole radiates equally everywhere
        assert pulsating["di"]["di"][i] == pytest.approx(0.0, abs=0.2)
        for plane in ("horizontal", "vertical", "diagonal"):
            levels = [lv for _, lv in pulsating["directivity"][plane][i]]
            assert max(abs(lv) for lv in levels) < 0.3


def test_pulsating_sphere_phase_follows_the_propagation_delay(pulsating: dict) -> None:
    phases = pulsating["spl_on_axis"]["phase_degrees"]
    for i, ka in enumerate(KA):
        k = ka / RADIUS
        expected = np.angle(1j * ka / (1 + 1j * ka) * np.exp(-1j * k * (2.0 - RADIUS)), deg=True)
        diff = (phases[i] - expected + 180) % 360 - 180
        assert abs(diff) < 3.0, (ka, phases[i], expected)


def test_rigid_sphere_with_a_source_cap_has_symmetric_polars_and_rising_di() -> None:
    v, f = icosphere(RADIUS, 3)
    centroids = v[f].mean(axis=1)
    tags = np.where(centroids[:, 2] > 0.85 * RADIUS, 2, 1)
    freqs = [ka * C / (2 * math.pi * RADIUS) for ka in (0.5, 2.0, 4.0)]
    out = run(sphere_spec(tags, v, f, freqs))
    assert out["metadata"]["failures"] == []
    di = out["di"]["di"]
    assert di[0] < di[1] < di[2], di
    assert di[2] > 3.0
    for i in range(len(freqs)):
        h = np.array([lv for _, lv in out["directivity"]["horizontal"][i]])
        vv = np.array([lv for _, lv in out["directivity"]["vertical"][i]])
        assert np.max(np.abs(h - vv)) < 0.5, (freqs[i], h, vv)
        assert h[0] == 0.0  # normalised at the norm angle (0 degrees)
        assert h[-1] < 0.0  # the rear is quieter than the front
    # a small source on a sphere is near omnidirectional at ka = 0.5 and beams at ka = 4
    rear = [out["directivity"]["horizontal"][i][-1][1] for i in range(len(freqs))]
    assert rear[0] > -3.0 and rear[-1] < rear[0] - 3.0, rear


def test_a_frequency_too_high_for_the_mesh_fails_alone_and_is_null() -> None:
    v, f = icosphere(RADIUS, 1)  # coarse: ~6 cm edges
    out = run(sphere_spec(np.full(len(f), 2), v, f, [300.0, 5000.0]))
    failures = out["metadata"]["failures"]
    assert [x["frequency"] for x in failures] == [5000.0]
    assert "too coarse" in failures[0]["reason"]
    assert out["spl_on_axis"]["spl"][1] is None
    assert out["impedance"]["real"][1] is None
    assert out["directivity"]["horizontal"][1] is None
    assert out["spl_on_axis"]["spl"][0] is not None


class CancelAfterAssembly:
    """A chunk context that asks to cancel once assembly has started."""

    previous = None

    def __init__(self) -> None:
        self.messages: list[tuple[str | None, str | None]] = []

    def report(self, done: int, stage: str | None = None, message: str | None = None) -> None:
        self.messages.append((stage, message))

    def cancelled(self) -> bool:
        return any(stage == "assembling" for stage, _ in self.messages)


def test_cancel_is_honoured_between_assembly_and_solve() -> None:
    from montesim.errors import Cancelled

    v, f = icosphere(RADIUS, 1)
    engine = HornEngine()
    plan = engine.validate(sphere_spec(np.full(len(f), 2), v, f, [1250.0, 2000.0]), {})
    ctx = CancelAfterAssembly()
    with pytest.raises(Cancelled):
        engine.run_chunk(plan, Chunk(index=0, start=0, size=1), ctx)
    assert ctx.messages == [("assembling", "assembling f = 1,250 Hz (1/2)")]
