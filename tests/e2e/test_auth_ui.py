"""The browser UI against a server with tokens: it asks for one, keeps it for the tab,
follows a job over SSE with a stream ticket, and downloads with the token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.conftest import ServerProc, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM

from montesim.jobs.store import Store

pytestmark = [
    pytest.mark.xdist_group("e2e"),
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    data = tmp_path_factory.mktemp("e2e-auth")
    proc = ServerProc(
        data_dir=data,
        database_url=f"sqlite:///{data / 'montesim.db'}",
        env={"MONTESIM_AUTH": "tokens"},
    ).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def token(server: ServerProc) -> str:
    store = Store(server.database_url)
    try:
        return store.create_token("erin")[1]
    finally:
        store.close()


@pytest.fixture
def page(browser: Browser, server: ServerProc) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_the_page_asks_for_a_token_and_follows_jobs_with_tickets(
    page: Page, server: ServerProc, token: str, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    gate = tmp_path / "gate"  # the job's first chunk waits until this file exists
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        spec = {"units": 30, "chunk_size": 10, "chunk_seconds": 0.1, "gate": str(gate)}
        job_id = api.post("/api/jobs", json={"engine": "sleep", "spec": spec}).json()["job_id"]
        streams: list[tuple[str, int]] = []
        page.on(
            "response",
            lambda r: streams.append((r.url, r.status)) if "/stream" in r.url else None,
        )
        page.goto(f"/#/jobs/{job_id}")
        dialog = page.locator("#token-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#token-title")).to_have_text("Access token needed")
        # a wrong token: asked again, saying why
        page.fill("#token-input", "mst_wrong")
        page.click("#token-submit")
        expect(page.locator("#token-message")).to_contain_text("not accepted")
        page.fill("#token-input", token)
        page.click("#token-submit")
        expect(dialog).to_have_count(0)
        expect(page.locator("#live-mode")).to_have_attribute("data-mode", "stream")
        gate.touch()
        expect(page.locator("#job-progress")).to_have_attribute(
            "data-state", "complete", timeout=30_000
        )
        assert page.evaluate("sessionStorage.getItem('montesim.token')") == token
        assert any("ticket=" in url and status == 200 for url, status in streams), streams
        assert all("ticket=" in url for url, _ in streams), streams
        assert wait_for(api, job_id)["status"] == "complete"

        # downloads carry the token too
        with page.expect_download() as download:
            page.click("a[data-artifact='sums.csv']")
        assert download.value.suggested_filename == "sums.csv"
        assert download.value.path().read_text().startswith("chunk,sum")

        # the token stays for the tab: no dialog after a reload
        page.reload()
        expect(page.locator("#job-progress")).to_have_attribute("data-state", "complete")
        expect(page.locator("#token-dialog")).to_have_count(0)
