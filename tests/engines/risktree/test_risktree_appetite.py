"""Tolerance curves and P(loss ≥ x) against closed forms; bad curves named."""

from __future__ import annotations

import math

import pytest

# One leaf: a loss with probability 0.3, uniform on [0, 1000]: P(L ≥ x) = 0.3·(1 − x/1000).
UNIFORM = [
    {"name": "U", "probability": 0.3, "severity": {"family": "uniform", "min": 0, "max": 1000}}
]


def exceed(x: float) -> float:
    return 0.3 * (1 - x / 1000)


def test_tolerance_points_and_worst_against_the_closed_form(simulate) -> None:
    tolerance = [[500, 0.1], [900, 0.05]]
    summary = simulate(UNIFORM, trials=40_000, seed=3, tolerance=tolerance).summary
    tol = summary["tolerance"]
    first, second = tol["points"]
    assert (first["loss"], first["probability"]) == (500, 0.1)
    assert first["lec_probability"] == pytest.approx(exceed(500), abs=0.01)
    assert first["exceeded"] and not second["exceeded"]
    assert second["lec_probability"] == pytest.approx(exceed(900), abs=0.005)
    assert tol["exceeded"] is True
    # Log-log between the points the tolerance is 0.1·(x/500)^-b, b = ln 2 / ln 1.8; the
    # ratio LEC/tolerance peaks where 1/(1000 − x) = b/x: x = 1000·b/(1 + b) ≈ 541.
    b = math.log(2) / math.log(1.8)
    peak = 1000 * b / (1 + b)
    ratio = exceed(peak) / (0.1 * (peak / 500) ** -b)
    assert tol["worst"]["loss"] == pytest.approx(peak, rel=0.05)
    assert tol["worst"]["ratio"] == pytest.approx(ratio, rel=0.07)
    # the chart draws the curve
    layer = summary["chart"]["layer"][-1]
    assert [(r["loss"], r["exceedance"]) for r in layer["data"]["values"]] == [
        (500, 0.1),
        (900, 0.05),
    ]


def test_within_tolerance(simulate) -> None:
    summary = simulate(UNIFORM, trials=20_000, seed=1, tolerance=[[100, 0.9], [999, 0.2]]).summary
    assert summary["tolerance"]["exceeded"] is False
    assert not any(p["exceeded"] for p in summary["tolerance"]["points"])


def test_exceedance_at_any_loss(simulate) -> None:
    at = [1.0, 250.0, 740.0, 2000.0]
    summary = simulate(UNIFORM, trials=40_000, seed=2, output={"exceedance_at": at}).summary
    rows = summary["nodes"]["Root"]["exceedance_at"]
    assert [r["loss"] for r in rows] == at
    for row in rows:
        assert row["probability"] == pytest.approx(max(exceed(row["loss"]), 0), abs=0.01)
    assert summary["tolerance"] is None


@pytest.mark.parametrize(
    ("tolerance", "location", "words"),
    [
        ([[100, 0.1], [50, 0.05]], "tolerance[1]", "losses must increase"),
        ([[100, 0.1], [500, 0.2]], "tolerance[1]", "probabilities"),
        ([[100, 0.0]], "tolerance[0]", "probability must be in (0, 1]"),
        ([[-5, 0.1]], "tolerance[0]", "loss must be positive"),
    ],
)
def test_bad_tolerance_names_the_point(invalid, tolerance, location, words) -> None:
    err = invalid({"tree": {"name": "Root", "children": UNIFORM}, "tolerance": tolerance})
    assert err.location == location and words in err.message


def test_a_tree_may_carry_its_tolerance(simulate) -> None:
    tree = {"name": "Root", "children": UNIFORM, "tolerance": [[500, 0.1]]}
    summary = simulate(tree, trials=5_000, seed=1).summary
    assert summary["tolerance"]["points"][0]["loss"] == 500
