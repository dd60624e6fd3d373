"""The horn-solver API (/api/solve, status, stop, results, mesh-artifact) over montesim jobs.

Request checks run in-process without a scheduler (no solve). One real server then runs
small waveguide jobs end to end: result shapes, a frequency that fails alone, cancel
within a frequency, and kill -9 resuming to the same result as an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from tests.conftest import TERMINAL, ServerProc, poll, wait_for

from montesim.api.app import create_app
from montesim.config import Settings

pytest.importorskip("gmsh")

ROSSE = {"formula_type": "R-OSSE", "R": 60, "a": 40, "a0": 15.5, "r0": 12.7, "k": 2, "q": 4}
COARSE = {
    "throat_resolution": 12,
    "mouth_resolution": 30,
    "angular_segments": 16,
    "length_segments": 6,
}


def solve_body(**kw) -> dict:
    body = {
        "frequency_range": [400, 1600],
        "num_frequencies": 3,
        "frequency_spacing": "log",
        "sim_type": "free_standing",
        "polar_config": {"angle_range": [0, 180, 13], "norm_angle": 0, "distance": 2},
        "options": {**ROSSE, **COARSE},
    }
    body.update(kw)
    return body


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("horn-api"))
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


# -- the horn tool's published contract, as facts (its openapi.v1.json, RESULT-CONTRACTS.md,
# and its front end's job-item check), written here rather than copied -------------------

JOB_ITEM_REQUIRED = {
    "id", "run_number", "parent_job_id", "status", "progress", "created_at", "queued_at",
    "config_summary", "solve_options", "has_results", "has_mesh_artifact",
    "cancellation_requested", "design_revision", "polar_grid", "exported_files",
    "auto_export_formats", "log_tail",
}  # fmt: skip
TOOL_STATUSES = {"queued", "running", "complete", "error", "cancelled"}


def _timestamp(value) -> bool:
    from datetime import datetime

    return isinstance(value, str) and datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_job_item(item: dict, *, status_response: bool = False) -> None:
    """JobItem (JobStatusResponse adds updated_at) as the tool's front end checks it."""
    required = JOB_ITEM_REQUIRED | ({"updated_at"} if status_response else set())
    assert required <= set(item), required - set(item)
    assert isinstance(item["id"], str) and item["id"]
    assert isinstance(item["run_number"], int) and item["run_number"] >= 1
    assert item["parent_job_id"] is None or isinstance(item["parent_job_id"], str)
    assert item["status"] in TOOL_STATUSES
    assert isinstance(item["progress"], float) and 0 <= item["progress"] <= 1
    assert _timestamp(item["created_at"]) and _timestamp(item["queued_at"])
    for key in ("started_at", "completed_at", "auto_export_completed_at"):
        assert item.get(key) is None or _timestamp(item[key]), key
    for key in ("config_summary", "solve_options", "polar_grid", "auto_export_formats"):
        assert isinstance(item[key], dict), key
    for key in ("has_results", "has_mesh_artifact", "cancellation_requested"):
        assert isinstance(item[key], bool), key
    for key in ("stage", "stage_message", "label", "error_message", "raw_results_file"):
        assert item.get(key) is None or isinstance(item[key], str), key
    assert item["mesh_stats"] is None or isinstance(item["mesh_stats"], dict)
    assert item["script_snapshot"] is None or isinstance(item["script_snapshot"], dict)
    assert isinstance(item["design_revision"], int) and item["design_revision"] >= 0
    assert item["rating"] is None
    assert all(isinstance(x, str) for x in item["exported_files"] + item["log_tail"])
    assert item.get("solve_path") in (None, "full-3d", "axisymmetric-meridian")


