"""OSSE and R-OSSE waveguide profiles: axial position and radius along the horn.

Lengths are in millimetres and angles in degrees at the interface (as ATH writes them);
the formulas work in radians. Every function is vectorised over a grid of profile
parameters ``t`` (0 at the throat, 1 at the mouth) and azimuths ``p``: the parameters
are arrays over ``p`` (broadcast against ``t``), so a parameter given as an expression
in ``p`` shapes the cross-section.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Profile:
    """Axial position ``x`` and radius ``y`` (mm), shape (len(t), len(p))."""

    x: np.ndarray
    y: np.ndarray


def osse(t: np.ndarray, r0, a0, a, L, k, s, n, q) -> Profile:
    """OSSE (oblate-spheroidal + super-elliptic termination), axial coordinate z = t·L.

    r(z) = sqrt((k r0)^2 + 2 k r0 z tan(a0) + z^2 tan^2(a)) + r0 (1 - k)
           + (s L / q) (1 - (1 - (q z / L)^n)^(1/n))

    Source: M. Batík, "Ath4 - user guide", OSSE section (at-horns.eu, 2021-2023): the
    oblate-spheroid OS term of Geddes ("Waveguides", Audio Engineering 2002) generalised
    with k, plus the super-ellipse mouth term with s, n, q. ``a0``/``a`` are half-angles.
    """
    t = np.asarray(t, dtype=float)[:, None]
    a0r, ar = np.radians(a0), np.radians(a)
    z = t * L
    os_term = np.sqrt((k * r0) ** 2 + 2 * k * r0 * z * np.tan(a0r) + (z * np.tan(ar)) ** 2)
    base = np.clip(1.0 - (q * z / L) ** n, 0.0, None)
    term = (s * L / q) * (1.0 - base ** (1.0 / n))
    return Profile(x=np.broadcast_to(z, term.shape).copy(), y=os_term + r0 * (1 - k) + term)


def rosse_length(R, r0, a0, a, k) -> np.ndarray:
    """R-OSSE's auxiliary length L: the OS curve's axial length to radius R + r0 (k - 1)."""
    c1, c2, c3 = _rosse_constants(r0, a0, a, k)
    disc = c2**2 - 4 * c3 * (c1 - (R + r0 * (k - 1)) ** 2)
    return (np.sqrt(disc) - c2) / (2 * c3)


def rosse(t: np.ndarray, R, r0, a0, a, k, r, b, m, q) -> Profile:
    """R-OSSE (rolled-back mouth), parametric in t in [0, tmax].

    With c1 = (k r0)^2, c2 = 2 k r0 tan(a0), c3 = tan^2(a) and
    L = (sqrt(c2^2 - 4 c3 (c1 - (R + r0 (k - 1))^2)) - c2) / (2 c3):

    x(t) = L (sqrt(r^2 + m^2) - sqrt(r^2 + (t - m)^2))
           + b L (sqrt(r^2 + (1 - m)^2) - sqrt(r^2 + m^2)) t^2
    y(t) = (1 - t^q) (sqrt(c1 + c2 L t + c3 L^2 t^2) + r0 (1 - k))
           + t^q (R + L (1 - sqrt(1 + c3 (t - 1)^2)))

    Source: M. Batík, "R-OSSE Waveguide", rev. 7 (at-horns.eu, 2022). ``a0``/``a`` are
    half-angles, ``R`` the mouth radius, ``r`` the apex radius, ``b`` the bending, ``m``
    the apex shift and ``q`` the throat shape factor.
    """
    t = np.asarray(t, dtype=float)[:, None]
    c1, c2, c3 = _rosse_constants(r0, a0, a, k)
    L = rosse_length(R, r0, a0, a, k)
    x = (
        L * (np.sqrt(r**2 + m**2) - np.sqrt(r**2 + (t - m) ** 2))
        + b * L * (np.sqrt(r**2 + (1 - m) ** 2) - np.sqrt(r**2 + m**2)) * t**2
    )
    tq = t**q
    y = (1 - tq) * (np.sqrt(c1 + c2 * L * t + c3 * (L * t) ** 2) + r0 * (1 - k)) + tq * (
        R + L * (1 - np.sqrt(1 + c3 * (t - 1) ** 2))
    )
    return Profile(x=np.broadcast_to(x, y.shape).copy(), y=y)


def _rosse_constants(r0, a0, a, k):
    c1 = (k * r0) ** 2
    c2 = 2 * k * r0 * np.tan(np.radians(a0))
    c3 = np.tan(np.radians(a)) ** 2
    return c1, c2, c3
