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

OUTPUT_STL = (
    "Output.STL: not used (an output setting of ATH (files to write); it does not change the solve)"
)

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
# JobStatusResponse admits no other properties (additionalProperties: false)
JOB_STATUS_OPTIONAL = {
    "archived_at", "auto_export_completed_at", "axisymmetric_eligibility_reasons", "cad_source",
    "client_metadata", "client_request_id", "completed_at", "design_availability",
    "error_message", "field_plane_available", "field_trace_bytes",
    "has_pressure_basis_artifact", "has_radiation_impedance_artifact", "label",
    "mesh_artifact_file", "mesh_discarded_at", "mesh_stats", "message", "persistence_warnings",
    "pressure_basis_artifact_bytes", "radiation_impedance_artifact_bytes", "rating",
    "raw_results_file", "results_discarded_at", "script_snapshot", "solve_path",
    "solve_wall_time_seconds", "stage", "stage_message", "started_at", "symmetry",
    "unavailable_reason",
}  # fmt: skip


def _timestamp(value) -> bool:
    from datetime import datetime

    return isinstance(value, str) and datetime.fromisoformat(value.replace("Z", "+00:00"))


def assert_job_item(item: dict, *, status_response: bool = False) -> None:
    """JobItem (JobStatusResponse adds updated_at) as the tool's front end checks it."""
    required = JOB_ITEM_REQUIRED | ({"updated_at"} if status_response else set())
    assert required <= set(item), required - set(item)
    if status_response:
        extra = set(item) - required - JOB_STATUS_OPTIONAL
        assert not extra, extra
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
    assert "OSSE.Colour: not used (not a parameter of ATH's OSSE profile)" in warnings
    assert OUTPUT_STL in warnings
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
                assert all(level is None for _, level in res["directivity"][plane][2])
            assert res["metadata"]["impedance_units"] == "Z/(rho*c)"
            assert_tool_result(res)
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


# -- the request shapes the horn tool has sent ---------------------------------------------

# its older front end: frequency_range, a placeholder mesh, the design in waveguide_params
V1_PARAMS = {
    "formula_type": "R-OSSE", "R": "60", "a": "40", "r0": 12.7, "a0": 15.5, "k": 2.0,
    "q": 3.4, "r": 0.4, "b": 0.2, "m": 0.85, "tmax": 1.0, "L": "120", "s": "0.58",
    "n": 4.158, "h": 0.0, "throat_profile": 1, "throat_ext_angle": 0, "throat_ext_length": 0,
    "slot_length": 0, "rot": 0, "circ_arc_term_angle": 1, "circ_arc_radius": 0,
    "gcurve_type": 0, "gcurve_dist": 1, "morph_target": 0, "morph_rate": 3,
    "n_angular": 16, "n_length": 6, "quadrants": 1234, "throat_res": 12.0,
    "mouth_res": 30.0, "rear_res": 40.0, "max_triangles": 50000, "wall_thickness": 6.0,
    "enc_depth": 0.0, "enc_space_l": 25.0, "source_shape": 2, "source_radius": -1.0,
    "source_curv": 0, "source_velocity": 1, "sim_type": 2, "msh_version": "2.2",
    "step_body": "inner_surface", "solver_mode": "auto",
}  # fmt: skip
V1_BODY = {
    "mesh": {
        "vertices": [0, 0, 0, 1, 0, 0, 0, 1, 0],
        "indices": [0, 1, 2],
        "surfaceTags": [2],
        "format": "msh",
        "boundaryConditions": {},
        "metadata": {},
    },
    "frequency_range": [400, 1600],
    "num_frequencies": 3,
    "sim_type": "2",
    "options": {"mesh": {"strategy": "hornlab_mesher", "waveguide_params": V1_PARAMS}},
    "polar_config": {
        "angle_range": [0, 180, 13],
        "norm_angle": 10,
        "distance": 2,
        "inclination": 30,
        "enabled_axes": ["horizontal", "diagonal"],
        "observation_origin": "mouth",
        "spherical_sampling": False,
    },
    "advanced_settings": {"bem_precision": "double", "use_burton_miller": True},
    "use_optimized": True,
    "verbose": True,
    "mesh_validation_mode": "warn",
    "frequency_spacing": "log",
    "device_mode": "auto",
    "solver_backend": "auto",
    "solver_mode": "auto",
}

