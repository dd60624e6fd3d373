"""Change in output mean (tornado and spider): bin means against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.errors import InputError
from montesim.stats.tornado import change_in_mean, spider

N = 10_000


def grid(seed: int) -> np.ndarray:
    """The midpoints (i + 0.5) / N of N equal strata, in a random order: a uniform input
    whose every decile is known exactly."""
    return np.random.default_rng(seed).permutation((np.arange(N) + 0.5) / N)


def test_a_linear_output_has_the_bins_means_of_its_input() -> None:
    x = grid(1)
    y = 10 * x
    tornado = change_in_mean({"x": x}, y)
    (bar,) = tornado.bars
    # decile j of x holds (i + 0.5)/N for i in [1000 j, 1000 j + 999]: mean (j + 0.5)/10
    assert bar.low == pytest.approx(0.5, abs=1e-12) and bar.high == pytest.approx(9.5, abs=1e-12)
    assert (bar.low_bin, bar.high_bin) == (0, 9)
    assert tornado.baseline == pytest.approx(5.0, abs=1e-12)
    line = spider({"x": x}, y).lines[0]
    np.testing.assert_allclose(line.input_means, (np.arange(10) + 0.5) / 10, atol=1e-12)
    np.testing.assert_allclose(line.output_means, np.arange(10) + 0.5, atol=1e-12)
    assert line.percentiles == tuple(5.0 + 10 * i for i in range(10))


def test_inputs_are_ranked_by_swing_and_cut_to_top() -> None:
    a, b, c = grid(1), grid(2), grid(3)
    y = 10 * a - 4 * b + 1 * c
    full = change_in_mean({"c": c, "b": b, "a": a}, y)
    assert [bar.input for bar in full.bars] == ["a", "b", "c"]
    b_bar = full.bars[1]
    # E[y | b in decile j] = 10/2 - 4 (j + 0.5)/10 + 1/2; the other inputs add noise of
    # about 11 * 0.29 / sqrt(1000) = 0.1 to each bin's mean
    assert b_bar.low_bin == 9 and b_bar.high_bin == 0
    assert b_bar.high == pytest.approx(5.5 - 0.2, abs=0.4)
    assert b_bar.low == pytest.approx(5.5 - 3.8, abs=0.4)
    two = change_in_mean({"c": c, "b": b, "a": a}, y, top=2)
    assert [bar.input for bar in two.bars] == ["a", "b"] and two.omitted == 1
    assert two.bars == full.bars[:2]
    lines = spider({"c": c, "b": b, "a": a}, y, top=2).lines
    assert [line.input for line in lines] == ["a", "b"]
    assert change_in_mean({f"x{i}": grid(i) for i in range(15)}, y).omitted == 5  # default 10


def test_constant_inputs_and_too_few_iterations_are_unranked() -> None:
    x = grid(4)
    y = 3 * x
    out = change_in_mean({"x": x, "k": np.full(N, 2.0)}, y)
    assert [bar.input for bar in out.bars] == ["x"] and out.unranked == ("k",)
    few = change_in_mean({"x": x[:5]}, y[:5])
    assert few.bars == () and few.unranked == ("x",)


def test_non_finite_iterations_are_left_out_for_that_input() -> None:
    x = grid(5)
    y = 10 * x
    x_bad = x.copy()
    x_bad[::7] = np.nan
    y_bad = y.copy()
    y_bad[::11] = np.inf
    out = change_in_mean({"x": x_bad}, y_bad)
    keep = np.isfinite(x_bad) & np.isfinite(y_bad)
    expected = change_in_mean({"x": x[keep]}, y[keep])
    assert out.bars == expected.bars


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"top": 0}, "top"), ({"top": 2.5}, "top"), ({"bins": 1}, "bins"), ({"bins": 1000}, "bins")],
)
def test_bad_options_name_the_option(kw: dict, field: str) -> None:
    with pytest.raises(InputError) as info:
        change_in_mean({"x": grid(1)}, grid(2), **kw)
    assert info.value.location == field and field in info.value.message


def test_misaligned_arrays_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="input 'x' has 5 values"):
        change_in_mean({"x": np.arange(5.0)}, np.arange(6.0))
