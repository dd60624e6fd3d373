"""Owners and tokens: 401 without a token, another owner's things are 404, admins see all,
stream tickets, the metrics token, and auth off unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from montesim.api.app import create_app
from montesim.api.auth import make_ticket
from montesim.config import Settings

SLEEP = {"engine": "sleep", "spec": {"units": 1, "chunk_size": 1}}


class Owner:
    """A TestClient speaking with one token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str) -> Any:
        call = getattr(self.client, method)
        return lambda url, **kw: call(url, headers={**self.headers, **kw.pop("headers", {})}, **kw)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, auth="tokens", max_queued_per_owner=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_jobs=False)) as c:
        yield c


def token(client: TestClient, name: str, *, admin: bool = False) -> str:
    store = client.app.state.service.store  # type: ignore[attr-defined]
    return store.create_token(name, admin=admin)[1]


@pytest.fixture
def alice(client: TestClient) -> Owner:
    return Owner(client, token(client, "alice"))


@pytest.fixture
def bob(client: TestClient) -> Owner:
    return Owner(client, token(client, "bob"))


@pytest.fixture
def root(client: TestClient) -> Owner:
    return Owner(client, token(client, "root", admin=True))


def test_every_api_path_but_healthz_needs_a_token(client: TestClient, alice: Owner) -> None:
    for method, path in [
        ("get", "/api/jobs"),
        ("get", "/api/jobs/x"),
        ("get", "/api/files"),
        ("get", "/api/batches"),
        ("get", "/api/engines"),
        ("get", "/api/stream"),
        ("post", "/api/tickets"),
    ]:
        resp = getattr(client, method)(path)
        assert resp.status_code == 401, path
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.headers["www-authenticate"] == "Bearer"
        assert resp.json()["code"] == "token_required"
    resp = client.get("/api/jobs", headers={"Authorization": "Bearer mst_not-a-token"})
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"
    assert 'error="invalid_token"' in resp.headers["www-authenticate"]
    assert client.get("/api/jobs", headers={"Authorization": "Basic abc"}).status_code == 401
    # open: the health probe, the page and its assets, the API docs
    for path in ("/api/healthz", "/", "/static/js/app.js", "/docs", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert alice.get("/api/jobs").status_code == 200


def test_another_owners_things_do_not_exist(client: TestClient, alice: Owner, bob: Owner) -> None:
    file_id = alice.post("/api/files", files={"file": ("a.xlsx", b"PK data")}).json()["file_id"]
    job = alice.post("/api/jobs", json=SLEEP).json()["job_id"]
    batch = alice.post("/api/batches", json={"jobs": [SLEEP]}).json()["batch_id"]
    setup = alice.post(
        f"/api/files/{file_id}/setups", json={"name": "Base", "definition": {"a": 1}}
    ).json()["setup_id"]
    j = f"/api/jobs/{job}"
    for method, path in [
        ("get", j),
        ("post", f"{j}/cancel"),
        ("delete", j),
        ("get", f"{j}/result"),
        ("get", f"{j}/artifacts/iterations.csv"),
        ("get", f"{j}/summary.csv"),
        ("get", f"{j}/events"),
        ("get", f"{j}/stream"),
        ("get", f"/api/stream?jobs={job}"),
        ("get", f"/api/status/{job}"),
        ("post", f"/api/stop/{job}"),
        ("get", f"/api/files/{file_id}"),
        ("get", f"/api/files/{file_id}/sheets"),
        ("get", f"/api/files/{file_id}/setups"),
        ("get", f"/api/setups/{setup}"),
        ("delete", f"/api/setups/{setup}"),
        ("get", f"/api/batches/{batch}"),
        ("post", f"/api/batches/{batch}/cancel"),
        ("get", f"/api/batches/{batch}/stream"),
    ]:
        resp = getattr(bob, method)(path)
        assert resp.status_code == 404, (method, path, resp.text)
    assert bob.patch(j, json={"label": "mine"}).status_code == 404
    assert bob.get("/api/jobs").json()["total"] == 0
    assert bob.get("/api/batches").json()["total"] == 0
    assert bob.get("/api/files", params={"kind": "any"}).json()["items"] == []
    # nor can bob run a job on alice's upload, or learn that it exists
    resp = bob.post("/api/jobs", json={"engine": "excel", "spec": {"file_id": file_id}})
    assert resp.status_code == 422 and resp.json()["code"] == "unknown_file"
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"{j}/ws", headers=bob.headers) as ws,
    ):
        ws.receive_json()
        ws.receive_json()
    assert closed.value.code == 4404
    # alice sees and acts on all of it
    assert alice.get(j).json()["label"] is None
    assert alice.get("/api/jobs").json()["total"] == 2
    assert alice.get(f"/api/files/{file_id}/setups").json()["items"][0]["setup_id"] == setup
    assert alice.post(f"{j}/cancel").status_code == 202
    assert alice.delete(j).status_code == 200
    assert alice.delete(f"/api/setups/{setup}").status_code == 200


