"""montesim: durable Monte Carlo simulation jobs with honest progress."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Same seed, same numbers on every machine: NumPy picks its exp/log/power kernels by CPU,
# and its AVX-512 ones round differently in the last bit from the AVX2 ones, so a chunk
# run on an AVX-512 worker would not match the same chunk run elsewhere. Every montesim
# process (server, workers, pool children, the CLI) uses the AVX2 kernels unless the
# environment says otherwise; this has to happen before NumPy is first imported.
# MONTESIM_NATIVE_SIMD=1 keeps NumPy's own choice (faster on AVX-512, not portable).
from montesim.simd import PORTABLE_SIMD  # noqa: E402  (before NumPy is imported)

if os.environ.get("MONTESIM_NATIVE_SIMD", "") not in ("1", "true", "yes"):
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", PORTABLE_SIMD)

if TYPE_CHECKING:
    from montesim.simulation import SimulationResult


def simulate(workbook: Any, **kwargs: Any) -> SimulationResult:
    """Simulate an Excel workbook in this process; see :func:`montesim.simulation.simulate`."""
    from montesim.simulation import simulate as _simulate

    return _simulate(workbook, **kwargs)


__all__ = ["simulate", "__version__"]
