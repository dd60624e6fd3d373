"""The browser UI end to end: a real `montesim serve`, Debian's Chromium driven by Playwright.

A MutationObserver installed before the page's own scripts records every state the
progress bar shows, so the tests check the whole history the user saw, not a few
samples that happen to fall between updates.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.conftest import ServerProc, submit, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM

from montesim.stats.summary import summarize

pytestmark = [
    pytest.mark.xdist_group("e2e"),
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]

# Records each distinct state of #job-progress (and the live-update mode) in window.__bar.
RECORDER = """
window.__bar = [];
new MutationObserver(() => {
  const bar = document.getElementById("job-progress");
  if (!bar || !bar.dataset.state) return;
  const track = bar.querySelector("[role=progressbar]");
  const doneText = document.getElementById("job-done")?.textContent || "";
  const sample = {
    state: bar.dataset.state,
    done: Number(bar.dataset.done),
    total: Number(bar.dataset.total),
    label: bar.querySelector(".pbar-label").textContent,
    valuenow: track.getAttribute("aria-valuenow"),
    width: bar.querySelector(".pbar-fill").style.width,
    doneText,
    mode: document.getElementById("live-mode")?.dataset.mode || null,
  };
  const last = window.__bar[window.__bar.length - 1];
  if (!last || JSON.stringify(last) !== JSON.stringify(sample)) window.__bar.push(sample);
}).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
"""

JOB_URL = re.compile(r"#/jobs/([0-9a-f-]{8,})$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    data = tmp_path_factory.mktemp("e2e")
    proc = ServerProc(
        data_dir=data,
        database_url=f"sqlite:///{data / 'montesim.db'}",
        env={"MONTESIM_MAX_CONCURRENT_JOBS": "2"},
    ).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(server: ServerProc) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def page(browser: Browser, server: ServerProc) -> Iterator[Page]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.add_init_script(RECORDER)
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def bar_history(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("window.__bar")


def shown_done(sample: dict[str, Any]) -> int:
    """The done count as the page displays it ("1,230 / 6,000 units" → 1230)."""
    m = re.match(r"([\d,]+)", sample["doneText"])
    assert m, sample
    return int(m.group(1).replace(",", ""))


def submit_from_form(page: Page, engine: str, spec: dict[str, Any], label: str | None = None):
    page.goto(f"/#/new?engine={engine}")  # the test engines are in the menu only when named
    page.select_option("#engine-field", engine)
    page.fill("#spec-field", json.dumps(spec))
    if label:
        page.fill("#label-field", label)
    page.click("#submit-job")


def test_submitted_job_waits_then_rises_to_complete(page: Page, client: httpx.Client) -> None:
    spec = {"units": 60, "chunk_size": 10, "chunk_seconds": 0.5}
    submit_from_form(page, "sleep", spec, label="e2e progress")
    page.wait_for_url(JOB_URL)
    job_id = JOB_URL.search(page.url).group(1)
    bar = page.locator("#job-progress")
    expect(bar).to_have_attribute("data-state", "complete", timeout=30_000)
    expect(page.locator("#job-progress .pbar-label")).to_have_text("complete")
    expect(page.locator("#job-title")).to_have_text("e2e progress")

    history = bar_history(page)
    first, last = history[0], history[-1]
    # Before the first chunk lands: "waiting", with no value and no fill width.
    assert first["state"] == "waiting" and first["label"] == "waiting", history
    assert first["valuenow"] is None and first["width"] == ""
    for sample in history:
        if sample["done"] == 0:
            assert sample["state"] == "waiting" and "%" not in sample["label"], sample
    # The displayed count only ever goes up.
    shown = [shown_done(s) for s in history]
    assert shown == sorted(shown), shown
    assert all(shown_done(s) == s["done"] for s in history)
    # In between, the percentage is the persisted fraction, never rounded up to 100%;
    # with every unit stored but the result not yet saved, it says "finishing".
    running = [s for s in history if s["state"] == "running"]
    assert any(s["done"] < s["total"] for s in running), f"no intermediate progress: {history}"
    for s in running:
        assert 0 < s["done"] <= s["total"] == 60
        expected = "finishing" if s["done"] == 60 else f"{math.floor(100 * s['done'] / 60)}%"
        assert s["label"] == expected, s
        assert s["valuenow"] == str(math.floor(100 * s["done"] / 60))
    # "complete" only once everything is done, and it is the end.
    for s in history:
        if s["state"] == "complete" or s["label"] == "complete":
            assert s["done"] == s["total"] == 60
    assert last["valuenow"] == "100" and last["doneText"] == "60 / 60 units"
    # Updates came over the event stream.
    assert "stream" in {s["mode"] for s in history}
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "complete"


def test_polling_fallback_when_the_stream_is_missing(page: Page, client: httpx.Client) -> None:
    page.route(
        "**/api/jobs/*/stream",
        lambda route: route.fulfill(
            status=404,
            content_type="application/problem+json",
            body='{"code": "not_found", "detail": "Not Found"}',
        ),
    )
    submit_from_form(page, "sleep", {"units": 40, "chunk_size": 10, "chunk_seconds": 0.4})
    page.wait_for_url(JOB_URL)
    expect(page.locator("#job-progress")).to_have_attribute(
        "data-state", "complete", timeout=30_000
    )
    history = bar_history(page)
    modes = {s["mode"] for s in history}
    assert "polling" in modes and "stream" not in modes, history
    shown = [shown_done(s) for s in history]
    assert shown == sorted(shown) and shown[-1] == 40


def test_failed_job_shows_error_and_its_message(page: Page, client: httpx.Client) -> None:
    message = "deliberate failure in chunk one"
    spec = {
        "units": 30,
        "chunk_size": 10,
        "chunk_seconds": 0.1,
        "fail_at_chunk": 1,
        "fail_message": message,
    }
    submit_from_form(page, "sleep", spec)
    page.wait_for_url(JOB_URL)
    job_id = JOB_URL.search(page.url).group(1)
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "error", timeout=30_000)
    expect(page.locator("#job-progress .pbar-label")).to_have_text("error")
    expect(page.locator("#job-error .error-message")).to_have_text(message)
    expect(page.locator("#job-error .error-code")).to_have_text("deliberate_failure")
    expect(page.locator("#job-status [data-status]")).to_have_text("error")
    for s in bar_history(page):
        assert s["state"] != "complete" and s["label"] not in ("complete", "100%"), s
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["status"] == "error" and job["error"]["message"] == message
    # No result section for a failed job.
    assert page.locator("#job-result").count() == 0


def test_cancel_then_delete_from_the_ui(page: Page, client: httpx.Client) -> None:
    job_id = submit(
        client, "sleep", {"units": 2000, "chunk_size": 10, "chunk_seconds": 0.5}, label="to cancel"
    )
    page.goto(f"/#/jobs/{job_id}")
    expect(page.locator("#job-status [data-status]")).to_have_text("running", timeout=30_000)
    page.click("#cancel-job")
    expect(page.locator("#job-progress")).to_have_attribute(
        "data-state", "cancelled", timeout=15_000
    )
    expect(page.locator("#job-progress .pbar-label")).to_have_text("cancelled")
    assert client.get(f"/api/jobs/{job_id}").json()["status"] == "cancelled"
    expect(page.locator("#cancel-job")).to_have_count(0)

    delete = page.locator("#delete-job")
    delete.click()
    expect(delete).to_have_text("Confirm delete")
    delete.click()
    page.wait_for_url(re.compile(r"#/jobs$"))
    assert client.get(f"/api/jobs/{job_id}").status_code == 404


def test_bad_spec_shows_the_problem_and_where(page: Page, client: httpx.Client) -> None:
    before = client.get("/api/jobs").json()["total"]
    submit_from_form(page, "sleep", {"units": -1})
    problem = page.locator("#form-problem .problem")
    expect(problem).to_be_visible()
    expect(problem.locator(".problem-location")).to_have_text("spec.units")
    expect(problem.locator(".problem-detail")).to_contain_text("spec.units")
    expect(problem.locator(".problem-detail")).to_contain_text("greater than or equal to 0")
    expect(problem).to_contain_text("HTTP 422")
    expect(page.locator("#spec-field")).to_have_attribute("aria-invalid", "true")
    assert re.search(r"#/new\?engine=sleep$", page.url)  # the form stays, nothing queued
    assert client.get("/api/jobs").json()["total"] == before


def test_result_view_shows_the_api_numbers(page: Page, client: httpx.Client) -> None:
    job_id = submit(client, "sleep", {"units": 30, "chunk_size": 10, "seed": 7})
    assert wait_for(client, job_id)["status"] == "complete"
    body = client.get(f"/api/jobs/{job_id}/result").json()
    page.goto(f"/#/jobs/{job_id}")
    table = page.locator("#job-result table.kv")
    expect(table).to_be_visible()
    for key, value in body["result"].items():
        cell = table.locator(f"tr[data-key='{key}'] td")
        assert float(cell.get_attribute("data-value")) == value
        shown = float(cell.inner_text().replace(",", ""))
        assert math.isclose(shown, value, rel_tol=1e-5), (key, shown, value)
    links = page.locator("#job-result a[data-artifact]")
    expect(links).to_have_count(len(body["artifacts"]))
    for art in body["artifacts"]:
        link = page.locator(f"#job-result a[data-artifact='{art['name']}']")
        assert link.get_attribute("href") == art["href"]
        assert page.request.get(art["href"]).text() == client.get(art["href"]).text


def test_risk_tree_result_draws_the_loss_exceedance_chart(page: Page, client: httpx.Client) -> None:
    engines = {e["name"]: e for e in client.get("/api/engines").json()["engines"]}
    if "risktree" not in engines:
        pytest.fail(f"risktree engine is not registered: {sorted(engines)}")
    job_id = submit(client, "risktree", engines["risktree"]["example_spec"])
    assert wait_for(client, job_id)["status"] == "complete"
    result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
    page.goto(f"/#/jobs/{job_id}")
    expect(page.locator("#job-result svg[data-chart=lec]")).to_have_count(1)
    curve = result["chart"]["layer"][0]["data"]["values"]
    expected = sorted({row["node"] for row in curve})
    drawn = page.locator("#job-result svg[data-chart=lec] g.lec")
    expect(drawn).to_have_count(len(expected))
    assert sorted(drawn.evaluate_all("els => els.map(e => e.dataset.node)")) == expected
    # One row per node, with the API's figures.
    for name, node in result["nodes"].items():
        cell = page.locator(f"#node-table tr[data-node='{name}'] td[data-value]").first
        expect(cell).to_be_visible()
        assert name in result["order"] and isinstance(node["aal"], float)
    aal = page.locator(f"#node-table tr[data-node='{result['root']}'] td[data-value]").evaluate_all(
        "els => els.map(e => Number(e.dataset.value))"
    )
    assert result["nodes"][result["root"]]["aal"] in aal


def test_job_list_filters_by_status(page: Page, client: httpx.Client) -> None:
    ok = submit(client, "sleep", {"units": 10, "chunk_size": 10}, label="list-ok")
    bad = submit(client, "sleep", {"units": 10, "chunk_size": 10, "fail_at_chunk": 0})
    wait_for(client, ok)
    wait_for(client, bad)
    page.goto("/#/jobs")
    rows = page.locator("#job-list tbody tr")
    expect(page.locator(f"#job-list tr[data-job-id='{ok}']")).to_be_visible()
    # Newest first, like the API.
    api_ids = [j["job_id"] for j in client.get("/api/jobs", params={"limit": 20}).json()["items"]]
    assert rows.evaluate_all("els => els.map(e => e.dataset.jobId)") == api_ids
    page.select_option("#status-filter", "error")
    expect(page.locator(f"#job-list tr[data-job-id='{ok}']")).to_have_count(0)
    expect(page.locator(f"#job-list tr[data-job-id='{bad}']")).to_be_visible()
    statuses = rows.evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses and set(statuses) == {"error"}
    assert "status=error" in page.url
    page.locator(f"#job-list tr[data-job-id='{bad}'] a.job-link").click()
    expect(page.locator("#job-progress")).to_have_attribute("data-state", "error")


def test_upload_puts_the_file_id_into_the_spec(
    page: Page, client: httpx.Client, tmp_path: Path
) -> None:
    """The file is uploaded first and its id set as spec.file_id; the sleep engine takes
    no files, so its 422 must name spec.file_id and mark the file input."""
    upload = tmp_path / "inputs.csv"
    upload.write_text("a,b\n1,2\n")
    page.goto("/#/new?engine=sleep")
    page.select_option("#engine-field", "sleep")
    page.fill("#spec-field", json.dumps({"units": 10}))
    page.set_input_files("#file-field", str(upload))
    expect(page.locator("#file-key-field")).to_have_value("file_id")
    page.click("#submit-job")
    problem = page.locator("#form-problem .problem")
    expect(problem.locator(".problem-location")).to_have_text("spec.file_id")
    expect(page.locator("#file-field")).to_have_attribute("aria-invalid", "true")
    spec = json.loads(page.input_value("#spec-field"))
    info = client.get(f"/api/files/{spec['file_id']}").json()
    assert info["filename"] == "inputs.csv" and info["size"] == upload.stat().st_size


def test_excel_shaped_statistics_render_as_table_and_histograms(page: Page) -> None:
    """Per-output summaries as the stats module makes them: a row each and a histogram."""
    rng = np.random.default_rng(5)
    outputs = {
        "Model!B10 NPV": summarize(rng.normal(100.0, 15.0, 2000)),
        "Model!B11 IRR": summarize(rng.normal(0.08, 0.02, 2000)),
    }
    body = {"job_id": "x", "engine": "excel", "result": {"iterations": 2000, "outputs": outputs}}
    page.goto("/#/jobs")
    page.evaluate(
        """async (body) => {
            const { renderResult } = await import("/static/js/result.js");
            const box = document.createElement("div");
            box.id = "rendered";
            box.append(renderResult(body));
            document.body.append(box);
        }""",
        body,
    )
    tabs = page.locator("#rendered .tabs [role=tab]")
    expect(tabs).to_have_count(2)
    for name, stats in outputs.items():
        page.locator(f"#rendered .tab[data-output='{name}']").click()
        panel = page.locator(f"#rendered .output-panel[data-output='{name}']")
        values = panel.locator("#stats-card td[data-value]").evaluate_all(
            "els => els.map(e => Number(e.dataset.value))"
        )
        assert stats["mean"] in values and stats["percentiles"]["p95"] in values
        bars = panel.locator("svg[data-chart=histogram] rect.bar")
        expect(bars).to_have_count(len(stats["histogram"]["counts"]))


def test_excel_workbook_uploaded_from_the_form_runs_to_histograms(
    page: Page, client: httpx.Client, tmp_path: Path
) -> None:
    """A real workbook through the form: uploaded, simulated, its outputs drawn."""
    from tests.engines.excel.books import save_book

    book = save_book(
        tmp_path / "profit.xlsx",
        {
            "M!B1": '=RiskTriang(800, 1000, 1500, RiskName("Units"))',
            "M!B2": '=RiskNormal(25, 3, RiskName("Price"))',
            "M!B3": '=RiskOutput("Profit") + B1*(B2-14) - 6000',
            "M!B4": '=RiskOutput("Margin") + B3/(B1*B2)',
        },
    )
    page.goto("/#/new")
    page.select_option("#engine-field", "excel")
    page.fill("#spec-field", json.dumps({"iterations": 20_000, "seed": 3}))
    page.set_input_files("#file-field", str(book))
    page.click("#submit-job")
    page.wait_for_url(JOB_URL)
    job_id = JOB_URL.search(page.url).group(1)
    assert wait_for(client, job_id, timeout=120)["status"] == "complete"
    result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
    assert list(result["outputs"]) == ["Profit", "Margin"]
    expect(page.locator("#job-result .tabs [role=tab]")).to_have_count(2)
    for name, stats in result["outputs"].items():
        page.locator(f"#job-result .tab[data-output='{name}']").click()
        panel = page.locator(f"#job-result .output-panel[data-output='{name}']")
        values = panel.locator("#stats-card td[data-value]").evaluate_all(
            "els => els.map(e => Number(e.dataset.value))"
        )
        assert stats["mean"] in values and stats["percentiles"]["p95"] in values
        bars = panel.locator("svg[data-chart=histogram] rect.bar")
        expect(bars).to_have_count(len(stats["histogram"]["counts"]))
    links = page.locator("#job-result a[data-artifact]")
    expect(links).to_have_count(2)
