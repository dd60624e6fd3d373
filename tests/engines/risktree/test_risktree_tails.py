"""Heavy, unbounded severities are named with their 1-in-10,000 event; bounds silence it."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from montesim.engines.risktree.engine import plan_for
from montesim.engines.risktree.loading import parse_spec
from montesim.engines.risktree.severity import Z95

EXPERT = {"family": "metalog", "quantiles": [[0.25, 3e5], [0.5, 2e6], [0.75, 8e6], [0.95, 4e7]]}


def warnings_of(*leaves) -> list[dict]:
    return list(plan_for(parse_spec({"tree": {"name": "R", "children": list(leaves)}})).warnings)


def test_wide_lognormal_is_named_with_its_one_in_ten_thousand_event(leaf) -> None:
    (note,) = warnings_of(
        leaf("Wide", low=1_000, high=10_000_000), leaf("Narrow", low=1e3, high=2e3)
    )
    sigma = (math.log(1e7) - math.log(1e3)) / (2 * Z95)
    expected = stats.lognorm(s=sigma, scale=math.sqrt(1e3 * 1e7)).ppf(0.9999)
    assert note["code"] == "unbounded_tail" and note["leaf"] == "Wide"
    assert note["loss_1_in_10000"] == pytest.approx(expected, rel=1e-9)
    assert "'Wide'" in note["message"] and f"{expected:,.0f}" in note["message"]
    assert note["location"] == "tree.leaves['Wide'].severity"


def test_unbounded_expert_is_named_and_a_bound_or_cap_silences_it(leaf) -> None:
    (note,) = warnings_of(leaf("Ransomware", severity=EXPERT))
    assert note["leaf"] == "Ransomware" and note["loss_1_in_10000"] > 10 * 4e7
    assert "maxLoss" in note["message"]
    bounded = {**EXPERT, "upper": 1e8}
    assert warnings_of(leaf("Ransomware", severity=bounded)) == []
    assert warnings_of(leaf("Ransomware", severity=EXPERT, cap=5e7)) == []


def test_bounded_expert_never_passes_its_bound(simulate, leaf) -> None:
    bounded = {**EXPERT, "upper": 1e8}
    result = simulate([leaf("R", probability=0.9, severity=bounded)], trials=50_000, seed=4)
    node = result.summary["nodes"]["R"]
    assert 4e7 < node["max"] <= 1e8
    assert result.summary["warnings"] == []


def test_result_carries_the_tail_warning(simulate, leaf) -> None:
    result = simulate([leaf("Wide", low=1_000, high=10_000_000)], trials=1000, seed=1)
    assert [w["leaf"] for w in result.summary["warnings"]] == ["Wide"]
