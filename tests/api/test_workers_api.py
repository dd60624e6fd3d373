"""GET /api/workers in-process: this process's row, and the Dask dashboard link's shape."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient

from montesim.api.app import create_app
from montesim.config import Settings
from montesim.jobs.executors import DaskExecutor


def test_workers_lists_this_process_without_a_dashboard(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, executor="inline")
    with TestClient(create_app(settings)) as c:
        body = c.get("/api/workers").json()
    (row,) = body["items"]
    assert row["pid"] == os.getpid() and row["role"] == "serve" and row["executor"] == "inline"
    assert row["alive"] and row["jobs"] == [] and row["dashboard"] is None
    assert body["dask_dashboard"] is None


def test_dashboard_link_comes_from_the_scheduler_services() -> None:
    client = SimpleNamespace(scheduler=SimpleNamespace(address="tcp://10.0.0.5:8786"))
    info = {"address": "tcp://10.0.0.5:8786", "services": {"dashboard": 8787}}
    assert DaskExecutor._link(client, info) == "http://10.0.0.5:8787/status"
    assert DaskExecutor._link(client, {"services": {}}) is None
