"""The studio's workbook endpoints in-process: listing, paging, marks, trace, checks, setups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from tests.engines.excel.books import save_book

from montesim.api.app import create_app
from montesim.config import Settings

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "excel" / "project.xlsx"


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("workbooks")
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'db.sqlite'}")
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def upload(client: TestClient, path: Path, name: str | None = None) -> str:
    with path.open("rb") as f:
        res = client.post("/api/files", files={"file": (name or path.name, f)})
    assert res.status_code == 201, res.text
    return res.json()["file_id"]


@pytest.fixture(scope="module")
def project(client: TestClient) -> str:
    return upload(client, PROJECT)


@pytest.fixture(scope="module")
def formatted(client: TestClient, tmp_path_factory) -> str:
    """A workbook with number formats, a date, RAND(), an unsupported function and a cycle."""
    path = tmp_path_factory.mktemp("fmt") / "formats.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["A1"], ws["B1"] = "Rate", 0.0725
    ws["B1"].number_format = "0.0%"
    ws["A2"], ws["B2"] = "Budget", 1234567.891
    ws["B2"].number_format = "#,##0.00"
    ws["A3"], ws["B3"] = "Start", 45292  # 2024-01-01
    ws["B3"].number_format = "yyyy-mm-dd"
    ws["A4"], ws["B4"] = "Noise", "=NORM.INV(RAND(), 10, 2)"
    ws["A5"], ws["B5"] = "Odd", "=WEBSERVICE(B1)"
    ws["A6"], ws["B6"] = "Loop", "=B7+1"
    ws["B7"] = "=B6*2"
    ws["A8"], ws["B8"] = "Total", "=B2*B1+B4+B5"
    ws.column_dimensions["A"].width = 22
    wb.save(path)
    return upload(client, path)


def test_lists_uploaded_workbooks_by_name_newest_first(client: TestClient, project: str) -> None:
    other = upload(client, PROJECT, "second.xlsx")
    upload_tree = client.post("/api/files", files={"file": ("tree.yaml", b"name: x\n")})
    assert upload_tree.status_code == 201
    items = client.get("/api/files").json()["items"]
    names = [i["filename"] for i in items]
    assert names[0] == "second.xlsx" and "project.xlsx" in names
    assert "tree.yaml" not in names  # workbooks only by default
    assert items[0]["file_id"] == other and items[0]["uploaded_at"]
    everything = client.get("/api/files?kind=any").json()["items"]
    assert "tree.yaml" in [i["filename"] for i in everything]


def test_sheets_and_marks_of_the_example(client: TestClient, project: str) -> None:
    body = client.get(f"/api/files/{project}/sheets").json()
    assert [s["name"] for s in body["sheets"]] == ["Inputs", "Corr", "Prices", "Model"]
    model = next(s for s in body["sheets"] if s["name"] == "Model")
    assert (model["rows"], model["cols"]) == (13, 7)
    assert {i["cell"] for i in body["inputs"]} == {f"Inputs!B{r}" for r in range(1, 6)}
    assert {o["name"] for o in body["outputs"]} == {"NPV", "IRR", "NPV > 0", "Loss-making years"}
    assert body["computed_values"] is True  # written by openpyxl: no cached values


def test_a_page_of_cells(client: TestClient, project: str) -> None:
    page = client.get(f"/api/files/{project}/sheets/Inputs/cells", params={"range": "A1:B9"}).json()
    by = {c["a"]: c for c in page["cells"]}
    assert by["A6"]["v"] == "Fixed costs" and by["B6"]["v"] == "30000" and by["B6"]["x"] == 30000
    assert by["B1"]["m"] == "input" and by["B1"]["f"].startswith("=RiskPert(")
    # PERT(40000, 50000, 75000) has mean (40000 + 4*50000 + 75000) / 6 = 52500
    assert by["B1"]["computed"] is True and by["B1"]["x"] == pytest.approx(52500)
    outs = client.get(
        f"/api/files/{project}/sheets/model/cells", params={"range": "B10:B13"}
    ).json()
    assert [c["m"] for c in outs["cells"]] == ["output"] * 4
    assert "A1" not in {c["a"] for c in outs["cells"]}  # only the range asked for


def test_number_formats_and_marks(client: TestClient, formatted: str) -> None:
    page = client.get(f"/api/files/{formatted}/sheets/Plan/cells?range=A1:B8").json()
    by = {c["a"]: c for c in page["cells"]}
    assert by["B1"]["v"] == "7.3%" and by["B1"]["fmt"] == "0.0%"
    assert by["B2"]["v"] == "1,234,567.89"
    assert by["B3"]["v"] == "2024-01-01"
    assert by["B4"]["m"] == "random" and by["B5"]["m"] == "unsupported"
    sheets = client.get(f"/api/files/{formatted}/sheets").json()
    assert sheets["sheets"][0]["col_widths"]["1"] == pytest.approx(22, abs=1)
    assert sheets["unsupported"]["WEBSERVICE"] == ["Plan!B5"]
    rand = sheets["random"][0]
    assert rand["cell"] == "Plan!B4"
    assert rand["suggested"] == {"family": "normal", "params": [10.0, 2.0]}


def test_bad_pages_answer_4xx_naming_the_field(client: TestClient, project: str) -> None:
    base = f"/api/files/{project}/sheets"
    res = client.get(f"{base}/Nope/cells?range=A1:B2")
    assert res.status_code == 422 and res.json()["code"] == "unknown_sheet"
    res = client.get(f"{base}/Model/cells?range=A1:ZZ5000")
    assert res.status_code == 422 and res.json()["code"] == "range_too_large"
    assert res.json()["location"] == "range"
    res = client.get(f"{base}/Model/cells?range=hello")
    assert res.status_code == 422 and res.json()["code"] == "invalid_range"
    res = client.get("/api/files/00000000-0000-0000-0000-000000000000/sheets")
    assert res.status_code == 404 and res.json()["code"] == "file_not_found"
    tree = client.post("/api/files", files={"file": ("t.yaml", b"x: 1\n")}).json()["file_id"]
    res = client.get(f"/api/files/{tree}/sheets")
    assert res.status_code == 422 and res.json()["code"] == "not_a_workbook"
    broken = client.post("/api/files", files={"file": ("broken.xlsx", b"not a zip")})
    res = client.get(f"/api/files/{broken.json()['file_id']}/sheets")
    assert res.status_code == 422 and res.json()["code"] == "workbook_corrupt"


def test_precedents_and_dependents(client: TestClient, project: str) -> None:
    res = client.get(f"/api/files/{project}/trace", params={"cell": "Model!C2"}).json()
    assert res["precedents"] == ["Inputs!B1", "Inputs!B2", "Inputs!B3", "Model!C1"]
    assert "Model!C4" in res["dependents"] and "Model!C5" in res["dependents"]
    down = client.get(f"/api/files/{project}/trace", params={"cell": "Inputs!B1"}).json()
    assert down["dependents"] == [f"Model!{c}2" for c in "CDEFG"]
    bad = client.get(f"/api/files/{project}/trace", params={"cell": "Model!1A"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cell"


def test_distribution_preview_and_its_errors(client: TestClient) -> None:
    families = client.get("/api/distributions").json()["families"]
    normal = next(f for f in families if f["family"] == "normal")
    assert normal["risk_name"] == "RiskNormal" and normal["params"] == ["mean", "sd"]
    body = client.post(
        "/api/distributions/preview", json={"family": "normal", "params": [10, 2]}
    ).json()
    assert body["mean"] == pytest.approx(10)
    assert body["p5"] == pytest.approx(10 - 1.6448536 * 2, rel=1e-6)
    assert body["p95"] == pytest.approx(10 + 1.6448536 * 2, rel=1e-6)
    xs, ys = body["points"]["x"], body["points"]["y"]
    assert len(xs) == len(ys) == 80 and max(ys) == pytest.approx(1 / (2 * 2.5066283), rel=0.02)
    bad = client.post("/api/distributions/preview", json={"family": "normal", "params": [10, -2]})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_distribution"
    assert "sd" in bad.json()["detail"]
    disc = client.post(
        "/api/distributions/preview",
        json={"family": "discrete", "params": [[1, 2, 3], [0.2, 0.5, 0.3]]},
    ).json()
    assert disc["discrete"] and disc["points"]["x"] == [1, 2, 3]
    assert disc["points"]["y"] == pytest.approx([0.2, 0.5, 0.3])


def test_correlation_check(client: TestClient) -> None:
    ok = client.post(
        "/api/correlations/check", json={"inputs": ["a", "b"], "matrix": [[1, 0.5], [0.5, 1]]}
    )
    assert ok.status_code == 200 and ok.json()["ok"]
    bad = client.post(
        "/api/correlations/check", json={"inputs": ["a", "b"], "matrix": [[1, 1.5], [1.5, 1]]}
    )
    assert bad.status_code == 422 and bad.json()["location"].startswith("correlation.matrix")


def test_precheck_lists_every_problem_with_its_cells(client: TestClient, formatted: str) -> None:
    spec = {
        "outputs": [{"cell": "Plan!B8", "name": "Total"}, "Plan!B6"],
        "inputs": {"Plan!A1": "normal(1,1)"},
    }
    body = client.post(f"/api/files/{formatted}/check", json=spec).json()
    assert not body["ok"]
    by = {i["code"]: i for i in body["items"]}
    # RAND() in Plan!B4 is a random input of the engine now, not a problem to fix
    assert "random_function" not in by and "Plan!B4" not in str(body["items"])
    assert by["unsupported_function"]["cells"] == ["Plan!B5"]
    assert "WEBSERVICE" in by["unsupported_function"]["message"]
    assert set(by["circular_reference"]["cells"]) == {"Plan!B6", "Plan!B7"}
    assert by["input_unused"]["cells"] == ["Plan!A1"]


def test_precheck_passes_a_good_model_and_flags_constant_outputs(
    client: TestClient, project: str
) -> None:
    spec = {
        "inputs": {"Inputs!B6": {"family": "normal", "params": [30000, 3000], "name": "Fixed"}},
        "outputs": [{"cell": "Model!B10", "name": "NPV"}, {"cell": "Inputs!B9", "name": "Tax"}],
    }
    body = client.post(f"/api/files/{project}/check", json=spec).json()
    assert body["ok"], body
    assert [i["code"] for i in body["items"]] == ["output_not_random"]
    assert body["items"][0]["cells"] == ["Inputs!B9"]
    assert {i["name"] for i in body["inputs"]} >= {"Fixed", "Market size"}
    bad = client.post(
        f"/api/files/{project}/check", json={"inputs": {"Nope!B1": "normal(1,1)"}}
    ).json()
    assert not bad["ok"] and bad["items"][0]["code"] == "unknown_sheet"
    wrong = client.post(f"/api/files/{project}/check", json={"iterations": 0}).json()
    assert wrong["items"][0]["location"] == "spec.iterations"


def test_model_setups_round_trip(client: TestClient, project: str) -> None:
    definition = {
        "inputs": {"Inputs!B6": {"family": "normal", "params": [30000, 3000]}},
        "iterations": 5000,
    }
    saved = client.post(
        f"/api/files/{project}/setups", json={"name": "Base case", "definition": definition}
    )
    assert saved.status_code == 201
    again = upload(client, PROJECT)  # the same workbook uploaded again finds its setups
    items = client.get(f"/api/files/{again}/setups").json()["items"]
    assert [i["name"] for i in items] == ["Base case"] and items[0]["definition"] == definition
    changed = {**definition, "iterations": 9000}
    client.post(f"/api/files/{again}/setups", json={"name": "Base case", "definition": changed})
    items = client.get(f"/api/files/{project}/setups").json()["items"]
    assert len(items) == 1 and items[0]["definition"]["iterations"] == 9000
    setup_id = items[0]["setup_id"]
    assert client.get(f"/api/setups/{setup_id}").json()["name"] == "Base case"
    assert client.delete(f"/api/setups/{setup_id}").status_code == 200
    assert client.get(f"/api/setups/{setup_id}").status_code == 404
    big = client.post(
        f"/api/files/{project}/setups", json={"name": "x", "definition": {"a": "y" * 300_000}}
    )
    assert big.status_code == 422 and big.json()["location"].startswith("definition")
    nameless = client.post(f"/api/files/{project}/setups", json={"name": "", "definition": {}})
    assert nameless.status_code == 422


def test_a_workbook_is_read_once_for_many_pages(
    client: TestClient, tmp_path: Path, monkeypatch
) -> None:
    from montesim.api import workbooks

    path = save_book(tmp_path / "big.xlsx", {f"S!A{r}": r for r in range(1, 1001)})
    file_id = upload(client, path)
    calls = []
    real = workbooks.build_view
    monkeypatch.setattr(workbooks, "build_view", lambda *a, **k: calls.append(1) or real(*a, **k))
    for start in range(1, 1001, 200):
        page = client.get(
            f"/api/files/{file_id}/sheets/S/cells?range=A{start}:A{start + 199}"
        ).json()
        assert [c["x"] for c in page["cells"]] == list(range(start, start + 200))
    assert len(calls) == 1


def test_job_list_items_carry_the_workbook_file_name(client: TestClient, project: str) -> None:
    spec = {"file_id": project, "iterations": 1000}
    job = client.post("/api/jobs", json={"engine": "excel", "spec": spec}).json()["job_id"]
    inline = {"cells": {"S!A1": "=RiskNormal(1, 2)"}, "outputs": ["S!A1"], "iterations": 1000}
    other = client.post("/api/jobs", json={"engine": "excel", "spec": inline}).json()["job_id"]
    items = {i["job_id"]: i for i in client.get("/api/jobs").json()["items"]}
    assert items[job]["file_name"] == "project.xlsx"
    assert items[other]["file_name"] is None


def test_a_slow_workbook_answers_reading_until_it_is_read(
    client: TestClient, project: str, monkeypatch
) -> None:
    import threading

    from montesim.api import workbooks

    gate = threading.Event()
    real = workbooks.build_view

    def slow(*args, **kwargs):
        gate.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(workbooks, "build_view", slow)
    monkeypatch.setattr(workbooks, "views", workbooks.Background(wait=0.05))
    first = client.get(f"/api/files/{project}/sheets")
    assert first.status_code == 202 and first.json()["status"] == "reading"
    assert first.headers["retry-after"] == "1"
    page = client.get(f"/api/files/{project}/sheets/Inputs/cells?range=A1:B2")
    assert page.status_code == 202
    gate.set()
    workbooks.views.wait = 30
    done = client.get(f"/api/files/{project}/sheets/Inputs/cells?range=A1:B2")
    assert done.status_code == 200 and done.json()["cells"][0]["v"] == "Market size (units)"


def test_formulas_beyond_the_compute_limit_are_shown_as_formulas(
    client: TestClient, tmp_path: Path, monkeypatch
) -> None:
    from montesim.engines.excel import sheetview

    monkeypatch.setattr(sheetview, "MAX_COMPUTED_FORMULAS", 2)
    path = save_book(
        tmp_path / "many.xlsx", {"S!A1": 2, "S!A2": "=A1*2", "S!A3": "=A2*2", "S!A4": "=A3+1"}
    )
    file_id = upload(client, path)
    body = client.get(f"/api/files/{file_id}/sheets").json()
    assert body["uncomputed_formulas"] == 3 and not body["computed_values"]
    cells = client.get(f"/api/files/{file_id}/sheets/S/cells?range=A1:A4").json()["cells"]
    assert [c["v"] for c in cells] == ["2", "=A1*2", "=A2*2", "=A3+1"]
    assert all(c.get("uncomputed") for c in cells[1:])


def test_more_bad_requests_are_4xx(client: TestClient, project: str) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/api/files/{missing}/setups").json()["code"] == "file_not_found"
    res = client.post(f"/api/files/{missing}/setups", json={"name": "x", "definition": {}})
    assert res.status_code == 404
    res = client.get(f"/api/files/{project}/trace", params={"cell": "Nope!A1"})
    assert res.status_code == 422 and res.json()["code"] == "unknown_sheet"
    res = client.post(
        f"/api/files/{project}/check",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert res.status_code == 400 and res.json()["code"] == "malformed_json"
    res = client.post("/api/distributions/preview", json={"family": "nope", "params": [1]})
    assert res.status_code == 422 and "unknown distribution" in res.json()["detail"]
    res = client.post("/api/distributions/preview", json={"family": "normal", "params": [1]})
    assert res.status_code == 422 and "takes 2 arguments" in res.json()["detail"]
    assert client.get("/api/files?kind=bogus").status_code == 422
    res = client.get(
        f"/api/files/{project}/sheets/Model/cells", params={"range": "A1:B" + "9" * 40}
    )
    assert res.status_code == 422
