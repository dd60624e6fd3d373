"""Controls: residual against inherent figures, each control's reduction, bad controls."""

from __future__ import annotations

import pytest

from montesim.engines.risktree.loading import parse_spec
from montesim.engines.risktree.register import to_register

SEV = {"family": "uniform", "min": 0, "max": 1000}  # mean 500


def tree(*controls_a, controls_b=()):
    return {
        "name": "Root",
        "children": [
            {"name": "A", "probability": 0.2, "severity": SEV, "controls": list(controls_a)},
            {"name": "B", "frequency": 2.0, "severity": SEV, "controls": list(controls_b)},
            {"name": "C", "probability": 0.1, "severity": SEV},
        ],
    }


def test_inherent_is_the_tree_without_controls_and_residual_applies_them(simulate) -> None:
    controlled = tree(
        {"name": "Backups", "cost": 100, "severity_factor": 0.5},
        {"name": "EDR", "cost": 400, "probability_factor": 0.5},
        controls_b=[{"name": "Training", "cost": 50, "probability_factor": 0.25}],
    )
    bare = tree()
    run = simulate(controlled, trials=100_000, seed=8).summary["nodes"]
    plain = simulate(bare, trials=100_000, seed=8).summary["nodes"]
    for name in ("Root", "A", "B", "C"):
        # the same draws: the inherent figures are the uncontrolled tree's, to the bit
        assert run[name]["inherent"]["aal"] == plain[name]["aal"]
        # (the LEC grid is shared with the residual nodes, so compare its first point)
        assert run[name]["inherent"]["lec"]["exceedance"][0] == 1 - plain[name]["p_no_loss"]
    assert run["C"]["aal"] == plain["C"]["aal"]  # a leaf without controls is untouched
    # closed forms: A 0.2·0.5 chance of a loss of mean 0.5·500; B 2·0.25 events of mean 500
    assert run["A"]["aal"] == pytest.approx(0.2 * 0.5 * 0.5 * 500, rel=0.03)
    assert run["B"]["aal"] == pytest.approx(2 * 0.25 * 500, rel=0.03)
    assert run["Root"]["inherent"]["tvar"]["99"] > run["Root"]["tvar"]["99"]


def test_each_control_reduction_and_per_cost(simulate) -> None:
    controlled = tree(
        {"name": "Backups", "cost": 100, "severity_factor": 0.5},
        controls_b=[{"name": "Training", "cost": 50, "probability_factor": 0.5}],
    )
    summary = simulate(controlled, trials=100_000, seed=9).summary
    rows = {r["name"]: r for r in summary["controls"]}
    nodes = summary["nodes"]
    # Without Backups leaf A loses twice as much on the same trials: it saves A's residual AAL.
    assert rows["Backups"]["reduction"]["aal"] == pytest.approx(nodes["A"]["aal"], rel=1e-9)
    assert rows["Backups"]["reduction"]["aal"] == pytest.approx(0.2 * 250, rel=0.03)
    assert rows["Backups"]["per_cost"]["aal"] == pytest.approx(
        rows["Backups"]["reduction"]["aal"] / 100
    )
    # Training halves B's 2 events a period: it saves 1 · 500
    assert rows["Training"]["reduction"]["aal"] == pytest.approx(500, rel=0.03)
    assert rows["Training"]["leaf"] == "B"
    for row in rows.values():
        assert row["reduction"]["tvar99"] > 0
    ranked = [r["per_cost"]["tvar99"] for r in summary["controls"]]
    assert ranked == sorted(ranked, reverse=True)
    # the chart shows the root before its controls
    names = {row["node"] for row in summary["chart"]["layer"][0]["data"]["values"]}
    assert "Root (inherent)" in names


def test_controls_do_not_depend_on_chunks(simulate) -> None:
    controlled = tree(
        {"name": "EDR", "cost": 1, "probability_factor": 0.3},
        controls_b=[{"name": "Training", "cost": 2, "probability_factor": 0.5}],
    )
    a = simulate(controlled, trials=150_000, seed=3, chunk_size=65_536).summary
    b = simulate(controlled, trials=150_000, seed=3, chunk_size=150_000).summary
    assert a["controls"] == b["controls"]
    assert a["nodes"]["Root"]["inherent"] == b["nodes"]["Root"]["inherent"]
    assert a["nodes"]["Root"]["aal"] == b["nodes"]["Root"]["aal"]


@pytest.mark.parametrize(
    ("control", "location", "words"),
    [
        (
            {"name": "X", "cost": 1, "probability_factor": 1.5},
            "controls.0.probability_factor",
            "less than or equal to 1",
        ),
        ({"name": "X", "cost": -1}, "controls.0.cost", "greater than or equal to 0"),
        ({"name": "X", "cost": 1, "bogus": 2}, "controls.0.bogus", "Extra inputs"),
    ],
)
def test_bad_controls_name_the_leaf_and_field(invalid, control, location, words) -> None:
    err = invalid({"tree": tree(control)})
    assert "'A'" in err.message and words in err.message
    assert err.location == f"tree.leaves['A'].{location}"


def test_control_names_are_unique(invalid) -> None:
    twice = tree(
        {"name": "EDR", "cost": 1, "probability_factor": 0.5},
        controls_b=[{"name": "EDR", "cost": 1, "probability_factor": 0.5}],
    )
    err = invalid({"tree": twice})
    assert "EDR" in err.message and err.location == "tree.leaves['B'].controls[0].name"


def test_register_export_refuses_controls() -> None:
    spec = parse_spec({"tree": tree({"name": "EDR", "cost": 1, "probability_factor": 0.5})})
    with pytest.raises(Exception) as err:
        to_register(spec)
    assert "controls" in str(err.value)


def test_drivers_and_controls_are_the_same_on_a_process_pool(simulate) -> None:
    controlled = tree(
        {"name": "EDR", "cost": 1, "probability_factor": 0.3},
        controls_b=[{"name": "Training", "cost": 2, "severity_factor": 0.5}],
    )
    inline = simulate(controlled, trials=140_000, seed=6, chunk_size=65_536).summary
    pooled = simulate(controlled, trials=140_000, seed=6, chunk_size=65_536, workers=2).summary
    assert pooled["controls"] == inline["controls"]
    for name, node in inline["nodes"].items():
        assert pooled["nodes"][name]["contributions"] == node["contributions"]
        assert pooled["nodes"][name]["inherent"] == node["inherent"]
