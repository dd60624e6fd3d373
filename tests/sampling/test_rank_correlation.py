"""Iman–Conover rank correlation and correlation-matrix checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from montesim.engines.base import InputError
from montesim.sampling import (
    BLOCK,
    iman_conover,
    make_distribution,
    nearest_correlation,
    rng_for,
    sample_inputs,
    validate_corr,
)

NAMES = ["a", "b", "c"]
TARGET = np.array([[1.0, 0.8, -0.5], [0.8, 1.0, -0.3], [-0.5, -0.3, 1.0]])


def _dists():
    return [
        make_distribution("normal", [0, 1]),
        make_distribution("lognorm", [5, 2]),
        make_distribution("triang", [0, 1, 4]),
    ]


def test_achieved_spearman_matches_target_in_every_block():
    x = sample_inputs(11, _dists(), [1, 2, 3], 0, 2 * BLOCK, corr=TARGET)
    for b in range(2):
        rho = stats.spearmanr(x[b * BLOCK : (b + 1) * BLOCK]).statistic
        np.testing.assert_allclose(rho, TARGET, atol=0.03)


def test_marginals_are_unchanged_by_reordering():
    plain = sample_inputs(11, _dists(), [1, 2, 3], 0, 2 * BLOCK)
    corr = sample_inputs(11, _dists(), [1, 2, 3], 0, 2 * BLOCK, corr=TARGET)
    for b in range(2):
        rows = slice(b * BLOCK, (b + 1) * BLOCK)
        np.testing.assert_array_equal(np.sort(corr[rows], axis=0), np.sort(plain[rows], axis=0))
    assert not np.array_equal(corr, plain)


def test_identity_target_leaves_ranks_uncorrelated():
    x = sample_inputs(4, _dists(), [1, 2, 3], 0, BLOCK, corr=np.eye(3))
    rho = stats.spearmanr(x).statistic
    np.testing.assert_allclose(rho, np.eye(3), atol=0.03)


def test_perfect_correlation_is_supported():
    corr = np.array([[1.0, 1.0], [1.0, 1.0]])
    x = sample_inputs(4, _dists()[:2], [1, 2], 0, BLOCK, corr=corr)
    assert stats.spearmanr(x).statistic > 0.995


def test_iman_conover_only_permutes_columns():
    rng = np.random.default_rng(0)
    u = rng.random((500, 3))
    out = iman_conover(u, TARGET, rng_for(1, 2))
    np.testing.assert_array_equal(np.sort(out, axis=0), np.sort(u, axis=0))
    np.testing.assert_allclose(stats.spearmanr(out).statistic, TARGET, atol=0.06)


def test_validate_corr_accepts_a_good_matrix():
    out = validate_corr(TARGET.tolist(), NAMES)
    np.testing.assert_array_equal(out, TARGET)


@pytest.mark.parametrize(
    ("matrix", "words"),
    [
        ([[1, 0.5, 0], [0.4, 1, 0], [0, 0, 1]], ["symmetric", "'a'", "'b'"]),
        ([[1, 0, 0], [0, 0.9, 0], [0, 0, 1]], ["diagonal", "'b'"]),
        ([[1, 0, 1.5], [0, 1, 0], [1.5, 0, 1]], ["'a' and 'c'", "outside"]),
        ([[1, 0, float("nan")], [0, 1, 0], [float("nan"), 0, 1]], ["'a' and 'c'", "not a number"]),
        ([[1, 0], [0, 1]], ["3x3"]),
        ([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]], ["positive semidefinite"]),
        ([["x", 0, 0], [0, 1, 0], [0, 0, 1]], ["'a' and 'a'", "number"]),
        ([[1, True, 0], [1, 1, 0], [0, 0, 1]], ["'a' and 'b'", "number"]),
        ([[1, None, 0], [None, 1, 0], [0, 0, 1]], ["'a' and 'b'", "missing"]),
        ([[1, 0, 0], [0, 1, 0]], ["3x3"]),
        ("abc", ["3x3"]),
    ],
)
def test_validate_corr_rejects_bad_matrices(matrix, words):
    with pytest.raises(InputError) as info:
        validate_corr(matrix, NAMES, location="spec.correlation")
    assert info.value.code == "invalid_correlation"
    assert info.value.location == "spec.correlation"
    for word in words:
        assert word in info.value.message


def test_one_triangle_is_enough():
    lower = [[None, None, None], [0.8, 1, None], [-0.5, -0.3, 1]]
    np.testing.assert_array_equal(validate_corr(lower, NAMES), TARGET)
    upper = [[1, 0.8, -0.5], [None, 1, -0.3], [None, None, 1]]
    np.testing.assert_array_equal(validate_corr(np.array(upper, dtype=object), NAMES), TARGET)


def test_repair_returns_the_nearest_valid_matrix():
    bad = np.array([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    fixed = validate_corr(bad, NAMES, repair=True)
    assert np.linalg.eigvalsh(fixed)[0] > -1e-9
    np.testing.assert_allclose(np.diag(fixed), 1.0)
    np.testing.assert_allclose(fixed, fixed.T)
    # the repair moves the matrix, but no further than the plain projection onto PSD matrices would
    w, v = np.linalg.eigh(bad)
    psd = (v * np.maximum(w, 0)) @ v.T
    assert np.linalg.norm(fixed - bad) < np.linalg.norm(psd - bad) * 1.5
    assert np.array_equal(nearest_correlation(TARGET).round(8), TARGET)
