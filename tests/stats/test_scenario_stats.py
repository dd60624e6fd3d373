"""Scenario analysis: the inputs that stand out in the output's top or bottom decile."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.errors import InputError
from montesim.stats.scenario import scenario, scenarios

N = 10_000


def grid(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation((np.arange(N) + 0.5) / N)


def test_the_driver_shifts_by_its_decile_median_and_noise_does_not() -> None:
    x, noise = grid(1), grid(2)
    y = 5 * x
    upper, lower = scenarios({"noise": noise, "x": x}, y)
    # the top decile of y is x's top decile: (i + 0.5)/N for i >= 9000, median 0.95
    sd = np.sqrt(((np.arange(N) + 0.5) / N).var(ddof=1))  # the grid's, about 1/sqrt(12)
    top = upper.inputs[0]
    assert top.input == "x" and upper.iterations == 1000
    assert top.median == pytest.approx(0.95, abs=1e-12)
    assert top.overall_median == pytest.approx(0.5, abs=1e-12)
    assert top.shift == pytest.approx(0.45 / sd, rel=1e-9)
    assert top.percentile == pytest.approx(95.0, abs=1e-9) and top.significant
    assert lower.inputs[0].shift == pytest.approx(-0.45 / sd, rel=1e-9)
    assert lower.inputs[0].median == pytest.approx(0.05, abs=1e-12)
    # an independent input's median in 1,000 iterations: within a few 0.29/sqrt(1000)
    other = upper.inputs[1]
    assert other.input == "noise" and abs(other.shift) < 0.15 and not other.significant
    assert (upper.output_low, upper.output_high) == pytest.approx((4.50025, 4.99975))
    assert (lower.low, lower.high, upper.low, upper.high) == (0.0, 10.0, 90.0, 100.0)


def test_a_custom_range_and_top() -> None:
    a, b, c = grid(1), grid(2), grid(3)
    y = a + 0.5 * b + 0.01 * c
    mid = scenario({"a": a, "b": b, "c": c}, y, low=45, high=55)
    assert mid.iterations == 1000 and all(abs(s.shift) < 0.15 for s in mid.inputs)
    upper = scenario({"a": a, "b": b, "c": c}, y, low=80, high=100, top=2)
    assert [s.input for s in upper.inputs] == ["a", "b"] and upper.omitted == 1


def test_ties_and_constant_inputs() -> None:
    x = grid(4)
    y = np.round(x * 4)  # ties in the output: the window is cut by rank, so exact count
    out = scenario({"x": x, "k": np.zeros(N)}, y, low=90, high=100)
    assert out.iterations == 1000 and out.unranked == ("k",)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"low": 50, "high": 40}, "scenario.low"),
        ({"low": -1, "high": 40}, "scenario.low"),
        ({"low": 10, "high": 140}, "scenario.high"),
        ({"low": 10, "high": 40, "top": 0}, "top"),
    ],
)
def test_bad_ranges_name_the_field(kw: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        scenario({"x": grid(1)}, grid(2), **kw)
    assert info.value.location == field


def test_bad_percent() -> None:
    with pytest.raises(InputError) as info:
        scenarios({"x": grid(1)}, grid(2), percent=60)
    assert info.value.location == "scenario.percent"