def test_setup_names_and_idempotency_keys_are_per_owner(alice: Owner, bob: Owner) -> None:
    ids = {}
    for who in (alice, bob):
        fid = who.post("/api/files", files={"file": ("m.xlsx", b"PK")}).json()["file_id"]
        body = {"name": "Base", "definition": {"who": id(who)}}
        ids[id(who)] = who.post(f"/api/files/{fid}/setups", json=body).json()["setup_id"]
    assert ids[id(alice)] != ids[id(bob)]
    key = {"Idempotency-Key": "same-key"}
    a = alice.post("/api/jobs", json=SLEEP, headers=key)
    b = bob.post("/api/jobs", json=SLEEP, headers=key)
    assert a.status_code == b.status_code == 202
    assert a.json()["job_id"] != b.json()["job_id"]
    assert alice.post("/api/jobs", json=SLEEP, headers=key).json()["job_id"] == a.json()["job_id"]


def test_an_admin_sees_and_acts_on_everything(alice: Owner, bob: Owner, root: Owner) -> None:
    a = alice.post("/api/jobs", json=SLEEP).json()["job_id"]
    b = bob.post("/api/jobs", json=SLEEP).json()["job_id"]
    listed = {j["job_id"] for j in root.get("/api/jobs").json()["items"]}
    assert {a, b} <= listed
    assert root.get(f"/api/jobs/{a}").status_code == 200
    assert root.post(f"/api/jobs/{b}/cancel").status_code == 202
    assert bob.get(f"/api/jobs/{b}").json()["status"] == "cancelled"
    # what an admin submits is its own, not visible to others
    r = root.post("/api/jobs", json=SLEEP).json()["job_id"]
    assert alice.get(f"/api/jobs/{r}").status_code == 404


def test_a_revoked_token_is_refused(client: TestClient, alice: Owner) -> None:
    assert alice.get("/api/jobs").status_code == 200
    client.app.state.service.store.revoke_token("alice")  # type: ignore[attr-defined]
    resp = alice.get("/api/jobs")
    assert resp.status_code == 401 and resp.json()["code"] == "invalid_token"


def stream_body(client: TestClient, url: str) -> tuple[int, str]:
    with client.stream("GET", url) as resp:
        return resp.status_code, "".join(resp.iter_text()) if resp.status_code == 200 else ""


def test_streams_take_a_ticket(client: TestClient, alice: Owner, bob: Owner) -> None:
    job = alice.post("/api/jobs", json=SLEEP).json()["job_id"]
    alice.post(f"/api/jobs/{job}/cancel")  # terminal: the stream ends after its snapshot
    made = alice.post("/api/tickets")
    assert made.status_code == 201 and made.json()["expires_at"]
    ticket = made.json()["ticket"]
    status, text = stream_body(client, f"/api/jobs/{job}/stream?ticket={ticket}")
    assert status == 200 and '"status":"cancelled"' in text
    status, _ = stream_body(client, f"/api/stream?jobs={job}&ticket={ticket}")
    assert status == 200
    with client.websocket_connect(f"/api/jobs/{job}/ws?ticket={ticket}") as ws:
        assert ws.receive_json()["status"] == "cancelled"
    # a ticket is no token for anything else
    assert client.get(f"/api/jobs/{job}?ticket={ticket}").status_code == 401
    # bob's ticket does not open alice's stream
    theirs = bob.post("/api/tickets").json()["ticket"]
    assert stream_body(client, f"/api/jobs/{job}/stream?ticket={theirs}")[0] == 404
    # forged, expired, and a revoked token's tickets are refused
    forged = ticket[:-4] + ("AAAA" if not ticket.endswith("AAAA") else "BBBB")
    store = client.app.state.service.store  # type: ignore[attr-defined]
    token_id = store.list_tokens()[0].id
    expired, _ = make_ticket(store.signer, token_id, -1)
    for bad, code in [
        (forged, "invalid_ticket"),
        ("x", "invalid_ticket"),
        (expired, "ticket_expired"),
    ]:
        resp = client.get(f"/api/jobs/{job}/stream?ticket={bad}")
        assert resp.status_code == 401 and resp.json()["code"] == code, bad
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect(f"/api/jobs/{job}/ws?ticket={forged}"),
    ):
        pass
    assert closed.value.code == 4401
    store.revoke_token("alice")
    assert stream_body(client, f"/api/jobs/{job}/stream?ticket={ticket}")[0] == 401


