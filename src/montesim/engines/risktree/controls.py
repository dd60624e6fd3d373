"""Controls: what each leaf's controls buy, inherent against residual risk.

Node figures are residual (every control in place). With controls in the tree a run
also gives every node's inherent figures (no control in place), and, per control, the
root's losses with every control but that one, so that its reduction of the root's AAL
and TVaR is its own at the margin, on the same trials (common random numbers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from montesim.engines.risktree.simulate import STREAM_BLOCK, ChunkLosses, histograms
from montesim.engines.risktree.tree import RiskTree
from montesim.stats.lec import LossHistogram, lec_points

TVAR_LEVELS = (("95", 0.95), ("99", 0.99))


def chunk_histograms(
    tree: RiskTree, losses: ChunkLosses
) -> tuple[list[LossHistogram], list[LossHistogram]] | None:
    """(inherent histogram per node, the root's histogram without each control)."""
    if losses.inherent is None or losses.without_control is None:
        return None
    inherent = histograms(tree, losses.inherent)
    root = losses.portfolio[0]  # the root is the first portfolio
    starts = np.arange(0, losses.size, STREAM_BLOCK)
    without = []
    for k, trials, values in losses.without_control:
        row = root.copy()
        row[losses.leaf_trials[k]] -= losses.leaf_losses[k]
        row[trials] += values
        np.maximum(row, 0.0, out=row)  # a − a + b may round a hair below 0 where b is 0
        without.append(
            LossHistogram.from_values(
                row,
                block_sums=np.add.reduceat(row, starts),
                block_sq=np.add.reduceat(np.square(row), starts),
            )
        )
    return inherent, without


def summary(
    tree: RiskTree,
    hists: list[LossHistogram],
    inherent: list[LossHistogram],
    without: list[LossHistogram],
    ticks: np.ndarray,
    tail_trim: float,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per node its inherent figures; per control its reductions, ranked by TVaR99 per cost."""
    per_node = {
        node.name: {
            "aal": hist.mean,
            "tvar": {label: hist.tvar(q) for label, q in TVAR_LEVELS},
            "lec": lec_points(hist, ticks, tail_trim),
        }
        for node, hist in zip(tree.nodes, inherent, strict=True)
    }
    root = hists[0]
    rows: list[dict[str, Any]] = []
    slots = [(lp, c) for lp in tree.leaves for c in lp.leaf.controls]
    for (lp, control), hist in zip(slots, without, strict=True):
        reductions = {
            "aal": hist.mean - root.mean,
            **{f"tvar{label}": hist.tvar(q) - root.tvar(q) for label, q in TVAR_LEVELS},
        }
        rows.append(
            {
                "name": control.name,
                "leaf": tree.nodes[lp.node].name,
                "cost": control.cost,
                "probability_factor": control.probability_factor,
                "severity_factor": control.severity_factor,
                "reduction": reductions,
                "per_cost": {
                    key: (value / control.cost if control.cost > 0 else None)
                    for key, value in reductions.items()
                },
            }
        )
    rows.sort(key=lambda r: -(r["per_cost"]["tvar99"] or float("inf")))
    return per_node, rows
