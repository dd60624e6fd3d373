"""Tail drivers: co-TVaR contributions add up to the node's TVaR, match the trials, and do
not depend on the chunking."""

from __future__ import annotations

import io
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

TREE = {
    "name": "Root",
    "children": [
        {
            "name": "IT",
            "children": [
                {"name": "Ransomware", "probability": 0.08, "low": 1e5, "high": 5e6},
                {"name": "Outage", "probability": 0.3, "low": 2e4, "high": 4e5},
            ],
        },
        {
            "name": "Fraud",
            "frequency": 1.5,
            "severity": {"family": "pert", "min": 1e3, "mode": 2e4, "max": 3e5},
        },
        {"name": "Fine", "probability": 0.05, "low": 5e4, "high": 2e6, "cap": 1e6},
    ],
}
LEAVES = ("Ransomware", "Outage", "Fraud", "Fine")


def test_contributions_add_up_to_the_tvar_and_are_ranked(simulate) -> None:
    nodes = simulate(TREE, trials=20_000, seed=5).summary["nodes"]
    for node in nodes.values():
        for level, key in (("tvar95", "95"), ("tvar99", "99")):
            shares = node["contributions"][level]
            assert math.fsum(shares.values()) == node["tvar"][key]
            assert list(shares.values()) == sorted(shares.values(), reverse=True)
            if node["kind"] == "portfolio":
                by_child = node["child_contributions"][level]
                assert math.fsum(by_child.values()) == pytest.approx(node["tvar"][key], rel=1e-12)
    assert set(nodes["Root"]["contributions"]["tvar99"]) == set(LEAVES)
    assert set(nodes["Root"]["child_contributions"]["tvar99"]) == {"IT", "Fraud", "Fine"}
    assert set(nodes["IT"]["contributions"]["tvar95"]) == {"Ransomware", "Outage"}
    assert nodes["Fine"]["contributions"]["tvar99"] == {"Fine": nodes["Fine"]["tvar"]["99"]}


def test_contributions_are_the_leaves_means_over_the_worst_trials(simulate) -> None:
    n = 20_000
    result = simulate(TREE, trials=n, seed=7, output={"raw_trials": n})
    table = pq.read_table(io.BytesIO(result.artifacts["trials.parquet"][1]))
    root = table.column("Root").to_numpy()
    nodes = result.summary["nodes"]
    for level, q in (("tvar95", 0.95), ("tvar99", 0.99)):
        k = round((1 - q) * n)  # a whole number of trials: no edge to share out
        worst = np.argsort(root, kind="stable")[-k:]
        tvar = root[worst].mean()
        assert nodes["Root"]["tvar"][level[-2:]] == pytest.approx(tvar, rel=2e-3)
        for leaf in LEAVES:
            expected = table.column(leaf).to_numpy()[worst].mean()
            got = nodes["Root"]["contributions"][level][leaf]
            assert got == pytest.approx(expected, abs=5e-3 * tvar)


def test_contributions_do_not_depend_on_chunks(simulate) -> None:
    runs = [
        simulate(TREE, trials=200_000, seed=11, chunk_size=size).summary["nodes"]
        for size in (65_536, 131_072, 200_000)
    ]
    for other in runs[1:]:
        for name in runs[0]:
            assert other[name]["contributions"] == runs[0][name]["contributions"]
            assert other[name]["tvar"] == runs[0][name]["tvar"]


def test_contributions_can_be_left_out(simulate) -> None:
    with_them = simulate(TREE, trials=5_000, seed=1).summary["nodes"]["Root"]
    without = simulate(TREE, trials=5_000, seed=1, output={"contributions": False}).summary
    root = without["nodes"]["Root"]
    assert "contributions" not in root
    assert root["aal"] == with_them["aal"]
    # the TVaR is then read from the histogram: close to the exact tail mean
    assert root["tvar"]["99"] == pytest.approx(with_them["tvar"]["99"], rel=0.01)
