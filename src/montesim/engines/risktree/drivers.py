"""Tail drivers: each leaf's share of a node's TVaR by Euler allocation (co-TVaR).

A node's TVaR at level q is the mean of its loss over its worst ``k = (1 − q)·n``
trials; a leaf's contribution is the mean of the leaf's loss over those same trials, so
the contributions of the leaves under a node add up to the node's TVaR.

The worst trials are not known until every chunk is in, so a chunk keeps, per node and
per leaf under it, the sum of the leaf's losses in each bucket of the node's loss
histogram (the buckets of :mod:`montesim.stats.lec`), for the buckets that can still be
in the tail: those at or above the chunk's own ``K``-th largest node loss, ``K`` one more
than the whole run's tail. The run's ``K``-th largest loss is never below a chunk's, so
every bucket of the run's tail is complete once the chunks are merged. The merge takes
the buckets above the tail's edge whole and the edge bucket pro rata (the histogram's
own assumption, losses evenly spread within a bucket 0.78 % wide).

Sums are kept exactly, as integers, so that they do not depend on how trials were cut
into chunks: a leaf loss ``x`` in a bucket whose upper edge is at most ``2**e`` is held
as ``x / 2**(e − 32)`` rounded half up (below 2**32: ``x`` never exceeds the node's loss), a
rounding of at most 2**-33 of the bucket's loss. Integer sums of them are exact and
cannot overflow (10^7 trials × 2**32 < 2**63).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from montesim.engines.base import EngineError
from montesim.engines.risktree.tree import RiskTree
from montesim.stats.lec import LossHistogram, bucket_edges, bucket_keys

TAIL_LEVELS: tuple[tuple[str, float], ...] = (("tvar95", 0.95), ("tvar99", 0.99))
FRACTION_BITS = 32
# bincount adds float64 weights: exact while every sum stays below 2**53, i.e. for chunks
# of up to 2**21 trials; longer chunks split the integers in halves it adds exactly
_EXACT_TRIALS = 2 ** (53 - FRACTION_BITS)
_HALF = 16


@dataclass
class TailSums:
    """Per node: the buckets kept (sorted keys) and each leaf-part's integer sum in them."""

    keys: list[np.ndarray]  # int32 per node
    sums: list[np.ndarray]  # int64 per node, shape (leaves under the node, len(keys))


def leaves_under(tree: RiskTree) -> list[tuple[int, ...]]:
    """Per node (tree order): positions in ``tree.leaves`` of the leaves under it."""
    under: list[list[int]] = [[] for _ in tree.nodes]
    for k, lp in enumerate(tree.leaves):
        under[lp.node].append(k)
        for up in lp.ancestors:
            under[up].append(k)
    return [tuple(u) for u in under]


def quantum(keys: np.ndarray) -> np.ndarray:
    """The integer unit of each bucket: 2**-FRACTION_BITS of the power of two above it."""
    _, hi = bucket_edges(keys)
    return np.ldexp(1.0, np.frexp(hi)[1] - FRACTION_BITS)


def tail_size(trials: int) -> int:
    """Trials a chunk must keep per node: one more than the widest tail of the run."""
    widest = max(1.0 - q for _, q in TAIL_LEVELS)
    return math.ceil(widest * trials) + 1


def _candidates(values: np.ndarray, keep: int) -> int:
    """The smallest bucket key that can hold one of the run's tail trials."""
    positive = values[values > 0]
    if positive.size <= keep:
        return -1  # every positive loss may be in the tail
    kth = np.partition(positive, positive.size - keep)[positive.size - keep]
    return int(bucket_keys(np.array([kth]))[0])


def _exact_sums(index: np.ndarray, units: np.ndarray, size: int) -> np.ndarray:
    """Integer sums of ``units`` by ``index``, exactly (every float sum below 2**53)."""
    if units.size <= _EXACT_TRIALS:
        return np.bincount(index, weights=units, minlength=size).astype(np.int64)
    hi = np.bincount(index, weights=units >> _HALF, minlength=size)
    lo = np.bincount(index, weights=units & ((1 << _HALF) - 1), minlength=size)
    return (hi.astype(np.int64) << _HALF) + lo.astype(np.int64)


