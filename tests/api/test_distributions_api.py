"""GET /api/distributions lists every family, its parameters and its @RISK functions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from montesim.api.app import create_app
from montesim.config import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("distributions")
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'db.sqlite'}")
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def test_lists_forty_families_with_their_risk_functions(client: TestClient) -> None:
    res = client.get("/api/distributions")
    assert res.status_code == 200
    families = {f["family"]: f for f in res.json()["families"]}
    assert len(families) >= 40
    loglogistic = families["loglogistic"]
    assert loglogistic["risk_name"] == "RiskLoglogistic"
    assert loglogistic["risk_names"] == ["RiskLoglogistic"]
    assert loglogistic["params"] == ["gamma", "beta", "alpha"]
    assert loglogistic["vectors"] == [] and loglogistic["discrete"] is False
    assert families["histogrm"]["vectors"] == ["ps"]
    assert families["histogrm"]["risk_name"] == "RiskHistogrm"
    assert families["general"]["params"] == ["min", "max", "xs", "ps"]
    assert families["negbin"]["discrete"] is True
    assert families["hypergeo"]["params"] == ["n", "D", "M"]
    # every family has a description and a Risk function, and the names are distinct
    risk = [r for f in families.values() for r in f["risk_names"]]
    assert len(risk) == len(set(risk)) and all(r.startswith("Risk") for r in risk)
    assert all(f["risk_names"] and f["risk_name"] == f["risk_names"][0] for f in families.values())


def test_each_listed_family_previews_with_the_listed_parameters(client: TestClient) -> None:
    """The list is the contract the studio builds its forms from: a family taken from it,
    with as many parameters as it names, is understood by the preview."""
    families = client.get("/api/distributions").json()["families"]
    student = next(f for f in families if f["family"] == "student")
    res = client.post(
        "/api/distributions/preview", json={"family": student["risk_name"], "params": [5]}
    )
    assert res.status_code == 200 and res.json()["p50"] == pytest.approx(0.0, abs=1e-12)
    # Student's t(5) 95th percentile, from tables: 2.015048
    assert res.json()["p95"] == pytest.approx(2.015048, rel=1e-6)
    bad = client.post("/api/distributions/preview", json={"family": "student", "params": [-1]})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_distribution"
    assert "nu" in bad.json()["detail"]


def test_published_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/distributions"]["get"]
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/FamilyList")
    info = schema["components"]["schemas"]["FamilyInfo"]["properties"]
    assert {"family", "risk_name", "risk_names", "params", "vectors", "discrete"} <= set(info)
