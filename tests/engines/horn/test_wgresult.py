"""The horn tool's conventions: montesim's unit-velocity RMS results converted exactly.

Checked on the pulsating sphere, whose field is known in closed form for either drive
and either time convention (Kinsler et al., Fundamentals of Acoustics, 7.4): radius a,
surface velocity u, p(r) = rho c u (a/r) (jka / (1 + jka)) e^{-jk(r-a)} in exp(+jwt).
"""

from __future__ import annotations

import numpy as np
import pytest

from montesim.engines.horn import results, wgresult

RHO, C, A, R = 1.204, 343.2, 0.05, 2.0


def pulsating_sphere(f: float, velocity: complex, sign: int) -> complex:
    """Pressure at R; sign +1: exp(+jwt), -1: exp(-iwt) (the conjugate form)."""
    k = 2 * np.pi * f / C
    j = 1j * sign
    return RHO * C * velocity * (A / R) * (j * k * A / (1 + j * k * A)) * np.exp(-j * k * (R - A))


@pytest.mark.parametrize("f", [100.0, 1000.0, 5000.0])
def test_spl_and_phase_match_the_tools_drive_and_convention(f: float) -> None:
    omega = 2 * np.pi * f
    # montesim: unit velocity, exp(+jwt), RMS SPL
    p_vel = pulsating_sphere(f, 1.0, +1)
    spl_rms = 20 * np.log10(abs(p_vel) / np.sqrt(2) / 20e-6)
    phase = np.degrees(np.angle(p_vel))
    # the tool: unit acceleration, exp(-iwt) (a = -iw u, so u = i/w), amplitude SPL
    p_acc = pulsating_sphere(f, 1j / omega, -1)
    assert wgresult.spl_to_tool(spl_rms, f) == pytest.approx(
        20 * np.log10(abs(p_acc) / 20e-6), abs=1e-5
    )
    tool_phase = wgresult.phase_to_tool(phase)
    assert -180 < tool_phase <= 180
    assert np.exp(1j * np.radians(tool_phase)) == pytest.approx(
        np.exp(1j * np.angle(p_acc)), abs=1e-6
    )


def test_the_offset_is_the_issues_73_db_at_1_khz_and_6_db_per_octave() -> None:
    at_1k = wgresult.spl_to_tool(100.0, 1000.0) - 100.0
    assert at_1k == pytest.approx(10 * np.log10(2) - 20 * np.log10(2 * np.pi * 1000))
    assert -73.5 < at_1k < -72.5
    octave = wgresult.spl_to_tool(100.0, 2000.0) - wgresult.spl_to_tool(100.0, 1000.0)
    assert octave == pytest.approx(-20 * np.log10(2))
    assert wgresult.spl_to_tool(None, 1000.0) is None and wgresult.phase_to_tool(None) is None


def partial(index: int, f: float, ok: bool = True) -> dict:
    angles = [0.0, 45.0, 90.0]
    return {
        "index": index,
        "frequency": f,
        "ok": ok,
        "warnings": [],
        **(
            {
                "axis": (1.0, 0.0),
                "surface": (0.5, 0.1),
                "planes": {"horizontal": [1.0, 0.5, 0.25]},
                "power": 4 * np.pi,
                "rho_c": 1.0,
                "polar": {"angles": angles, "norm_angle": 0.0},
            }
            if ok
            else {"reason": "mesh too coarse"}
        ),
    }


def test_partial_results_are_the_solved_frequencies_so_far() -> None:
    assert results.provisional([]) is None
    assert results.provisional([partial(0, 500.0, ok=False)]) is None
    summary = results.provisional([partial(1, 2000.0), partial(0, 500.0, ok=False)])
    assert summary is not None and summary["frequencies"] == [2000.0]
    assert summary["spl_on_axis"]["spl"] == [results.spl(1.0)]
    rows = summary["directivity"]["horizontal"][0]
    assert [round(level, 6) for _, level in rows] == [0.0, -6.0206, -12.041200]
    assert summary["di"]["di"] == [0.0]  # |p|^2 4 pi / power = 1: 0 dB
    tool = wgresult.to_tool_result(summary, {"client_request_id": "r"})
    assert tool["client_request_id"] == "r" and tool["result_kind"] == "parametric"
    assert tool["spl_on_axis"]["spl"][0] == wgresult.spl_to_tool(results.spl(1.0), 2000.0)
