"""register's three JSON shapes read field for field, and our trees written back to it.

The documents here are written from register's codecs (its definition request, update
request and stored RiskTree/RiskNode), every field present and ``null`` where unused.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from montesim.engines.base import InputError
from montesim.engines.risktree.engine import plan_for
from montesim.engines.risktree.loading import parse_spec, read_document
from montesim.engines.risktree.register import to_register


def shape(kind: str, **fields: Any) -> dict[str, Any]:
    """A distributionShape as register writes it: all six fields, null where unused."""
    out = dict.fromkeys(("percentiles", "quantiles", "terms", "minLoss", "maxLoss"))
    return {"distributionType": kind, **out, **fields}


DEFINITION = {
    "name": "Enterprise risks",
    "portfolios": [
        {"name": "Enterprise", "parentName": None},
        {"name": "Technology", "parentName": "Enterprise"},
        {"name": "Finance", "parentName": "Enterprise"},
    ],
    "leaves": [
        {
            "name": "Ransomware Attack",
            "parentName": "Technology",
            "probability": 0.15,
            "distributionShape": shape(
                "expert", percentiles=[0.25, 0.5, 0.75, 0.95], quantiles=[5e5, 2e6, 8e6, 2.5e7]
            ),
        },
        {
            "name": "Cloud Outage",
            "parentName": "Technology",
            "probability": 0.3,
            "distributionShape": shape("lognormal", minLoss=200_000, maxLoss=4_000_000),
            "seedVarId": 7,
        },
        {
            "name": "Fraud",
            "parentName": "Finance",
            "probability": 0.1,
            "distributionShape": shape(
                "expert",
                percentiles=[0.1, 0.3, 0.5, 0.7, 0.9],
                quantiles=[1e4, 3e4, 6e4, 1.2e5, 3e5],
                terms=None,
                maxLoss=2_000_000,
            ),
        },
    ],
}


def parsed(tree: dict[str, Any]):
    return parse_spec({"tree": copy.deepcopy(tree), "trials": 1000})


def test_every_field_register_writes_is_read_nulls_included() -> None:
    spec = parsed(DEFINITION)
    ransom, outage, fraud = spec.tree.leaves
    assert ransom.severity.family == "metalog"
    assert ransom.severity.terms == 4 and ransom.severity.upper is None
    # register fits min(n, 4) terms when terms is null: 5 pairs, a 4-term least squares fit
    assert fraud.severity.terms == 4 and fraud.severity.upper == 2_000_000
    assert (outage.severity.low, outage.severity.high) == (200_000, 4_000_000)
    # seedVarId is read, and said to have no effect here
    assert [n["location"] for n in spec.notes] == ["tree.leaves.seedVarId"]


def test_interpolating_expert_passes_through_its_quantiles() -> None:
    sev = parsed(DEFINITION).tree.leaves[0].severity
    for p, x in sev.quantiles:
        assert sev.quantile(p) == pytest.approx(x, rel=1e-9)


def test_least_squares_expert_is_the_four_term_fit() -> None:
    # Independent of the engine: the 4-term metalog basis of ln x solved by least squares.
    sev = parsed(DEFINITION).tree.leaves[2].severity
    p = np.array([a for a, _ in sev.quantiles])
    x = np.array([b for _, b in sev.quantiles])
    u = 2_000_000
    logit = np.log(p / (1 - p))
    basis = np.stack([np.ones_like(p), logit, (p - 0.5) * logit, p - 0.5], axis=1)
    coef = np.linalg.lstsq(basis, np.log(x / (u - x)), rcond=None)[0]
    y = 0.8
    ly = np.log(y / (1 - y))
    m = coef @ [1.0, ly, (y - 0.5) * ly, y - 0.5]
    assert sev.quantile(y) == pytest.approx(u / (1 + np.exp(-m)), rel=1e-9)
    # not the interpolating fit: it misses some of the five pairs
    assert max(abs(sev.quantile(a) / b - 1) for a, b in sev.quantiles) > 1e-6


def test_max_loss_bounds_an_expert_leaf(simulate) -> None:
    result = simulate(parsed(DEFINITION).tree.model_dump(), trials=20_000, seed=2)
    assert 0 < result.summary["nodes"]["Fraud"]["max"] <= 2_000_000


def test_unknown_fields_from_a_later_register_are_listed_not_refused() -> None:
    tree = copy.deepcopy(DEFINITION)
    tree["schemaVersion"] = 3
    tree["portfolios"][1]["colour"] = "#ff0000"
    tree["leaves"][0]["mitigations"] = []
    tree["leaves"][0]["distributionShape"]["shape"] = 2.0
    spec = parsed(tree)
    ignored = {n["location"] for n in spec.notes if n["code"] == "ignored_field"}
    assert {
        "tree.schemaVersion",
        "tree.portfolios['Technology'].colour",
        "tree.leaves['Ransomware Attack'].mitigations",
        "tree.leaves['Ransomware Attack'].distributionShape.shape",
    } <= ignored
    assert all("ignored" in n["message"] for n in spec.notes)


def test_update_request_reads_ids_and_new_nodes() -> None:
    update = {
        "name": "Enterprise risks",
        "portfolios": [
            {"id": "p-ent", "name": "Enterprise", "parentName": None},
            {"id": "p-tech", "name": "Technology", "parentName": "Enterprise"},
        ],
        "leaves": [{"id": "l-out", **DEFINITION["leaves"][1], "seedVarId": None}],
        "newPortfolios": [{"name": "Finance", "parentName": "Enterprise"}],
        "newLeaves": [DEFINITION["leaves"][2]],
    }
    spec = parsed(update)
    assert [p.name for p in spec.tree.portfolios] == ["Enterprise", "Technology", "Finance"]
    assert [leaf.name for leaf in spec.tree.leaves] == ["Cloud Outage", "Fraud"]
    assert spec.notes == []


def stored(definition: dict[str, Any]) -> dict[str, Any]:
    """The same tree as register stores it: nodes by id, wrapped by their kind."""
    ids = {
        n["name"]: f"n{i:03d}"
        for i, n in enumerate(definition["portfolios"] + definition["leaves"])
    }
    nodes: list[dict[str, Any]] = []
    for p in definition["portfolios"]:
        children = [
            ids[c["name"]]
            for c in definition["portfolios"] + definition["leaves"]
            if c["parentName"] == p["name"]
        ]
        parent = ids[p["parentName"]] if p["parentName"] else None
        nodes.append(
            {
                "RiskPortfolio": {
                    "id": ids[p["name"]],
                    "name": p["name"],
                    "parentId": parent,
                    "childIds": children,
                }
            }
        )
    for seed, leaf in enumerate(definition["leaves"], start=1):
        nodes.append(
            {
                "RiskLeaf": {
                    "id": ids[leaf["name"]],
                    "name": leaf["name"],
                    "parentId": ids[leaf["parentName"]],
                    "probability": leaf["probability"],
                    **leaf["distributionShape"],
                    "seedVarId": seed,
                }
            }
        )
    root = ids[next(p["name"] for p in definition["portfolios"] if not p["parentName"])]
    return {
        "id": "t1",
        "name": definition["name"],
        "nodes": nodes,
        "rootId": root,
        "seedVarHighWater": len(definition["leaves"]),
    }


def test_stored_tree_reads_as_the_definition() -> None:
    a, b = parsed(DEFINITION), parsed(stored(DEFINITION))
    assert a.tree.model_dump() == b.tree.model_dump()


@pytest.mark.parametrize("source", ["definition", "stored"])
def test_round_trip_import_export_import(source: str) -> None:
    first = parsed(DEFINITION if source == "definition" else stored(DEFINITION))
    doc, notes = to_register(first)
    assert notes == []
    # what we write is register's definition: every shape field present
    for leaf in doc["leaves"]:
        assert set(leaf) == {"name", "parentName", "probability", "distributionShape"}
        assert set(leaf["distributionShape"]) == {
            "distributionType",
            "percentiles",
            "quantiles",
            "terms",
            "minLoss",
            "maxLoss",
        }
    again = parsed(json.loads(json.dumps(doc)))
    assert again.tree.model_dump() == first.tree.model_dump()
    assert to_register(again)[0] == doc


def test_export_refuses_what_register_cannot_express(leaf) -> None:
    tree = {
        "name": "Root",
        "children": [leaf("A"), leaf("B", frequency=2.0, probability=None)],
    }
    spec = parse_spec({"tree": {**tree, "children": [leaf("A"), {**leaf("B"), "cap": 5000}]}})
    with pytest.raises(InputError) as err:
        to_register(spec)
    assert err.value.location == "tree.leaves['B'].cap"
    pert = leaf("C", severity={"family": "pert", "min": 1, "mode": 2, "max": 3})
    with pytest.raises(InputError) as err:
        to_register(parse_spec({"tree": {"name": "R", "children": [pert]}}))
    assert "pert" in err.value.message and err.value.code == "not_expressible_in_register"


@pytest.mark.parametrize(
    ("change", "location", "words"),
    [
        ({"distributionType": "pareto"}, "distributionType", "not one of lognormal, expert"),
        ({"maxLoss": 100_000}, "severity", "below the upper bound"),
        ({"terms": 9}, "severity", "must not exceed"),
        ({"percentiles": [0.25, 0.5]}, "quantiles", "same length"),
        ({"quantiles": [0, 2e6, 8e6, 2.5e7]}, "severity", "above the metalog's lower bound"),
    ],
)
def test_bad_expert_leaves_name_the_leaf_and_field(invalid, change, location, words) -> None:
    tree = copy.deepcopy(DEFINITION)
    tree["leaves"][0]["distributionShape"].update(change)
    err = invalid({"tree": tree})
    assert "Ransomware Attack" in err.message and words in err.message
    assert location in (err.location or "")


def test_stored_tree_with_a_dangling_parent_is_named(invalid) -> None:
    doc = stored(DEFINITION)
    doc["nodes"][-1]["RiskLeaf"]["parentId"] = "nope"
    err = invalid({"tree": doc})
    assert "Fraud" in err.message and "parentId" in (err.location or "")


def test_register_file_on_disk_runs(tmp_path: Path, simulate) -> None:
    path = tmp_path / "enterprise.json"
    path.write_text(json.dumps(DEFINITION, indent=2))
    spec = parse_spec(read_document(path) | {"trials": 2000})
    assert len(plan_for(spec).tree.nodes) == 6
