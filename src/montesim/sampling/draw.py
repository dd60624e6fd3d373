"""Input samples for a range of trials, identical whatever the chunking.

Trials are drawn block by block (``seeding.BLOCK`` trials each). Within block ``b``
input ``j`` gets its uniforms from ``rng_for(seed, stream_ids[j], b)``; rank correlation
reorders them with ``rng_for(seed, CORR_STREAM, b)``; then each column goes through its
distribution's inverse CDF. A chunk that starts or ends mid-block computes the whole
block and keeps its rows, so the draws never depend on chunk boundaries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from montesim.sampling import families
from montesim.sampling.correlation import iman_conover
from montesim.sampling.distributions import Distribution
from montesim.sampling.lhs import U_MIN, stratify_into, unknown_method
from montesim.sampling.seeding import BLOCK, blocks, rng_for

CORR_STREAM = 0xC0221

# Families whose standard ppf is element-wise in the probabilities and the shapes, so that
# many inputs of one family go through one call on a (inputs, trials) array: the
# closed-form ones of sampling.families, and these SciPy ``_ppf`` (by their class)
STACKABLE = frozenset(
    [families.norm_ppf, families.lognorm_ppf, families.uniform_ppf, families.triang_ppf]
    + [families.beta_ppf, families.expon_ppf, "gamma_gen", "weibull_min_gen"]
)


# inputs whose inverse CDFs run together: four rows of a block are 128 KiB
_ROWS = 4


def _family(ppf: Any) -> Any:
    """What makes two inputs' standard ppfs the same function: the function, or for a
    SciPy ``_ppf`` method the distribution's class (SciPy keeps one instance per family)."""
    owner = getattr(ppf, "__self__", None)
    return ppf if owner is None else type(owner).__name__


class _Stack:
    """Inputs of one family computed together: parameters as (inputs, 1) columns."""

    def __init__(self, ppf: Any, columns: list[int], params: list[tuple[Any, ...]]) -> None:
        self.standard_ppf = ppf
        self.columns = np.array(columns)
        # adjacent inputs (the usual case) are a slice: their rows of the uniforms and of
        # the output are then views, not copies
        first, last = columns[0], columns[-1]
        contiguous = columns == list(range(first, last + 1))
        self.rows: slice | np.ndarray = slice(first, last + 1) if contiguous else self.columns
        self.shapes = [
            np.array([p[0][i] for p in params], float)[:, None] for i in range(len(params[0][0]))
        ]
        self.scale = np.array([p[2] for p in params], float)[:, None]
        self.loc = np.array([p[1] for p in params], float)[:, None]

    def ppf_into(self, u: np.ndarray, out: np.ndarray) -> bool:
        """Write the samples for uniforms ``u`` (inputs, trials) into ``out`` (same shape);
        False, writing nothing, when a probability lies outside (0, 1)."""
        if not (u.min() > 0.0 and u.max() < 1.0):
            return False
        # a few inputs at a time, so that the ppf's temporaries stay in cache (twice as
        # fast for triang on 50 inputs); element-wise, so the same numbers: each input
        # is still its whole row, at the same alignment
        for i in range(0, len(u), _ROWS):
            rows = slice(i, i + _ROWS)
            ui = u[rows]
            shapes = (np.broadcast_to(a[rows], ui.shape) for a in self.shapes)
            # standard * scale + loc, in place: the same two roundings as the expression
            standard = np.multiply(self.standard_ppf(ui, *shapes), self.scale[rows], out=out[rows])
            np.add(standard, self.loc[rows], out=standard)
        return True


def _stacks(dists: list[Distribution]) -> tuple[list[_Stack], list[int]]:
    """Group inputs into stacks (two or more of a family) and the rest, one by one."""
    groups: dict[Any, list[tuple[int, Any]]] = {}
    alone = []
    for j, d in enumerate(dists):
        direct = d.direct_ppf()
        family = None if direct is None else _family(direct[0])
        if family in STACKABLE:
            groups.setdefault(family, []).append((j, direct))
        else:
            alone.append(j)
    stacks = []
    for members in groups.values():
        if len(members) == 1:
            alone.append(members[0][0])
            continue
        stacks.append(
            _Stack(members[0][1][0], [j for j, _ in members], [m[1:] for _, m in members])
        )
    return stacks, sorted(alone)


# rng.permutation(n) is arange(n) shuffled by Generator.shuffle, which swaps whole 8-byte
# items with the same bounded draws whatever their dtype: shuffling this float arange gives
# the same order (tests/sampling/test_sampler_bits.py), with no int-to-float pass after
_STRATA = np.arange(BLOCK, dtype=np.float64)


def _fill_uniforms(
    seed: int, stream_ids: list[int], block: int, method: str, u: np.ndarray, strata: np.ndarray
) -> None:
    """Write the (k, BLOCK) uniforms of one block, before correlation, into ``u``
    (``strata`` is scratch of the same shape)."""
    if method == "lhs":
        # the same draws, in the same order, as ``latin_hypercube`` per input; the
        # arithmetic that turns them into strata then runs once for all inputs
        for j, sid in enumerate(stream_ids):
            rng = rng_for(seed, sid, block)
            row = strata[j]
            row[...] = _STRATA
            rng.shuffle(row)
            rng.random(out=u[j])
        stratify_into(strata, u, BLOCK)
    elif method == "mc":
        # open_uniforms per input, with its 0 -> U_MIN fix once for the block
        for j, sid in enumerate(stream_ids):
            rng_for(seed, sid, block).random(out=u[j])
        if u.size and not u.min() > 0.0:
            u[u == 0.0] = U_MIN
    else:
        raise unknown_method(method)


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
    _fill_uniforms(seed, stream_ids, block, method, u, np.empty_like(u))
    return _correlated(seed, block, u, corr)


def _correlated(seed: int, block: int, u: np.ndarray, corr: np.ndarray | None) -> np.ndarray:
    """(BLOCK, k) uniforms from (k, BLOCK) ``u``, rank-correlated when ``corr`` is given."""
    if corr is not None and len(u) > 1:
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
    stacks, alone = _stacks(dists)
    # buffers reused by every block
    u_block, strata = np.empty((k, BLOCK)), np.empty((k, BLOCK))
    scratch = np.empty((max((len(s.columns) for s in stacks), default=0), BLOCK))
    row = 0
    for b, offset, n in blocks(start, size):
        _fill_uniforms(seed, stream_ids, b, method, u_block, strata)
        u = _correlated(seed, b, u_block, corr).T  # (k, BLOCK)
        # the inverse CDF runs on the whole block: a vectorized kernel then always sees
        # the same array, so results cannot drift with where a chunk cuts the block
        for stack in stacks:
            if n == BLOCK and isinstance(stack.rows, slice):  # straight into the output
                done = stack.ppf_into(u[stack.rows], out[stack.rows, row : row + n])
            else:
                x = scratch[: len(stack.columns)]
                done = stack.ppf_into(u[stack.rows], x)
                if done:
                    out[stack.rows, row : row + n] = x[:, offset : offset + n]
            if not done:  # a probability at 0 or 1: SciPy's own path, input by input
                for j in stack.columns:
                    out[j, row : row + n] = dists[j].ppf(u[j])[offset : offset + n]
        for j in alone:
            out[j, row : row + n] = dists[j].ppf(u[j])[offset : offset + n]
        row += n
    return out.T
