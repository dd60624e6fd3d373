"""sample_inputs: Latin hypercube strata, and draws that ignore chunk boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from montesim.engines.base import InputError
from montesim.sampling import (
    BLOCK,
    latin_hypercube,
    make_distribution,
    rng_for,
    sample_inputs,
    stable_id,
)

UNIFORM = make_distribution("uniform", [0, 1])


def _mixed():
    dists = [
        make_distribution("normal", [10, 2]),
        make_distribution("RiskPert", [1, 2, 5]),
        make_distribution("poisson", [4]),
        make_distribution("discrete", [[1, 2, 3], [0.2, 0.3, 0.5]]),
    ]
    return dists, [stable_id(n) for n in ("a", "b", "c", "d")]


def test_each_block_has_one_point_per_stratum_per_input():
    x = sample_inputs(5, [UNIFORM] * 3, [11, 12, 13], 0, 3 * BLOCK)
    for b in range(3):
        block = x[b * BLOCK : (b + 1) * BLOCK]
        for j in range(3):
            strata = np.floor(block[:, j] * BLOCK).astype(int)
            np.testing.assert_array_equal(np.sort(strata), np.arange(BLOCK))


def test_latin_hypercube_strata_for_small_n():
    u = latin_hypercube(rng_for(1, 2), 10)
    np.testing.assert_array_equal(np.sort(np.floor(u * 10)), np.arange(10))
    assert np.all((u > 0) & (u < 1))


def test_mc_is_not_stratified_but_uniform():
    x = sample_inputs(5, [UNIFORM], [11], 0, BLOCK, method="mc")[:, 0]
    strata = np.floor(x * BLOCK).astype(int)
    assert len(np.unique(strata)) < BLOCK  # independent draws collide in some strata
    assert np.all((x > 0) & (x < 1))


@pytest.mark.parametrize("method", ["lhs", "mc"])
@pytest.mark.parametrize("correlated", [False, True])
def test_chunks_concatenate_to_the_whole_run_bit_for_bit(method, correlated):
    dists, ids = _mixed()
    corr = None
    if correlated:
        corr = np.eye(4)
        corr[0, 1] = corr[1, 0] = 0.7
        corr[2, 3] = corr[3, 2] = -0.4
    total = 3 * BLOCK + 123
    whole = sample_inputs(42, dists, ids, 0, total, method=method, corr=corr)
    sizes = [1000, 7000, 1, BLOCK - 1, 2]
    sizes.append(total - sum(sizes))
    pieces, start = [], 0
    for size in sizes:
        pieces.append(sample_inputs(42, dists, ids, start, size, method=method, corr=corr))
        start += size
    assert np.array_equal(np.concatenate(pieces), whole)


def test_a_later_chunk_alone_equals_the_matching_rows():
    dists, ids = _mixed()
    whole = sample_inputs(3, dists, ids, 0, 2 * BLOCK)
    assert np.array_equal(
        sample_inputs(3, dists, ids, BLOCK + 17, 50), whole[BLOCK + 17 : BLOCK + 67]
    )


def test_streams_are_independent_of_the_other_inputs():
    dists, ids = _mixed()
    together = sample_inputs(8, dists, ids, 0, BLOCK)
    alone = sample_inputs(8, [dists[2]], [ids[2]], 0, BLOCK)
    assert np.array_equal(together[:, 2], alone[:, 0])


def test_seed_and_stream_change_the_draws():
    a = sample_inputs(1, [UNIFORM], [1], 0, 100)
    assert not np.array_equal(a, sample_inputs(2, [UNIFORM], [1], 0, 100))
    assert not np.array_equal(a, sample_inputs(1, [UNIFORM], [2], 0, 100))
    assert np.array_equal(a, sample_inputs(1, [UNIFORM], [1], 0, 100))


def test_lhs_mean_is_much_tighter_than_mc():
    dist = make_distribution("normal", [0, 1])
    lhs_err = [abs(sample_inputs(s, [dist], [1], 0, BLOCK).mean()) for s in range(20)]
    mc_err = [abs(sample_inputs(s, [dist], [1], 0, BLOCK, method="mc").mean()) for s in range(20)]
    assert np.mean(lhs_err) * 10 < np.mean(mc_err)


def test_unknown_method_is_an_input_error():
    with pytest.raises(InputError, match="sampling method"):
        sample_inputs(1, [UNIFORM], [1], 0, 10, method="sobol")


def test_empty_and_zero_size():
    assert sample_inputs(1, [], [], 0, 5).shape == (5, 0)
    assert sample_inputs(1, [UNIFORM], [1], 10, 0).shape == (0, 1)
