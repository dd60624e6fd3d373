"""What a designer reads from a horn result: −6 dB beamwidth, and FRD / ZMA / CSV files.

FRD and ZMA are the plain-text formats VituixCAD and REW import: one line per frequency,
``frequency value phase``, with ``*`` comment lines above (both programs skip them).
The files say which convention their numbers are in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

BEAMWIDTH_LEVEL = -6.0  # dB: the beamwidth designers quote


def beamwidth(row: Sequence[Sequence[float | None]] | None, level: float = BEAMWIDTH_LEVEL):
    """The full angle (degrees) inside which one polar curve stays above ``level``.

    ``row`` is ``[[angle, dB re the norm angle], ...]`` from 0° outward. The first
    crossing below ``level`` is interpolated linearly in dB between the samples around it;
    twice that angle is the beamwidth. ``None`` when the curve never falls to ``level``
    within its angles, starts below it, or has a gap before the crossing.
    """
    if not row:
        return None
    prev = None
    for angle, db in row:
        if db is None:
            return None
        if db <= level:
            if prev is None:
                return None
            a0, d0 = prev
            return round(2 * (a0 + (level - d0) / (db - d0) * (angle - a0)), 3)
        prev = (angle, db)
    return None


def beamwidths(directivity: Mapping[str, list], level: float = BEAMWIDTH_LEVEL) -> dict:
    return {plane: [beamwidth(row, level) for row in rows] for plane, rows in directivity.items()}


def _lines(header: Sequence[str], rows: Sequence[Sequence[float]]) -> bytes:
    text = [f"* {line}" for line in header]
    text += [" ".join(f"{v:.6g}" for v in row) for row in rows]
    return ("\n".join(text) + "\n").encode()


def frd(summary: Mapping[str, Any]) -> bytes:
    """On-axis SPL and phase as an FRD file (frequencies where both are known)."""
    meta = summary.get("metadata") or {}
    axis = summary["spl_on_axis"]
    rows = [
        (f, s, p)
        for f, s, p in zip(summary["frequencies"], axis["spl"], axis["phase_degrees"], strict=True)
        if s is not None and p is not None
    ]
    conv = meta.get("conventions") or {}
    return _lines(
        [
            f"montesim horn: on-axis response at {meta.get('distance_m', '?')} m",
            f"source: {conv.get('source', 'see the result metadata')}",
            f"SPL: dB re 20 uPa, {conv.get('pressure', '?')} pressure; phase: degrees, "
            f"{conv.get('phasor', '?')}, raw (includes the propagation delay to the observer)",
            "Freq(Hz) SPL(dB) Phase(deg)",
        ],
        rows,
    )


def zma(summary: Mapping[str, Any]) -> bytes:
    """Throat impedance z/(rho c) as a ZMA file: magnitude and phase."""
    imp = summary["impedance"]
    rows = [
        (f, math.hypot(re, im), math.degrees(math.atan2(im, re)))
        for f, re, im in zip(summary["frequencies"], imp["real"], imp["imaginary"], strict=True)
        if re is not None and im is not None
    ]
    return _lines(
        [
            "montesim horn: specific acoustic impedance at the throat, z/(rho c) (dimensionless:",
            "multiply by rho c = 413 Pa s/m for Pa s/m; not an electrical impedance)",
            "Freq(Hz) |z|/(rho c) Phase(deg)",
        ],
        rows,
    )


def csv(summary: Mapping[str, Any]) -> bytes:
    """Every per-frequency series in one table; an empty cell where a value is missing."""
    freqs = summary["frequencies"]
    widths = beamwidths(summary.get("directivity") or {})
    columns = {
        "frequency_hz": freqs,
        "spl_db": summary["spl_on_axis"]["spl"],
        "phase_deg": summary["spl_on_axis"]["phase_degrees"],
        "z_real": summary["impedance"]["real"],
        "z_imag": summary["impedance"]["imaginary"],
        "di_db": summary["di"]["di"],
        **{f"beamwidth_6db_{plane}_deg": values for plane, values in widths.items()},
    }
    lines = [",".join(columns)]
    for i in range(len(freqs)):
        lines.append(",".join("" if c[i] is None else f"{c[i]:.6g}" for c in columns.values()))
    return ("\n".join(lines) + "\n").encode()


def artifacts(summary: Mapping[str, Any]) -> dict[str, tuple[str, bytes]]:
    return {
        "on-axis.frd": ("text/plain", frd(summary)),
        "impedance.zma": ("text/plain", zma(summary)),
        "response.csv": ("text/csv", csv(summary)),
    }
