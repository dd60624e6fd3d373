"""register's JSON through the risk-tree endpoints: import, validate, simulate, 422s."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.engines.risktree.test_register_formats import DEFINITION
from tests.engines.risktree.test_risktree_register_json import REGISTER

from montesim.api.app import create_app
from montesim.config import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("register-api"))
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def test_import_and_validate_a_register_file(client: TestClient) -> None:
    resp = client.post(
        "/api/risktree/import",
        params={"filename": "register.json"},
        content=json.dumps(REGISTER),
        headers={"Content-Type": "text/plain"},
    )
    assert resp.status_code == 200, resp.text
    checked = client.post("/api/risktree/validate", json=resp.json())
    assert checked.status_code == 200, checked.text
    assert [(n["name"], n["kind"]) for n in checked.json()["nodes"]] == [
        ("Company", "portfolio"),
        ("IT", "portfolio"),
        ("Ransomware", "leaf"),
        ("Fraud", "leaf"),
    ]


def test_simulate_a_register_tree(client: TestClient) -> None:
    resp = client.post("/api/risktree/simulate", json={"tree": REGISTER, "trials": 3000, "seed": 2})
    assert resp.status_code == 200, resp.text
    nodes = resp.json()["nodes"]
    assert nodes["Company"]["aal"] == pytest.approx(nodes["IT"]["aal"] + nodes["Fraud"]["aal"])


def test_register_mistake_is_a_422_naming_the_leaf(client: TestClient) -> None:
    bad = json.loads(json.dumps(REGISTER))
    bad["leaves"][1]["distributionShape"]["distributionType"] = "weibull"
    resp = client.post("/api/risktree/validate", json={"tree": bad})
    assert resp.status_code == 422
    body = resp.json()
    assert "Fraud" in body["detail"] and body["location"].endswith("distributionType")


def test_cycle_is_a_422_naming_the_cycle(client: TestClient) -> None:
    tree = {
        "name": "R",
        "portfolios": [{"name": "A", "parent": "B"}, {"name": "B", "parent": "A"}],
        "leaves": [{"name": "L", "parent": "A", "probability": 0.1, "low": 1, "high": 10}],
    }
    resp = client.post("/api/risktree/validate", json={"tree": tree})
    assert resp.status_code == 422
    assert "cycle: A → B → A" in resp.json()["detail"]


def test_unknown_register_fields_are_warnings_not_422s(client: TestClient) -> None:
    tree = copy.deepcopy(DEFINITION)
    tree["leaves"][0]["distributionShape"]["skew"] = 1
    checked = client.post("/api/risktree/validate", json={"tree": tree})
    assert checked.status_code == 200, checked.text
    locations = [w["location"] for w in checked.json()["warnings"]]
    assert "tree.leaves['Ransomware Attack'].distributionShape.skew" in locations
    run = client.post("/api/risktree/simulate", json={"tree": tree, "trials": 2000})
    assert run.status_code == 200, run.text
    assert any(w["location"].endswith(".skew") for w in run.json()["warnings"])


def test_export_gives_register_json_that_reads_back_the_same(client: TestClient) -> None:
    resp = client.post("/api/risktree/export", json={"tree": DEFINITION, "trials": 500})
    assert resp.status_code == 200, resp.text
    doc = resp.json()["register"]
    again = client.post("/api/risktree/export", json={"tree": doc})
    assert again.status_code == 200 and again.json()["register"] == doc
    first = client.post("/api/risktree/validate", json={"tree": DEFINITION}).json()
    second = client.post("/api/risktree/validate", json={"tree": doc}).json()
    assert first["nodes"] == second["nodes"]


def test_export_of_a_tree_register_cannot_hold_is_a_422(client: TestClient) -> None:
    tree = {
        "name": "R",
        "children": [
            {
                "name": "A",
                "frequency": 2.0,
                "severity": {"family": "lognormal", "low": 1, "high": 9},
            }
        ],
    }
    resp = client.post("/api/risktree/export", json={"tree": tree})
    assert resp.status_code == 422
    body = resp.json()
    assert body["code"] == "not_expressible_in_register"
    assert body["location"] == "tree.leaves['A'].frequency" and "'A'" in body["detail"]


def test_tolerance_and_exceedance_through_the_api(client: TestClient) -> None:
    tree = {
        "name": "Root",
        "children": [
            {
                "name": "U",
                "probability": 0.3,
                "severity": {"family": "uniform", "min": 0, "max": 1000},
            }
        ],
    }
    spec = {
        "tree": tree,
        "trials": 20_000,
        "tolerance": [[500, 0.1], [900, 0.05]],
        "output": {"exceedance_at": [250]},
    }
    resp = client.post("/api/risktree/simulate", json=spec)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["tolerance"]["exceeded"] is True
    (row,) = body["nodes"]["Root"]["exceedance_at"]
    assert row["probability"] == pytest.approx(0.3 * 0.75, abs=0.01)
    bad = client.post(
        "/api/risktree/validate", json={**spec, "tolerance": [[500, 0.1], [400, 0.05]]}
    )
    assert bad.status_code == 422 and bad.json()["location"] == "tolerance[1]"


def test_validate_gives_the_tree_in_our_flat_form(client: TestClient) -> None:
    checked = client.post(
        "/api/risktree/validate", json={"tree": DEFINITION, "tolerance": [[1e6, 0.1]]}
    )
    assert checked.status_code == 200, checked.text
    body = checked.json()
    assert [p["name"] for p in body["tree"]["portfolios"]] == [
        "Enterprise",
        "Technology",
        "Finance",
    ]
    ransom = body["tree"]["leaves"][0]
    assert ransom["severity"]["family"] == "metalog" and ransom["severity"]["terms"] == 4
    assert body["settings"]["tolerance"] == [[1e6, 0.1]]
    # what the form sends back is the same tree
    again = client.post("/api/risktree/validate", json={"tree": body["tree"], **body["settings"]})
    assert again.status_code == 200 and again.json()["tree"] == body["tree"]


def test_exceedance_after_the_run_from_its_sketch(client: TestClient) -> None:
    tree = {
        "name": "Root",
        "children": [
            {
                "name": "U",
                "probability": 0.3,
                "severity": {"family": "uniform", "min": 0, "max": 1000},
            }
        ],
    }
    at = [1.0, 250.0, 999.0]
    run = client.post(
        "/api/risktree/simulate",
        json={"tree": tree, "trials": 10_000, "output": {"exceedance_at": at}},
    ).json()
    resp = client.post("/api/risktree/exceedance", json={"sketch": run["sketch"], "at": at})
    assert resp.status_code == 200, resp.text
    # the same reading as the run's own, and near the closed form 0.3·(1 − x/1000)
    assert resp.json()["at"] == run["nodes"]["Root"]["exceedance_at"]
    for row in resp.json()["at"]:
        assert row["probability"] == pytest.approx(0.3 * (1 - row["loss"] / 1000), abs=0.015)
    broken = {**run["sketch"], "counts": run["sketch"]["counts"][:-1]}
    bad = client.post("/api/risktree/exceedance", json={"sketch": broken, "at": [1.0]})
    assert bad.status_code == 422 and bad.json()["location"] == "sketch"
    missing = client.post("/api/risktree/exceedance", json={"sketch": run["sketch"], "at": []})
    assert missing.status_code == 422 and "at" in missing.json()["location"]
