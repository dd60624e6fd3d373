"""Honest tails: leaves whose severity is unbounded above and heavy, said so by name.

A lognormal from a wide 90 % interval or a metalog without an upper bound can put a
single event at many times anything the expert described; the run is still right for
the distribution given, but a reader of its maximum loss should know where it came from.
"""

from __future__ import annotations

from typing import Any

from montesim.engines.risktree.tree import RiskTree

UNBOUNDED = ("lognormal", "metalog")  # the families with no upper end unless given one
TAIL_LEVEL = 0.9999  # one event in 10,000
HEAVY_RATIO = 10.0  # its 1-in-10,000 loss against its 95th percentile


def tail_notes(tree: RiskTree) -> list[dict[str, Any]]:
    """A warning per leaf whose 1-in-10,000 event is over 10× its 95th percentile."""
    notes = []
    for lp in tree.leaves:
        leaf, sev = lp.leaf, lp.leaf.severity
        if leaf.cap is not None or sev.family not in UNBOUNDED:
            continue
        if sev.family == "metalog" and sev.upper is not None:
            continue
        extreme, p95 = sev.quantile(TAIL_LEVEL), sev.quantile(0.95)
        if not extreme > HEAVY_RATIO * p95:
            continue
        bound = "a cap" + (
            " or an upper bound (register's maxLoss)" if sev.family == "metalog" else ""
        )
        notes.append(
            {
                "code": "unbounded_tail",
                "location": f"tree.leaves[{leaf.name!r}].severity",
                "message": f"Leaf {leaf.name!r}: its {sev.family} severity has no upper bound; "
                f"one event in 10,000 costs more than {extreme:,.0f}, {extreme / p95:,.0f}× its "
                f"95th percentile ({p95:,.0f}). Give it {bound} if losses cannot go that high.",
                "leaf": leaf.name,
                "loss_1_in_10000": extreme,
            }
        )
    return notes
