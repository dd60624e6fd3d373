"""montesim: durable Monte Carlo simulation jobs with honest progress."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from montesim.simulation import SimulationResult


def simulate(workbook: Any, **kwargs: Any) -> SimulationResult:
    """Simulate an Excel workbook in this process; see :func:`montesim.simulation.simulate`."""
    from montesim.simulation import simulate as _simulate

    return _simulate(workbook, **kwargs)


__all__ = ["simulate", "__version__"]
