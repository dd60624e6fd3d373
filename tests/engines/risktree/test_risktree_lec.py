"""The loss histogram sketch against exact figures from the raw trials."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.stats.lec import (
    MANTISSA_BITS,
    LossHistogram,
    lec_points,
    return_periods,
    tick_grid,
)

REL = 2.0**-MANTISSA_BITS  # a bucket's width relative to its value


@pytest.fixture(scope="module")
def losses() -> np.ndarray:
    rng = np.random.default_rng(7)
    x = rng.lognormal(10, 1.2, 50_000)
    x[rng.random(x.size) < 0.3] = 0.0  # a point mass at zero, as portfolios have
    return x


def test_quantiles_match_numpy_within_a_bucket(losses: np.ndarray) -> None:
    qs = [0.1, 0.3, 0.5, 0.9, 0.95, 0.99, 0.995, 0.9999]
    got = LossHistogram.from_values(losses).quantiles(qs)
    want = np.quantile(losses, qs)
    assert got[0] == 0.0 and want[0] == 0.0
    np.testing.assert_allclose(got[1:], want[1:], rtol=REL)


def test_moments_and_zero_mass_are_exact(losses: np.ndarray) -> None:
    h = LossHistogram.from_values(losses)
    assert h.n == losses.size
    assert h.zeros == np.count_nonzero(losses == 0)
    assert h.mean == pytest.approx(losses.mean(), rel=1e-12)
    assert h.variance == pytest.approx(losses.var(ddof=1), rel=1e-9)
    assert h.max == losses.max()


def test_exceedance_and_tvar_match_the_trials(losses: np.ndarray) -> None:
    h = LossHistogram.from_values(losses)
    xs = np.quantile(losses[losses > 0], [0.01, 0.5, 0.9, 0.999])
    for x, p in zip(xs, h.exceedance(xs), strict=True):
        exact = np.mean(losses >= x)
        # Moving x by a bucket's width moves P(L ≥ x) by at most this much.
        slack = np.mean((losses >= x * (1 - REL)) & (losses < x * (1 + REL)))
        assert abs(p - exact) <= slack + 1e-12
    assert h.exceedance([0.0])[0] == 1.0
    srt = np.sort(losses)
    for q in (0.95, 0.99):
        tail = srt[int(round(q * srt.size)) :]
        assert h.tvar(q) == pytest.approx(tail.mean(), rel=REL)


def test_merge_of_parts_equals_the_whole(losses: np.ndarray) -> None:
    whole = LossHistogram.from_values(losses)
    parts = [LossHistogram.from_values(p) for p in np.array_split(losses, 7)]
    merged = LossHistogram.merge(parts)
    assert merged.n == whole.n and merged.zeros == whole.zeros
    np.testing.assert_array_equal(merged.keys, whole.keys)
    np.testing.assert_array_equal(merged.counts, whole.counts)
    qs = [0.5, 0.9, 0.99]
    np.testing.assert_array_equal(merged.quantiles(qs), whole.quantiles(qs))
    assert merged.mean == pytest.approx(whole.mean, rel=1e-12)


def test_merge_is_independent_of_grouping(losses: np.ndarray) -> None:
    blocks = np.arange(losses.size) // 1000

    def hist(mask: np.ndarray) -> LossHistogram:
        # Sums per block of trials (blocks with no trials add 0.0 terms, changing nothing).
        x, slot = losses[mask], blocks[mask] - blocks[mask].min()
        sums = np.bincount(slot, weights=x), np.bincount(slot, weights=np.square(x))
        return LossHistogram.from_values(x, None, *sums)

    parts = [hist(blocks == b) for b in range(blocks.max() + 1)]
    one = LossHistogram.merge(parts)
    two = LossHistogram.merge([LossHistogram.merge(parts[:13]), LossHistogram.merge(parts[13:])])
    whole = hist(blocks >= 0)
    for h in (two, whole):
        assert h.mean == one.mean  # bit-identical: block sums are added exactly
        assert h.variance == one.variance
        assert h.tvar(0.99) == one.tvar(0.99)


def test_a_cap_is_a_point_mass_at_the_maximum() -> None:
    x = np.minimum(np.random.default_rng(1).lognormal(10, 1, 20_000), 50_000.0)
    h = LossHistogram.from_values(x)
    share_capped = np.mean(x == 50_000.0)
    assert share_capped > 0.02
    assert h.quantiles([1 - share_capped / 2])[0] == 50_000.0
    assert h.exceedance([50_000.0])[0] == pytest.approx(share_capped)
    assert h.tvar(1 - share_capped / 2) == pytest.approx(50_000.0)


def test_lec_starts_at_p_of_any_loss_and_is_trimmed(losses: np.ndarray) -> None:
    h = LossHistogram.from_values(losses)
    ticks = tick_grid(float(losses.max()) * 2, count=50, scale="log", x_min=100.0)
    lec = lec_points(h, ticks, tail_trim=1e-3)
    assert lec["loss"][0] == 0.0
    assert lec["exceedance"][0] == pytest.approx(np.mean(losses > 0))
    probs = np.array(lec["exceedance"])
    assert np.all(np.diff(probs) <= 0)
    n = len(probs) - 1  # ticks kept after the (0, P(L > 0)) point
    assert probs[-1] >= 1e-3 > h.exceedance(ticks[n : n + 1])[0]
    assert n < len(ticks)


def test_return_periods_are_upper_quantiles(losses: np.ndarray) -> None:
    h = LossHistogram.from_values(losses)
    table = return_periods(h, (10, 100, 10**6))
    assert [row["period"] for row in table] == [10, 100]  # 10^6 needs more trials
    assert table[1]["loss"] == pytest.approx(np.quantile(losses, 0.99), rel=REL)


def test_empty_and_all_zero() -> None:
    h = LossHistogram.from_values(np.zeros(10))
    assert h.p_zero == 1.0 and h.mean == 0.0
    assert list(h.quantiles([0.5, 0.99])) == [0.0, 0.0]
    assert h.tvar(0.99) == 0.0
