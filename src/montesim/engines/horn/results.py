"""Per-frequency partials → the horn-solver result: SPL, phase, impedance, polars, DI.

A frequency that failed is ``null`` in every series (never NaN or 0) and is listed in
``metadata.failures``; the job fails only when every frequency failed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from montesim.engines.horn.exports import beamwidths
from montesim.errors import EngineError

if TYPE_CHECKING:
    from montesim.engines.horn.engine import Plan
    from montesim.engines.horn.mesh import Mesh

P_REF = 20e-6  # Pa
# What montesim's own results mean; every result says so in metadata.conventions.
CONVENTIONS = {
    "source": "unit normal velocity: 1 m/s amplitude on the source (tag 2), into the air",
    "source_quantity": "velocity",
    "pressure": "rms",
    "spl_reference": "20 uPa",
    "phasor": "exp(+j omega t)",
    "impedance": "specific acoustic impedance Z/(rho c) at the source, engineering sign",
}


def _finite(x: float | None, digits: int = 6) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def spl(pressure_amplitude: float) -> float | None:
    """dB re 20 µPa of the RMS pressure of a complex amplitude."""
    rms = pressure_amplitude / math.sqrt(2.0)
    return _finite(20 * math.log10(rms / P_REF)) if rms > 0 else None


def merge(plan: Plan, partials: list[dict[str, Any]], mesh: Mesh) -> dict[str, Any]:
    parts = sorted(partials, key=lambda p: p["index"])
    if len(parts) != len(plan.frequencies):
        raise EngineError(f"expected {len(plan.frequencies)} frequencies, got {len(parts)}")
    freqs = [float(f) for f in plan.frequencies]
    failures = [
        {"frequency": p["frequency"], "reason": p.get("reason") or "unknown"}
        for p in parts
        if not p["ok"]
    ]
    if len(failures) == len(parts):
        raise EngineError(
            f"every frequency failed; first: {failures[0]['reason']}",
            code="all_frequencies_failed",
            detail=failures,
        )
    warnings = list(plan.warnings)
    for p in parts:
        warnings.extend(p.get("warnings", []))
    names = [name for name, _ in plan.planes]
    series = _series(parts, plan.angles, plan.norm_angle, names)
    spl_values, phases, z_re, z_im, di, directivity = series
    seconds = [_finite(p.get("seconds"), 3) for p in parts]
    return {
        "frequencies": freqs,
        "spl_on_axis": {"frequencies": freqs, "spl": spl_values, "phase_degrees": phases},
        "impedance": {"frequencies": freqs, "real": z_re, "imaginary": z_im},
        "di": {"frequencies": freqs, "di": di},
        "directivity": directivity,
        # full angle inside which each plane stays above -6 dB re the norm angle
        "beamwidth": {"level_db": -6.0, "degrees": beamwidths(directivity)},
        "metadata": {
            "failures": failures,
            "warnings": warnings,
            "timings": {
                "seconds_per_frequency": seconds,
                "total_solve_seconds": _finite(sum(s for s in seconds if s is not None), 3),
            },
            "impedance_quantity": (
                "specific acoustic impedance at the throat: mean pressure over the source "
                "surface (tag 2) divided by its normal velocity, normalised by rho*c "
                "(dimensionless)"
            ),
            "spl_quantity": (
                f"on-axis SPL at {plan.distance:g} m from the origin (the mouth centre for "
                "generated waveguides), dB re 20 uPa of the RMS pressure, for a source normal "
                "velocity of 1 m/s (amplitude)"
            ),
            "source": "unit normal velocity (1 m/s amplitude) on tag 2, every other surface rigid",
            "conventions": dict(CONVENTIONS),
            "sim_type": "infinite_baffle" if plan.baffled else "free_standing",
            "phase_convention": "exp(+j omega t); includes the propagation delay to the observer",
            "directivity_quantity": (
                "level relative to the norm angle in each plane, dB; the directivity index is "
                "10 log10(4 pi |p_axis|^2 / integral of |p|^2 over the sphere at the distance)"
                + (
                    " (the half of it in front of the baffle; angles above 90 degrees are "
                    "behind the baffle and null)"
                    if plan.baffled
                    else ""
                )
            ),
            "baffle": (
                "rigid infinite baffle in the plane z = 0, by the image method (the mesh and "
                "its mirror image solved in free space)"
                if plan.baffled
                else None
            ),
            "formulation": "Burton-Miller, P1 pressure, bempp-cl",
            "devices": sorted({p["device"] for p in parts if p.get("device")}),
            "air": {
                "temperature_c": plan.temperature_c,
                "speed_of_sound": _finite(331.3 * math.sqrt(1 + plan.temperature_c / 273.15)),
                "density": _finite(101_325.0 / (287.05 * (plan.temperature_c + 273.15))),
            },
            "distance_m": plan.distance,
            "polar": {
                "angles_degrees": [float(a) for a in plan.angles],
                "norm_angle": plan.norm_angle,
                "origin": plan.origin,
                "origin_z_m": plan.origin_z,
                "planes": {name: inc for name, inc in plan.planes},
            },
            "formula": plan.formula,
            "mesh": mesh.stats(),
            # per frequency: elements per wavelength on the wall, source and rear, and
            # whether that frequency is ok, warned or failed (accuracy.judge)
            "mesh_accuracy": [p.get("accuracy") for p in parts],
        },
    }


def _series(
    parts: list[dict[str, Any]], angles: np.ndarray, norm_angle: float, planes: list[str]
) -> tuple[list, list, list, list, list, dict[str, list]]:
    """SPL, phase, impedance, DI and polars per frequency; a failed one is null in each."""
    spl_values: list[float | None] = []
    phases: list[float | None] = []
    z_re: list[float | None] = []
    z_im: list[float | None] = []
    di: list[float | None] = []
    directivity: dict[str, list[list[list[float | None]] | None]] = {name: [] for name in planes}
    norm_index = int(np.argmin(np.abs(np.asarray(angles) - norm_angle)))
    for p in parts:
        if not p["ok"]:
            for series in (spl_values, phases, z_re, z_im, di):
                series.append(None)
            for name in directivity:
                directivity[name].append(None)
            continue
        axis = complex(*p["axis"])
        spl_values.append(spl(abs(axis)))
        phases.append(_finite(math.degrees(math.atan2(axis.imag, axis.real))))
        z = complex(*p["surface"]) / p["rho_c"]
        z_re.append(_finite(z.real))
        z_im.append(_finite(z.imag))
        di.append(_finite(10 * math.log10(4 * math.pi * abs(axis) ** 2 / p["power"])))
        for name in directivity:
            levels = p["planes"][name]
            ref = levels[norm_index]  # levels: |p| >= 0, None behind a baffle
            directivity[name].append(
                [
                    [float(a), _finite(20 * math.log10(v / ref)) if v and ref else None]
                    for a, v in zip(angles, levels, strict=True)
                ]
            )
    return spl_values, phases, z_re, z_im, di, directivity


def provisional(partials: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The frequencies solved so far as a result (None before the first solved one).

    Only partials that carry their polar grid count (those written by this version).
    """
    parts = sorted(
        (p for p in partials if p.get("ok") and p.get("polar")), key=lambda p: p["frequency"]
    )
    if not parts:
        return None
    angles = np.asarray(parts[0]["polar"]["angles"], dtype=float)
    norm_angle = float(parts[0]["polar"]["norm_angle"])
    names = list(parts[0]["planes"])
    spl_values, phases, z_re, z_im, di, directivity = _series(parts, angles, norm_angle, names)
    freqs = [float(p["frequency"]) for p in parts]
    warnings = [w for p in parts for w in p.get("warnings", [])]
    return {
        "frequencies": freqs,
        "spl_on_axis": {"frequencies": freqs, "spl": spl_values, "phase_degrees": phases},
        "impedance": {"frequencies": freqs, "real": z_re, "imaginary": z_im},
        "di": {"frequencies": freqs, "di": di},
        "directivity": directivity,
        "metadata": {
            "provisional": True,
            "warnings": warnings,
            "failures": [],
            "conventions": dict(CONVENTIONS),
            "polar": {"angles_degrees": angles.tolist(), "norm_angle": norm_angle},
        },
    }


