"""register's JSON trees converted on load, and cycles named in the error."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from montesim.engines.risktree.engine import plan_for
from montesim.engines.risktree.loading import parse_spec, read_document
from montesim.engines.risktree.severity import Z95

REGISTER = {
    "name": "Company risks",
    "portfolios": [
        {"name": "Company"},
        {"name": "IT", "parentName": "Company"},
    ],
    "leaves": [
        {
            "name": "Ransomware",
            "parentName": "IT",
            "probability": 0.1,
            "distributionShape": {
                "distributionType": "lognormal",
                "minLoss": 1000,
                "maxLoss": 100000,
            },
        },
        {
            "name": "Fraud",
            "parentName": "Company",
            "probability": 0.3,
            "distributionShape": {
                "distributionType": "expert",
                "minLoss": 0,
                "percentiles": [0.1, 0.5, 0.9],
                "quantiles": [2000, 10000, 60000],
            },
        },
    ],
}


def test_register_json_converts_to_our_tree() -> None:
    spec = parse_spec({"tree": REGISTER, "trials": 1000})
    tree = spec.tree
    assert [(p.name, p.parent) for p in tree.portfolios] == [("Company", None), ("IT", "Company")]
    assert tree.name is None  # register's own name is not a second root
    ransom, fraud = tree.leaves
    assert ransom.parent == "IT" and ransom.probability == 0.1
    # lognormal min/max: a 90% interval, i.e. our lognormal's 5th and 95th percentiles
    sev = ransom.severity
    assert sev.family == "lognormal" and (sev.low, sev.high) == (1000, 100000)
    assert math.exp(sev.mu + Z95 * sev.sigma) == pytest.approx(100000)
    # expert: a metalog through the given quantiles
    assert fraud.severity.family == "metalog"
    assert [tuple(q) for q in fraud.severity.quantiles] == [(0.1, 2000), (0.5, 10000), (0.9, 60000)]
    plan = plan_for(spec)
    assert [n.name for n in plan.tree.nodes] == ["Company", "IT", "Ransomware", "Fraud"]


def test_register_file_runs_from_disk(tmp_path: Path, simulate) -> None:
    path = tmp_path / "register.json"
    path.write_text(json.dumps(REGISTER))
    doc = read_document(path)
    result = simulate(doc, trials=2000, seed=3)
    assert set(result.summary["nodes"]) == {"Company", "IT", "Ransomware", "Fraud"}
    assert result.summary["nodes"]["Company"]["aal"] > 0


def test_register_tree_name_is_the_root_when_no_portfolio_is() -> None:
    tree = {
        "name": "Root",
        "portfolios": [],
        "leaves": [{**REGISTER["leaves"][0], "parentName": "Root"}],
    }
    assert [n.name for n in plan_for(parse_spec({"tree": tree})).tree.nodes] == [
        "Root",
        "Ransomware",
    ]


@pytest.mark.parametrize(
    ("change", "location", "words"),
    [
        ({"distributionType": "pareto"}, "distributionType", "not one of lognormal, expert"),
        ({"maxLoss": 50_000, "distributionType": "expert"}, "severity", "below the upper bound"),
        ({"minLoss": 50_000, "maxLoss": 10}, "severity", "low must be below high"),
    ],
)
def test_register_mistakes_name_the_leaf(invalid, change, location, words) -> None:
    leaf = json.loads(json.dumps(REGISTER["leaves"][1 if "expert" in str(change) else 0]))
    leaf["distributionShape"].update(change)
    tree = {**REGISTER, "leaves": [leaf]}
    tree["portfolios"] = [{"name": "Company"}, {"name": "IT", "parentName": "Company"}]
    if leaf["parentName"] == "Company":
        tree["portfolios"] = [{"name": "Company"}]
    err = invalid({"tree": tree})
    assert leaf["name"] in err.message and words in err.message
    assert location in (err.location or "")


def test_cycle_is_named_not_an_empty_root(invalid, leaf) -> None:
    tree = {
        "name": "R",
        "portfolios": [{"name": "A", "parent": "B"}, {"name": "B", "parent": "A"}],
        "leaves": [leaf("L", parent="A")],
    }
    err = invalid({"tree": tree})
    assert "cycle" in err.message and "empty" not in err.message
    assert "A → B → A" in err.message or "B → A → B" in err.message


def test_chart_loss_axis_labels_decades_in_short_money(simulate) -> None:
    doc = read_document(Path(__file__).resolve().parents[3] / "examples/risktrees/enterprise.yaml")
    chart = simulate(doc["tree"], trials=5_000, seed=1, output=doc["output"]).summary["chart"]
    x_axis = chart["layer"][0]["encoding"]["x"]["axis"]
    values = x_axis["values"]
    # one label per decade: no "1,000" next to "2,000"
    assert len(values) >= 3 and all(
        b == pytest.approx(a * 10) for a, b in zip(values, values[1:], strict=False)
    )
    assert "~s" in x_axis["labelExpr"] and x_axis["labelOverlap"] == "greedy"
    losses = [row["loss"] for row in chart["layer"][0]["data"]["values"]]
    assert values[0] <= min(losses) and max(losses) <= values[-1]
    y_values = chart["layer"][0]["encoding"]["y"]["axis"]["values"]
    assert y_values[-1] == 1.0 and all(
        b == pytest.approx(a * 10) for a, b in zip(y_values, y_values[1:], strict=False)
    )
