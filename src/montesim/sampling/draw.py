"""Input samples for a range of trials, identical whatever the chunking.

Trials are drawn block by block (``seeding.BLOCK`` trials each). Within block ``b``
input ``j`` gets its uniforms from ``rng_for(seed, stream_ids[j], b)``; rank correlation
reorders them with ``rng_for(seed, CORR_STREAM, b)``; then each column goes through its
distribution's inverse CDF. A chunk that starts or ends mid-block computes the whole
block and keeps its rows, so the draws never depend on chunk boundaries.
"""

from __future__ import annotations

import numpy as np

from montesim.sampling.correlation import iman_conover
from montesim.sampling.distributions import Distribution
from montesim.sampling.lhs import open_uniforms, stratify, unknown_method
from montesim.sampling.seeding import BLOCK, blocks, rng_for

CORR_STREAM = 0xC0221


def block_uniforms(
    seed: int,
    stream_ids: list[int],
    block: int,
    *,
    method: str = "lhs",
    corr: np.ndarray | None = None,
) -> np.ndarray:
    """The (BLOCK, k) uniforms of one block, rank-correlated when ``corr`` is given.

    Returned as the transpose of a (k, BLOCK) array: each input's uniforms are contiguous.
    """
    k = len(stream_ids)
    u = np.empty((k, BLOCK))
    if method == "lhs":
        # the same draws, in the same order, as ``latin_hypercube`` per input; the
        # arithmetic that turns them into strata then runs once for all inputs
        strata = np.empty((k, BLOCK), dtype=np.int64)
        for j, sid in enumerate(stream_ids):
            rng = rng_for(seed, sid, block)
            strata[j] = rng.permutation(BLOCK)
            rng.random(out=u[j])
        u = stratify(strata, u, BLOCK)
    elif method == "mc":
        for j, sid in enumerate(stream_ids):
            u[j] = open_uniforms(rng_for(seed, sid, block), BLOCK)
    else:
        raise unknown_method(method)
    if corr is not None and k > 1:
        return iman_conover(u.T, corr, rng_for(seed, CORR_STREAM, block))
    return u.T


def sample_inputs(
    seed: int,
    dists: list[Distribution],
    stream_ids: list[int],
    start: int,
    size: int,
    *,
    method: str = "lhs",
    corr: np.ndarray | None = None,
) -> np.ndarray:
    """Samples (size, k) of ``dists`` for trials [start, start + size)."""
    k = len(dists)
    if len(stream_ids) != k:
        raise ValueError(f"{k} distributions but {len(stream_ids)} stream ids")
    if corr is not None and np.shape(corr) != (k, k):
        raise ValueError(f"corr must be {k}x{k}, got {np.shape(corr)}")
    out = np.empty((k, size))  # returned transposed: each input's trials are contiguous
    row = 0
    for b, offset, n in blocks(start, size):
        u = block_uniforms(seed, stream_ids, b, method=method, corr=corr)
        for j, dist in enumerate(dists):
            # the inverse CDF runs on the whole block: a vectorized kernel then always sees
            # the same array, so results cannot drift with where a chunk cuts the block
            out[j, row : row + n] = dist.ppf(u[:, j])[offset : offset + n]
        row += n
    return out.T