def assert_tool_result(res: dict) -> None:
    """ParametricResultEnvelope: required keys, and the quantities' shapes."""
    for key in ("result_kind", "result_contract_version", "client_request_id"):
        assert key in res, key
    assert res["result_kind"] == "parametric" and res["result_contract_version"] == 1
    assert isinstance(res["client_metadata"], dict) and isinstance(res["provenance"], dict)
    meta = res["metadata"]
    assert meta["result_contract_version"] == 1
    for key in ("phase_quantity", "phase_units", "impedance_quantity", "impedance_units"):
        assert isinstance(meta[key], str), key
    assert meta["impedance_units"] == "Z/(rho*c)" and meta["phase_units"] == "degrees"
    assert all(isinstance(f, float) for f in res["frequencies"])
    for block, keys in (
        ("spl_on_axis", ("frequencies", "spl", "phase_degrees")),
        ("impedance", ("frequencies", "real", "imaginary")),
        ("di", ("frequencies", "di")),
    ):
        for key in keys:  # numbers or null, never NaN
            assert all(x is None or isinstance(x, float) for x in res[block][key]), (block, key)
    for rows in res["directivity"].values():  # per frequency, [angle, level or null] pairs
        for row in rows:
            assert isinstance(row, list)
            for angle, level in row:
                assert isinstance(angle, float) and (level is None or isinstance(level, float))


# -- in-process: requests, 422s, the queued job's views ----------------------------------


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"options": {**ROSSE, "a": 95}}, "options.a"),
        ({"options": {**ROSSE, "a": "40 + nope(p)"}}, "options.a"),
        ({"options": {**ROSSE, "R": -5}}, "options.R"),
        ({"options": {**ROSSE, "formula_type": "OSSE", "L": -1}}, "options.L"),
        ({"options": {**ROSSE, "formula_type": "Tractrix"}}, "options.formula_type"),
        ({"options": {**ROSSE, "colour": 1}}, "options.colour"),
        (
            {"options": {**ROSSE, "throat_resolution": 0.5, "mouth_resolution": 1}},
            "options.max_triangles",
        ),
        ({"frequency_range": [2000, 100]}, "frequency_range"),
        ({"num_frequencies": 100_000}, "frequency_range.count"),
    ],
)
def test_bad_requests_are_422_naming_the_field(client: TestClient, change, location) -> None:
    resp = client.post("/api/solve", json=solve_body(**change))
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert body["location"] == location, body


def test_a_user_mesh_without_a_source_is_refused(client: TestClient) -> None:
    from tests.engines.horn.spheres import icosphere

    v, f = icosphere(0.1, 1)
    mesh = {
        "vertices": v.tolist(),
        "indices": f.ravel().tolist(),
        "surfaceTags": [1] * len(f),
        "units": "m",
    }
    resp = client.post("/api/solve", json=solve_body(mesh=mesh))
    assert resp.status_code == 422
    assert resp.json()["location"] == "mesh.tags" and resp.json()["code"] == "no_source"
    open_mesh = {**mesh, "indices": f[:-1].ravel().tolist(), "surfaceTags": [2] * (len(f) - 1)}
    resp = client.post("/api/solve", json=solve_body(mesh=open_mesh))
    assert resp.status_code == 422 and resp.json()["code"] == "mesh_not_closed"


def test_a_declared_baffled_mesh_is_queued_and_a_bad_one_refused(client: TestClient) -> None:
    from tests.engines.horn.spheres import hemisphere

    v, f = hemisphere(100.0, 4, 16)
    mesh = {
        "vertices": v.ravel().tolist(),
        "indices": f.ravel().tolist(),
        "surfaceTags": [2] * len(f),
        "baffled": True,
    }
    resp = client.post("/api/solve", json=solve_body(mesh=mesh))
    assert resp.status_code == 202, resp.text
    client.post(f"/api/stop/{resp.json()['job_id']}")
    lifted = {**mesh, "vertices": (v + [0, 0, 5]).ravel().tolist()}
    resp = client.post("/api/solve", json=solve_body(mesh=lifted))
    assert resp.status_code == 422
    assert (resp.json()["location"], resp.json()["code"]) == ("mesh.triangles", "mesh_not_closed")
    resp = client.post("/api/solve", json=solve_body(mesh={**mesh, "baffled": False}))
    assert resp.status_code == 422 and resp.json()["code"] == "mesh_not_closed"


