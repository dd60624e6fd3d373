"""Horn results in the horn tool's convention (its RESULT-CONTRACTS: parametric, v1).

montesim solves a unit normal velocity and reports RMS SPL in exp(+jωt). The tool's
result contract is a unit normal acceleration, SPL of the pressure amplitude re 20 µPa,
raw phase in exp(-iωt); ``to_tool_result`` converts exactly: p_acc = p_vel / (jω), so
SPL_tool = SPL_rms + 20 log10(√2) − 20 log10(ω) and the phase becomes 90° − phase.
Impedance (Z/ρc) and normalised polars do not depend on the drive and are unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

TOOL_CONVENTIONS = {
    "source": "unit normal acceleration: 1 m/s^2 on the source, into the air",
    "source_quantity": "acceleration",
    "pressure": "amplitude",
    "spl_reference": "20 uPa",
    "phasor": "exp(-i omega t)",
    "impedance": "specific acoustic impedance Z/(rho c), engineering sign",
}


def _wrap(degrees: float) -> float:
    wrapped = (degrees + 180.0) % 360.0 - 180.0
    return 180.0 if wrapped == -180.0 else wrapped


def spl_to_tool(spl_rms: float | None, frequency: float) -> float | None:
    """A unit-velocity RMS SPL as the unit-acceleration amplitude SPL of the same design."""
    if spl_rms is None:
        return None
    omega = 2 * math.pi * frequency
    return round(spl_rms + 10 * math.log10(2.0) - 20 * math.log10(omega), 6)


def phase_to_tool(phase: float | None) -> float | None:
    """exp(+jωt) phase of p_vel → exp(-iωt) phase of p_acc = p_vel/(jω): 90° − phase."""
    return None if phase is None else round(_wrap(90.0 - phase), 6)


def to_tool_result(summary: Mapping[str, Any], client: Mapping[str, Any]) -> dict[str, Any]:
    """montesim's horn result as the tool's parametric result envelope (contract 1)."""
    freqs = list(summary["frequencies"])
    axis = summary["spl_on_axis"]
    meta = dict(summary.get("metadata") or {})
    failures = [
        {"frequency_hz": f["frequency"], "stage": "solve", "code": "frequency_failed", **f}
        for f in meta.get("failures", [])
    ]
    polar = meta.get("polar") or {}
    angles = polar.get("angles_degrees") or []
    directivity = {
        plane: [row if row is not None else [[float(a), None] for a in angles] for row in rows]
        for plane, rows in (summary.get("directivity") or {}).items()
    }
    warnings = list(meta.get("warnings", []))
    metadata = {
        **meta,
        "result_contract_version": 1,
        "conventions": dict(TOOL_CONVENTIONS),
        "montesim_conventions": meta.get("conventions"),
        "phase_quantity": "raw_wrapped_pressure_phase",
        "phase_units": "degrees",
        "phase_time_convention": "exp(+ikr)",
        "impedance_units": "Z/(rho*c)",
        "impedance_quantity": "specific_acoustic_impedance",
        "impedance_drive": "unit_acceleration",
        "source_motion": "normal",
        "warnings": warnings,
        "warning_count": len(warnings),
        "failures": failures,
        "failure_count": len(failures),
        "partial_success": bool(failures),
        "observation": {
            "origin": polar.get("origin", "mouth"),
            "requested_distance_m": meta.get("distance_m"),
            "effective_distance_m": meta.get("distance_m"),
            "sound_speed_m_per_s": (meta.get("air") or {}).get("speed_of_sound"),
        },
        "frequency_spacing": client.get("frequency_spacing", "log"),
        "symmetry": {"domain": "full"},
    }
    for key in ("spl_quantity", "source", "phase_convention"):
        metadata.pop(key, None)  # montesim's own wording, superseded by the tool's fields
    return {
        "result_kind": "parametric",
        "result_contract_version": 1,
        "client_request_id": client.get("client_request_id"),
        "client_metadata": dict(client.get("client_metadata") or {}),
        "provenance": {
            "schema_version": 1,
            "resolved_engine": "montesim-horn (bempp-cl)",
            "request_identity": "execution",
        },
        "frequencies": freqs,
        "spl_on_axis": {
            "frequencies": freqs,
            "spl": [spl_to_tool(s, f) for s, f in zip(axis["spl"], freqs, strict=True)],
            "phase_degrees": [phase_to_tool(p) for p in axis["phase_degrees"]],
        },
        "impedance": dict(summary["impedance"]),
        "di": dict(summary["di"]),
        "directivity": directivity,
        "directivity_phase": {},
        "metadata": metadata,
    }