def chunk_sums(
    tree: RiskTree,
    node_values: Sequence[np.ndarray | None],  # dense losses per portfolio; None for leaves
    leaf_trials: Sequence[np.ndarray],
    leaf_losses: Sequence[np.ndarray],
    run_trials: int,
) -> TailSums:
    """One chunk's tail sums for every portfolio (a leaf's tail is all its own)."""
    keep = tail_size(run_trials)
    under = leaves_under(tree)
    all_keys, all_sums = [], []
    for i, parts in enumerate(under):
        values = node_values[i]
        if values is None:  # a leaf is all of its own tail: nothing to share out
            all_keys.append(np.empty(0, np.int32))
            all_sums.append(np.zeros((1, 0), np.int64))
            continue
        floor = _candidates(values, keep)
        node_keys = bucket_keys(values)
        in_tail = (values > 0) & (node_keys >= floor)
        if not in_tail.any():
            all_keys.append(np.empty(0, np.int32))
            all_sums.append(np.zeros((len(parts), 0), np.int64))
            continue
        # Buckets are consecutive integers: index them by offset, not by search.
        base = int(node_keys[in_tail].min())
        width = int(node_keys[in_tail].max()) - base + 1
        present = np.flatnonzero(np.bincount(node_keys[in_tail] - base, minlength=width))
        per_unit = 1.0 / quantum(np.arange(base, base + width, dtype=np.int32))  # exact: 2**j
        sums = np.zeros((len(parts), width), np.int64)
        for row, k in enumerate(parts):
            keys = node_keys[leaf_trials[k]]
            x = leaf_losses[k]
            if floor >= 0:  # else every trial with a loss may be in the tail
                mask = keys >= floor
                keys, x = keys[mask], x[mask]
            idx = keys - base
            # x / quantum rounded half up (x ≥ 0): the same integer in any chunking
            units = np.floor(x * per_unit[idx] + 0.5)
            if units.size > _EXACT_TRIALS:
                units = units.astype(np.int64)
            sums[row] = _exact_sums(idx, units, width)
        kept = present + base
        sums = sums[:, present]
        all_keys.append(kept.astype(np.int32))
        all_sums.append(sums)
    return TailSums(all_keys, all_sums)


def merge(parts: Sequence[TailSums]) -> TailSums:
    """Chunks' tail sums added bucket by bucket (integers: the order does not matter)."""
    keys_out, sums_out = [], []
    for i in range(len(parts[0].keys)):
        keys = np.unique(np.concatenate([p.keys[i] for p in parts]))
        total = np.zeros((parts[0].sums[i].shape[0], keys.size), np.int64)
        for p in parts:
            total[:, np.searchsorted(keys, p.keys[i])] += p.sums[i]
        keys_out.append(keys)
        sums_out.append(total)
    return TailSums(keys_out, sums_out)


def allocate(keys: np.ndarray, sums: np.ndarray, hist: LossHistogram, q: float) -> list[float]:
    """Each part's co-TVaR at level ``q``: its mean over the node's worst (1 − q)·n trials."""
    k = (1.0 - q) * hist.n
    if hist.n == 0 or hist.keys.size == 0:
        return [0.0] * sums.shape[0]
    counts = hist.counts[::-1].astype(np.float64)  # from the top bucket down
    above = np.cumsum(counts) - counts
    take = np.clip(k - above, 0.0, counts)
    share = take / counts  # 1 for whole buckets, the edge's fraction, then 0
    used = share > 0
    top_keys = hist.keys[::-1][used]
    pos = np.searchsorted(keys, top_keys)
    if np.any(pos >= keys.size) or np.any(keys[np.minimum(pos, keys.size - 1)] != top_keys):
        raise EngineError("a tail bucket was not kept by every chunk (a bug: please report it)")
    weight = share[used] * quantum(top_keys)
    return [math.fsum(row[pos] * weight) / k for row in sums.astype(np.float64)]


def contributions(
    tree: RiskTree, tails: TailSums, hists: Sequence[LossHistogram]
) -> list[dict[str, dict[str, float]]]:
    """Per node: ``{"tvar95": {leaf: value}, "tvar99": ...}``, largest first."""
    under = leaves_under(tree)
    out = []
    for i, parts in enumerate(under):
        by_level = {}
        for label, q in TAIL_LEVELS:
            if tree.nodes[i].kind == "leaf":
                by_level[label] = {tree.nodes[i].name: hists[i].tvar(q)}
                continue
            values = allocate(tails.keys[i], tails.sums[i], hists[i], q)
            names = [tree.nodes[tree.leaves[k].node].name for k in parts]
            ranked = sorted(zip(names, values, strict=True), key=lambda nv: -nv[1])
            by_level[label] = dict(ranked)
        out.append(by_level)
    return out


def by_child(tree: RiskTree, node: int, leaf_shares: dict[str, float]) -> dict[str, float]:
    """A portfolio's contributions grouped by its children (sums of their leaves')."""
    child_of: dict[str, str] = {}
    for lp in tree.leaves:
        path = [lp.node, *lp.ancestors]
        if node in path[1:]:
            child_of[tree.nodes[lp.node].name] = tree.nodes[path[path.index(node) - 1]].name
    groups: dict[str, list[float]] = {}
    for name, value in leaf_shares.items():
        groups.setdefault(child_of[name], []).append(value)
    ranked = sorted(((c, math.fsum(v)) for c, v in groups.items()), key=lambda cv: -cv[1])
    return dict(ranked)