def test_queued_job_views_and_stop(client: TestClient) -> None:
    resp = client.post("/api/solve", json=solve_body(label="Reference horn"))
    assert resp.status_code == 202
    job_id = resp.json()["job_id"]
    status = client.get(f"/api/status/{job_id}").json()
    assert_job_item(status, status_response=True)
    assert status["id"] == job_id
    assert status["status"] == "queued" and status["progress"] == 0.0
    assert client.get(f"/api/results/{job_id}").status_code == 409
    assert client.get(f"/api/mesh-artifact/{job_id}").status_code == 404
    item = next(i for i in client.get("/api/jobs").json()["items"] if i["id"] == job_id)
    for key in (
        "id", "status", "progress", "stage", "stage_message", "created_at", "queued_at",
        "started_at", "completed_at", "config_summary", "has_results", "has_mesh_artifact",
        "label", "error_message",
    ):  # fmt: skip
        assert key in item, key
    assert item["config_summary"] == {
        "formula_type": "R-OSSE",
        "frequency_range": [400, 1600],
        "num_frequencies": 3,
        "sim_type": "free_standing",
    }
    assert item["has_results"] is False and item["label"] == "Reference horn"
    assert client.post(f"/api/stop/{job_id}").json() == {
        "message": "Job cancelled",
        "status": "cancelled",
    }
    assert client.get(f"/api/status/{job_id}").json()["status"] == "cancelled"
    assert client.post(f"/api/stop/{job_id}").status_code == 409
    assert client.delete(f"/api/jobs/{job_id}").json() == {"deleted": True, "job_id": job_id}
    for path in ("/api/status/", "/api/results/", "/api/mesh-artifact/"):
        assert client.get(path + job_id).status_code == 404
    assert client.post(f"/api/stop/{job_id}").status_code == 404


# -- ATH .cfg designs: a cfg field on /api/solve, or an upload named by a job spec --------

COARSE_CFG = """
; a small OSSE design; coarse so meshing takes a moment
OSSE = {
  r0 = 12.7  a0 = 10  a = 45  L = 60  k = 1  s = 0.5  n = 4  q = 0.995
  Colour = red
}
Mesh.AngularSegments = 16
Mesh.LengthSegments = 6
Mesh.ThroatResolution = 12
Mesh.MouthResolution = 30
ABEC.Polars:SPL_H = { MapAngleRange = 0,180,13  NormAngle = 0  Distance = 2 }
Output.STL = 1
"""


def cfg_body(**kw) -> dict:
    body = {"frequency_range": [400, 1600], "num_frequencies": 3, "cfg": COARSE_CFG}
    body.update(kw)
    return body


def test_a_cfg_design_is_queued_as_a_horn_job(client: TestClient) -> None:
    resp = client.post("/api/solve", json=cfg_body())
    assert resp.status_code == 202, resp.text
    job_id = resp.json()["job_id"]
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["spec"]["cfg"] == COARSE_CFG and "geometry" not in job["spec"]
    item = next(i for i in client.get("/api/jobs").json()["items"] if i["id"] == job_id)
    assert item["config_summary"]["formula_type"] == "OSSE"
    client.post(f"/api/stop/{job_id}")


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"cfg": "OSSE = { L = 100 "}, "cfg.OSSE"),  # an unclosed block
        ({"cfg": "Mesh.AngularSegments = 16\n"}, "cfg"),  # no OSSE/R-OSSE block
        ({"cfg": COARSE_CFG + "Mesh.RearResolution = big\n"}, "cfg.Mesh.RearResolution"),
        ({"cfg": COARSE_CFG.replace("L = 60", "L = long")}, "cfg.OSSE.L"),
        ({"cfg": COARSE_CFG.replace("a = 45", "a = 95")}, "cfg.OSSE.a"),
        ({"cfg": COARSE_CFG.replace("0,180,13", "0,180")}, "cfg.ABEC.Polars:SPL_H.MapAngleRange"),
        ({"options": {"L": -1}}, "options.L"),  # an override's mistake is the request's
        ({"mesh": {"file_id": "x"}}, "mesh"),
    ],
)
def test_bad_cfg_designs_are_422_naming_the_key(client: TestClient, change, location) -> None:
    resp = client.post("/api/solve", json=cfg_body(**change))
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["location"] == location, resp.json()