# its current front end: the design object (ATH names, numbers as {value, raw})
DESIGN = {
    "formula": "R-OSSE",
    "R": {"value": 60, "raw": "60"},
    "a": {"value": None, "raw": "40 - 5*sin(p)^2"},
    "r0": {"value": 12.7},
    "a0": 15.5,
    "k": 2,
    "q": 3.4,
    "r": 0.4,
    "b": 0.2,
    "m": 0.85,
    "tmax": 1,
    "scale": {"value": 1},
    "morph": {"target_shape": {"value": 0}, "rate": {"value": 3}},
    "mesh": {
        "angular_segments": {"value": 16},
        "length_segments": {"value": 6},
        "throat_resolution": {"value": 12},
        "mouth_resolution": {"value": 30},
        "quadrants": {"value": 1234},
        "wall_thickness": {"value": 6},
    },
    "enclosure": {"depth": {"value": 0}, "space_l": {"value": 25}},
    "source": {"shape": {"value": 2}, "velocity": {"value": 1}},
    "simulation": {"f1": {"value": 400}, "f2": {"value": 1600}, "num_frequencies": {"value": 3}},
    "output": {"stl": {"value": 1}},
    "extra_keys": {},
    "extra_blocks": {"Report": {"items": {"Title": "x"}, "lines": []}},
}
OPTIONS = {
    "engine": "auto",
    "solver_mode": "auto",
    "symmetry": "auto",
    "mesh_validation_mode": "warn",
    "verbose": False,
    "frequency_spacing": "log",
    "polar_config": {
        "angle_range": [0, 180, 13],
        "angle_step": 15,
        "distance": 2,
        "norm_angle": 5,
        "inclination": 45,
        "enabled_axes": ["horizontal", "vertical"],
        "observation_origin": "mouth",
        "spherical_sampling": False,
        "field_plane": True,
    },
}


def _spec(client: TestClient, job_id: str) -> dict:
    return client.get(f"/api/jobs/{job_id}").json()["spec"]


def test_the_tools_older_body_is_a_parametric_design(client: TestClient) -> None:
    resp = client.post("/api/solve", json=V1_BODY)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    ignored = {i["field"] for i in body["ignored"]}
    for name in (
        "advanced_settings", "use_optimized", "verbose", "mesh_validation_mode", "device_mode",
        "solver_backend", "solver_mode", "mesh", "polar_config.spherical_sampling",
        "options.mesh.strategy", "options.mesh.waveguide_params.quadrants",
        "options.mesh.waveguide_params.wall_thickness",
        "options.mesh.waveguide_params.enc_depth", "options.mesh.waveguide_params.max_triangles",
    ):  # fmt: skip
        assert name in ignored, name
    assert all(i["reason"] for i in body["ignored"])
    spec = _spec(client, body["job_id"])
    assert "user_mesh" not in spec  # the placeholder mesh is not taken for the horn
    geometry = spec["geometry"]
    assert geometry["formula"] == "R-OSSE" and geometry["R"] == 60 and geometry["a"] == 40
    assert spec["mesh"] == {
        "angular_segments": 16,
        "length_segments": 6,
        "throat_size": 12.0,
        "mouth_size": 30.0,
        "rear_size": 40.0,
    }  # its max_triangles 50,000 is looser than this server's limit: listed, not used
    assert spec["polars"]["planes"] == {"horizontal": 0.0, "diagonal": 30.0}
    assert spec["polars"]["norm_angle"] == 10
    assert spec["sim_type"] == "free_standing"
    assert any("advanced_settings: not used" in n for n in spec["notes"])


