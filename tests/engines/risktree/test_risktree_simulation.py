"""Simulated figures against analytic results, theory and a slow per-trial reference."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats

LOGN = {"family": "lognormal", "low": 1_000, "high": 10_000}
MU = (math.log(1_000) + math.log(10_000)) / 2
SIGMA = (math.log(10_000) - math.log(1_000)) / (2 * stats.norm.ppf(0.95))
EX = math.exp(MU + SIGMA**2 / 2)
EX2 = math.exp(2 * MU + 2 * SIGMA**2)


def within(got: float, want: float, se: float, k: float = 4.0) -> bool:
    return abs(got - want) <= k * se


def test_bernoulli_leaf_p_no_loss(simulate, leaf) -> None:
    n, p = 100_000, 0.13
    s = simulate([leaf("A", probability=p)], trials=n, seed=5).summary
    assert within(s["nodes"]["A"]["p_no_loss"], 1 - p, math.sqrt(p * (1 - p) / n))
    assert s["nodes"]["Root"]["p_no_loss"] == s["nodes"]["A"]["p_no_loss"]


def test_poisson_leaf_p_no_loss(simulate, leaf) -> None:
    n, lam = 100_000, 1.7
    s = simulate([leaf("A", frequency=lam)], trials=n, seed=6).summary
    p0 = math.exp(-lam)
    assert within(s["nodes"]["A"]["p_no_loss"], p0, math.sqrt(p0 * (1 - p0) / n))


def test_portfolio_aal_is_the_sum_of_leaf_expected_losses(simulate, leaf) -> None:
    n = 100_000
    leaves = [
        leaf("A", probability=0.2, severity=LOGN),
        leaf("B", frequency=0.7, severity={"family": "pert", "min": 0, "mode": 2e3, "max": 1e4}),
        leaf("C", probability=0.5, severity={"family": "uniform", "min": 100, "max": 900}),
    ]
    s = simulate([{"name": "P", "children": leaves}], trials=n, seed=2).summary
    e_pert = (0 + 4 * 2e3 + 1e4) / 6
    want = 0.2 * EX + 0.7 * e_pert + 0.5 * 500
    root = s["nodes"]["Root"]
    assert within(root["aal"], want, root["std"] / math.sqrt(n))
    # Within one run, every portfolio's AAL is exactly the sum of its children's.
    leaf_sum = sum(s["nodes"][k]["aal"] for k in "ABC")
    assert s["nodes"]["P"]["aal"] == pytest.approx(leaf_sum, rel=1e-12)
    assert root["aal"] == pytest.approx(leaf_sum, rel=1e-12)


def test_compound_poisson_mean_and_variance(simulate, leaf) -> None:
    n = 100_000
    lams = [0.5, 1.2, 3.0]
    leaves = [leaf(f"R{i}", frequency=lam, severity=LOGN) for i, lam in enumerate(lams)]
    s = simulate(leaves, trials=n, seed=9).summary
    lam = sum(lams)
    mean, var = lam * EX, lam * EX2
    root = s["nodes"]["Root"]
    assert within(root["aal"], mean, math.sqrt(var / n))
    # SE of a sample variance ≈ sqrt((μ4 − σ⁴)/n); the compound-Poisson μ4 is
    # λ·E[X⁴] + 3σ⁴ (cumulants), so μ4 − σ⁴ = λ·E[X⁴] + 2σ⁴.
    ex4 = math.exp(4 * MU + 8 * SIGMA**2)
    se_var = math.sqrt((lam * ex4 + 2 * var**2) / n)
    assert within(root["std"] ** 2, var, se_var)
    for i, lam_i in enumerate(lams):
        node = s["nodes"][f"R{i}"]
        assert within(node["aal"], lam_i * EX, math.sqrt(lam_i * EX2 / n))


def _reference(n: int, seed: int) -> np.ndarray:
    """The slow way: per trial, count events, then add up one severity draw per event."""
    rng = random.Random(seed)
    lam, ded, cap = 1.3, 500.0, 20_000.0
    out = []
    for _ in range(n):
        k, t = 0, rng.expovariate(lam)
        while t < 1.0:  # Poisson count from exponential gaps
            k += 1
            t += rng.expovariate(lam)
        total = 0.0
        for _ in range(k):
            x = rng.triangular(1_000, 30_000, 5_000)
            total += min(max(x - ded, 0.0), cap)
        out.append(total)
    return np.array(out)


def test_leaf_quantiles_match_a_per_trial_reference(simulate, leaf) -> None:
    n = 20_000
    sev = {"family": "triangular", "min": 1_000, "mode": 5_000, "max": 30_000}
    s = simulate(
        [leaf("A", frequency=1.3, severity=sev, deductible=500, cap=20_000)], trials=n, seed=4
    ).summary
    ref = _reference(n, seed=4)
    node = s["nodes"]["A"]
    assert within(node["p_no_loss"], np.mean(ref == 0), math.sqrt(2 * 0.25 / n))
    for label, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        # Where our quantile falls in the reference's distribution, ± two samples' error.
        f_ref = np.mean(ref <= node["quantiles"][label])
        assert within(f_ref, q, math.sqrt(2 * q * (1 - q) / n)), (label, f_ref)
    assert within(node["aal"], ref.mean(), math.sqrt(2 * ref.var() / n))


def test_deductible_and_cap_apply_per_event(simulate, leaf) -> None:
    sev = {"family": "uniform", "min": 0, "max": 1_000}
    s = simulate(
        [leaf("A", probability=1.0, severity=sev, deductible=200, cap=500)], trials=50_000, seed=3
    ).summary
    a = s["nodes"]["A"]
    assert a["max"] == 500.0
    assert within(a["p_no_loss"], 0.2, math.sqrt(0.16 / 50_000))
    # E[min(max(U−200, 0), 500)] for U ~ U(0, 1000): ∫ over 200..700 plus 500·P(U > 700).
    want = (0.5 * 500**2 + 500 * 300) / 1000
    assert within(a["aal"], want, a["std"] / math.sqrt(50_000))
    assert a["quantiles"]["p99"] == 500.0  # the cap is a point mass


def _three(leaf, corr=None):
    names = ["A", "B", "C", "D"]
    leaves = [leaf(n, probability=0.1, severity=LOGN) for n in names]
    spec = {"trials": 50_000, "seed": 8}
    if corr is not None:
        m = np.full((4, 4), corr)
        np.fill_diagonal(m, 1.0)
        spec["correlation"] = {"leaves": names, "matrix": m.tolist()}
    return leaves, spec


def test_zero_correlation_matches_independent_leaves(simulate, leaf) -> None:
    leaves, spec = _three(leaf)
    indep = simulate(leaves, **spec).summary
    leaves, spec = _three(leaf, corr=0.0)
    zero = simulate(leaves, **spec).summary
    for name in ("Root", "A", "D"):
        a, b = indep["nodes"][name], zero["nodes"][name]
        assert b["aal"] == pytest.approx(a["aal"], rel=1e-9)
        assert b["p_no_loss"] == a["p_no_loss"]
        for q in a["quantiles"]:
            assert b["quantiles"][q] == pytest.approx(a["quantiles"][q], rel=1e-9)


def test_positive_correlation_fattens_the_portfolio_tail(simulate, leaf) -> None:
    leaves, spec = _three(leaf)
    indep = simulate(leaves, **spec).summary["nodes"]
    leaves, spec = _three(leaf, corr=0.7)
    corr = simulate(leaves, **spec).summary["nodes"]
    # Leaves keep their own distributions ...
    for name in "ABCD":
        assert within(corr[name]["p_no_loss"], 0.9, math.sqrt(2 * 0.09 / 50_000))
    # ... but lose together: a fatter portfolio tail, and more loss-free years.
    assert corr["Root"]["tvar"]["99"] > 1.3 * indep["Root"]["tvar"]["99"]
    assert corr["Root"]["quantiles"]["p99.5"] > indep["Root"]["quantiles"]["p99.5"]
    assert corr["Root"]["p_no_loss"] > indep["Root"]["p_no_loss"] + 0.05
    se = corr["Root"]["std"] * math.sqrt(2 / 50_000)
    assert within(corr["Root"]["aal"], indep["Root"]["aal"], se)
