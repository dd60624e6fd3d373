"""What a finished risk-tree run gives back: per-node figures, LECs, chart, raw trials."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from montesim.engines.risktree import appetite, controls, drivers
from montesim.engines.risktree.model import RiskTreeSpec
from montesim.engines.risktree.tree import RiskTree
from montesim.stats.lec import MANTISSA_BITS, LossHistogram, lec_points, summarize, tick_grid

CHART_QUANTILES = (("p90", 0.90), ("p99", 0.99))
DEFAULT_CHART_NODES = 6


def shared_ticks(spec: RiskTreeSpec, hists: list[LossHistogram]) -> np.ndarray:
    """One tick grid for every node, reaching the root's loss at the tail-trim probability.

    Losses are non-negative, so no node's loss exceeds the root's in any trial: the
    root's quantile bounds them all.
    """
    out = spec.output
    x_max = max(float(h.quantiles([1.0 - out.tail_trim])[0]) for h in hists)
    x_min = None
    if out.scale == "log":
        # The 1st percentile of positive losses of the node with the smallest ones.
        lows = [
            float(h.quantiles([h.p_zero + 0.01 * (1.0 - h.p_zero)])[0])
            for h in hists
            if h.p_zero < 1.0
        ]
        lows = [v for v in lows if v > 0]
        x_min = max(min(lows), x_max * 1e-6) if lows else None
    return tick_grid(x_max, count=out.ticks, scale=out.scale, x_min=x_min)


def summary(
    spec: RiskTreeSpec,
    tree: RiskTree,
    hists: list[LossHistogram],
    raw_trials: int,
    warnings: Sequence[dict[str, Any]] = (),
    shares: Sequence[dict[str, dict[str, float]]] = (),
    controlled: tuple[list[LossHistogram], list[LossHistogram]] | None = None,
) -> dict[str, Any]:
    ticks = shared_ticks(spec, hists)
    inherent, control_rows = None, None
    if controlled is not None:
        inherent, control_rows = controls.summary(
            tree, hists, *controlled, ticks, spec.output.tail_trim
        )
    nodes: dict[str, Any] = {}
    for i, (node, hist) in enumerate(zip(tree.nodes, hists, strict=True)):
        figures = summarize(hist)
        if shares:
            # The tail mean from exact sums, the same the contributions add up to.
            contributions = shares[i]
            figures["tvar"] = {
                "95": math.fsum(contributions["tvar95"].values()),
                "99": math.fsum(contributions["tvar99"].values()),
            }
            figures["contributions"] = contributions
            if node.kind == "portfolio":
                figures["child_contributions"] = {
                    level: drivers.by_child(tree, i, values)
                    for level, values in contributions.items()
                }
        if spec.output.exceedance_at:
            at = np.array(spec.output.exceedance_at, dtype=np.float64)
            figures["exceedance_at"] = [
                {"loss": float(x), "probability": float(p)}
                for x, p in zip(at, hist.exceedance(at), strict=True)
            ]
        if inherent is not None:
            figures["inherent"] = inherent[node.name]
        nodes[node.name] = {
            "kind": node.kind,
            "parent": tree.nodes[node.parent].name if node.parent is not None else None,
            "depth": node.depth,
            **figures,
            "lec": lec_points(hist, ticks, spec.output.tail_trim),
        }
    tolerance = appetite.check(spec.tolerance, hists[0], ticks) if spec.tolerance else None
    return {
        "engine": "risktree",
        "root": tree.root,
        "trials": spec.trials,
        "seed": spec.seed,
        "order": [n.name for n in tree.nodes],
        "grid": {
            "scale": spec.output.scale,
            "ticks": ticks.tolist(),
            "tail_trim": spec.output.tail_trim,
        },
        "nodes": nodes,
        "raw_trials": raw_trials,
        "warnings": list(warnings),
        "tolerance": tolerance,
        "controls": control_rows,
        "sketch": sketch(hists[0]),
        "chart": chart(spec, tree, nodes),
    }


def chart_nodes(spec: RiskTreeSpec, tree: RiskTree) -> list[str]:
    if spec.output.chart_nodes:
        return list(spec.output.chart_nodes)
    top = [n.name for n in tree.nodes if n.depth <= 1]
    return top[:DEFAULT_CHART_NODES]


# Short money labels (1k, 20M, 3B): Vega's SI format, with G (giga) read as B (billion).
SHORT_MONEY = "replace(format(datum.value, '~s'), 'G', 'B')"


def decades(values: list[float]) -> list[float]:
    """Powers of ten spanning the positive ``values``: one label per decade on a log axis."""
    positive = [v for v in values if v > 0]
    if not positive:
        return []
    lo = math.floor(math.log10(min(positive)))
    hi = math.ceil(math.log10(max(positive)))
    return [10.0**e for e in range(lo, hi + 1)]


def loss_axis(losses: list[float], log_x: bool) -> dict[str, Any]:
    """Loss tick labels that never run into each other: short money, and on a log axis
    only the decades (Vega's default puts 1,000 and 2,000 side by side)."""
    axis: dict[str, Any] = {"labelExpr": SHORT_MONEY, "labelOverlap": "greedy", "labelFlush": True}
    if log_x:
        axis["values"] = decades(losses)
    else:
        axis["tickCount"] = 6
    return axis


def chart(spec: RiskTreeSpec, tree: RiskTree, nodes: dict[str, Any]) -> dict[str, Any]:
    """A Vega-Lite v5 spec overlaying the LECs of the chosen nodes, with quantile markers."""
    log_x = spec.output.scale == "log"
    curve: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    for name in chart_nodes(spec, tree):
        lec = nodes[name]["lec"]
        for x, p in zip(lec["loss"], lec["exceedance"], strict=True):
            if p > 0 and (x > 0 or not log_x):
                curve.append({"node": name, "loss": x, "exceedance": p})
        for label, q in CHART_QUANTILES:
            x = nodes[name]["quantiles"][label]
            if x > 0:
                marks.append({"node": name, "quantile": label, "loss": x, "exceedance": 1.0 - q})
    inherent = nodes[tree.root].get("inherent")
    if inherent is not None:  # the root before its controls, beside it after them
        lec = inherent["lec"]
        for x, p in zip(lec["loss"], lec["exceedance"], strict=True):
            if p > 0 and (x > 0 or not log_x):
                curve.append({"node": f"{tree.root} (inherent)", "loss": x, "exceedance": p})
    x_enc = {
        "field": "loss",
        "type": "quantitative",
        "title": "Loss",
        "scale": {"type": "log"} if log_x else {"zero": True},
        "axis": loss_axis([row["loss"] for row in curve], log_x),
    }
    y_enc = {
        "field": "exceedance",
        "type": "quantitative",
        "title": "P(loss ≥ x)",
        "scale": {"type": "log"},
        "axis": {
            "format": "~%",
            "values": decades([row["exceedance"] for row in curve]),
            "labelOverlap": "greedy",
        },
    }
    color = {"field": "node", "type": "nominal", "title": "Node"}
    layers = []
    if spec.tolerance:
        layers.append(
            {
                "data": {
                    "values": [
                        {"tolerance": "Risk tolerance", "loss": x, "exceedance": p}
                        for x, p in spec.tolerance
                    ]
                },
                "mark": {"type": "line", "strokeDash": [6, 4], "color": "#b00020", "point": True},
                "encoding": {
                    "x": x_enc,
                    "y": y_enc,
                    "tooltip": [
                        {"field": "tolerance"},
                        {"field": "loss", "format": ",.0f"},
                        {"field": "exceedance", "format": ".3%", "title": "tolerated P"},
                    ],
                },
            }
        )
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Loss exceedance — {tree.root} ({spec.trials:,} trials)",
        "width": 640,
        "height": 400,
        "layer": [
            {
                "data": {"values": curve},
                "mark": {"type": "line", "interpolate": "monotone"},
                "encoding": {
                    "x": x_enc,
                    "y": y_enc,
                    "color": color,
                    "tooltip": [
                        {"field": "node"},
                        {"field": "loss", "format": ",.0f"},
                        {"field": "exceedance", "format": ".3%"},
                    ],
                },
            },
            {
                "data": {"values": marks},
                "mark": {"type": "point", "filled": True, "size": 60},
                "encoding": {
                    "x": x_enc,
                    "y": y_enc,
                    "color": color,
                    "shape": {"field": "quantile", "type": "nominal", "title": "Quantile"},
                    "tooltip": [
                        {"field": "node"},
                        {"field": "quantile"},
                        {"field": "loss", "format": ",.0f"},
                    ],
                },
            },
            *layers,
        ],
    }


