"""Trials of a risk tree, vectorised, one stream block of trials at a time.

Trials are grouped in blocks of ``STREAM_BLOCK``, larger than the shared
``seeding.BLOCK`` because building a generator costs tens of microseconds and a tree
builds two per leaf and block. In block ``b`` a leaf reads two streams from their start:
``rng_for(seed, stream_id(leaf), b, OCCURRENCE)`` gives one uniform per trial (a
Bernoulli threshold, or a Poisson count by inverse CDF) and ``rng_for(..., SEVERITY)``
the losses of the block's events in trial order. So a trial's draws depend only on its
place in its block: a chunk ending inside a block draws just the trials it covers, and
neither the chunking, nor the number of trials, nor any other leaf changes them, except
through the Gaussian copula, which mixes the occurrence uniforms of correlated leaves.
Leaf losses are kept sparse (trials with a loss); portfolios are dense sums.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from montesim.engines.base import Cancelled, EngineError
from montesim.engines.risktree.counts import PoissonCounts
from montesim.engines.risktree.model import Leaf
from montesim.engines.risktree.tree import RiskTree
from montesim.sampling.seeding import rng_for
from montesim.stats.lec import LossHistogram

STREAM_BLOCK = 1 << 16  # trials per generator; chunks are whole multiples of it
OCCURRENCE, SEVERITY, THINNING = 0, 1, 2  # the last part of a leaf's stream key in a block
_TINY = 2.0**-53


@dataclass
class ChunkLosses:
    """Trial losses of every node for trials [start, start + size)."""

    start: int
    size: int
    portfolio: np.ndarray  # (len(tree.portfolios), size), dense
    leaf_trials: list[np.ndarray]  # per leaf: trial offsets (within the chunk) with a loss
    leaf_losses: list[np.ndarray]  # per leaf: the loss in those trials
    leaf_sums: np.ndarray  # (leaves, blocks): each leaf's sum of losses per stream block
    leaf_sq: np.ndarray  # (leaves, blocks): and of their squares
    # With controls, the above are residual (controls in place); these are without them:
    inherent: ChunkLosses | None = None
    # per control (tree order): its leaf and that leaf's losses with every control but it
    without_control: list[tuple[int, np.ndarray, np.ndarray]] | None = None

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


def round_chunk_size(size: int) -> int:
    """Chunk sizes are whole stream blocks so a chunk never splits a block between workers."""
    return max(STREAM_BLOCK, -(-int(size) // STREAM_BLOCK) * STREAM_BLOCK)


def _correlated_uniforms(tree: RiskTree, seed: int, block: int) -> dict[int, np.ndarray]:
    """Occurrence uniforms of the copula's leaves (by leaf position), for the whole block.

    Drawn whole whatever the chunk needs, so the matrix product always has one shape and
    a trial's value never depends on how many trials the run has.
    """
    if tree.copula is None:
        return {}
    pos, chol = tree.copula
    u = np.stack(
        [rng_for(seed, tree.leaves[k].stream, block, OCCURRENCE).random(STREAM_BLOCK) for k in pos]
    )
    z = special.ndtri(np.clip(u, _TINY, 1.0 - _TINY))
    return dict(zip(pos, special.ndtr(chol @ z), strict=True))


def _leaf_block(
    leaf: Leaf, u: np.ndarray, g: np.random.Generator, counts: PoissonCounts | None
) -> tuple[np.ndarray, np.ndarray]:
    """(trial offsets with a loss, their losses) for one leaf, given its uniforms ``u``."""
    if counts is None:
        trials = np.flatnonzero(u < leaf.probability)
        return _positive(trials, _net(leaf, leaf.severity.sample(g, trials.size)))
    per_trial = counts(u)
    trials = np.flatnonzero(per_trial)
    per = per_trial[trials]
    events = _net(leaf, leaf.severity.sample(g, int(per.sum())))
    # Sum each trial's events: they are runs of `per` consecutive draws.
    sums = np.add.reduceat(events, np.cumsum(per) - per) if trials.size else events
    return _positive(trials, sums)


@dataclass
class _Events:
    """A controlled leaf's events before controls: trial, gross loss, thinning uniform."""

    trials: np.ndarray  # sorted, one entry per event
    gross: np.ndarray
    thin: np.ndarray  # an event survives probability factor f when thin < f

    def losses(self, leaf: Leaf, factor: float, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """(trials with a loss, their losses) with probability ``factor``, severity ``scale``."""
        keep = self.thin < factor if factor < 1.0 else slice(None)
        trials = self.trials[keep]
        gross = self.gross[keep] * scale if scale != 1.0 else self.gross[keep]
        events = _net(leaf, gross)
        if trials.size == 0:
            return trials, events
        first = np.flatnonzero(np.r_[True, trials[1:] != trials[:-1]])
        return _positive(trials[first], np.add.reduceat(events, first))


def _events(
    leaf: Leaf, u: np.ndarray, g: np.random.Generator, counts: PoissonCounts | None, thin_g
) -> _Events:
    """The same draws as :func:`_leaf_block`, kept per event so controls can thin them.

    A Bernoulli leaf's event happens when u < p; with a factor f when u < p·f, so u/p is
    the event's own uniform (controls keep a subset of the same events, with the same
    losses). A Poisson leaf's events are thinned by a uniform each from the leaf's own
    thinning stream, drawn only for leaves with a probability factor.
    """
    if counts is None:
        trials = np.flatnonzero(u < leaf.probability)
        gross = leaf.severity.sample(g, trials.size)
        return _Events(trials, gross, u[trials] / leaf.probability)
    per_trial = counts(u)
    trials = np.flatnonzero(per_trial)
    per = per_trial[trials]
    gross = leaf.severity.sample(g, int(per.sum()))
    thin = thin_g().random(gross.size) if gross.size else np.empty(0)
    return _Events(np.repeat(trials, per), gross, thin)


def _factors(leaf: Leaf, skip: int | None = None) -> tuple[float, float]:
    """The leaf's probability and severity factors, every control but ``skip`` applied."""
    f = s = 1.0
    for j, control in enumerate(leaf.controls):
        if j != skip:
            f *= control.probability_factor
            s *= control.severity_factor
    return f, s


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
    counts: Sequence[PoissonCounts | None],
    cancelled: Callable[[], bool] = lambda: False,
    report: Callable[[int], None] = lambda done: None,
) -> ChunkLosses:
    """Losses of every node for trials [start, start + size); ``start`` on a block edge."""
    if start % STREAM_BLOCK:
        raise EngineError(f"a chunk must start on a block of {STREAM_BLOCK} trials (got {start})")
    portfolio_row = {node: r for r, node in enumerate(tree.portfolios)}
    parent_row = [portfolio_row[lp.ancestors[0]] for lp in tree.leaves]
    dense = np.zeros((len(tree.portfolios), size))
    leaf_trials: list[list[np.ndarray]] = [[] for _ in tree.leaves]
    leaf_losses: list[list[np.ndarray]] = [[] for _ in tree.leaves]
    n_blocks = -(-size // STREAM_BLOCK)
    sums, sq = np.zeros((len(tree.leaves), n_blocks)), np.zeros((len(tree.leaves), n_blocks))
    controlled = any(lp.leaf.controls for lp in tree.leaves)
    if controlled:
        bare = np.zeros_like(dense)  # the inherent losses, no control in place
        bare_trials: list[list[np.ndarray]] = [[] for _ in tree.leaves]
        bare_losses: list[list[np.ndarray]] = [[] for _ in tree.leaves]
        bare_sums, bare_sq = np.zeros_like(sums), np.zeros_like(sq)
        without: list[tuple[int, list[np.ndarray], list[np.ndarray]]] = [
            (k, [], []) for k, lp in enumerate(tree.leaves) for _ in lp.leaf.controls
        ]
        first_slot: dict[int, int] = {}
        for i, (k, _, _) in enumerate(without):
            first_slot.setdefault(k, i)
    for j in range(n_blocks):
        if cancelled():
            raise Cancelled
        base = j * STREAM_BLOCK  # where the block's trials sit in the chunk
        block = (start + base) // STREAM_BLOCK
        length = min(STREAM_BLOCK, size - base)
        correlated = _correlated_uniforms(tree, seed, block)
        for k, lp in enumerate(tree.leaves):
            u = correlated.get(k)
            if u is None:
                u = rng_for(seed, lp.stream, block, OCCURRENCE).random(length)
            g = rng_for(seed, lp.stream, block, SEVERITY)
            if lp.leaf.controls:
                events = _events(
                    lp.leaf,
                    u[:length],
                    g,
                    counts[k],
                    lambda lp=lp, block=block: rng_for(seed, lp.stream, block, THINNING),
                )
                trials, losses = events.losses(lp.leaf, *_factors(lp.leaf))
            else:
                trials, losses = _leaf_block(lp.leaf, u[:length], g, counts[k])
            trials = trials + base
            leaf_trials[k].append(trials)
            leaf_losses[k].append(losses)
            sums[k, j], sq[k, j] = losses.sum(), np.square(losses).sum()
            parent = dense[parent_row[k]]  # a row view: 1-D fancy indexing is faster
            parent[trials] += losses
            if controlled:
                if lp.leaf.controls:
                    b_trials, b_losses = events.losses(lp.leaf, 1.0, 1.0)
                    b_trials = b_trials + base
                    for c in range(len(lp.leaf.controls)):
                        t, x = events.losses(lp.leaf, *_factors(lp.leaf, skip=c))
                        slot = first_slot[k] + c
                        without[slot][1].append(t + base)
                        without[slot][2].append(x)
                else:
                    b_trials, b_losses = trials, losses
                bare_trials[k].append(b_trials)
                bare_losses[k].append(b_losses)
                bare_sums[k, j], bare_sq[k, j] = b_losses.sum(), np.square(b_losses).sum()
                bare_row = bare[parent_row[k]]
                bare_row[b_trials] += b_losses
        report(base + length)
    _roll_up(tree, dense, portfolio_row)
    out = ChunkLosses(
        start, size, dense, _joined(leaf_trials, True), _joined(leaf_losses), sums, sq
    )
    if controlled:
        _roll_up(tree, bare, portfolio_row)
        out.inherent = ChunkLosses(
            start, size, bare, _joined(bare_trials, True), _joined(bare_losses), bare_sums, bare_sq
        )
        out.without_control = [(k, _cat(t, True), _cat(x)) for k, t, x in without]
    return out


def _roll_up(tree: RiskTree, dense: np.ndarray, row: dict[int, int]) -> None:
    """Roll portfolios up into their parents, deepest first (tree order is depth-first)."""
    for node in reversed(tree.portfolios):
        up = tree.nodes[node].parent
        if up is not None:
            dense[row[up]] += dense[row[node]]


def _cat(parts: list[np.ndarray], index: bool = False) -> np.ndarray:
    if parts:
        return np.concatenate(parts)
    return np.empty(0, np.int64) if index else np.empty(0)


def _joined(per_leaf: list[list[np.ndarray]], index: bool = False) -> list[np.ndarray]:
    return [_cat(parts, index) for parts in per_leaf]


def histograms(tree: RiskTree, losses: ChunkLosses) -> list[LossHistogram]:
    """One LossHistogram per node (tree order) for the chunk, with sums kept per block."""
    out: list[LossHistogram] = []
    leaf_of = {lp.node: k for k, lp in enumerate(tree.leaves)}
    row_of = {node: r for r, node in enumerate(tree.portfolios)}
    # Chunks start on a block edge, so blocks start every STREAM_BLOCK trials into the chunk.
    starts = np.arange(0, losses.size, STREAM_BLOCK)
    for i, node in enumerate(tree.nodes):
        if node.kind == "portfolio":
            row = losses.portfolio[row_of[i]]
            sums = np.add.reduceat(row, starts)
            sq = np.add.reduceat(np.square(row), starts)
            hist = LossHistogram.from_values(row, block_sums=sums, block_sq=sq)
        else:
            k = leaf_of[i]
            hist = LossHistogram.from_values(
                losses.leaf_losses[k], losses.size, losses.leaf_sums[k], losses.leaf_sq[k]
            )
        out.append(hist)
    return out
