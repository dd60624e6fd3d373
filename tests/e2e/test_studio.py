"""The workbook studio end to end: a real `montesim serve` and Debian's Chromium.

Screenshots of the studio go to tests/e2e/screenshots/ (git-ignored) to be looked at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.conftest import ServerProc, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM

PROJECT = Path(__file__).resolve().parents[2] / "examples" / "excel" / "project.xlsx"
SHOTS = Path(__file__).resolve().parent / "screenshots"
JOB_URL = re.compile(r"#/jobs/([0-9a-f-]{8,})$")

pytestmark = [
    pytest.mark.xdist_group("e2e-studio"),
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    data = tmp_path_factory.mktemp("e2e-studio")
    proc = ServerProc(data_dir=data, database_url=f"sqlite:///{data / 'montesim.db'}").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(server: ServerProc) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def new_page(browser: Browser, server: ServerProc, width: int = 1280, height: int = 800):
    context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


@pytest.fixture
def page(browser: Browser, server: ServerProc) -> Iterator[Page]:
    context, pg, errors = new_page(browser, server)
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_workbook(page: Page, path: Path) -> None:
    page.goto("/#/studio")
    page.set_input_files("#workbook-file", str(path))
    expect(page.locator(".sheet-tab").first).to_be_visible(timeout=60_000)


def click_cell(page: Page, sheet: str, address: str) -> None:
    page.click(f".sheet-tab[data-sheet='{sheet}']")
    page.locator(f"#cell-{address}").click()
    expect(page.locator("#name-box")).to_have_value(f"{sheet}!{address}")


def test_define_inputs_and_outputs_by_clicking_then_run(page: Page, client: httpx.Client) -> None:
    open_workbook(page, PROJECT)
    expect(page.locator("#studio-title")).to_have_text("project.xlsx")
    expect(page.locator(".sheet-tab")).to_have_text(["Inputs", "Corr", "Prices", "Model"])
    # The workbook's own inputs and outputs are listed and marked.
    workbook_inputs = page.locator("#inputs-list [data-source=workbook] strong")
    expect(workbook_inputs).to_have_text(
        ["Market size", "Share", "Growth", "Price tier", "Unit cost"]
    )
    expect(page.locator("#outputs-list input.inline-name")).to_have_count(4)
    click_cell(page, "Inputs", "A7")
    expect(page.locator("#cell-A7")).to_have_text("Investment")
    expect(page.locator("#cell-B7")).to_have_text("150000")
    expect(page.locator("#cell-B1")).to_have_class(re.compile(r"\bm-input\b"))
    # Keyboard: the arrow moves to the constant beside the label, Enter opens the editor.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#name-box")).to_have_value("Inputs!B6")
    expect(page.locator("#formula-bar")).to_have_value("30000")
    page.keyboard.press("Enter")
    dialog = page.locator("dialog.input-editor")
    expect(dialog).to_be_visible()
    expect(page.locator("#input-name")).to_have_value("Fixed costs")  # the row label
    page.select_option("#input-family", "normal")
    page.fill("#param-mean", "10")
    page.fill("#param-sd", "-2")
    expect(page.locator("#input-message")).to_contain_text("sd")  # the server's message
    expect(page.locator("#param-sd")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#input-save")).to_be_disabled()
    page.fill("#param-sd", "2")
    expect(page.locator("#input-mean")).to_have_text("10")
    expect(page.locator("#input-p5")).to_have_text("6.7103")  # 10 - 1.6449 * 2
    expect(page.locator("#input-p95")).to_have_text("13.29")
    expect(page.locator("svg.density path.density-line")).to_have_count(1)
    shot(page, "studio-input-panel")
    page.click("#input-save")
    expect(dialog).to_have_count(0)
    expect(page.locator("#cell-B6")).to_have_class(re.compile(r"m-input-studio"))
    expect(page.locator("#inputs-list [data-source=studio]")).to_contain_text("RiskNormal(10, 2)")

    # Another cell becomes an output, named after its row label.
    click_cell(page, "Model", "C5")
    page.click("#toggle-output")
    expect(page.locator("#cell-C5")).to_have_class(re.compile(r"m-output"))
    expect(page.locator("#outputs-list li[data-cell='Model!C5'] input")).to_have_value("Costs")
    shot(page, "studio-marked-sheet")

    page.fill("#run-iterations", "20000")
    page.locator("#run-iterations").dispatch_event("change")
    page.click("#spec-toggle summary")
    expect(page.locator("#spec-json")).to_contain_text('"iterations": 20000')
    page.click("#run-model")
    page.wait_for_url(JOB_URL)
    job_id = JOB_URL.search(page.url).group(1)
    job = wait_for(client, job_id, timeout=120)
    assert job["status"] == "complete", job
    expect(page.locator("#job-result")).to_contain_text("Costs", timeout=30_000)
    result = client.get(f"/api/jobs/{job_id}/result").json()["result"]
    assert result["iterations"] == 20_000
    costs = result["outputs"]["Costs"]
    # Costs of year 1 = units x unit cost + fixed costs, with fixed costs now Normal(10, 2):
    # E = 52,500 x (0.08 + 0.12 + 0.2) / 3 x 12.5 + 10 = 87,510 (30,000 more if ignored).
    assert costs["mean"] == pytest.approx(87_510, rel=0.02)
    fixed_costs = next(i for i in result["inputs"] if i["name"] == "Fixed costs")
    assert fixed_costs["cell"] == "Inputs!B6" and fixed_costs["family"] == "normal"
    assert fixed_costs["params"] == [10, 2] and fixed_costs["source"] == "spec"


def test_unsupported_function_is_shown_before_running(
    page: Page, client: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "webservice.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    ws["A1"], ws["B1"] = "Volume", '=RiskNormal(100, 10, RiskName("Volume"))'
    ws["A2"], ws["B2"] = "Quote", '=WEBSERVICE("http://example.com")'
    ws["A3"], ws["B3"] = "Total", '=RiskOutput("Total") + B1 * B2'
    wb.save(path)
    before = client.get("/api/jobs").json()["total"]
    open_workbook(page, path)
    expect(page.locator("#cell-B2")).to_have_class(re.compile(r"m-unsupported"))
    page.click("#run-model")
    summary = page.locator("#check-summary")
    expect(summary).to_have_attribute("data-ok", "false")
    item = page.locator(".check-item[data-code=unsupported_function]")
    expect(item).to_contain_text("WEBSERVICE")
    expect(item.locator("button.link")).to_have_text(["Plan!B2"])
    shot(page, "studio-pre-run-check")
    assert client.get("/api/jobs").json()["total"] == before  # nothing was submitted
    item.locator("button.link").click()  # the cell link selects the cell
    expect(page.locator("#name-box")).to_have_value("Plan!B2")


def test_the_model_survives_a_reload_and_a_saved_setup_a_new_browser(
    browser: Browser, server: ServerProc
) -> None:
    context, page, errors = new_page(browser, server)
    open_workbook(page, PROJECT)
    click_cell(page, "Model", "G8")
    page.click("#toggle-output")
    expect(page.locator("#outputs-list li[data-cell='Model!G8'] input")).to_have_value("Cash flow")
    click_cell(page, "Inputs", "B7")
    page.click("#fix-cell")
    fixed = page.locator("#fixed-list input.inline-value")
    expect(fixed).to_have_value("150000")
    fixed.fill("175000")
    fixed.dispatch_event("change")
    # A workbook input removed from the simulation is fixed at its mean (PERT: 52,500).
    page.locator("#inputs-list li[data-cell='Inputs!B1'] button", has_text="Fix").click()
    expect(page.locator("#fixed-list li[data-cell='Inputs!B1'] input")).to_have_value("52500")
    # Correlating two inputs: the server checks the matrix.
    page.click("#correlation summary")
    page.locator("#correlation-body label", has_text="Unit cost").click()
    page.locator("#correlation-body label", has_text="Price tier").click()
    cell = page.locator("#corr-matrix input.corr-cell")
    cell.fill("0.4")
    cell.dispatch_event("change")
    expect(page.locator("#correlation-message")).to_have_text(
        "The matrix is a valid correlation matrix."
    )
    page.locator("#corr-matrix input.corr-cell").fill("1.5")
    page.locator("#corr-matrix input.corr-cell").dispatch_event("change")
    expect(page.locator("#correlation-message")).to_contain_text("correlation.matrix")
    page.locator("#corr-matrix input.corr-cell").fill("0.4")
    page.locator("#corr-matrix input.corr-cell").dispatch_event("change")
    page.reload()
    expect(page.locator("#outputs-list li[data-cell='Model!G8'] input")).to_have_value("Cash flow")
    expect(page.locator("#corr-matrix input.corr-cell")).to_have_value("0.4")
    expect(page.locator("#fixed-list li[data-cell='Inputs!B7'] input")).to_have_value("175000")
    page.fill("#setup-name", "What-if capex")
    page.click("#save-setup")
    expect(page.locator("#setup-message")).to_have_text("Saved “What-if capex”.")
    assert not errors, errors
    context.close()

    # A new browser (no local state) reopening the workbook by name starts from the setup.
    context, page, errors = new_page(browser, server)
    page.goto("/#/studio")
    page.locator(".recent-name", has_text="project.xlsx").first.click()
    expect(page.locator("#studio-notice")).to_contain_text("What-if capex")
    expect(page.locator("#fixed-list li[data-cell='Inputs!B7'] input")).to_have_value("175000")
    expect(page.locator("#outputs-list li[data-cell='Model!G8']")).to_have_count(1)
    assert not errors, errors
    context.close()


def test_precedents_dependents_and_a_narrow_screen(browser: Browser, server: ServerProc) -> None:
    context, page, errors = new_page(browser, server, width=390, height=844)
    open_workbook(page, PROJECT)
    click_cell(page, "Model", "C4")
    page.click("#trace-precedents")
    expect(page.locator("#trace-line button.link").first).to_have_text("Model!C2")
    expect(page.locator("#cell-C2")).to_have_class(re.compile(r"trace-pre"))
    expect(page.locator("#cell-C3")).to_have_class(re.compile(r"trace-pre"))
    page.click("#trace-dependents")
    expect(page.locator("#trace-line")).to_contain_text("Dependents of Model!C4: Model!C6")
    expect(page.locator("#cell-C6")).to_have_class(re.compile(r"trace-dep"))
    # Nothing wider than the phone's screen; the actions are reachable.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    expect(page.locator("#define-input")).to_be_visible()
    shot(page, "studio-390px")
    assert not errors, errors
    context.close()


def test_new_job_with_the_example_spec_and_a_picked_workbook_runs(
    page: Page, client: httpx.Client
) -> None:
    page.goto("/#/new")
    page.select_option("#engine-field", "excel")
    expect(page.locator("#spec-field")).to_have_value(re.compile('"cells"'))
    page.set_input_files("#file-field", str(PROJECT))
    page.click("#submit-job")
    page.wait_for_url(JOB_URL)
    job = wait_for(client, JOB_URL.search(page.url).group(1), timeout=120)
    assert job["status"] == "complete", job


def test_a_sheet_of_tens_of_thousands_of_cells_scrolls_in_pages(page: Page, tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ledger"
    ws.append(["Row", "Amount", "Share"])
    for r in range(2, 12_002):
        ws.append([r, r * 2.5, (r % 100) / 100])
        ws.cell(r, 2).number_format = "#,##0.00"
        ws.cell(r, 3).number_format = "0%"
    wb.save(path)
    pages: list[str] = []
    page.on("request", lambda req: "/cells?" in req.url and pages.append(req.url))
    open_workbook(page, path)
    expect(page.locator("#cell-B2")).to_have_text("5.00")
    expect(page.locator("#cell-C2")).to_have_text("2%")
    # Jump far down: only the visible rows are in the page, fetched as a new block.
    page.fill("#name-box", "Ledger!B11500")
    page.press("#name-box", "Enter")
    expect(page.locator("#cell-B11500")).to_have_text("28,750.00")
    expect(page.locator("#cell-A11500")).to_have_text("11500")
    assert page.locator(".grid-body .cell").count() < 600
    assert 2 <= len(pages) <= 6, pages  # a few blocks, not the whole sheet
    page.keyboard.press("PageDown")
    expect(page.locator("#name-box")).to_have_value(re.compile(r"Ledger!B115\d\d"))
