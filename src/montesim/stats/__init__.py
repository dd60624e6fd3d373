"""Summaries, percentiles, histograms, correlation and sensitivity of simulated outputs."""

from montesim.stats.sensitivity import sensitivity
from montesim.stats.summary import PERCENTILES, correlation_matrix, jsonable, summarize

__all__ = ["PERCENTILES", "correlation_matrix", "jsonable", "sensitivity", "summarize"]
