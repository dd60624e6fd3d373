"""summarize and correlation_matrix against NumPy/SciPy, and their edge cases."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

from montesim.stats import PERCENTILES, correlation_matrix, summarize
from montesim.stats.summary import MAX_BINS


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(123).gamma(2.0, 3.0, size=5000)


def test_summary_matches_numpy_and_scipy(data):
    s = summarize(data)
    assert s["n"] == len(data)
    assert s["mean"] == pytest.approx(np.mean(data))
    assert s["std"] == pytest.approx(np.std(data, ddof=1))
    assert s["min"] == data.min() and s["max"] == data.max()
    assert s["skewness"] == pytest.approx(stats.skew(data, bias=False))
    assert s["kurtosis"] == pytest.approx(stats.kurtosis(data, fisher=True, bias=False))
    for p in PERCENTILES:
        assert s["percentiles"][f"p{p}"] == pytest.approx(np.percentile(data, p))
    lo, hi = stats.t.interval(0.95, len(data) - 1, loc=np.mean(data), scale=stats.sem(data))
    assert s["ci95_mean"] == pytest.approx([lo, hi])


def test_histogram_uses_freedman_diaconis(data):
    h = summarize(data)["histogram"]
    assert len(h["edges"]) == len(np.histogram_bin_edges(data, bins="fd"))
    assert sum(h["counts"]) == len(data)
    assert h["edges"][0] == data.min() and h["edges"][-1] == data.max()
    counts, _ = np.histogram(data, bins=h["edges"])
    assert h["counts"] == counts.tolist()


def test_histogram_falls_back_to_sturges_when_iqr_is_zero():
    x = np.concatenate([np.zeros(100), [1.0, 2.0]])
    h = summarize(x)["histogram"]
    assert len(h["counts"]) == math.ceil(math.log2(len(x))) + 1
    assert sum(h["counts"]) == len(x)


def test_histogram_bins_are_capped_for_heavy_tails():
    x = np.random.default_rng(1).standard_cauchy(20_000)
    h = summarize(x)["histogram"]
    assert len(h["counts"]) == MAX_BINS


def test_ecdf_is_101_monotone_points_from_min_to_max(data):
    s = summarize(data)
    e = s["ecdf"]
    assert len(e) == 101
    xs, ps = [pt["x"] for pt in e], [pt["p"] for pt in e]
    assert ps[0] == 0 and ps[-1] == 1
    assert all(b >= a for a, b in zip(xs, xs[1:], strict=False))
    assert xs[0] == s["min"] and xs[-1] == s["max"]
    assert xs[50] == pytest.approx(s["percentiles"]["p50"])
    # p is the share of the data at or below x (up to one observation's worth)
    for pt in e[1:-1:10]:
        assert np.mean(data <= pt["x"]) == pytest.approx(pt["p"], abs=1 / len(data) + 1e-12)


@pytest.mark.parametrize("values", [[], [3.5], [2.0, 2.0, 2.0, 2.0], [1.0, 2.0], [0.1] * 7])
def test_edge_cases_are_json_without_nan_or_warnings(values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = summarize(np.array(values, dtype=float))
    text = json.dumps(s, allow_nan=False)
    assert json.loads(text)["n"] == len(values)
    if len(values) == 0:
        assert s["mean"] is None and s["histogram"] == {"edges": [], "counts": []}
        assert s["ecdf"] == []
    if len(values) == 1:
        assert s["mean"] == values[0] and s["std"] is None and s["ci95_mean"] is None
    if len(values) > 2 and len(set(values)) == 1:
        assert s["std"] == 0.0 and s["skewness"] is None and s["kurtosis"] is None
        assert s["percentiles"]["p50"] == values[0]
        assert sum(s["histogram"]["counts"]) == len(values)


def test_correlation_matrix_matches_numpy_and_scipy():
    rng = np.random.default_rng(5)
    a = rng.normal(size=2000)
    b = a + rng.normal(size=2000)
    c = np.exp(b)
    out = correlation_matrix({"a": a, "b": b, "c": c})
    assert out["names"] == ["a", "b", "c"] and out["n"] == 2000
    np.testing.assert_allclose(out["pearson"], np.corrcoef([a, b, c]))
    np.testing.assert_allclose(
        out["spearman"], stats.spearmanr(np.column_stack([a, b, c])).statistic
    )
    json.dumps(out, allow_nan=False)


def test_correlation_matrix_constant_column_and_nonfinite_rows():
    a = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    b = np.array([2.0, 4.0, 5.0, 9.0, 1.0])
    k = np.ones(5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = correlation_matrix({"a": a, "b": b, "k": k})
    assert out["n"] == 4
    assert out["pearson"][0][1] == pytest.approx(np.corrcoef(a[:4], b[:4])[0, 1])
    assert out["spearman"][0][1] == pytest.approx(1.0)
    assert out["pearson"][2] == [None, None, None]
    assert out["spearman"][0][2] is None
    json.dumps(out, allow_nan=False)


def test_long_arrays_summarized_in_place_match_numpy() -> None:
    from montesim.stats.summary import MOMENT_PIECE

    x = np.random.default_rng(12).lognormal(size=MOMENT_PIECE + 12_345)
    scratch = x.copy()
    out = summarize(scratch, overwrite=True)
    assert not np.array_equal(scratch, x)  # it did work in place (no copy)
    assert [out["percentiles"][f"p{p}"] for p in PERCENTILES] == list(np.percentile(x, PERCENTILES))
    assert out["min"] == x.min() and out["max"] == x.max() and out["mean"] == np.mean(x)
    assert out["std"] == pytest.approx(np.std(x, ddof=1), rel=1e-13)
    assert out["skewness"] == pytest.approx(stats.skew(x, bias=False), rel=1e-9)
    assert out["kurtosis"] == pytest.approx(stats.kurtosis(x, bias=False), rel=1e-9)
    assert out == summarize(x)  # the same numbers whether or not x may be overwritten
    small = x[:1000]
    assert summarize(small)["std"] == np.std(small, ddof=1)  # bit for bit below a piece


@pytest.mark.parametrize(
    "x",
    [
        np.random.default_rng(1).normal(size=10_001),
        np.random.default_rng(2).integers(0, 7, 5000).astype(float),  # ties on bin edges
        np.random.default_rng(3).random(4096) * 1e-300,
        np.full(100, 2.5),
        np.array([1.0, 2.0]),
        np.array([3.0]),
        np.linspace(-1, 1, 1001),  # values on the edges
    ],
    ids=["normal", "ties", "tiny", "constant", "two", "one", "edges"],
)
def test_statistics_from_a_sorted_copy_are_the_same(x: np.ndarray) -> None:
    from montesim.stats.summary import brief, histogram

    ordered = np.sort(x, kind="stable")
    assert brief(x, ordered=ordered) == brief(x)
    assert histogram(x, ordered=ordered) == histogram(x)
    counts, edges = np.histogram(x, bins=len(histogram(x)["counts"]))
    assert histogram(x, ordered=ordered) == {
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
    }
