"""Portable results, checked rather than assumed.

Same seed, same numbers on every machine needs every process to compute NumPy's kernels
alike (see ``NPY_DISABLE_CPU_FEATURES`` in ``montesim/__init__``). A process started
without it (a Dask worker launched by hand, another NumPy build) would silently change
results in their last bits. So each process computes a small probe, the kernels and draws
the engines use, into a digest, and compares it with the reference digest the store keeps
(the first process on a store records its own). A process that differs refuses chunks
with a clear error instead of computing them.
"""

from __future__ import annotations

import functools
import hashlib
import os

import numpy as np
from scipy import special

from montesim.errors import EngineError
from montesim.simd import PORTABLE_SIMD

_refusal: str | None = None  # why this process refuses chunks, once checked


@functools.cache
def digest() -> str:
    """The digest of this process's arithmetic: elementary kernels, draws and quantiles."""
    h = hashlib.sha256()
    x = np.linspace(-40.0, 40.0, 4099)
    ax = np.abs(x) + 0.001
    for values in (
        np.exp(x),
        np.expm1(x / 37.0),
        np.log(ax),
        np.log1p(ax),
        np.power(ax, 1.37),
        np.sqrt(ax),
        np.sin(x * 3.1),
        np.cos(x * 1.7),
        np.tan(x / 29.0),
        np.arctan(x),
        np.tanh(x / 7.0),
    ):
        h.update(values.tobytes())
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(20261208)))
    u = rng.random(2048)
    for values in (
        u,
        rng.standard_normal(2048),
        rng.gamma(2.5, size=2048),
        special.ndtri(u),
        special.gammaincinv(2.5, u),
        special.betaincinv(2.0, 3.0, u),
    ):
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:32]


def default_environment() -> bool:
    """NumPy runs with the kernels montesim chooses (only such a process may set the
    store's reference)."""
    native = os.environ.get("MONTESIM_NATIVE_SIMD", "") in ("1", "true", "yes")
    return not native and os.environ.get("NPY_DISABLE_CPU_FEATURES") == PORTABLE_SIMD


def describe() -> str:
    """What this process computes with (for the error a differing worker shows)."""
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES")
    return f"NumPy {np.__version__}, " + (
        f"NPY_DISABLE_CPU_FEATURES={disabled!r}" if disabled else "NPY_DISABLE_CPU_FEATURES unset"
    )


def compare(reference: str | None) -> str | None:
    """None when this process computes as ``reference`` says; else why not (and remember
    it: ``ensure`` then refuses chunks)."""
    global _refusal
    mine = digest()
    if reference is None or reference == mine:
        _refusal = None
        return None
    _refusal = (
        f"this worker's arithmetic differs from the store's reference (probe digest "
        f"{mine}, reference {reference}; {describe()}): its results would not be "
        "bit-identical to other workers'. Start it with montesim's environment "
        "(NPY_DISABLE_CPU_FEATURES as montesim sets it, the same NumPy and SciPy)"
    )
    return _refusal


def refusal() -> str | None:
    return _refusal


def ensure() -> None:
    """Raise when this process was found to compute differently (before any chunk)."""
    if _refusal is not None:
        raise EngineError(_refusal, code="arithmetic_mismatch")
