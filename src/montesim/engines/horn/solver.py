"""One frequency of the exterior Helmholtz problem with bempp-cl (Burton–Miller).

Time convention inside the solve is bempp's e^{-iωt} (Green's function e^{ikr}/4πr);
results are conjugated to the engineering e^{+jωt} convention before they leave here.
The source (tag 2) moves with unit normal velocity v = 1 m/s into the air; every other
surface is rigid, so the Neumann data is ∂p/∂n = iωρ v on the source and 0 elsewhere.

With bempp's operators (V single layer, K double layer, K' adjoint double layer,
W hypersingular, all on the surface Γ with normals into the air), the exterior traces
satisfy (½I − K) p + V g = 0 and W p + (½I + K') g = 0; Burton–Miller adds the second
times η = i/k to the first, which is uniquely solvable at every frequency:

    (½I − K + η W) p = −(V + η (½I + K')) g

The field off the surface is p(x) = D p − S g (double and single layer potentials).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from montesim.engines.horn.mesh import SOURCE, Mesh, icosphere
from montesim.errors import Cancelled

_state: dict[str, Any] = {}
_lock = threading.RLock()  # a warm-up thread and a chunk may both be first


def configure_numba(data_dir: str | os.PathLike | None = None) -> Path:
    """Point numba's cache into the data folder (before numba is first imported).

    It holds only what bempp-cl marks cacheable (its space functions): its assembly
    kernels are not, so each process still compiles them on its first solve (about 2
    CPU minutes; bench/bench_horn.py). Enabling caching on them by hand saved a quarter.
    """
    base = Path(data_dir or os.environ.get("MONTESIM_DATA_DIR") or "data")
    cache = base / "numba-cache"
    os.environ.setdefault("NUMBA_CACHE_DIR", str(cache))
    return Path(os.environ["NUMBA_CACHE_DIR"])


def device() -> str:
    """``MONTESIM_HORN_DEVICE``: ``numba``, ``opencl``, or ``auto`` (OpenCL when a CPU or GPU
    OpenCL driver is present, else numba; ``why`` in ``_state`` records the choice)."""
    with _lock:
        return _device()


def _device() -> str:
    if "device" not in _state:
        wanted = os.environ.get("MONTESIM_HORN_DEVICE", "auto").lower()
        chosen, why = wanted, "requested"
        if wanted == "auto":
            try:
                import pyopencl

                found = any(p.get_devices() for p in pyopencl.get_platforms())
                chosen, why = (
                    ("opencl", "OpenCL driver found") if found else ("numba", "no OpenCL device")
                )
            except Exception as exc:  # no pyopencl, or no ICD loader/platform
                chosen, why = "numba", f"OpenCL unavailable ({type(exc).__name__})"
        if chosen not in ("numba", "opencl"):
            raise ValueError(f"MONTESIM_HORN_DEVICE must be numba, opencl or auto, not {wanted!r}")
        _state["device"], _state["why"] = chosen, why
    return _state["device"]


def device_note() -> str:
    device()
    return f"{_state['device']} ({_state['why']})"


def bempp():
    """bempp-cl's API on the chosen device interface (see ``device``)."""
    with _lock:
        if "api" not in _state:
            configure_numba()
            import bempp_cl.api as api

            api.DEFAULT_DEVICE_INTERFACE = device()
            _state["api"] = api
        return _state["api"]


@dataclass(frozen=True)
class Air:
    temperature_c: float

    @property
    def c(self) -> float:
        """Speed of sound (m/s): 331.3 sqrt(1 + T/273.15)."""
        return 331.3 * float(np.sqrt(1.0 + self.temperature_c / 273.15))

    @property
    def rho(self) -> float:
        """Density (kg/m³) of dry air at 101,325 Pa: p / (R_specific T)."""
        return 101_325.0 / (287.05 * (self.temperature_c + 273.15))


@dataclass
class Field:
    """Complex pressures (Pa, e^{+jωt}) for v = 1 m/s on the source."""

    surface_mean_source: complex  # mean pressure over the source surface
    points: np.ndarray  # pressures at the requested field points


class Surface:
    """The bempp grid and spaces of one mesh, built once per process and reused."""

    def __init__(self, mesh: Mesh) -> None:
        api = bempp()
        self.mesh = mesh
        self.grid = api.Grid(
            mesh.vertices.T.astype(np.float64),
            mesh.triangles.T.astype(np.uint32),
            domain_indices=mesh.tags.astype(np.uint32),
        )
        self.p1 = api.function_space(self.grid, "P", 1)
        # the Neumann data lives on the source only: V and K' need just its columns
        self.dp0 = api.function_space(self.grid, "DP", 0, segments=[SOURCE])
        self.source = np.ones(self.dp0.global_dof_count)
        source = (mesh.tags == SOURCE).astype(float)
        areas = mesh.areas()
        self.source_weights = areas * source / float((areas * source).sum())


def solve(
    surface: Surface,
    frequency: float,
    air: Air,
    points: np.ndarray,
    *,
    cancelled: Callable[[], bool] = lambda: False,
    report: Callable[[str], None] = lambda stage: None,
) -> Field:
    """Assemble, solve, and evaluate the field at ``points`` (3, n) for one frequency."""
    api = bempp()
    from bempp_cl.api.operators.boundary import helmholtz, sparse
    from bempp_cl.api.operators.potential import helmholtz as potential

    k = 2 * np.pi * frequency / air.c
    eta = 1j / k
    p1, dp0 = surface.p1, surface.dp0
    report("assembling")
    lhs = (
        0.5 * sparse.identity(p1, p1, p1)
        - helmholtz.double_layer(p1, p1, p1, k)
        + eta * helmholtz.hypersingular(p1, p1, p1, k)
    )
    g = api.GridFunction(
        dp0, coefficients=(1j * 2 * np.pi * frequency * air.rho) * surface.source.astype(complex)
    )
    rhs_op = -1.0 * helmholtz.single_layer(dp0, p1, p1, k) - eta * (
        0.5 * sparse.identity(dp0, p1, p1) + helmholtz.adjoint_double_layer(dp0, p1, p1, k)
    )
    rhs = rhs_op * g
    lhs.weak_form()  # assemble now, so a cancel between assembly and solve is honoured
    if cancelled():
        raise Cancelled
    report("solving")
    pressure = api.linalg.lu(lhs, rhs)
    if cancelled():
        raise Cancelled
    report("directivity")
    field = potential.double_layer(p1, points, k).evaluate(pressure) - potential.single_layer(
        dp0, points, k
    ).evaluate(g)
    # mean over the source: P1 coefficients averaged at the source triangles' centroids
    at_centroids = pressure.grid_coefficients[p1.local2global].mean(axis=1)
    mean_source = complex(np.sum(at_centroids * surface.source_weights))
    return Field(surface_mean_source=np.conj(mean_source), points=np.conj(field[0]))


def warm_up() -> None:
    """One solve on a tiny sphere with a source cap, so that this process's later solves
    find bempp's kernels compiled (about 2 CPU minutes with numba; see the README)."""
    device()  # a bad MONTESIM_HORN_DEVICE fails here, before the heavy imports
    solve(Surface(tiny_sphere()), 1000.0, Air(20.0), np.array([[0.0], [0.0], [1.0]]))


def tiny_sphere(radius: float = 0.05) -> Mesh:
    """An icosphere of 80 triangles: a source cap, a rigid rest."""
    pts, tris = icosphere(radius, 1)
    tags = np.where(pts[tris].mean(axis=1)[:, 2] > 0.8 * radius, SOURCE, 1).astype(np.int32)
    return Mesh(pts, tris.astype(np.int32), tags)