def test_the_tools_current_bodies_are_parametric_designs(client: TestClient) -> None:
    body = {
        "design": DESIGN,
        "options": OPTIONS,
        "label": "waveguide",
        "design_revision": 7,
        "design_snapshot": {"version": 1, "design": DESIGN},
    }
    resp = client.post("/api/solve", json=body)
    assert resp.status_code == 202, resp.text
    ignored = {i["field"] for i in resp.json()["ignored"]}
    for name in (
        "design_snapshot", "engine", "symmetry", "verbose", "options.polar_config.field_plane",
        "design.mesh.quadrants", "design.mesh.wall_thickness", "design.morph.rate",
        "design.enclosure.space_l", "design.output", "design.extra_blocks",
    ):  # fmt: skip
        assert name in ignored, name
    job_id = resp.json()["job_id"]
    spec = _spec(client, job_id)
    assert spec["geometry"]["a"] == "40 - 5*sin(p)^2" and spec["geometry"]["r0"] == 12.7
    assert spec["frequencies"] == {"start": 400, "stop": 1600, "count": 3, "spacing": "log"}
    assert spec["polars"]["planes"] == {"horizontal": 0.0, "vertical": 90.0}
    status = client.get(f"/api/status/{job_id}").json()
    assert_job_item(status, status_response=True)
    assert status["design_revision"] == 7 and status["label"] == "waveguide"
    assert status["solve_options"]["engine"] == "auto"

    # per its OpenAPI: geometry {type: parametric, design}, the sweep in options
    body = {
        "geometry": {"type": "parametric", "design": {**DESIGN, "simulation": {}}},
        "options": {"frequency_range": [500, 2000], "num_frequencies": 4},
        "client_request_id": "req-1",
        "client_metadata": {"who": "test"},
    }
    resp = client.post("/api/solve", json=body)
    assert resp.status_code == 202, resp.text
    assert resp.json()["client_request_id"] == "req-1"
    job_id = resp.json()["job_id"]
    spec = _spec(client, job_id)
    assert spec["frequencies"]["start"] == 500 and spec["frequencies"]["count"] == 4
    assert spec["polars"]["norm_angle"] == 5  # the tool's default
    status = client.get(f"/api/status/{job_id}").json()
    assert status["client_request_id"] == "req-1" and status["client_metadata"] == {"who": "test"}

    # a list of frequencies; ATH's Scale multiplies the lengths and the mesh sizes
    body = {
        "design": {**DESIGN, "scale": {"value": 2, "raw": "2"}},
        "options": {"frequencies_hz": [500, 1000]},
    }
    resp = client.post("/api/solve", json=body)
    assert resp.status_code == 202, resp.text
    spec = _spec(client, resp.json()["job_id"])
    assert spec["geometry"]["R"] == 120 and spec["geometry"]["r0"] == 25.4
    assert spec["mesh"]["throat_size"] == 24 and spec["frequencies"] == {"values": [500, 1000]}


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"design": {**DESIGN, "formula": "ICW"}, "options": OPTIONS}, "design.formula"),
        (
            {"design": {**DESIGN, "morph": {"target_shape": 4}}, "options": OPTIONS},
            "design.morph.target_shape",
        ),
        (
            {
                "design": {**DESIGN, "morph": {"target_shape": 1, "fixed_part": 2}},
                "options": OPTIONS,
            },
            "design.morph.fixed_part",
        ),
        ({"design": {**DESIGN, "h": 3}, "options": OPTIONS}, "design.h"),
        (
            {"design": {**DESIGN, "enclosure": {"depth": 200}}, "options": OPTIONS},
            "design.enclosure.depth",
        ),
        ({"design": {**DESIGN, "scale": 0}, "options": OPTIONS}, "design.scale"),
        ({"design": {**DESIGN, "a": {"raw": "40 + nope(p)"}}, "options": OPTIONS}, "design.a"),
        ({"design": {**DESIGN, "simulation": {}}, "options": {}}, "design.simulation.f1"),
        (
            {"design": DESIGN, "options": {"polar_config": {"observation_origin": "rim"}}},
            "options.polar_config.observation_origin",
        ),
        (
            {"design": DESIGN, "options": {"frequency_spacing": "cubic"}},
            "options.frequency_spacing",
        ),
        ({"geometry": {"type": "imported", "ingest_id": "x"}}, "geometry.type"),
        ({"design": DESIGN, "geometry": {"type": "parametric"}}, "design"),
        (
            {"design": {**DESIGN, "simulation": {**DESIGN["simulation"], "sim_type": "1"}}},
            "design.simulation.sim_type",
        ),
        (
            {
                **V1_BODY,
                "options": {"mesh": {"waveguide_params": {**V1_PARAMS, "enc_depth": 100}}},
            },
            "options.mesh.waveguide_params.enc_depth",
        ),
        (
            {**V1_BODY, "options": {"mesh": {"waveguide_params": {**V1_PARAMS, "h": 2}}}},
            "options.mesh.waveguide_params.h",
        ),
        (
            {
                **V1_BODY,
                "options": {
                    "mesh": {"waveguide_params": {**V1_PARAMS, "morph_target": 1, "morph_rate": -1}}
                },
            },
            "options.mesh.waveguide_params.morph_rate",
        ),
        (
            {
                **V1_BODY,
                "options": {"mesh": {"waveguide_params": {**V1_PARAMS, "formula_type": "ICW"}}},
            },
            "options.mesh.waveguide_params.formula_type",
        ),
        ({**V1_BODY, "sim_type": "1"}, "sim_type"),
        (
            {
                **V1_BODY,
                "options": {"mesh": {"waveguide_params": {**V1_PARAMS, "n_angular": 2}}},
            },
            "options.mesh.waveguide_params.n_angular",
        ),
        (
            {
                **V1_BODY,
                "options": {"mesh": {"waveguide_params": {**V1_PARAMS, "a": 95}}},
            },
            "options.mesh.waveguide_params.a",
        ),
        (
            {"design": {**DESIGN, "mesh": {"throat_resolution": 0.1}}, "options": OPTIONS},
            "design.mesh.throat_resolution",
        ),
        ({**V1_BODY, "sim_type": "cardioid"}, "sim_type"),
        ({**V1_BODY, "sim_type": 1}, "sim_type"),
        ({**V1_BODY, "polar_config": {"angle_range": [0, 180, 0]}}, "polar_config.angle_range"),
    ],
)
def test_the_tools_bodies_that_cannot_be_solved_are_422_naming_the_field(
    client: TestClient, body, location
) -> None:
    resp = client.post("/api/solve", json=body)
    assert resp.status_code == 422, resp.text
    problem = resp.json()
    assert problem["location"] == location, problem
    assert isinstance(problem["detail"], str) and problem["detail"]  # its front end reads it


