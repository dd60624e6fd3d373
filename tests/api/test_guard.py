"""Cross-site protection: Host allow-list, Origin check, body media types, CORS, headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from montesim.api.app import create_app
from montesim.api.guard import GuardPolicy, host_name, host_port
from montesim.config import Settings

SLEEP = {"engine": "sleep", "spec": {"units": 4, "chunk_size": 1, "chunk_seconds": 0.01}}


def app_client(tmp: Path, **settings: str) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp, **settings), run_jobs=False))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with app_client(tmp_path_factory.mktemp("guard")) as c:
        yield c


@pytest.fixture
def job_id(client: TestClient) -> str:
    resp = client.post("/api/jobs", json=SLEEP)
    assert resp.status_code == 202, resp.text
    return resp.json()["job_id"]


def status_of(client: TestClient, job_id: str) -> str:
    return client.get(f"/api/jobs/{job_id}").json()["status"]


# -- body media types ---------------------------------------------------------------------


def test_a_form_post_cannot_cancel_a_job(client: TestClient, job_id: str) -> None:
    resp = client.post(
        f"/api/jobs/{job_id}/cancel",
        content=b"x=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 415
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["code"] == "unsupported_media_type"
    assert "application/json" in resp.json()["detail"]
    assert status_of(client, job_id) == "queued"
    # a body-less POST (the UI's cancel button, the CLI) still works
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    assert status_of(client, job_id) == "cancelled"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_job_body_must_be_json(client: TestClient, content_type: str | None) -> None:
    import json

    headers = {"Content-Type": content_type} if content_type else {}
    resp = client.post("/api/jobs", content=json.dumps(SLEEP).encode(), headers=headers)
    assert resp.status_code == 415, resp.text
    assert resp.json()["code"] == "unsupported_media_type"


def test_json_with_a_charset_is_json(client: TestClient) -> None:
    import json

    resp = client.post(
        "/api/jobs",
        content=json.dumps(SLEEP).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert resp.status_code == 202, resp.text


def test_uploads_take_multipart_only(client: TestClient) -> None:
    ok = client.post("/api/files", files={"file": ("a.csv", b"a,b\n1,2\n")})
    assert ok.status_code == 201, ok.text
    resp = client.post("/api/files", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})
    assert resp.status_code == 415
    assert "multipart/form-data" in resp.json()["detail"]


def test_patch_and_delete_refuse_form_bodies(client: TestClient, job_id: str) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.patch(f"/api/jobs/{job_id}", content=b"label=x", headers=form).status_code == 415
    resp = client.request("DELETE", f"/api/jobs/{job_id}", content=b"x=1", headers=form)
    assert resp.status_code == 415


def test_risk_register_import_still_takes_text(client: TestClient) -> None:
    csv = "name,parent,probability,low,high\nIT,,,,\nOutage,IT,0.2,1000,50000\n"
    resp = client.post(
        "/api/risktree/import",
        params={"filename": "r.csv"},
        content=csv.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert resp.status_code == 200, resp.text


# -- Origin ---------------------------------------------------------------------------------


def test_a_foreign_origin_cannot_write(client: TestClient, job_id: str) -> None:
    resp = client.post(f"/api/jobs/{job_id}/cancel", headers={"Origin": "http://evil.example"})
    assert resp.status_code == 403
    body = resp.json()
    assert body["code"] == "origin_not_allowed" and body["location"] == "Origin"
    assert "evil.example" in body["detail"]
    assert status_of(client, job_id) == "queued"


@pytest.mark.parametrize(
    "origin",
    ["null", "http://testserver.evil.example", "https://testserver:8443", "file://", "x" * 5000],
)
def test_odd_or_lookalike_origins_are_refused(client: TestClient, origin: str) -> None:
    resp = client.post("/api/jobs", json=SLEEP, headers={"Origin": origin})
    assert resp.status_code == 403
    assert len(resp.json()["detail"]) < 300  # the origin is not echoed in full


def test_the_servers_own_origin_may_write(client: TestClient) -> None:
    resp = client.post("/api/jobs", json=SLEEP, headers={"Origin": "http://testserver"})
    assert resp.status_code == 202, resp.text
    # the same host on an explicit port, behind which the page was loaded
    resp = client.post(
        "/api/jobs",
        json=SLEEP,
        headers={"Origin": "http://localhost:8000", "Host": "localhost:8000"},
    )
    assert resp.status_code == 202, resp.text
    resp = client.post(
        "/api/jobs",
        json=SLEEP,
        headers={"Origin": "http://localhost:9999", "Host": "localhost:8000"},
    )
    assert resp.status_code == 403


def test_allowed_origins_are_configurable(tmp_path: Path) -> None:
    with app_client(tmp_path, allowed_origins="https://ui.example.com") as c:
        ok = c.post("/api/jobs", json=SLEEP, headers={"Origin": "https://ui.example.com"})
        assert ok.status_code == 202, ok.text
        bad = c.post("/api/jobs", json=SLEEP, headers={"Origin": "https://other.example.com"})
        assert bad.status_code == 403


def test_a_websocket_from_a_foreign_origin_is_refused(client: TestClient, job_id: str) -> None:
    evil = {"Origin": "http://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/api/jobs/{job_id}/ws", headers=evil) as ws,
    ):
        ws.send_json({"action": "cancel"})
    assert refused.value.code == 4403
    assert status_of(client, job_id) == "queued"
    # its own origin, or none (a script), may follow and cancel
    with client.websocket_connect(
        f"/api/jobs/{job_id}/ws", headers={"Origin": "http://testserver"}
    ) as ws:
        assert ws.receive_json()["kind"] in ("snapshot", "status", "progress")
        ws.send_json({"action": "cancel"})
        while ws.receive_json().get("status") != "cancelled":
            pass
    assert status_of(client, job_id) == "cancelled"


# -- Host ------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.2", ""])
def test_an_unknown_host_gets_400(client: TestClient, host: str) -> None:
    resp = client.get("/api/jobs", headers={"Host": host})
    assert resp.status_code == 400
    assert resp.json()["code"] == "host_not_allowed"
    assert client.get("/", headers={"Host": host}).status_code == 400  # the UI too


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST"])
def test_loopback_hosts_are_answered(client: TestClient, host: str) -> None:
    assert client.get("/api/jobs", headers={"Host": host}).status_code == 200


def test_a_websocket_to_an_unknown_host_is_refused(client: TestClient, job_id: str) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(f"/api/jobs/{job_id}/ws", headers={"Host": "evil.example"}),
    ):
        pass
    assert refused.value.code == 4403


def test_allowed_hosts_are_configurable(tmp_path: Path) -> None:
    with app_client(tmp_path, allowed_hosts="montesim.internal") as c:
        assert c.get("/api/jobs", headers={"Host": "montesim.internal:80"}).status_code == 200
        assert c.get("/api/jobs").status_code == 400  # "testserver" is no longer listed


def test_default_hosts_follow_the_bound_host() -> None:
    policy = GuardPolicy.from_settings(Settings(host="sim.lan"))
    assert policy.host_allowed("sim.lan:8000") and policy.host_allowed("localhost")
    assert not policy.host_allowed("evil.example") and not policy.host_allowed(None)


@pytest.mark.parametrize(
    "host,name,port",
    [
        ("localhost:8000", "localhost", 8000),
        ("[::1]:8000", "::1", 8000),
        ("[::1]", "::1", None),
        ("Example.COM", "example.com", None),
        ("a:b:c", "a:b:c", None),
    ],
)
def test_host_header_parsing(host: str, name: str, port: int | None) -> None:
    assert host_name(host) == name and host_port(host) == port


# -- CORS and headers ------------------------------------------------------------------------


def test_cors_is_closed_by_default(client: TestClient) -> None:
    resp = client.options(
        "/api/jobs",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert resp.status_code == 403
    assert "access-control-allow-origin" not in resp.headers
    own = client.get("/api/jobs", headers={"Origin": "http://testserver"})
    assert own.status_code == 200 and "access-control-allow-origin" not in own.headers


def test_cors_can_be_opened_for_named_origins(tmp_path: Path) -> None:
    with app_client(tmp_path, cors_origins="https://dash.example.com") as c:
        pre = c.options(
            "/api/jobs",
            headers={
                "Origin": "https://dash.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert pre.status_code == 200
        assert pre.headers["access-control-allow-origin"] == "https://dash.example.com"
        got = c.get("/api/jobs", headers={"Origin": "https://dash.example.com"})
        assert got.headers["access-control-allow-origin"] == "https://dash.example.com"


@pytest.mark.parametrize("path", ["/api/jobs", "/api/healthz", "/api/jobs/nope", "/api/engines"])
def test_every_api_answer_has_the_security_headers(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["referrer-policy"] == "no-referrer"
    assert resp.headers["cache-control"] == "no-store"


def test_refusals_carry_the_security_headers_too(client: TestClient) -> None:
    resp = client.post("/api/jobs", json=SLEEP, headers={"Origin": "http://evil.example"})
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