def test_the_every_job_stream_shows_only_ones_own_jobs(
    client: TestClient, alice: Owner, bob: Owner
) -> None:
    theirs = bob.post("/api/jobs", json=SLEEP).json()["job_id"]
    mine = alice.post("/api/jobs", json=SLEEP).json()["job_id"]
    ticket = alice.post("/api/tickets").json()["ticket"]
    seen: list[str] = []
    with client.stream("GET", f"/api/stream?after=0&ticket={ticket}") as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.startswith("data:"):
                seen.append(line)
            if mine in line:
                break  # the replay is in id order: bob's job's event came before this
    assert any(mine in s for s in seen) and not any(theirs in s for s in seen)


def test_metrics_token(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, metrics_token="m-secret")
    with TestClient(create_app(settings, run_jobs=False)) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = c.get("/metrics", headers={"Authorization": "Bearer m-secret"})
        assert ok.status_code == 200 and "montesim_jobs" in ok.text
        assert c.get("/api/jobs").status_code == 200  # auth off: the rest is open


def test_metrics_with_tokens_and_no_metrics_token_need_an_admin(
    client: TestClient, alice: Owner, root: Owner
) -> None:
    assert client.get("/metrics").status_code == 401
    assert alice.get("/metrics").status_code == 403
    assert root.get("/metrics").status_code == 200


def test_auth_none_is_unchanged(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), run_jobs=False)
    with TestClient(app) as one, TestClient(app, client=("10.1.2.3", 40000)) as other:
        job = one.post("/api/jobs", json=SLEEP).json()["job_id"]
        fid = one.post("/api/files", files={"file": ("a.xlsx", b"PK")}).json()["file_id"]
        assert other.get(f"/api/jobs/{job}").status_code == 200
        assert other.get(f"/api/files/{fid}").status_code == 200
        assert other.get("/api/jobs").json()["total"] == 1
        assert other.post(f"/api/jobs/{job}/cancel").status_code == 202
        assert other.get("/metrics").status_code == 200
        with other.stream("GET", f"/api/jobs/{job}/stream") as resp:
            assert resp.status_code == 200


def test_openapi_declares_401_and_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "401" in schema["paths"]["/api/jobs"]["post"]["responses"]
    assert schema["paths"]["/api/jobs/{job_id}"]["get"]["security"] == [{"bearer": []}]
    assert "401" not in schema["paths"]["/api/healthz"]["get"]["responses"]


def test_submissions_per_minute_per_owner(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auth="tokens", submits_per_minute=2)
    with TestClient(create_app(settings, run_jobs=False)) as c:
        a, b = Owner(c, token(c, "a")), Owner(c, token(c, "b"))
        assert [a.post("/api/jobs", json=SLEEP).status_code for _ in range(2)] == [202, 202]
        resp = a.post("/api/jobs", json=SLEEP)
        assert resp.status_code == 429 and resp.json()["code"] == "submit_rate"
        assert 1 <= int(resp.headers["retry-after"]) <= 60
        assert "MONTESIM_SUBMITS_PER_MINUTE" in resp.json()["detail"]
        assert a.post("/api/batches", json={"jobs": [SLEEP]}).status_code == 429
        assert b.post("/api/jobs", json=SLEEP).status_code == 202  # others are not held back


def test_migrations_match_the_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from montesim.jobs.store import Store
    from montesim.jobs.tables import metadata

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        store.close()
    assert diff == []


def test_only_an_admin_may_raise_a_jobs_priority(alice: Owner, root: Owner) -> None:
    body = {"engine": "sleep", "spec": {"units": 1}, "priority": 5}
    refused = alice.post("/api/jobs", json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "priority_forbidden"
    assert refused.json()["location"] == "priority"
    lowered = alice.post("/api/jobs", json={**body, "priority": -5})
    assert lowered.status_code == 202
    raised = root.post("/api/jobs", json=body)
    assert raised.status_code == 202
    assert root.get(f"/api/jobs/{raised.json()['job_id']}").json()["priority"] == 5
