"""montesim: durable Monte Carlo simulation jobs with honest progress."""

__version__ = "0.1.0"
