"""The Workers view in the browser: a real Dask scheduler (with its dashboard), a Dask
worker and `montesim serve` on the Dask executor; the view lists the process, its
running job and chunks, and links to the Dask dashboard the scheduler reports.

A screenshot lands in tests/e2e/screenshots/ (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.conftest import ServerProc, free_port, submit, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM
from tests.scale.procs import BIN, Proc, port_open, wait_until

SHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = [
    pytest.mark.xdist_group("e2e-workers"),
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    NEEDS_CHROMIUM,
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    pytest.importorskip("bokeh", reason="the Dask dashboard needs bokeh (montesim[dask])")
    data = tmp_path_factory.mktemp("workers-ui")
    port, dashboard = free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        Proc(
            "dask-scheduler",
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--dashboard-address",
                f"127.0.0.1:{dashboard}",
            ],
            data,
        ).start()
    ]
    server = None
    try:
        wait_until("the Dask scheduler listens", lambda: port_open(port) and port_open(dashboard))
        procs.append(
            Proc(
                "dask-worker",
                [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard"],
                data,
            ).start()
        )
        server = ServerProc(
            data_dir=data,
            database_url=f"sqlite:///{data / 'montesim.db'}",
            env={"MONTESIM_EXECUTOR": "dask", "MONTESIM_DASK_SCHEDULER": address},
        ).start()
        yield server
    finally:
        if server is not None:
            server.stop()
        for proc in reversed(procs):
            proc.stop()


def test_workers_view_lists_processes_jobs_and_the_dask_dashboard(
    browser: Browser, cluster: ServerProc
) -> None:
    with cluster.client() as c:
        wait_until(
            "the server sees its Dask worker and dashboard",
            lambda: (
                (c.get("/api/workers").json()["items"] or [{}])[0].get("dask_workers") == 1
                and c.get("/api/workers").json()["dask_dashboard"]
            ),
        )
        spec = {"units": 400, "chunk_size": 5, "chunk_seconds": 0.2, "seed": 2}
        job_id = submit(c, "sleep", spec)
        wait_for(c, job_id, statuses=("running",))
        listing = c.get("/api/workers").json()

        context = browser.new_context(base_url=cluster.url, viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            page.goto("/#/workers")
            expect(page.locator("h1")).to_have_text("Workers")
            expect(page.locator("nav [data-nav=workers]")).to_have_attribute("aria-current", "page")
            (row,) = listing["items"]
            tr = page.locator(f"tr[data-worker-id='{row['id']}']")
            expect(tr).to_have_attribute("data-role", "serve")
            expect(tr.locator("td[data-label=PID]")).to_have_text(str(cluster.proc.pid))
            expect(tr.locator("td[data-label=Host]")).to_contain_text(row["host"])
            expect(tr.locator("td[data-label=Version]")).to_have_text(row["version"])
            expect(tr.locator("td[data-label=Executor]")).to_contain_text("dask")
            expect(tr.locator("td[data-label=Executor]")).to_contain_text("1 Dask worker")
            # the running job links to its page; chunks done count up as chunks persist
            expect(tr.locator(f"a[href='#/jobs/{job_id}']")).to_be_visible()
            expect(tr.locator("td[data-label='Chunks done']")).not_to_have_text("0")
            expect(tr.locator("td[data-label='Last heartbeat']")).to_contain_text("ago")
            link = page.locator("#dask-dashboard-link")
            expect(link).to_have_attribute("href", listing["dask_dashboard"])
            assert listing["dask_dashboard"].startswith("http://127.0.0.1:")
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / "workers-wide.png"), full_page=True)
            c.post(f"/api/jobs/{job_id}/cancel")
            assert wait_for(c, job_id)["status"] == "cancelled"
            expect(tr.locator("td.worker-jobs")).to_have_text("none")
        finally:
            context.close()
        assert not errors, f"uncaught errors in the page: {errors}"