def test_an_uploaded_cfg_is_named_by_a_job_spec(client: TestClient) -> None:
    up = client.post("/api/files", files={"file": ("design.cfg", COARSE_CFG.encode())})
    assert up.status_code == 200 or up.status_code == 201, up.text
    file_id = up.json()["file_id"]
    spec = {"cfg_file_id": file_id, "frequencies": {"values": [1000]}}
    resp = client.post("/api/jobs", json={"engine": "horn", "spec": spec})
    assert resp.status_code == 202, resp.text
    client.post(f"/api/jobs/{resp.json()['job_id']}/cancel")
    resp = client.post("/api/solve", json=cfg_body(cfg=None, cfg_file_id=file_id))
    assert resp.status_code == 202, resp.text
    client.post(f"/api/stop/{resp.json()['job_id']}")
    bad = client.post("/api/files", files={"file": ("bad.cfg", b"OSSE = { L = 60  a = wide }")})
    spec = {"cfg_file_id": bad.json()["file_id"], "frequencies": {"values": [1000]}}
    resp = client.post("/api/jobs", json={"engine": "horn", "spec": spec})
    assert resp.status_code == 422 and resp.json()["location"] == "spec.cfg_file_id.OSSE.a"
    resp = client.post("/api/solve", json=cfg_body(cfg=None, cfg_file_id="nope"))
    assert resp.status_code == 422 and resp.json()["location"] == "cfg_file_id"


# -- the API's shapes end to end in-process, with the BEM solve stubbed ---------------------


def fake_solve(surface, frequency, air, points, *, cancelled, report):
    """A stand-in for the BEM solve: a source that beams forward, decaying as 1/r.

    Not physics (the slow tests check that): it lets the job machinery, meshing,
    persistence, merging and the API's shapes run in seconds.
    """
    from montesim.engines.horn.solver import Field

    for stage in ("assembling", "solving", "directivity"):
        report(stage)
    k = 2 * np.pi * frequency / air.c
    r = np.linalg.norm(points, axis=0)
    beam = (1.5 + points[2] / r) / 2.5
    p = air.rho * air.c * 0.01 * beam * np.exp(-1j * k * r) / r
    return Field(surface_mean_source=complex(0.5, 0.3) * air.rho * air.c, points=p)


@pytest.fixture(scope="module")
def stubbed(tmp_path_factory) -> Iterator[TestClient]:
    from montesim.jobs.executors import InlineExecutor

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("montesim.engines.horn.solver.solve", fake_solve)
        mp.setattr("montesim.engines.horn.engine.surface_of", lambda plan: None)
        mp.setattr("montesim.engines.horn.solver.device_note", lambda: "stub")
        settings = Settings(data_dir=tmp_path_factory.mktemp("horn-stub"))
        app = create_app(settings, executor=InlineExecutor())
        with TestClient(app) as c:
            yield c


