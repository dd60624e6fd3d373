"""Trials of a risk tree, vectorised, one BLOCK of trials at a time.

Each leaf draws from its own stream ``rng_for(seed, stream_id(leaf), block)``: first one
uniform per trial that decides occurrence (a Bernoulli threshold, or a Poisson count by
inverse CDF), then its event severities. A block's draws never depend on the chunking,
on the number of trials asked for (a block is always drawn whole) or on any other leaf,
except through the Gaussian copula, which mixes the occurrence uniforms of correlated
leaves. Leaf losses are kept sparse (trials with a loss); portfolios are dense sums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from montesim.engines.base import Cancelled
from montesim.engines.risktree.model import Leaf
from montesim.engines.risktree.tree import RiskTree
from montesim.sampling.seeding import BLOCK, blocks, rng_for
from montesim.stats.lec import LossHistogram, block_totals

_TINY = 2.0**-53


@dataclass
class ChunkLosses:
    """Trial losses of every node for trials [start, start + size)."""

    start: int
    size: int
    portfolio: np.ndarray  # (len(tree.portfolios), size), dense
    leaf_trials: list[np.ndarray]  # per leaf: trial offsets (within the chunk) with a loss
    leaf_losses: list[np.ndarray]  # per leaf: the loss in those trials

    def node_values(self, tree: RiskTree, node: int, limit: int | None = None) -> np.ndarray:
        """Dense losses of ``node`` over the chunk's first ``limit`` trials."""
        n = self.size if limit is None else min(limit, self.size)
        if tree.nodes[node].kind == "portfolio":
            return self.portfolio[tree.portfolios.index(node), :n]
        k = next(i for i, lp in enumerate(tree.leaves) if lp.node == node)
        out = np.zeros(n)
        idx = self.leaf_trials[k]
        mask = idx < n
        out[idx[mask]] = self.leaf_losses[k][mask]
        return out


def poisson_table(lam: float) -> np.ndarray:
    """CDF of Poisson(lam) at 0, 1, ... until it is 1 in double precision."""
    top = int(lam + 12.0 * np.sqrt(lam) + 30)
    return stats.poisson.cdf(np.arange(top + 1), lam)


def _occurrence_uniforms(tree: RiskTree, seed: int, block: int) -> tuple[np.ndarray, list]:
    gens = [rng_for(seed, lp.stream, block) for lp in tree.leaves]
    u = np.empty((len(gens), BLOCK))
    for k, g in enumerate(gens):
        g.random(out=u[k])
    if tree.copula is not None:
        pos, chol = tree.copula
        sel = list(pos)
        z = special.ndtri(np.clip(u[sel], _TINY, 1.0 - _TINY))
        u[sel] = special.ndtr(chol @ z)
    return u, gens


def _leaf_block(
    leaf: Leaf, u: np.ndarray, g: np.random.Generator, table: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(trial offsets with a loss, their losses) for one leaf over a whole block."""
    if table is None:
        trials = np.flatnonzero(u < leaf.probability)
        gross = leaf.severity.sample(g, trials.size)
    else:
        counts = np.searchsorted(table, u, side="right")
        events = np.flatnonzero(counts)
        per = counts[events]
        gross_events = _net(leaf, leaf.severity.sample(g, int(per.sum())))
        # Sum each trial's events: boundaries of runs of `per` events.
        ends = np.cumsum(per)
        sums = np.add.reduceat(gross_events, ends - per) if events.size else gross_events
        return _positive(events, sums)
    return _positive(trials, _net(leaf, gross))


def _net(leaf: Leaf, gross: np.ndarray) -> np.ndarray:
    """Each event's loss after the deductible, limited to the cap."""
    if leaf.deductible:
        gross = np.maximum(gross - leaf.deductible, 0.0)
    if leaf.cap is not None:
        gross = np.minimum(gross, leaf.cap)
    return gross


def _positive(trials: np.ndarray, losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop events whose loss is 0 (a deductible, or a family reaching 0)."""
    if losses.size == 0 or losses.min() > 0:
        return trials, losses
    keep = losses > 0
    return trials[keep], losses[keep]


def simulate_chunk(
    tree: RiskTree,
    seed: int,
    start: int,
    size: int,
    tables: list[np.ndarray | None],
    cancelled: Callable[[], bool] = lambda: False,
    report: Callable[[int], None] = lambda done: None,
) -> ChunkLosses:
    """Losses of every node for trials [start, start + size); ``start`` on a block edge."""
    portfolio_row = {node: r for r, node in enumerate(tree.portfolios)}
    dense = np.zeros((len(tree.portfolios), size))
    leaf_trials: list[list[np.ndarray]] = [[] for _ in tree.leaves]
    leaf_losses: list[list[np.ndarray]] = [[] for _ in tree.leaves]
    parent_row = [portfolio_row[lp.ancestors[0]] for lp in tree.leaves]
    for block, offset, length in blocks(start, size):
        if cancelled():
            raise Cancelled
        base = block * BLOCK + offset - start  # where this block's trials sit in the chunk
        u, gens = _occurrence_uniforms(tree, seed, block)
        for k, lp in enumerate(tree.leaves):
            trials, losses = _leaf_block(lp.leaf, u[k], gens[k], tables[k])
            if offset or length < BLOCK:
                inside = (trials >= offset) & (trials < offset + length)
                trials, losses = trials[inside] - offset, losses[inside]
            trials = trials + base
            leaf_trials[k].append(trials)
            leaf_losses[k].append(losses)
            dense[parent_row[k], trials] += losses
        report(base + length)
    # Roll portfolios up into their parents, deepest first (tree order is depth-first).
    for node in reversed(tree.portfolios):
        up = tree.nodes[node].parent
        if up is not None:
            dense[portfolio_row[up]] += dense[portfolio_row[node]]
    return ChunkLosses(
        start,
        size,
        dense,
        [np.concatenate(t) if t else np.empty(0, np.int64) for t in leaf_trials],
        [np.concatenate(v) if v else np.empty(0) for v in leaf_losses],
    )


def histograms(tree: RiskTree, losses: ChunkLosses) -> list[LossHistogram]:
    """One LossHistogram per node (tree order) for the chunk, with sums kept per block."""
    out: list[LossHistogram] = []
    leaf_of = {lp.node: k for k, lp in enumerate(tree.leaves)}
    row_of = {node: r for r, node in enumerate(tree.portfolios)}
    # Chunks start on a block edge, so blocks start every BLOCK trials into the chunk.
    starts = np.arange(0, losses.size, BLOCK)
    for i, node in enumerate(tree.nodes):
        if node.kind == "portfolio":
            row = losses.portfolio[row_of[i]]
            sums = np.add.reduceat(row, starts)
            sq = np.add.reduceat(np.square(row), starts)
            hist = LossHistogram.from_values(row, block_sums=sums, block_sq=sq)
        else:
            k = leaf_of[i]
            values = losses.leaf_losses[k]
            sums, sq = block_totals(values, losses.leaf_trials[k] // BLOCK)
            hist = LossHistogram.from_values(values, losses.size, sums, sq)
        out.append(hist)
    return out
