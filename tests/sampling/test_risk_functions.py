"""@RISK's distribution functions in a workbook's formulas become inputs of their family.

Without correlation an input's draws depend only on the seed, its stream (its cell) and
the block of trials, so a formula's draws must equal those of the distribution built
directly with the same parameters: any wrong name, order or reading of an argument fails.
"""

from __future__ import annotations

import numpy as np
import pytest

from montesim.engines.base import InputError
from montesim.sampling import make_distribution, sample_inputs, stable_id
from montesim.sampling.families import FAMILY_TABLE
from montesim.simulation import simulate

# one formula per @RISK function, as a workbook holds it, with its parameters
FORMULAS: dict[str, tuple[str, list]] = {
    "RiskBetaGeneral": ("=RiskBetaGeneral(2, 3, 10, 20)", [2, 3, 10, 20]),
    "RiskCauchy": ("=RiskCauchy(1, 2)", [1, 2]),
    "RiskChiSq": ("=RiskChiSq(4)", [4]),
    "RiskCumulD": (
        "=RiskCumulD(0, 10, {1,5,9}, {0.9,0.3,0.1})",
        [0, 10, [1, 5, 9], [0.9, 0.3, 0.1]],
    ),
    "RiskErf": ("=RiskErf(2)", [2]),
    "RiskErlang": ("=RiskErlang(3, 2)", [3, 2]),
    "RiskExtValue": ("=RiskExtValue(1, 2)", [1, 2]),
    "RiskExtValueMin": ("=RiskExtValueMin(1, 2)", [1, 2]),
    "RiskF": ("=RiskF(5, 12)", [5, 12]),
    "RiskFrechet": ("=RiskFrechet(1, 2, 5)", [1, 2, 5]),
    "RiskGeneral": (
        "=RiskGeneral(0, 10, {2,5,7,9}, {1,2,3,1})",
        [0, 10, [2, 5, 7, 9], [1, 2, 3, 1]],
    ),
    "RiskHistogrm": ("=RiskHistogrm(10, 20, {1,2,3,2,1})", [10, 20, [1, 2, 3, 2, 1]]),
    "RiskInvGauss": ("=RiskInvGauss(2, 3)", [2, 3]),
    "RiskJohnsonSB": ("=RiskJohnsonSB(1, 2, 0, 10)", [1, 2, 0, 10]),
    "RiskJohnsonSU": ("=RiskJohnsonSU(1, 2, 0, 3)", [1, 2, 0, 3]),
    "RiskKumaraswamy": ("=RiskKumaraswamy(2, 3, 0, 10)", [2, 3, 0, 10]),
    "RiskLaplace": ("=RiskLaplace(1, 2)", [1, 2]),
    "RiskLevy": ("=RiskLevy(0, 1)", [0, 1]),
    "RiskLogistic": ("=RiskLogistic(1, 2)", [1, 2]),
    "RiskLoglogistic": ("=RiskLoglogistic(0,1,3)", [0, 1, 3]),
    "RiskPareto": ("=RiskPareto(3, 2)", [3, 2]),
    "RiskPareto2": ("=RiskPareto2(2, 5)", [2, 5]),
    "RiskPearson5": ("=RiskPearson5(5, 2)", [5, 2]),
    "RiskPearson6": ("=RiskPearson6(2, 6, 3)", [2, 6, 3]),
    "RiskRayleigh": ("=RiskRayleigh(2)", [2]),
    "RiskStudent": ("=RiskStudent(5)", [5]),
    "RiskBernoulli": ("=RiskBernoulli(0.3)", [0.3]),
    "RiskDUniform": ("=RiskDUniform({1,5,7})", [[1, 5, 7]]),
    "RiskGeomet": ("=RiskGeomet(0.3)", [0.3]),
    "RiskHypergeo": ("=RiskHypergeo(10, 20, 50)", [10, 20, 50]),
    "RiskNegbin": ("=RiskNegbin(3, 0.4)", [3, 0.4]),
}
ITERATIONS = 4096 + 904  # a whole block and part of one
SEED = 5


def test_every_family_has_a_formula_here() -> None:
    new = {r for f in FAMILY_TABLE.values() for r in f.risk} - {
        "RiskNormal", "RiskLognorm", "RiskLognorm2", "RiskUniform", "RiskTriang", "RiskPert",
        "RiskBeta", "RiskGamma", "RiskExpon", "RiskWeibull", "RiskPoisson", "RiskBinomial",
        "RiskDiscrete", "RiskIntUniform", "RiskCumul", "RiskTrigen",
    }  # fmt: skip
    assert new == set(FORMULAS)


@pytest.fixture(scope="module")
def run():
    cells = {f"M!A{i + 1}": formula for i, (formula, _) in enumerate(FORMULAS.values())}
    # a finite output of every input (Cauchy and Lévy draws would swamp a sum)
    terms = "+".join(f"ATAN(A{i + 1})" for i in range(len(FORMULAS)))
    cells["M!B1"] = f'=RiskOutput("Total")+{terms}'
    return simulate(cells, iterations=ITERATIONS, seed=SEED, workers=1)


@pytest.mark.parametrize("risk", list(FORMULAS))
def test_a_formula_draws_exactly_its_distribution(run, risk: str) -> None:
    formula, args = FORMULAS[risk]
    cell = f"M!A{list(FORMULAS).index(risk) + 1}"
    dist = make_distribution(risk, args)
    expected = sample_inputs(SEED, [dist], [stable_id(cell)], 0, ITERATIONS, method="lhs")[:, 0]
    np.testing.assert_array_equal(run.inputs[cell], expected)
    assert np.isfinite(run.outputs["Total"]).all()


def test_properties_apply_to_new_families() -> None:
    cells = {
        "M!A1": '=RiskLoglogistic(0, 1, 3, RiskTruncate(0.5, 2), RiskName("Demand"))',
        "M!A2": "=RiskNegbin(3, 0.4, RiskShift(10))",
        "M!B1": '=RiskOutput("Total") + A1 + A2',
    }
    res = simulate(cells, iterations=4096, seed=1, workers=1)
    demand = res.inputs["Demand"]
    assert demand.min() >= 0.5 and demand.max() <= 2
    shifted = res.inputs["M!A2"]
    assert shifted.min() >= 10 and np.all(shifted == np.round(shifted))


def test_a_bad_parameter_names_the_cell_and_the_parameter() -> None:
    cells = {"M!A1": "=RiskLoglogistic(0, -1, 3)", "M!B1": '=RiskOutput("T") + A1'}
    with pytest.raises(InputError) as info:
        simulate(cells, iterations=100, seed=1, workers=1)
    assert info.value.location == "M!A1"
    assert "beta" in info.value.message and "M!A1" in info.value.message
