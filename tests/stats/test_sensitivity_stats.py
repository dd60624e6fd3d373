"""sensitivity: tornado ranks, variance shares and spider points."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from scipy import stats

from montesim.stats import sensitivity


@pytest.fixture
def model():
    rng = np.random.default_rng(9)
    n = 10_000
    a, b, z = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    return {"z": z, "b": b, "a": a}, 3 * a + b


def test_linear_model_ranks_a_above_b(model):
    inputs, y = model
    out = sensitivity(inputs, y)
    names = [row["input"] for row in out["tornado"]]
    assert names == ["a", "b", "z"]
    for row in out["tornado"]:
        assert row["rho"] == pytest.approx(stats.spearmanr(inputs[row["input"]], y).statistic)
    shares = {row["input"]: row["share"] for row in out["contribution_to_variance"]}
    assert sum(shares.values()) == pytest.approx(1.0)
    # rho^2 shares track the model's variance split 9 : 1 : 0 loosely
    assert shares["a"] > 0.8 and 0.05 < shares["b"] < 0.2 and shares["z"] < 0.01


def test_spider_is_monotone_for_the_driver_and_flat_for_noise(model):
    inputs, y = model
    out = sensitivity(inputs, y, deciles=10)
    spider = {row["input"]: row["points"] for row in out["spider"]}
    a_points = spider["a"]
    assert [p["percentile"] for p in a_points] == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    deltas = np.array([p["delta_mean"] for p in a_points])
    assert np.all(np.diff(deltas) > 0)
    assert np.all(np.diff([p["input_mean"] for p in a_points]) > 0)
    # decile means of the output average back to the overall mean (equal-size bins)
    assert deltas.mean() == pytest.approx(0.0, abs=1e-9)
    z_deltas = np.array([p["delta_mean"] for p in spider["z"]])
    assert np.abs(z_deltas).max() < 0.1 * np.abs(deltas).max()


def test_negative_driver_gives_negative_rho_and_falling_spider():
    x = np.linspace(0, 1, 500)
    out = sensitivity({"x": x}, -(x**3))
    assert out["tornado"][0]["rho"] == pytest.approx(-1.0)
    deltas = [p["delta_mean"] for p in out["spider"][0]["points"]]
    assert all(b < a for a, b in zip(deltas, deltas[1:], strict=False))


def test_constant_input_or_output_gives_none_without_warnings():
    x = np.arange(100.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sensitivity({"k": np.ones(100), "x": x}, 2 * x)
        flat = sensitivity({"x": x}, np.full(100, 7.0))
    assert [r["input"] for r in out["tornado"]] == ["x", "k"]
    assert out["tornado"][1]["rho"] is None
    assert out["contribution_to_variance"][1]["share"] is None
    assert out["contribution_to_variance"][0]["share"] == pytest.approx(1.0)
    assert out["spider"][1]["points"] == []
    assert flat["tornado"][0]["rho"] is None
    assert flat["contribution_to_variance"][0]["share"] is None
    json.dumps(out, allow_nan=False)
    json.dumps(flat, allow_nan=False)


def test_nonfinite_trials_are_left_out():
    x = np.arange(50.0)
    y = x.copy()
    y[3] = np.nan
    out = sensitivity({"x": x}, y)
    assert out["tornado"][0]["rho"] == pytest.approx(1.0)


def test_sensitivities_of_many_outputs_match_scipy_per_output() -> None:
    from montesim.stats.sensitivity import sensitivities

    rng = np.random.default_rng(9)
    x = rng.normal(size=3000)
    x[::50] = np.nan
    inputs = {"a": rng.normal(size=3000), "b": rng.integers(0, 5, 3000).astype(float), "x": x}
    outputs = [
        inputs["a"] * 2 + inputs["b"],
        np.where(inputs["b"] > 2, np.nan, inputs["a"]),
        np.full(3000, 7.0),
    ]
    seen: dict[str, np.ndarray] = {}

    def on_ranked(name: str, values: np.ndarray, order: np.ndarray) -> None:
        seen[name] = values[order]

    found = sensitivities(inputs, outputs, on_ranked=on_ranked)
    for y, result in zip(outputs, found, strict=True):
        rho = {row["input"]: row["rho"] for row in result["tornado"]}
        for name, values in inputs.items():
            keep = np.isfinite(values) & np.isfinite(y)
            if np.ptp(y[keep]) == 0:
                assert rho[name] is None  # a constant output has no rank correlation
                continue
            expected = stats.spearmanr(values[keep], y[keep]).statistic
            assert rho[name] == pytest.approx(expected, abs=1e-12)
    assert list(seen) == ["a", "b", "x"]
    for name, ordered in seen.items():
        np.testing.assert_array_equal(ordered, np.sort(inputs[name]))
