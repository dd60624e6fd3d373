"""Standardised regression coefficients and contributions to variance, against a linear
model with known coefficients and against an independent least-squares fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from montesim.errors import InputError
from montesim.stats.regression import regression

N = 40_000


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(12)
    a = rng.normal(0, 2, N)  # sd 2
    b = rng.uniform(0, 1, N)  # sd 1/sqrt(12)
    c = rng.normal(5, 1, N)
    noise = rng.normal(0, 0.5, N)
    y = 3 * a + 10 * b - 0.5 * c + noise
    return {"c": c, "a": a, "b": b}, y


def _lstsq(inputs, y):
    x = np.column_stack(list(inputs.values()) + [np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    return dict(zip(inputs, coef[:-1], strict=False)), 1 - resid.var() / y.var()


def test_coefficients_match_least_squares_and_the_model(model) -> None:
    inputs, y = model
    fit = regression(inputs, y)
    ols, r2 = _lstsq(inputs, y)
    assert fit.r_squared == pytest.approx(r2, rel=1e-9)
    assert fit.iterations == N and fit.dropped == ()
    assert [c.input for c in fit.coefficients] == ["a", "b", "c"]  # |standardised| order
    sd_y = y.std(ddof=1)
    for c in fit.coefficients:
        assert c.per_unit == pytest.approx(ols[c.input], rel=1e-9)
        x_sd = inputs[c.input].std(ddof=1)
        assert c.standardized == pytest.approx(ols[c.input] * x_sd / sd_y, rel=1e-9)
    # the model's own: beta = b * sd_x / sd_y with sd_y^2 = 36 + 100/12 + 0.25 + 0.25
    model_sd = math.sqrt(36 + 100 / 12 + 0.25 + 0.25)
    expected = {"a": 3 * 2 / model_sd, "b": 10 / math.sqrt(12) / model_sd, "c": -0.5 / model_sd}
    for c in fit.coefficients:
        assert c.standardized == pytest.approx(expected[c.input], abs=0.01)


def test_contributions_split_the_explained_variance(model) -> None:
    inputs, y = model
    fit = regression(inputs, y)
    gains = {c.input: c.r_squared_gain for c in fit.contributions}
    assert sum(gains.values()) == pytest.approx(fit.r_squared, rel=1e-12)
    assert sum(c.share for c in fit.contributions) == pytest.approx(1.0, rel=1e-12)
    assert [c.input for c in fit.contributions] == ["a", "b", "c"]
    assert [c.step for c in fit.contributions] == [1, 2, 3]
    # independent inputs: each explains b^2 var(x) / var(y) of the output's variance
    var_y = 36 + 100 / 12 + 0.25 + 0.25
    for name, share in (("a", 36 / var_y), ("b", 100 / 12 / var_y), ("c", 0.25 / var_y)):
        assert gains[name] == pytest.approx(share, abs=0.01)
    # the first input's gain is its squared correlation with the output
    assert gains["a"] == pytest.approx(np.corrcoef(inputs["a"], y)[0, 1] ** 2, rel=1e-9)


def test_collinear_and_constant_inputs_get_no_coefficient(model) -> None:
    inputs, y = model
    more = dict(inputs, d=2 * inputs["a"] - inputs["b"], k=np.full(N, 3.0))
    fit = regression(more, y)
    dropped = {d.input: d.reason for d in fit.dropped}
    assert dropped["k"] == "constant"
    assert len([r for r in dropped.values() if r == "collinear"]) == 1  # a, b or d
    # the fit itself is the same: the kept inputs span the same space
    assert fit.r_squared == pytest.approx(regression(inputs, y).r_squared, rel=1e-9)


def test_top_limits_the_rows(model) -> None:
    inputs, y = model
    fit = regression(inputs, y, top=1)
    assert [c.input for c in fit.coefficients] == ["a"] and fit.omitted == 2
    assert [c.input for c in fit.contributions] == ["a"]
    with pytest.raises(InputError) as info:
        regression(inputs, y, top=0)
    assert info.value.location == "top"


def test_undefined_cases_say_so() -> None:
    x = np.arange(10.0)
    assert regression({"x": x}, np.ones(10)).r_squared is None  # nothing to explain
    tiny = regression({"x": x[:2]}, x[:2])
    assert tiny.r_squared is None and tiny.dropped[0].reason == "too few iterations"
    only_constant = regression({"k": np.ones(10)}, x)
    assert only_constant.r_squared == 0.0 and only_constant.coefficients == ()


def test_non_finite_iterations_are_left_out(model) -> None:
    inputs, y = model
    bad = {k: v.copy() for k, v in inputs.items()}
    bad["a"][::9] = np.nan
    fit = regression(bad, y)
    keep = np.isfinite(bad["a"])
    clean = regression({k: v[keep] for k, v in inputs.items()}, y[keep])
    assert fit.iterations == int(keep.sum())
    assert fit.coefficients == clean.coefficients
