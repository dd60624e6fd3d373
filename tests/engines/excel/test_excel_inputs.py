"""@RISK functions in cells sample the distributions @RISK defines (checked against SciPy)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import montesim

N = 20_000

# @RISK parameterisations, written out from @RISK's documentation
_SIG2 = math.log(1 + (4 / 10) ** 2)  # RiskLognorm(mean 10, sd 4) of the lognormal itself
CONTINUOUS = [
    ("RiskNormal(10, 2)", stats.norm(10, 2)),
    (
        "RiskLognorm(10, 4)",
        stats.lognorm(s=math.sqrt(_SIG2), scale=math.exp(math.log(10) - _SIG2 / 2)),
    ),
    ("RiskLognorm2(1, 0.5)", stats.lognorm(s=0.5, scale=math.e)),
    ("RiskUniform(2, 5)", stats.uniform(2, 3)),
    ("RiskTriang(1, 2, 5)", stats.triang(c=0.25, loc=1, scale=4)),
    ("RiskPert(1, 2, 5)", stats.beta(2, 4, loc=1, scale=4)),  # alpha = 1 + 4 (mode-min)/(max-min)
    ("RiskBeta(2, 3)", stats.beta(2, 3)),
    ("RiskGamma(2, 3)", stats.gamma(2, scale=3)),
    ("RiskExpon(4)", stats.expon(scale=4)),
    ("RiskWeibull(2, 3)", stats.weibull_min(2, scale=3)),
]
DISCRETE = [
    ("RiskPoisson(3)", stats.poisson(3)),
    ("RiskBinomial(10, 0.3)", stats.binom(10, 0.3)),
    ("RiskIntUniform(1, 6)", stats.randint(1, 7)),
]


def draw(formula: str, sampling: str = "mc", n: int = N, seed: int = 4) -> np.ndarray:
    res = montesim.simulate(
        {"D!A1": "=" + formula, "D!B1": "=A1"},
        outputs=["D!B1"],
        iterations=n,
        seed=seed,
        sampling=sampling,
    )
    return res.outputs["D!B1"]


@pytest.mark.parametrize(("formula", "ref"), CONTINUOUS, ids=[f for f, _ in CONTINUOUS])
def test_continuous_families_pass_ks_and_match_moments(formula, ref) -> None:
    x = draw(formula)
    assert stats.kstest(x, ref.cdf).pvalue > 1e-3
    assert x.mean() == pytest.approx(ref.mean(), abs=5 * ref.std() / math.sqrt(N))
    assert x.std() == pytest.approx(ref.std(), rel=0.05)
    # Latin hypercube: the same distribution, its mean much tighter
    lhs = draw(formula, "lhs")
    assert stats.kstest(lhs, ref.cdf).pvalue > 1e-3
    assert abs(lhs.mean() - ref.mean()) < abs(x.mean() - ref.mean()) + ref.std() / math.sqrt(N)


def test_risk_lognorm_takes_the_mean_and_sd_of_the_lognormal_itself() -> None:
    x = draw("RiskLognorm(10, 4)", "lhs", n=100_000)
    assert x.mean() == pytest.approx(10, rel=0.005)
    assert x.std() == pytest.approx(4, rel=0.02)
    assert x.min() > 0


@pytest.mark.parametrize(("formula", "ref"), DISCRETE, ids=[f for f, _ in DISCRETE])
def test_discrete_families_match_their_probabilities(formula, ref) -> None:
    x = draw(formula)
    assert np.array_equal(x, np.round(x))
    values, counts = np.unique(x, return_counts=True)
    expected = ref.pmf(values) * N
    assert counts.sum() == N
    keep = expected >= 5
    chi = stats.chisquare(counts[keep], expected[keep] * counts[keep].sum() / expected[keep].sum())
    assert chi.pvalue > 1e-3


def test_risk_discrete_cumul_and_trigen() -> None:
    x = draw("RiskDiscrete({1,5,9}, {0.2,0.5,0.3})")
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [1, 5, 9]
    np.testing.assert_allclose(counts / N, [0.2, 0.5, 0.3], atol=0.015)
    # RiskCumul: a piecewise-linear CDF through (0,0), (2,.3), (5,.8), (10,1)
    x = draw("RiskCumul(0, 10, {2,5}, {0.3,0.8})")
    cdf = lambda v: np.interp(v, [0, 2, 5, 10], [0, 0.3, 0.8, 1])  # noqa: E731
    assert stats.kstest(x, cdf).pvalue > 1e-3
    # RiskTrigen: 2 and 9 are the 10th and 90th percentiles of a triangle with mode 5
    x = draw("RiskTrigen(2, 5, 9, 10, 90)", "lhs")
    np.testing.assert_allclose(np.percentile(x, [10, 90]), [2, 9], atol=0.05)


def test_truncate_shift_and_name_properties() -> None:
    res = montesim.simulate(
        {
            "D!A1": '=RiskNormal(0, 1, RiskTruncate(-0.5, 1), RiskName("Z"))',
            "D!A2": "=RiskExpon(1, RiskShift(10))",
            "D!B1": "=A1+A2",
        },
        outputs=["D!B1"],
        iterations=N,
        seed=9,
    )
    z, shifted = res.inputs["Z"], res.inputs["D!A2"]
    assert z.min() >= -0.5 and z.max() <= 1
    ref = stats.truncnorm(-0.5, 1)
    assert stats.kstest(z, ref.cdf).pvalue > 1e-3
    assert shifted.min() >= 10 and shifted.mean() == pytest.approx(11, abs=0.02)


@pytest.mark.parametrize("source", ["spec", "corrmat"])
def test_rank_correlation_from_the_spec_or_risk_corrmat(source: str) -> None:
    if source == "spec":
        cells = {
            "C!A1": "=RiskNormal(0, 1)",
            "C!A2": "=RiskUniform(0, 10)",
            "C!A3": "=RiskExpon(2)",
        }
        correlation = {
            "inputs": ["C!A1", "C!A2", "C!A3"],
            "matrix": [[1, 0.8, None], [None, 1, -0.3], [0.0, None, 1]],  # one triangle is enough
        }
    else:
        cells = {
            "C!A1": "=RiskNormal(0, 1, RiskCorrmat(M!A1:C3, 1))",
            "C!A2": "=RiskUniform(0, 10, RiskCorrmat(M!A1:C3, 2))",
            "C!A3": "=RiskExpon(2, RiskCorrmat(M!A1:C3, 3))",
            "M!A1": 1,
            "M!A2": 0.8,
            "M!A3": 0,
            "M!B2": 1,
            "M!B3": -0.3,
            "M!C3": 1,
        }
        correlation = None
    cells["C!B1"] = "=A1+A2+A3"
    res = montesim.simulate(cells, outputs=["C!B1"], iterations=N, seed=5, correlation=correlation)
    x = np.vstack([res.inputs[k] for k in ("C!A1", "C!A2", "C!A3")])
    rho = stats.spearmanr(x, axis=1).statistic
    np.testing.assert_allclose(rho[0, 1], 0.8, atol=0.03)
    np.testing.assert_allclose(rho[1, 2], -0.3, atol=0.03)
    np.testing.assert_allclose(rho[0, 2], 0.0, atol=0.03)
    # marginals keep their distributions
    assert stats.kstest(res.inputs["C!A2"], stats.uniform(0, 10).cdf).pvalue > 1e-3


@pytest.mark.parametrize("chunk_size", [4096, 12_288, 65_536])
def test_kept_inputs_are_the_ones_the_program_used(chunk_size: int) -> None:
    """The merge draws the kept window's inputs again instead of receiving them: shifted,
    truncated and rank-correlated inputs, read back through outputs that copy them,
    match bit for bit over several chunks and several of the merge's pieces."""
    cells = {
        "C!A1": "=RiskNormal(0, 1, RiskTruncate(-1, 2))",
        "C!A2": "=RiskExpon(1, RiskShift(10))",
        "C!A3": "=RiskTriang(0, 1, 4)",
        "C!B1": "=A1",
        "C!B2": "=A2",
        "C!B3": "=A3",
    }
    correlation = {"inputs": ["C!A1", "C!A3"], "matrix": [[1, 0.6], [0.6, 1]]}
    n = 70_000
    res = montesim.simulate(
        cells,
        outputs=["C!B1", "C!B2", "C!B3"],
        iterations=n,
        seed=13,
        chunk_size=chunk_size,
        raw_iterations=n - 5,
        correlation=correlation,
    )
    for k in (1, 2, 3):
        kept = res.inputs[f"C!A{k}"]
        assert len(kept) == n - 5
        np.testing.assert_array_equal(kept, res.outputs[f"C!B{k}"][: n - 5])
