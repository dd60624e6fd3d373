"""Every validation rule refuses bad trees with a message naming the node and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from montesim.engines.risktree.loading import parse_document, parse_spec
from montesim.engines.risktree.tree import build


def flat(leaves, portfolios=None, **spec):
    portfolios = [{"name": "Root"}] if portfolios is None else portfolios
    return {"tree": {"portfolios": portfolios, "leaves": leaves}, **spec}


LOGN = {"family": "lognormal", "low": 10, "high": 100}


def L(name, parent="Root", **fields):  # noqa: N802 - reads like a node in the tables below
    fields.setdefault("probability", 0.1) if "frequency" not in fields else None
    fields.setdefault("severity", LOGN) if "low" not in fields else None
    return {"name": name, "parent": parent, **fields}


CASES = [
    # (spec, words that must be in the message, location)
    (
        flat([L("A")], [{"name": "Root"}, {"name": "Other"}]),
        ["exactly one root", "'Root'", "'Other'"],
        "tree.portfolios['Other'].parent",
    ),
    (
        flat([L("A", parent="B"), L("B")]),
        ["Leaf 'A'", "parent 'B' is a leaf"],
        "tree.leaves['A'].parent",
    ),
    (
        flat([L("A", parent="Nowhere")]),
        ["Leaf 'A'", "'Nowhere' is not a portfolio"],
        "tree.leaves['A'].parent",
    ),
    (
        flat(
            [L("A")], [{"name": "Root"}, {"name": "P", "parent": "Q"}, {"name": "Q", "parent": "P"}]
        ),
        ["cycle", "P → Q → P"],
        None,
    ),
    (
        flat([L("A")], [{"name": "Root"}, {"name": "Empty", "parent": "Root"}]),
        ["Portfolio 'Empty' is empty"],
        "tree.portfolios['Empty']",
    ),
    (flat([L("A"), L("A")]), ["'A'", "unique"], "tree.leaves['A'].name"),
    (flat([L("Root")]), ["'Root'", "unique"], "tree.leaves['Root'].name"),
    (
        flat([L("A", probability=1.5)]),
        ["Leaf 'A'", "probability", "less than or equal to 1", "1.5"],
        "tree.leaves['A'].probability",
    ),
    (flat([L("A", probability=-0.1)]), ["Leaf 'A'", "probability"], "tree.leaves['A'].probability"),
    (
        flat([L("A", severity={"family": "lognormal", "low": 100, "high": 10})]),
        ["Leaf 'A'", "severity", "low must be below high"],
        "tree.leaves['A'].severity",
    ),
    (flat([L("A", low=100, high=10)]), ["Leaf 'A'", "low must be below high"], "tree.leaves['A']"),
    (
        flat([L("A", severity={"family": "pert", "min": -5, "mode": 1, "max": 10})]),
        ["Leaf 'A'", "severity", "negative"],
        "tree.leaves['A'].severity",
    ),
    (
        flat([L("A", severity={"family": "lognormal", "low": 0, "high": 10})]),
        ["Leaf 'A'", "positive"],
        "tree.leaves['A'].severity",
    ),
    (flat([L("A", deductible=-1)]), ["Leaf 'A'", "deductible"], "tree.leaves['A'].deductible"),
    (flat([L("A", cap=0)]), ["Leaf 'A'", "cap"], "tree.leaves['A'].cap"),
    (
        flat([L("A", frequency=2.0, probability=0.1)]),
        ["Leaf 'A'", "exactly one of probability"],
        "tree.leaves['A']",
    ),
    (flat([L("A", frequency=-2.0)]), ["Leaf 'A'", "frequency"], "tree.leaves['A'].frequency"),
    (
        flat(
            [
                L(
                    "A",
                    severity={
                        "family": "metalog",
                        "quantiles": [[0.1, 100], [0.2, 10_000], [0.8, 10_100], [0.9, 1e6]],
                    },
                )
            ]
        ),
        ["Leaf 'A'", "infeasible metalog"],
        "tree.leaves['A'].severity",
    ),
    (flat([L("A", colour="red")]), ["Leaf 'A'", "colour"], "tree.leaves['A'].colour"),
    (flat([L("A")], trials=0), ["trials", "greater than or equal to 1"], "trials"),
    (flat([L("A")], trials=10**7 + 1), ["trials", "less than or equal to 10000000"], "trials"),
    (
        flat([{"name": "A"}], [{"name": "Root"}]),
        ["Leaf 'A'", "severity"],
        "tree.leaves['A'].severity",
    ),
    (flat([L("A", parent=None)]), ["Leaf 'A' has no parent"], "tree.leaves['A'].parent"),
    (
        flat([L("A"), L("B")], correlation={"leaves": ["A", "Z"], "matrix": [[1, 0], [0, 1]]}),
        ["'Z'", "not a leaf"],
        "correlation.leaves[1]",
    ),
    (
        flat([L("A"), L("B")], correlation={"leaves": ["A", "B"], "matrix": [[1, 2], [2, 1]]}),
        ["'A' with 'B'", "[-1, 1]"],
        "correlation.matrix[0][1]",
    ),
    (
        flat(
            [L("A"), L("B"), L("C")],
            correlation={
                "leaves": ["A", "B", "C"],
                "matrix": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
            },
        ),
        ["not a valid correlation matrix"],
        "correlation.matrix",
    ),
    (flat([L("A")], output={"chart_nodes": ["Nope"]}), ["'Nope'"], "output.chart_nodes"),
]


@pytest.mark.parametrize(("spec", "words", "location"), CASES)
def test_rule_names_node_and_field(invalid, spec, words, location) -> None:
    err = invalid(spec)
    assert err.status == 422
    for word in words:
        assert word in err.message, err.message
    if location is not None:
        assert err.location is not None and err.location.startswith(location), err.location


def test_nested_errors_name_the_node(invalid) -> None:
    tree = {
        "name": "Root",
        "children": [
            {
                "name": "IT",
                "children": [{"name": "Laptop theft", "probability": 2, "low": 1, "high": 5}],
            },
        ],
    }
    err = invalid({"tree": tree})
    assert "Leaf 'Laptop theft'" in err.message and "probability" in err.message
    assert err.location == "tree.leaves['Laptop theft'].probability"


def test_nested_and_flat_forms_compile_alike() -> None:
    nested = {
        "name": "Root",
        "children": [
            {"name": "IT", "children": [{"name": "A", "probability": 0.1, "low": 1, "high": 5}]},
            {"name": "B", "frequency": 0.5, "low": 2, "high": 9},
        ],
    }
    flat_tree = {
        "name": "Root",
        "portfolios": [{"name": "IT", "parent": "Root"}],
        "leaves": [
            {"name": "A", "parent": "IT", "probability": 0.1, "low": 1, "high": 5},
            {"name": "B", "parent": "Root", "frequency": 0.5, "low": 2, "high": 9},
        ],
    }
    a, b = (build(parse_spec({"tree": t})) for t in (nested, flat_tree))
    assert a.nodes == b.nodes
    assert [lp.leaf for lp in a.leaves] == [lp.leaf for lp in b.leaves]
    assert [(n.name, n.depth) for n in a.nodes] == [("Root", 0), ("IT", 1), ("A", 2), ("B", 1)]


def test_yaml_and_csv_register_import(tmp_path: Path) -> None:
    text = (
        "name,parent,probability,low,high\nCyber,,,,\nPhishing,Cyber,0.3,1000,50000\n"
        "Ransomware,Cyber,0.05,100000,5000000\n"
    )
    doc = parse_document(text, filename="register.csv")
    tree = build(parse_spec({"tree": doc}))
    assert [n.name for n in tree.nodes] == ["Cyber", "Phishing", "Ransomware"]
    assert tree.leaves[0].leaf.severity.family == "lognormal"
    yaml_doc = parse_document(
        "trials: 500\ntree:\n  name: R\n  children:\n"
        "    - {name: X, probability: 0.5, low: 1, high: 2}\n"
    )
    assert parse_spec(yaml_doc).trials == 500


def test_register_makes_undefined_parents_portfolios() -> None:
    text = "name,parent,probability,low,high\nA,IT,0.1,1,10\nB,Ops,0.2,1,10\nC,IT,0.3,1,10\n"
    tree = build(parse_spec({"tree": parse_document(text, filename="r.csv")}))
    assert [(n.name, n.kind) for n in tree.nodes][:2] == [
        ("All risks", "portfolio"),
        ("IT", "portfolio"),
    ]
    assert {n.name for n in tree.nodes} == {"All risks", "IT", "Ops", "A", "B", "C"}


def test_register_bad_number_names_row_and_column(invalid) -> None:
    text = "name,parent,probability,low,high\nRoot,,,,\nA,Root,ten percent,1,10\n"
    with pytest.raises(Exception) as info:
        parse_document(text, filename="r.csv")
    assert "row 3" in str(info.value) and "probability" in str(info.value)


def test_job_spec_can_point_to_an_uploaded_file(tmp_path: Path, invalid) -> None:
    path = tmp_path / "upload-1"
    path.write_text("name,parent,probability,low,high\nR,,,,\nA,R,0.2,10,100\n")
    spec = parse_spec({"file": "f1", "trials": 777}, {"f1": path})
    assert spec.trials == 777 and [leaf.name for leaf in spec.tree.leaves] == ["A"]
    err = invalid({"file": "nope"})
    assert err.code == "unknown_file" and err.location == "file"
    # file_id, as `montesim run --file` and `montesim submit --file` send it
    spec = parse_spec({"file_id": "f1", "trials": 778}, {"f1": path})
    assert spec.trials == 778
    err = invalid({"file_id": "nope"})
    assert err.code == "unknown_file" and err.location == "file_id"
