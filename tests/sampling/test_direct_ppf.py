"""The direct inverse CDF (SciPy's ``_ppf`` without its per-call checks) is SciPy's, bit for
bit; PERT and beta go through a checked table of SciPy's (sampling.betainv), within 1e-12."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.sampling import make_distribution
from montesim.sampling.lhs import U_MAX, U_MIN

CONTINUOUS = {  # family: parameters
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
TABULATED = {"pert", "beta"}


@pytest.mark.parametrize("family", sorted(CONTINUOUS))
def test_direct_ppf_equals_scipy_ppf(family: str) -> None:
    backend = make_distribution(family, CONTINUOUS[family])._backend
    assert backend._direct is not None  # the fast path is taken for this family
    u = np.concatenate([np.random.default_rng(3).random(5000), [U_MIN, U_MAX, 0.5]])
    ours, scipys = backend.ppf(u), np.asarray(backend.frozen.ppf(u))
    if family in TABULATED:
        assert np.allclose(ours, scipys, rtol=1e-12, atol=0)
        assert not np.array_equal(ours, scipys)  # the table, not SciPy's inverse, ran
    else:
        assert np.array_equal(ours, scipys)


def test_probabilities_outside_the_open_interval_take_scipys_path() -> None:
    backend = make_distribution("normal", [0, 1])._backend
    u = np.array([0.0, 0.5, 1.0])
    assert np.array_equal(backend.ppf(u), [-np.inf, 0.0, np.inf])


def test_inputs_of_one_family_computed_together_match_one_by_one() -> None:
    from montesim.sampling import BLOCK, block_uniforms, sample_inputs
    from montesim.sampling.draw import _stacks

    specs = [(f, CONTINUOUS[f]) for f in ("normal", "uniform", "pert", "triang")]
    specs += [("normal", [1, 5]), ("uniform", [3, 4]), ("pert", [1, 2, 9]), ("triang", [0, 0, 1])]
    specs += [("lognorm", [5, 1]), ("lognorm", [2, 3]), ("gamma", [2, 1]), ("gamma", [3, 2])]
    specs += [("expon", [1]), ("expon", [4]), ("weibull", [1, 2]), ("weibull", [2, 1])]
    dists = [make_distribution(f, a) for f, a in specs]
    dists.append(make_distribution("normal", [0, 1], truncate=(-1, 1)))  # not stacked
    ids = list(range(100, 100 + len(dists)))
    stacks, alone = _stacks(dists)
    assert len(stacks) == 8 and alone == [len(dists) - 1]
    x = sample_inputs(9, dists, ids, 100, 2 * BLOCK)
    for b in (0, 1, 2):
        u = block_uniforms(9, ids, b)
        lo, hi = max(100, b * BLOCK), min(100 + 2 * BLOCK, (b + 1) * BLOCK)
        for j, d in enumerate(dists):
            expected = d.ppf(u[:, j])[lo - b * BLOCK : hi - b * BLOCK]
            assert np.array_equal(x[lo - 100 : hi - 100, j], expected), (b, j)


@pytest.mark.parametrize(
    "family", ["normal", "lognorm", "lognorm2", "uniform", "triang", "pert", "beta", "expon"]
)
def test_closed_form_mean_is_scipys(family: str) -> None:
    backend = make_distribution(family, CONTINUOUS[family])._backend
    assert backend._mean is not None  # no scipy.stats needed for it
    assert backend.mean_between(-np.inf, np.inf) == pytest.approx(
        float(backend.frozen.mean()), rel=1e-15, abs=1e-15
    )


def test_a_run_of_closed_form_families_does_not_import_scipy_stats() -> None:
    import subprocess
    import sys

    code = (
        "import sys, montesim.simulation as s; "
        "s.simulate('examples/excel/project.xlsx', iterations=500); "
        "print('scipy.stats' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("False"), done.stdout + done.stderr
