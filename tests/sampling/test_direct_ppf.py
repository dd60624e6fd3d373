"""The direct inverse CDF (SciPy's ``_ppf`` without its per-call checks) is SciPy's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.sampling import make_distribution
from montesim.sampling.lhs import U_MAX, U_MIN

CONTINUOUS = {
    "normal": [3, 2],
    "lognorm": [5, 1],
    "lognorm2": [0.1, 0.5],
    "uniform": [-1, 2],
    "triang": [1, 2, 6],
    "pert": [0, 3, 4],
    "beta": [2, 5],
    "gamma": [2, 1.5],
    "expon": [3],
    "weibull": [1.5, 2],
    "trigen": [1, 2, 6, 10, 90],
}


@pytest.mark.parametrize("family", sorted(CONTINUOUS))
def test_direct_ppf_equals_scipy_ppf(family: str) -> None:
    backend = make_distribution(family, CONTINUOUS[family])._backend
    assert backend._direct is not None  # the fast path is taken for this family
    u = np.concatenate([np.random.default_rng(3).random(5000), [U_MIN, U_MAX, 0.5]])
    assert np.array_equal(backend.ppf(u), np.asarray(backend.frozen.ppf(u)))


def test_probabilities_outside_the_open_interval_take_scipys_path() -> None:
    backend = make_distribution("normal", [0, 1])._backend
    u = np.array([0.0, 0.5, 1.0])
    assert np.array_equal(backend.ppf(u), [-np.inf, 0.0, np.inf])