def sketch(hist: LossHistogram) -> dict[str, Any]:
    """The root's loss histogram, compact, so a page can read P(loss ≥ x) for any x."""
    return {
        "n": hist.n,
        "zeros": hist.zeros,
        "max": hist.max,
        "at_max": hist.at_max,
        "mantissa_bits": MANTISSA_BITS,
        "keys": hist.keys.tolist(),
        "counts": hist.counts.tolist(),
    }


def trial_tables(tree: RiskTree, raw: np.ndarray, start: int = 0) -> dict[str, tuple[str, bytes]]:
    """trials.csv and trials.parquet: one row per trial, one column per node."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    names = [n.name for n in tree.nodes]
    trial = pa.array(np.arange(start, start + raw.shape[1], dtype=np.int64))
    columns = [trial, *(pa.array(raw[i]) for i in range(len(names)))]
    parquet = io.BytesIO()
    # Losses rarely repeat, so dictionary encoding costs time and saves no space.
    table = pa.table(columns, names=["trial", *names])
    pq.write_table(table, parquet, compression="zstd", use_dictionary=False)
    text = io.BytesIO()
    pcsv.write_csv(pa.table(columns, names=["trial", *map(_csv_safe, names)]), text)
    return {
        "trials.csv": ("text/csv", text.getvalue()),
        "trials.parquet": ("application/vnd.apache.parquet", parquet.getvalue()),
    }


def _csv_safe(name: str) -> str:
    # A spreadsheet must not read a node name as a formula.
    return "'" + name if name[:1] in ("=", "+", "-", "@") else name