def config_summary(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The job-list summary the horn-solver front end reads (never raises on odd specs)."""
    geometry = spec.get("geometry") if isinstance(spec.get("geometry"), Mapping) else {}
    freqs = spec.get("frequencies") if isinstance(spec.get("frequencies"), Mapping) else {}
    values = freqs.get("values")
    if isinstance(values, list) and values:
        frange = [min(values), max(values)]
        count = len(values)
    else:
        frange = [freqs.get("start"), freqs.get("stop")]
        count = freqs.get("count", 24)
    if geometry:
        formula = geometry.get("formula", "R-OSSE")
    elif spec.get("cfg") is not None or spec.get("cfg_file_id"):
        formula = _cfg_formula(spec.get("cfg"))
    else:
        formula = "user mesh"
    return {
        "formula_type": formula,
        "frequency_range": frange,
        "num_frequencies": count,
        "sim_type": spec.get("sim_type", "free_standing"),
    }


def _cfg_formula(text: Any) -> str:
    """The waveguide block of an inline ATH design, or just "ATH .cfg" (bad or uploaded)."""
    from montesim.engines.horn.ath import design_from_cfg
    from montesim.errors import InputError

    if isinstance(text, str):
        try:
            return str(design_from_cfg(text).spec["geometry"]["formula"])
        except InputError:
            pass
    return "ATH .cfg"
