"""Stress analysis from the iterations: the output with one input held to a percentile range."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.errors import InputError
from montesim.stats.stress import stress

N = 10_000


def grid(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation((np.arange(N) + 0.5) / N)


def test_holding_the_driver_low_gives_the_closed_form() -> None:
    x, z = grid(1), grid(2)
    y = 10 * x + 0 * z
    out = stress({"z": z, "x": x}, y, low=0, high=10, percentiles=(5, 50, 95))
    held = out.inputs[0]
    assert held.input == "x"
    # x in its lowest decile: (i + 0.5)/N for i < 1000; y = 10 x there
    values = 10 * (np.arange(1000) + 0.5) / N
    assert held.output.iterations == 1000
    assert held.output.mean == pytest.approx(0.5, abs=1e-12)
    assert held.output.std == pytest.approx(values.std(ddof=1), rel=1e-12)
    assert held.output.percentiles[50] == pytest.approx(0.5, abs=1e-12)
    assert held.output.percentiles[5] == pytest.approx(np.percentile(values, 5), abs=1e-12)
    assert (held.input_low, held.input_high) == pytest.approx((0.5 / N, 999.5 / N))
    assert out.baseline.mean == pytest.approx(5.0, abs=1e-12)
    assert held.change == pytest.approx(-4.5, abs=1e-12)
    # an input the output does not depend on leaves it as it was, give or take sampling
    assert abs(out.inputs[1].change) < 0.3


def test_only_some_inputs_and_top() -> None:
    a, b, c = grid(1), grid(2), grid(3)
    y = a - 3 * b + 0.1 * c
    out = stress({"a": a, "b": b, "c": c}, y, low=90, high=100, top=2)
    assert [s.input for s in out.inputs] == ["b", "a"] and out.omitted == 1
    only = stress({"a": a, "b": b, "c": c}, y, low=90, high=100, only=["c"])
    assert [s.input for s in only.inputs] == ["c"]


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"low": 20, "high": 10}, "stress.low"),
        ({"low": 0, "high": 101}, "stress.high"),
        ({"low": 0, "high": 10, "only": ["nope"]}, "stress.inputs"),
        ({"low": 0, "high": 10, "percentiles": [150]}, "stress.percentiles"),
        ({"low": 0, "high": 10, "top": -1}, "top"),
    ],
)
def test_bad_options_name_the_field(kw: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        stress({"x": grid(1)}, grid(2), **kw)
    assert info.value.location == field


def test_narrow_windows_and_inputs_without_values() -> None:
    x = np.arange(10.0)
    out = stress({"x": x}, x, low=50, high=50.5)  # one iteration: no standard deviation
    assert out.inputs[0].output.iterations == 1 and out.inputs[0].output.std is None
    assert out.inputs[0].output.mean == 5.0
    with pytest.raises(InputError) as info:
        stress({"x": np.full(10, np.nan)}, x, low=0, high=10)
    assert info.value.location == "stress.low" and "x" in info.value.message
    with pytest.raises(InputError) as info:
        stress({"x": x}, np.full(10, np.inf), low=0, high=10)
    assert info.value.location == "stress"