def test_result_shapes_end_to_end_with_a_stubbed_solve(stubbed: TestClient) -> None:
    # the mesh is far too coarse for 20 kHz: that frequency fails alone, before any solve
    body = solve_body(frequency_range=[400, 20_000])
    job_id = stubbed.post("/api/solve", json=body).json()["job_id"]
    job = wait_for(stubbed, job_id, timeout=120)
    assert job["status"] == "complete", job
    res = stubbed.get(f"/api/results/{job_id}").json()
    assert_tool_result(res)
    freqs = res["frequencies"]
    assert len(freqs) == 3 and freqs[0] == pytest.approx(400) and freqs[2] == pytest.approx(20_000)
    assert res["spl_on_axis"]["frequencies"] == res["impedance"]["frequencies"] == freqs
    for series in (
        res["spl_on_axis"]["spl"],
        res["spl_on_axis"]["phase_degrees"],
        res["impedance"]["real"],
        res["impedance"]["imaginary"],
        res["di"]["di"],
    ):
        assert series[2] is None and all(isinstance(x, float) for x in series[:2])
    # the stub's field on axis is rho c 0.01 e^{-jkd}/d for a unit velocity (exp(+jwt)):
    # the tool's convention is a unit acceleration, amplitude SPL, exp(-iwt)
    meta = res["metadata"]
    rho, c, d = meta["air"]["density"], meta["air"]["speed_of_sound"], 2.0
    for f, level, phase in zip(
        freqs[:2], res["spl_on_axis"]["spl"], res["spl_on_axis"]["phase_degrees"], strict=False
    ):
        omega = 2 * np.pi * f
        p_acc = np.conj(rho * c * 0.01 * np.exp(-1j * omega / c * d) / d) * 1j / omega
        assert level == pytest.approx(20 * np.log10(abs(p_acc) / 20e-6), abs=1e-3)
        assert np.cos(np.radians(phase - np.degrees(np.angle(p_acc)))) == pytest.approx(1)
    assert meta["conventions"]["source_quantity"] == "acceleration"
    assert meta["conventions"]["pressure"] == "amplitude"
    assert meta["montesim_conventions"]["source_quantity"] == "velocity"
    assert meta["impedance_drive"] == "unit_acceleration"
    assert res["impedance"]["real"][0] == pytest.approx(0.5)  # Z/rho c: drive-independent
    assert res["impedance"]["imaginary"][0] == pytest.approx(0.3)
    assert res["di"]["di"][0] > 0  # it beams forward
    assert set(res["directivity"]) == {"horizontal", "vertical", "diagonal"}
    for plane in res["directivity"].values():
        assert len(plane) == 3 and all(row[1] is None for row in plane[2])  # the failed one
        assert len(plane[0]) == 13 and plane[0][0][0] == 0.0
        assert plane[0][-1][0] == 180.0 and plane[0][-1][1] < 0
    assert [f["frequency_hz"] for f in meta["failures"]] == [freqs[2]]
    assert "too coarse" in meta["failures"][0]["reason"] and meta["partial_success"] is True
    assert meta["failure_count"] == 1 and meta["warning_count"] == len(meta["warnings"])
    assert set(meta["mesh"]["triangles_by_tag"]) == {"1", "2", "3"}
    # montesim's own result keeps its convention and says so
    own = stubbed.get(f"/api/jobs/{job_id}/result").json()["result"]
    assert own["metadata"]["conventions"]["source_quantity"] == "velocity"
    assert own["metadata"]["conventions"]["pressure"] == "rms"
    assert own["spl_on_axis"]["spl"][0] == pytest.approx(
        20 * np.log10(rho * c * 0.01 / d / np.sqrt(2) / 20e-6), abs=1e-3
    )
    partial = stubbed.get(f"/api/partial-results/{job_id}").json()
    assert partial["revision"] == 2  # the two solved frequencies; once complete, the result
    assert partial["result"]["spl_on_axis"] == res["spl_on_axis"]
    mesh = stubbed.get(f"/api/mesh-artifact/{job_id}")
    assert mesh.status_code == 200 and mesh.text.startswith("$MeshFormat")
    status = stubbed.get(f"/api/status/{job_id}").json()
    assert_job_item(status, status_response=True)
    assert status["status"] == "complete" and status["progress"] == 1.0
    assert status["has_results"] is True and status["completed_at"]
    item = next(i for i in stubbed.get("/api/jobs").json()["items"] if i["id"] == job_id)
    assert item["has_results"] is True and item["has_mesh_artifact"] is True
    assert item["completed_at"] and item["started_at"] and item["error_message"] is None
    assert stubbed.delete(f"/api/jobs/{job_id}").json() == {"deleted": True, "job_id": job_id}


def test_a_cfg_designs_unused_keys_are_warnings_in_the_result(stubbed: TestClient) -> None:
    job_id = stubbed.post("/api/solve", json=cfg_body()).json()["job_id"]
    assert wait_for(stubbed, job_id, timeout=120)["status"] == "complete"
    res = stubbed.get(f"/api/results/{job_id}").json()
    assert res["metadata"]["formula"] == "OSSE"
    warnings = res["metadata"]["warnings"]
    assert "OSSE.Colour: not used by the horn engine (kept, ignored)" in warnings
    assert "Output.STL: not used by the horn engine (kept, ignored)" in warnings
    # the design's polars stand when the request gives none: one plane, 13 angles
    assert list(res["directivity"]) == ["horizontal"]
    assert len(res["directivity"]["horizontal"][0]) == 13


