"""Bad inputs from the security audit (issue 14), against an in-process app: status, code,
time and answer size of each. Prints a Markdown table.

    .venv/bin/python bench/security_inputs.py

Run it on an older checkout (``PYTHONPATH=OLD/src``) to compare before and after.
"""

from __future__ import annotations

import io
import json
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from montesim.api.app import create_app
from montesim.config import Settings

SLEEP = {"engine": "sleep", "spec": {"units": 1, "chunk_size": 1}}
MODEL = {"S!A1": "=RiskNormal(10, 2)", "S!A2": "=RiskOutput() + A1 * 2"}
EVIL = {"Origin": "http://evil.example"}
JSON = {"Content-Type": "application/json"}


def excel(**spec: Any) -> dict[str, Any]:
    return {"engine": "excel", "spec": {"cells": MODEL, "iterations": 1000, **spec}}


def bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (200 << 20))
    return buf.getvalue()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="montesim-audit-"))
    app = create_app(Settings(data_dir=tmp), run_jobs=False)
    rows: list[tuple[str, str, float, int]] = []
    with TestClient(app, raise_server_exceptions=False) as c:

        def job() -> str:
            return c.post("/api/jobs", json=SLEEP).json()["job_id"]

        def ws_evil() -> str:
            try:
                with c.websocket_connect(f"/api/jobs/{job()}/ws", headers=EVIL) as ws:
                    ws.send_json({"action": "cancel"})
                    return f"accepted ({ws.receive_json().get('kind')})"
            except WebSocketDisconnect as exc:
                return f"refused {exc.code}"

        def upload_bomb() -> Any:
            up = c.post("/api/files", files={"file": ("bomb.xlsx", bomb())}).json()
            spec = {"file_id": up["file_id"], "outputs": ["S!A1"], "iterations": 100}
            return c.post("/api/jobs", json={"engine": "excel", "spec": spec})

        def huge_job() -> Any:
            import openpyxl

            book = openpyxl.Workbook()
            book.active.title = "S"
            book.active["A1"] = "=RAND()"
            data = io.BytesIO()
            book.save(data)
            up = c.post("/api/files", files={"file": ("m.xlsx", data.getvalue())}).json()
            outputs = [f"S!A{i}" for i in range(1, 2001)]
            spec = {"file_id": up["file_id"], "iterations": 10**7, "outputs": outputs}
            return c.post("/api/jobs", json={"engine": "excel", "spec": spec})

        def broken_store() -> Any:
            store = app.state.service.store
            original = store.list_jobs

            def fail(**_: Any) -> Any:
                raise RuntimeError("secret in /home/montesim/src/store.py")

            store.list_jobs = fail
            try:
                return c.get("/api/jobs")
            finally:
                store.list_jobs = original

        def flood() -> Any:
            for job_id in [j["job_id"] for j in c.get("/api/jobs?limit=200").json()["items"]]:
                c.post(f"/api/jobs/{job_id}/cancel")
            for _ in range(100):
                c.post("/api/jobs", json=SLEEP)
            return c.post("/api/jobs", json=SLEEP)

        nan = json.dumps(excel()).replace('"iterations": 1000', '"fixed": {"S!A1": NaN}')
        cases: list[tuple[str, Callable[[], Any]]] = [
            (
                "form POST cancel (x-www-form-urlencoded)",
                lambda: c.post(
                    f"/api/jobs/{job()}/cancel",
                    content=b"x=1",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ),
            ),
            (
                "text/plain POST /api/jobs",
                lambda: c.post(
                    "/api/jobs",
                    content=json.dumps(SLEEP).encode(),
                    headers={"Content-Type": "text/plain"},
                ),
            ),
            (
                "cancel with Origin: evil.example",
                lambda: c.post(f"/api/jobs/{job()}/cancel", headers=EVIL),
            ),
            (
                "upload with Origin: evil.example",
                lambda: c.post("/api/files", files={"file": ("a.csv", b"a\n")}, headers=EVIL),
            ),
            ("WebSocket cancel with Origin: evil.example", ws_evil),
            (
                "Host: evil.example (DNS rebinding)",
                lambda: c.get("/api/jobs", headers={"Host": "evil.example"}),
            ),
            (
                "CORS preflight from evil.example",
                lambda: c.options(
                    "/api/jobs", headers={**EVIL, "Access-Control-Request-Method": "POST"}
                ),
            ),
            ("GET /api/jobs?offset=10**30", lambda: c.get("/api/jobs", params={"offset": 10**30})),
            (
                "GET /api/batches?offset=10**30",
                lambda: c.get("/api/batches", params={"offset": 10**30}),
            ),
            ("NaN in spec.fixed", lambda: c.post("/api/jobs", content=nan.encode(), headers=JSON)),
            (
                "Infinity in a batch child's spec",
                lambda: c.post(
                    "/api/batches",
                    content=b'{"jobs": [{"engine": "sleep", "spec": {"units": Infinity}}]}',
                    headers=JSON,
                ),
            ),
            (
                "1 MB spec string",
                lambda: c.post("/api/jobs", json=excel(inputs={"S!B1": "x" * 1_000_000})),
            ),
            (
                "JSON nested 100,000 deep",
                lambda: c.post(
                    "/api/jobs",
                    content=('{"spec": ' + "[" * 100_000 + "]" * 100_000 + "}").encode(),
                    headers=JSON,
                ),
            ),
            (
                "20 MB JSON body",
                lambda: c.post(
                    "/api/jobs", json=excel(fixed={f"S!B{i}": i for i in range(1_000_000)})
                ),
            ),
            ("zip bomb (200 MB of zeros) submitted", upload_bomb),
            (
                "formula 9,000 characters",
                lambda: c.post(
                    "/api/jobs", json=excel(cells={**MODEL, "S!B7": "=" + "+".join(["A1"] * 3000)})
                ),
            ),
            (
                "formula nested 3,000 deep",
                lambda: c.post(
                    "/api/jobs",
                    json=excel(cells={**MODEL, "S!B7": "=" + "(" * 3000 + "A1" + ")" * 3000}),
                ),
            ),
            ("iterations 10^7 x 2,000 outputs of a workbook", huge_job),
            ("an unexpected exception (store bug)", broken_store),
            ("101st queued job of one client", flood),
        ]
        for name, call in cases:
            t0 = time.perf_counter()
            resp = call()
            elapsed = time.perf_counter() - t0
            if isinstance(resp, str):
                rows.append((name, resp, elapsed, 0))
                continue
            try:
                code = resp.json().get("code", "")
            except ValueError:
                code = ""
            leak = " (echoes internals)" if b"secret" in resp.content else ""
            answer = f"{resp.status_code} {code}".strip() + leak
            rows.append((name, answer, elapsed, len(resp.content)))
    print("| bad input | answer | seconds | bytes |")
    print("|---|---|---|---|")
    for name, answer, elapsed, size in rows:
        print(f"| {name} | {answer} | {elapsed:.2f} | {size:,} |")


if __name__ == "__main__":
    main()
