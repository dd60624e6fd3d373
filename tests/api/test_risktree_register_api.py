"""register's JSON through the risk-tree endpoints: import, validate, simulate, 422s."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
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
