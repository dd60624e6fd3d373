"""The risk-tree engine: tree spec → trials in chunks → loss exceedance curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from montesim.engines.base import Chunk, ChunkContext, Files, Result, split_units
from montesim.engines.risktree import controls, drivers, report
from montesim.engines.risktree.counts import PoissonCounts
from montesim.engines.risktree.loading import parse_spec
from montesim.engines.risktree.model import RiskTreeSpec
from montesim.engines.risktree.simulate import (
    STREAM_BLOCK,
    histograms,
    round_chunk_size,
    simulate_chunk,
)
from montesim.engines.risktree.tails import tail_notes
from montesim.engines.risktree.tree import RiskTree, build
from montesim.stats.lec import LossHistogram

TARGET_CHUNKS = 16
MAX_CHUNK_BLOCKS = 4  # stream blocks: bounds a chunk's dense portfolio losses


@dataclass(frozen=True)
class Plan:
    spec: RiskTreeSpec
    tree: RiskTree
    counts: tuple[PoissonCounts | None, ...]  # per leaf: its Poisson counts (None: Bernoulli)
    chunk_size: int
    warnings: tuple[dict[str, Any], ...] = ()  # loading's notes, then heavy tails


@dataclass
class Partial:
    """A chunk's sufficient statistics per node, plus raw trials when in the raw window."""

    start: int
    size: int
    hists: list[LossHistogram]
    raw: np.ndarray | None  # (nodes, trials) for trials below output.raw_trials
    tails: drivers.TailSums | None  # what the tail drivers need, exactly summed
    # with controls: inherent histogram per node, the root's without each control
    controlled: tuple[list[LossHistogram], list[LossHistogram]] | None = None


def plan_for(spec: RiskTreeSpec, chunk_size: int | None = None) -> Plan:
    tree = build(spec)
    counts = tuple(
        PoissonCounts(lp.leaf.frequency) if lp.leaf.frequency is not None else None
        for lp in tree.leaves
    )
    if chunk_size is None:
        chunk_size = min(-(-spec.trials // TARGET_CHUNKS), MAX_CHUNK_BLOCKS * STREAM_BLOCK)
    warnings = (*spec.notes, *tail_notes(tree))
    return Plan(spec, tree, counts, round_chunk_size(chunk_size), warnings)


def run_partial(plan: Plan, start: int, size: int, ctx: ChunkContext | None = None) -> Partial:
    losses = simulate_chunk(
        plan.tree,
        plan.spec.seed,
        start,
        size,
        plan.counts,
        cancelled=ctx.cancelled if ctx else (lambda: False),
        report=(lambda done: ctx.report(done, "simulating")) if ctx else (lambda done: None),
    )
    raw_n = max(0, min(plan.spec.output.raw_trials - start, size))
    raw = None
    if raw_n:
        raw = np.stack(
            [losses.node_values(plan.tree, i, raw_n) for i in range(len(plan.tree.nodes))]
        )
    row_of = {node: r for r, node in enumerate(plan.tree.portfolios)}
    dense = [
        losses.portfolio[row_of[i]] if n.kind == "portfolio" else None
        for i, n in enumerate(plan.tree.nodes)
    ]
    tails = None
    if plan.spec.output.contributions:
        tails = drivers.chunk_sums(
            plan.tree, dense, losses.leaf_trials, losses.leaf_losses, plan.spec.trials
        )
    controlled = controls.chunk_histograms(plan.tree, losses)
    return Partial(start, size, histograms(plan.tree, losses), raw, tails, controlled)


def merge_partials(plan: Plan, partials: Sequence[Partial]) -> Result:
    """Every chunk's statistics merged (the runner has checked they cover every trial)."""
    parts = sorted(partials, key=lambda p: p.start)
    hists = [LossHistogram.merge(p.hists[i] for p in parts) for i in range(len(plan.tree.nodes))]
    raws = [p.raw for p in parts if p.raw is not None]
    raw = np.concatenate(raws, axis=1) if raws else np.zeros((len(plan.tree.nodes), 0))
    tails = [p.tails for p in parts if p.tails is not None]
    shares = drivers.contributions(plan.tree, drivers.merge(tails), hists) if tails else []
    controlled = None
    per_chunk = [p.controlled for p in parts if p.controlled is not None]
    if per_chunk:
        inherent = [
            LossHistogram.merge(c[0][i] for c in per_chunk) for i in range(len(plan.tree.nodes))
        ]
        without = [
            LossHistogram.merge(c[1][j] for c in per_chunk) for j in range(len(per_chunk[0][1]))
        ]
        controlled = (inherent, without)
    summary = report.summary(
        plan.spec, plan.tree, hists, raw.shape[1], plan.warnings, shares, controlled
    )
    artifacts = report.trial_tables(plan.tree, raw) if raw.shape[1] else {}
    return Result(summary=summary, artifacts=artifacts)


class RiskTreeEngine:
    """Monte Carlo over a tree of portfolios and risks, giving every node its LEC."""

    name: ClassVar[str] = "risktree"
    unit: ClassVar[str] = "trials"
    resumable: ClassVar[bool] = True
    sequential: ClassVar[bool] = False

    def spec_schema(self) -> dict[str, Any]:
        return RiskTreeSpec.model_json_schema()

    def example_spec(self) -> dict[str, Any]:
        return {
            "trials": 20_000,
            "seed": 1,
            "tree": {
                "name": "Example",
                "children": [
                    {
                        "name": "Ransomware",
                        "probability": 0.1,
                        "severity": {"family": "lognormal", "low": 100_000, "high": 2_000_000},
                    },
                    {
                        "name": "Phishing",
                        "frequency": 2.0,
                        "severity": {"family": "pert", "min": 1_000, "mode": 10_000, "max": 80_000},
                    },
                    {
                        "name": "Outage",
                        "probability": 0.3,
                        "low": 50_000,
                        "high": 400_000,
                        "cap": 300_000,
                    },
                ],
            },
        }

    def validate(self, spec: dict[str, Any], files: Files) -> Plan:
        parsed = parse_spec(spec, files)
        return plan_for(parsed, parsed.chunk_size)

    def chunks(self, plan: Plan) -> list[Chunk]:
        return split_units(plan.spec.trials, plan.chunk_size)

    def run_chunk(self, plan: Plan, chunk: Chunk, ctx: ChunkContext) -> Partial:
        return run_partial(plan, chunk.start, chunk.size, ctx)

    def merge(self, plan: Plan, partials: Sequence[Partial]) -> Result:
        return merge_partials(plan, partials)
