"""Summaries, percentiles, histograms, correlation and sensitivity of simulated outputs.

The sensitivity analyses beyond the rank-correlation tornado are pure functions of the
iterations: ``change_in_mean`` and ``spider`` (stats.tornado), ``regression``
(standardised coefficients and contribution to variance), ``scenario``/``scenarios`` and
``stress``; each returns a frozen dataclass and shows the ``top`` inputs (10 by default).
"""

from montesim.stats.regression import regression
from montesim.stats.scenario import scenario, scenarios
from montesim.stats.sensitivity import sensitivity
from montesim.stats.stress import stress
from montesim.stats.summary import PERCENTILES, correlation_matrix, jsonable, summarize
from montesim.stats.tornado import change_in_mean, spider

__all__ = [
    "PERCENTILES",
    "change_in_mean",
    "correlation_matrix",
    "jsonable",
    "regression",
    "scenario",
    "scenarios",
    "sensitivity",
    "spider",
    "stress",
    "summarize",
]
