"""The risk-tree router: synchronous simulate, previews, and 422s naming node and field."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from tests.conftest import ServerProc, submit, wait_for

from montesim.api.app import create_app
from montesim.config import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "risktrees"
LOGN = {"family": "lognormal", "low": 1_000, "high": 50_000}


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("risktree-api"))
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def tree(*leaves, **spec):
    return {"tree": {"name": "Root", "children": list(leaves)}, **spec}


def leaf(name, **fields):
    fields.setdefault("probability", 0.2) if "frequency" not in fields else None
    fields.setdefault("severity", LOGN)
    return {"name": name, **fields}


def test_simulate_returns_every_node(client: TestClient) -> None:
    spec = tree(
        {"name": "IT", "children": [leaf("A"), leaf("B", frequency=0.5)]},
        leaf("C"),
        trials=20_000,
        seed=3,
    )
    resp = client.post("/api/risktree/simulate", json=spec)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["order"] == ["Root", "IT", "A", "B", "C"]
    root = body["nodes"]["Root"]
    assert set(root["quantiles"]) == {"p50", "p90", "p95", "p99", "p99.5"}
    assert set(root["tvar"]) == {"95", "99"}
    assert root["lec"]["loss"][0] == 0 and root["lec"]["exceedance"][0] == 1 - root["p_no_loss"]
    assert math.isclose(body["nodes"]["B"]["p_no_loss"], math.exp(-0.5), abs_tol=0.015)
    assert body["chart"]["$schema"].endswith("vega-lite/v5.json")
    assert {row["period"] for row in root["return_periods"]} >= {10, 100, 1000}


def test_simulate_over_the_sync_limit_points_to_jobs(client: TestClient) -> None:
    resp = client.post("/api/risktree/simulate", json=tree(leaf("A"), trials=100_001))
    assert resp.status_code == 422
    body = resp.json()
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "too_many_trials_for_sync"
    assert "/api/jobs" in body["detail"] and body["location"] == "trials"


def test_simulate_example_files(client: TestClient) -> None:
    text = (EXAMPLES / "cyber.csv").read_text()
    doc = client.post(
        "/api/risktree/import",
        content=text,
        headers={"content-type": "text/plain"},
        params={"filename": "cyber.csv"},
    )
    assert doc.status_code == 200, doc.text
    resp = client.post("/api/risktree/simulate", json={"tree": doc.json(), "trials": 5_000})
    assert resp.status_code == 200, resp.text
    assert resp.json()["root"] == "Cyber"


BAD = [
    # (spec, status, code-ish, location, words in detail)
    (tree(leaf("A", probability=1.2)), "tree.leaves['A'].probability", ["Leaf 'A'", "probability"]),
    (
        tree(leaf("A", severity={"family": "lognormal", "low": 9, "high": 3})),
        "tree.leaves['A'].severity",
        ["Leaf 'A'", "low must be below high"],
    ),
    (
        tree(leaf("A", severity={"family": "lognormal", "low": -9, "high": 3})),
        "tree.leaves['A'].severity",
        ["Leaf 'A'", "positive"],
    ),
    (tree(leaf("A"), leaf("A")), "tree.leaves['A'].name", ["'A'", "unique"]),
    (
        tree({"name": "Empty", "children": []}, leaf("A")),
        "tree.portfolios['Empty']",
        ["Portfolio 'Empty' is empty"],
    ),
    (
        {
            "tree": {
                "portfolios": [{"name": "R"}, {"name": "S"}],
                "leaves": [
                    {"name": "A", "parent": "R", "probability": 0.1, "low": 1, "high": 2},
                    {"name": "B", "parent": "S", "probability": 0.1, "low": 1, "high": 2},
                ],
            }
        },
        "tree.portfolios['S'].parent",
        ["exactly one root"],
    ),
    (
        {
            "tree": {
                "portfolios": [{"name": "R"}],
                "leaves": [
                    {"name": "A", "parent": "R", "probability": 0.1, "low": 1, "high": 2},
                    {"name": "B", "parent": "A", "probability": 0.1, "low": 1, "high": 2},
                ],
            }
        },
        "tree.leaves['B'].parent",
        ["Leaf 'B'", "is a leaf"],
    ),
    (
        {
            "tree": {
                "portfolios": [
                    {"name": "R"},
                    {"name": "P", "parent": "Q"},
                    {"name": "Q", "parent": "P"},
                ],
                "leaves": [
                    {"name": "A", "parent": "P", "probability": 0.1, "low": 1, "high": 2},
                    {"name": "B", "parent": "R", "probability": 0.1, "low": 1, "high": 2},
                ],
            }
        },
        None,
        ["cycle"],
    ),
    (tree(leaf("A"), trials=0), "trials", ["trials"]),
    (tree(leaf("A"), trials=20_000_000), "trials", ["trials", "10000000"]),
    (
        tree(leaf("A", severity={"family": "metalog", "quantiles": [[0.5, 10]]})),
        "tree.leaves['A'].severity.quantiles",
        ["Leaf 'A'", "at least 2"],
    ),
]


@pytest.mark.parametrize(("spec", "location", "words"), BAD)
def test_bad_input_is_a_422_naming_node_and_field(client: TestClient, spec, location, words):
    resp = client.post("/api/risktree/simulate", json=spec)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    for word in words:
        assert word in body["detail"], body
    if location:
        assert body["location"] == location


def test_preview_gives_pdf_and_cdf(client: TestClient) -> None:
    resp = client.post("/api/risktree/preview", json={"severity": LOGN, "points": 50})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert len(body["x"]) == len(body["pdf"]) == len(body["cdf"]) == 50
    assert math.isclose(body["quantiles"]["p5"], 1_000, rel_tol=1e-9)
    assert math.isclose(body["quantiles"]["p95"], 50_000, rel_tol=1e-9)
    whole_leaf = {"name": "X", "probability": 0.3, "low": 10, "high": 100}
    assert client.post("/api/risktree/preview", json=whole_leaf).status_code == 200


def test_preview_bad_severity_names_the_field(client: TestClient) -> None:
    resp = client.post(
        "/api/risktree/preview",
        json={"severity": {"family": "pert", "min": 5, "mode": 9, "max": 1}},
    )
    assert resp.status_code == 422
    assert resp.json()["location"] == "severity"
    assert "min must be below max" in resp.json()["detail"]


@pytest.mark.xdist_group("api")
def test_large_runs_go_through_the_job_runner(tmp_path: Path) -> None:
    proc = ServerProc(tmp_path, f"sqlite:///{tmp_path / 'montesim.db'}").start()
    try:
        with proc.client() as c:
            spec = tree(
                leaf("A"),
                leaf("B", frequency=1.0),
                trials=150_000,
                seed=5,
                output={"raw_trials": 1_000},
            )
            job_id = submit(c, "risktree", spec)
            job = wait_for(c, job_id, timeout=120)
            assert job["status"] == "complete", job
            result = c.get(f"/api/jobs/{job_id}/result").json()
            summary = result["result"]
            assert summary["trials"] == 150_000 and summary["nodes"]["Root"]["aal"] > 0
            art = c.get(f"/api/jobs/{job_id}/artifacts/trials.parquet")
            assert art.status_code == 200
            table = pq.read_table(io.BytesIO(art.content))
            assert table.num_rows == 1_000 and table.column_names == ["trial", "Root", "A", "B"]
    finally:
        proc.stop()