def test_length_mode_total_is_the_profile_length_without_a_throat_extension(
    client: TestClient,
) -> None:
    def body(**params) -> dict:
        wp = {**V1_PARAMS, "formula_type": "OSSE", "q": 0.995, "length_mode": "total", **params}
        return {**V1_BODY, "options": {"mesh": {"waveguide_params": wp}}}

    assert client.post("/api/solve", json=body()).status_code == 202
    resp = client.post("/api/solve", json=body(throat_ext_length=10))
    assert resp.status_code == 422
    assert resp.json()["location"] == "options.mesh.waveguide_params.throat_ext_length"


def test_polars_centred_on_the_throat(client: TestClient) -> None:
    body = {**V1_BODY, "polar_config": {**V1_BODY["polar_config"], "observation_origin": "throat"}}
    resp = client.post("/api/solve", json=body)
    assert resp.status_code == 202, resp.text
    assert _spec(client, resp.json()["job_id"])["polars"]["origin"] == "throat"
    # a baffled mesh's arcs stay in the baffle plane
    from tests.engines.horn.spheres import hemisphere

    v, f = hemisphere(100.0, 4, 16)
    mesh = {
        "vertices": v.ravel().tolist(),
        "indices": f.ravel().tolist(),
        "surfaceTags": [2] * len(f),
        "baffled": True,
    }
    polar = {"observation_origin": "throat"}
    resp = client.post("/api/solve", json=solve_body(mesh=mesh, polar_config=polar))
    assert resp.status_code == 422, resp.text
    assert resp.json()["location"] == "polar_config.observation_origin"


def test_an_infinite_baffle_is_refused_with_the_reason(client: TestClient) -> None:
    resp = client.post("/api/solve", json={**V1_BODY, "sim_type": "1"})
    assert "behind the baffle plane" in resp.json()["detail"]


def test_health_capabilities_and_metadata(client: TestClient) -> None:
    health = client.get("/health").json()
    assert isinstance(health["solverReady"], bool) and isinstance(health["mesherReady"], bool)
    assert health["mesherReady"] is True  # gmsh is installed for these tests
    engines = client.get("/api/capabilities").json()["engines"]
    assert [e["name"] for e in engines] == ["bempp"]
    for engine in engines:
        assert isinstance(engine["available"], bool) and isinstance(engine["fast_paths"], list)
        assert engine["reason"] is None or isinstance(engine["reason"], str)
    job_id = client.post("/api/solve", json=V1_BODY).json()["job_id"]
    resp = client.patch(f"/api/jobs/{job_id}/metadata", json={"label": " Mine ", "rating": 4})
    assert resp.json()["status"] == "ok"
    assert [i["field"] for i in resp.json()["ignored"]] == ["rating"]
    assert client.get(f"/api/status/{job_id}").json()["label"] == "Mine"
    assert client.patch("/api/jobs/nope/metadata", json={"label": "x"}).status_code == 404


def test_clear_failed_is_not_taken_for_a_job_id(stubbed: TestClient) -> None:
    # every frequency too high for the coarse mesh: the job fails
    failed = stubbed.post("/api/solve", json=solve_body(frequency_range=[18_000, 20_000]))
    failed_id = failed.json()["job_id"]
    assert wait_for(stubbed, failed_id, timeout=120)["status"] == "error"
    status = stubbed.get(f"/api/status/{failed_id}").json()
    assert_job_item(status, status_response=True)
    assert status["status"] == "error" and "failed" in status["message"]
    kept = stubbed.post("/api/solve", json=solve_body(num_frequencies=1)).json()["job_id"]
    assert wait_for(stubbed, kept, timeout=120)["status"] == "complete"
    resp = stubbed.delete("/api/jobs/clear-failed")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"deleted": True, "deleted_count": 1, "deleted_ids": [failed_id]}
    assert stubbed.get(f"/api/status/{failed_id}").status_code == 404
    assert stubbed.get(f"/api/status/{kept}").status_code == 200
    again = stubbed.delete("/api/jobs/clear-failed").json()
    assert again == {"deleted": False, "deleted_count": 0, "deleted_ids": []}
