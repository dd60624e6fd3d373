"""The horn engine (optional extra ``montesim[bem]``): OSSE/R-OSSE waveguides by BEM."""

from montesim.engines.horn.engine import HornEngine

__all__ = ["HornEngine"]
