"""Risk trees: portfolios of risks simulated trial by trial into loss exceedance curves."""

from montesim.engines.risktree.engine import RiskTreeEngine

__all__ = ["RiskTreeEngine"]