# -- a real server: solves end to end --------------------------------------------------------


def _wait_done(c: httpx.Client, job_id: str, at_least: int, timeout: float = 2400) -> dict:
    return poll(
        lambda: c.get(f"/api/jobs/{job_id}").json(),
        lambda job: job["done"] >= at_least or job["status"] in TERMINAL,
        timeout,
    )


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.xdist_group("horn-bem")
def test_horn_jobs_end_to_end_on_a_real_server(tmp_path: Path) -> None:
    env = {"MONTESIM_WORKERS": "1"}
    db = f"sqlite:///{tmp_path / 'montesim.db'}"
    long_body = solve_body(num_frequencies=8, frequency_range=[300, 1200])
    server = ServerProc(tmp_path, db, env=env).start()
    try:
        with server.client() as c:
            # 3 frequencies; the mesh is far too coarse for 20 kHz: that one fails alone
            body = solve_body(frequency_range=[400, 20_000])
            job_id = c.post("/api/solve", json=body).json()["job_id"]
            job = wait_for(c, job_id, timeout=2400)
            assert job["status"] == "complete", job
            res = c.get(f"/api/results/{job_id}").json()
            freqs = res["frequencies"]
            assert len(freqs) == 3 and freqs[0] == pytest.approx(400)
            assert res["spl_on_axis"]["frequencies"] == freqs
            assert res["impedance"]["frequencies"] == freqs
            assert [f["frequency"] for f in res["metadata"]["failures"]] == [freqs[2]]
            for series in (res["spl_on_axis"]["spl"], res["spl_on_axis"]["phase_degrees"],
                           res["impedance"]["real"], res["impedance"]["imaginary"], res["di"]["di"]):  # fmt: skip
                assert series[2] is None and all(isinstance(x, float) for x in series[:2])
            for plane in ("horizontal", "vertical", "diagonal"):
                curve = res["directivity"][plane][0]
                assert len(curve) == 13 and curve[0] == [0.0, 0.0]
                assert res["directivity"][plane][2] is None
            assert "rho*c" in res["metadata"]["impedance_quantity"]
            assert res["metadata"]["mesh"]["triangles"] > 0
            mesh = c.get(f"/api/mesh-artifact/{job_id}")
            assert mesh.status_code == 200 and mesh.text.startswith("$MeshFormat")
            item = next(i for i in c.get("/api/jobs").json()["items"] if i["id"] == job_id)
            assert item["has_results"] and item["has_mesh_artifact"]
            assert item["config_summary"]["num_frequencies"] == 3
            status = c.get(f"/api/status/{job_id}").json()
            assert status["status"] == "complete" and status["progress"] == 1.0

            # cancel inside a multi-frequency job: stops within about one frequency
            cancel_id = c.post("/api/solve", json=long_body).json()["job_id"]
            _wait_done(c, cancel_id, 1)
            assert c.post(f"/api/stop/{cancel_id}").json()["status"] in ("cancelling", "cancelled")
            job = wait_for(c, cancel_id, timeout=300)
            assert job["status"] == "cancelled" and job["done"] < 8

            # kill -9 mid-job
            resume_id = c.post("/api/solve", json=long_body).json()["job_id"]
            done_at_kill = _wait_done(c, resume_id, 2)["done"]
    finally:
        server.kill9()
    assert done_at_kill < 8
    restarted = ServerProc(tmp_path, db, env=env).start()
    try:
        with restarted.client() as c:
            job = wait_for(c, resume_id, timeout=2400)
            assert job["status"] == "complete" and job["attempt"] == 2, job
            resumed = c.get(f"/api/results/{resume_id}").json()
            fresh_id = c.post("/api/solve", json=long_body).json()["job_id"]
            assert wait_for(c, fresh_id, timeout=2400)["status"] == "complete"
            fresh = c.get(f"/api/results/{fresh_id}").json()
            for key in ("spl_on_axis", "impedance", "di", "directivity"):
                assert resumed[key] == fresh[key], key
    finally:
        restarted.stop()
