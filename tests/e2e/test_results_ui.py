"""Result dashboards in the browser, end to end on a real server: the Excel dashboard,
honest warnings, downloads, run comparison, risk-tree views and offline API docs.

Screenshots land in tests/e2e/screenshots/ (git-ignored) at 1280×800 and 390 px wide.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from tests.conftest import ServerProc, submit, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "excel" / "project.xlsx"
SHOTS = Path(__file__).resolve().parent / "screenshots"
SIZES = {"wide": {"width": 1280, "height": 800}, "narrow": {"width": 390, "height": 844}}

pytestmark = [
    pytest.mark.xdist_group("e2e-results"),
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]

NA_MODEL = {
    "M!B1": '=RiskUniform(0, 1, RiskName("Demand"))',
    "M!B2": "=IF(B1<0.3, NA(), B1*1000)",
    "M!B3": '=RiskOutput("Revenue") + B2',
    "M!B4": "=IF(B1>2, 1, NA())",
    "M!B5": '=RiskOutput("NPV") + B4 + B1',
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    data = tmp_path_factory.mktemp("e2e-results")
    proc = ServerProc(data_dir=data, database_url=f"sqlite:///{data / 'montesim.db'}").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(server: ServerProc) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def new_page(browser: Browser, server: ServerProc, size: str = "wide") -> Page:
    context = browser.new_context(base_url=server.url, viewport=SIZES[size], accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(browser: Browser, server: ServerProc) -> Iterator[Page]:
    pg = new_page(browser, server)
    yield pg
    pg.context.close()
    assert not pg.errors, f"uncaught errors in the page: {pg.errors}"  # type: ignore[attr-defined]


# Pairs of axis tick labels (or marker labels) on one line whose boxes overlap, per chart.
OVERLAPS = """() => {
  const found = [];
  for (const svg of document.querySelectorAll("svg.chart")) {
    const lines = new Map();
    for (const t of svg.querySelectorAll("text.tick, text.marker-label")) {
      const b = t.getBoundingClientRect();
      if (!b.width) continue;
      const key = `${t.getAttribute("class")}:${Math.round(b.top)}`;
      if (!lines.has(key)) lines.set(key, []);
      lines.get(key).push({ text: t.textContent, left: b.left, right: b.right });
    }
    for (const labels of lines.values()) {
      labels.sort((a, b) => a.left - b.left);
      for (let i = 1; i < labels.length; i++) {
        if (labels[i].left < labels[i - 1].right - 0.5) {
          found.push(`${svg.dataset.chart}: ${labels[i - 1].text} / ${labels[i].text}`);
        }
      }
    }
  }
  return found;
}"""


def shoot(browser: Browser, server: ServerProc, path: str, ready: str, name: str) -> None:
    """Screenshots of `path` at both sizes, once `ready` is visible; no chart there may
    have tick labels running into each other at either size."""
    SHOTS.mkdir(exist_ok=True)
    for size in SIZES:
        pg = new_page(browser, server, size)
        pg.goto(path)
        pg.locator(ready).first.wait_for()
        pg.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        overlaps = pg.evaluate(OVERLAPS)
        charts = pg.locator("svg.chart").count()
        errors = pg.errors  # type: ignore[attr-defined]
        pg.context.close()
        assert not errors, errors
        assert charts and not overlaps, (size, overlaps)


@pytest.fixture(scope="module")
def example_file(client: httpx.Client) -> str:
    with EXAMPLE.open("rb") as fh:
        resp = client.post("/api/files", files={"file": ("project.xlsx", fh)})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["file_id"]


@pytest.fixture(scope="module")
def example_job(client: httpx.Client, example_file: str) -> str:
    spec = {"file_id": example_file, "iterations": 20_000, "seed": 1}
    job = submit(client, "excel", spec, label="Project NPV, seed 1")
    assert wait_for(client, job)["status"] == "complete"
    return job


def test_dashboard_draws_every_chart_from_the_result(
    page: Page, client: httpx.Client, example_job: str, browser: Browser, server: ServerProc
) -> None:
    result = client.get(f"/api/jobs/{example_job}/result").json()["result"]
    npv = result["outputs"]["NPV"]
    page.goto(f"/#/jobs/{example_job}")
    dash = page.locator("#excel-dashboard")
    expect(dash).to_be_visible()
    # histogram: one bar per bin, mean and P5/P50/P95 markers at the result's values
    hist = dash.locator("#histogram-card svg[data-chart=histogram]")
    expect(hist.locator("rect.bar")).to_have_count(len(npv["histogram"]["counts"]))
    for key, value in [("mean", npv["mean"])] + [
        (f"p{q}", npv["percentiles"][f"p{q}"]) for q in (5, 50, 95)
    ]:
        marker = hist.locator(f"[data-marker={key}]")
        assert float(marker.get_attribute("data-value")) == pytest.approx(value)
    # markers are adjustable: P10 and P90 replace the defaults
    page.fill("#marker-input", "10, 90")
    page.press("#marker-input", "Enter")
    expect(hist.locator("[data-marker=p90]")).to_have_count(1)
    expect(hist.locator("[data-marker=p5]")).to_have_count(0)
    p90 = float(hist.locator("[data-marker=p90]").get_attribute("data-value"))
    assert p90 == pytest.approx(npv["percentiles"]["p90"])
    # the delimiter band starts at P5..P95: about 90% of trials between
    inside = float(
        page.locator("#band-readout [data-probability]").get_attribute("data-probability")
    )
    assert inside == pytest.approx(0.90, abs=0.01)
    # CDF: a curve through every ECDF point, with the same markers
    cdf = dash.locator("#cdf-card svg[data-chart=cdf]")
    assert cdf.locator("path.series").get_attribute("data-points") == str(len(npv["ecdf"]))
    expect(cdf.locator("[data-marker=mean]")).to_have_count(1)
    # tornado with input names, largest |rho| first, then contribution to variance
    rows = dash.locator("#tornado-card svg[data-chart=tornado] .bar-row")
    tornado = npv["sensitivity"]["tornado"]
    expect(rows).to_have_count(len(tornado))
    assert rows.first.get_attribute("data-input") == tornado[0]["input"] == "Price tier"
    page.select_option("#tornado-mode", "variance")
    expect(dash.locator("#tornado-card svg[data-chart=variance] .bar-row")).to_have_count(
        len(npv["sensitivity"]["contribution_to_variance"])
    )
    expect(dash.locator("#spider-card svg[data-chart=spider] .spider-line")).to_have_count(
        len(npv["sensitivity"]["spider"])
    )
    # statistics with plain labels, not raw keys
    stats = dash.locator("#stats-card")
    expect(stats).to_contain_text("Std dev")
    expect(stats).to_contain_text("95% CI of the mean")
    expect(stats).not_to_contain_text("percentiles.p5")
    # inputs as sampled: one histogram per input, bars summing to the kept iterations
    for d in result["inputs"]:
        card = dash.locator(f"#inputs-section [data-input='{d['name']}']")
        bars = card.locator("svg[data-chart=input-histogram] rect.bar")
        counts = [int(c) for c in bars.evaluate_all("els => els.map(e => e.dataset.count)")]
        assert sum(counts) == result["raw_iterations"]
    heat = dash.locator("#correlation-card svg[data-chart=heatmap] .heat-cell")
    expect(heat).to_have_count(len(result["outputs"]) ** 2)
    # another output's tab redraws for that output
    page.click(".tab[data-output=IRR]")
    expect(page.locator(".output-panel[data-output=IRR] svg[data-chart=histogram]")).to_be_visible()
    shoot(
        browser,
        server,
        f"/#/jobs/{example_job}",
        "#excel-dashboard svg[data-chart=heatmap]",
        "dashboard",
    )


def test_downloads_xlsx_json_svg_and_png(
    page: Page, client: httpx.Client, example_job: str
) -> None:
    result = client.get(f"/api/jobs/{example_job}/result").json()["result"]
    page.goto(f"/#/jobs/{example_job}")
    expect(page.locator("#excel-dashboard")).to_be_visible()
    with page.expect_download() as info:
        page.click(".download-bar [data-download=xlsx]")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), read_only=True)
    rows = list(book["Outputs"].iter_rows(values_only=True))
    means = {r[0]: r[rows[0].index("Mean")] for r in rows[1:]}
    assert means["NPV"] == pytest.approx(result["outputs"]["NPV"]["mean"])
    with page.expect_download() as info:
        page.click(".download-bar [data-download=json]")
    assert json.loads(Path(info.value.path()).read_text())["result"] == result
    with page.expect_download() as info:
        page.click("#histogram-card [data-download=svg]")
    svg = Path(info.value.path()).read_text()
    assert info.value.suggested_filename == "npv-histogram.svg"
    assert svg.startswith("<svg") and svg.count("data-count=") == len(
        result["outputs"]["NPV"]["histogram"]["counts"]
    )
    with page.expect_download() as info:
        page.click("#tornado-card [data-download=png]")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_all_error_output_says_so_in_red(
    page: Page, client: httpx.Client, browser: Browser, server: ServerProc
) -> None:
    job = submit(client, "excel", {"cells": NA_MODEL, "iterations": 5_000, "seed": 2}, label="NA")
    assert wait_for(client, job)["status"] == "complete"
    result = client.get(f"/api/jobs/{job}/result").json()["result"]
    assert {w["output"] for w in result["warnings"] if "output" in w} == {"Revenue", "NPV"}
    page.goto(f"/#/jobs/{job}")
    banner = page.locator("#job-warnings")
    expect(banner).to_have_class("banner banner-error")
    expect(page.locator("#job-status #warning-badge")).to_have_text("2 warnings")
    expect(banner).to_contain_text("every trial of output NPV (M!B5) is #N/A")
    expect(banner).to_contain_text("first produced by M!B4")
    expect(banner).to_contain_text("of trials of output Revenue (M!B3) are #N/A")
    expect(page.locator("#output-warnings")).to_contain_text("first produced by M!B2")
    page.click(".tab[data-output=NPV]")
    expect(page.locator("#all-errors")).to_contain_text("every one of the 5,000 trials is an error")
    expect(page.locator("#all-errors")).to_have_css("color", "rgb(180, 35, 24)")
    expect(page.locator("#error-table [data-error='#N/A']")).to_contain_text("M!B4")
    shoot(browser, server, f"/#/jobs/{job}", "#job-warnings", "warnings")


def test_api_docs_render_offline(page: Page, server: ServerProc) -> None:
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto("/")
    page.click("nav >> text=API")
    # the bundle is 1.5 MB and the schema is built on first request: allow for a busy machine
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("montesim", timeout=60_000)
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    outside = [u for u in requests if not u.startswith((server.url, "data:", "blob:"))]
    assert len(requests) > 3 and not outside, outside


def test_compare_two_seeds_overlays_both(
    page: Page,
    client: httpx.Client,
    example_file: str,
    example_job: str,
    browser: Browser,
    server: ServerProc,
) -> None:
    spec = {"file_id": example_file, "iterations": 20_000, "seed": 2}
    other = submit(client, "excel", spec, label="Project NPV, seed 2")
    assert wait_for(client, other)["status"] == "complete"
    page.goto(f"/#/jobs/{example_job}")
    page.click("#compare-with")
    page.check(f"#compare-picks [data-job-id='{other}'] input")
    page.click("#compare-go")
    names = ["Project NPV, seed 1", "Project NPV, seed 2"]
    overlay = page.locator("#compare-hist svg[data-chart=overlay] path.overlay-series")
    expect(overlay).to_have_count(2)
    assert overlay.evaluate_all("els => els.map(e => e.dataset.series)") == names
    cdf = page.locator("#compare-cdf svg[data-chart=cdf] path.series")
    assert cdf.evaluate_all("els => els.map(e => e.dataset.series)") == names
    means = [
        client.get(f"/api/jobs/{j}/result").json()["result"]["outputs"]["NPV"]["mean"]
        for j in (example_job, other)
    ]
    diff = page.locator("#compare-stats td.diff")
    assert float(diff.get_attribute("data-diff")) == pytest.approx(means[1] - means[0])
    assert (
        float(diff.get_attribute("data-lo"))
        < means[1] - means[0]
        < float(diff.get_attribute("data-hi"))
    )
    scenario = page.locator("#scenario-table")
    expect(scenario.locator("thead")).to_contain_text("seed")
    seeds = scenario.locator("tbody tr td.mono").all_inner_texts()
    assert seeds == ["1", "2"]
    page.select_option("#compare-output", "IRR")
    expect(page.locator("#compare-hist figcaption")).to_contain_text("IRR")
    shoot(browser, server, page.url.split(server.url)[1], "#compare-cdf svg", "compare")


REGISTER_TREE = {
    "name": "Company risks",
    "portfolios": [
        {"name": "Company"},
        {"name": "IT", "parentName": "Company"},
        {"name": "Operations", "parentName": "Company"},
    ],
    "leaves": [
        {
            "name": f"{area} risk {i}",
            "parentName": area,
            "probability": 0.05 + 0.02 * i,
            "distributionShape": {
                "distributionType": "lognormal",
                "minLoss": 1000 * i,
                "maxLoss": 90_000 * i,
            }
            if i % 2
            else {
                "distributionType": "expert",
                "percentiles": [0.1, 0.5, 0.9],
                "quantiles": [2000 * i, 9000 * i, 70_000 * i],
            },
        }
        for area in ("IT", "Operations")
        for i in range(1, 5)
    ],
}


def test_register_tree_from_the_form_shows_every_lec(
    page: Page, tmp_path: Path, browser: Browser, server: ServerProc, client: httpx.Client
) -> None:
    tree = tmp_path / "register.json"
    tree.write_text(json.dumps(REGISTER_TREE))
    page.goto("/#/risk")
    page.fill("#risk-label", "Register import")
    page.set_input_files("#tree-file", str(tree))
    expect(page.locator("#file-ok")).to_contain_text("11 nodes (8 leaves)")
    page.click("#run-file")
    page.wait_for_url("**/#/jobs/*")
    job = page.url.rsplit("/", 1)[1]
    assert wait_for(client, job)["status"] == "complete"
    dash = page.locator("#risk-dashboard")
    expect(dash).to_be_visible()
    # by default the top levels are drawn, and the rest are counted as hidden
    expect(page.locator("#lec-count")).to_contain_text("Showing 3 of 11 nodes; 8 hidden")
    page.click("#lec-all")
    lecs = page.locator("#lec-card svg[data-chart=lec] g.lec")
    expect(lecs).to_have_count(11)
    names = lecs.evaluate_all("els => els.map(e => e.dataset.node)")
    assert sorted(names) == sorted(
        ["Company", "IT", "Operations"] + [leaf["name"] for leaf in REGISTER_TREE["leaves"]]
    )
    expect(page.locator("#lec-count")).to_contain_text("Showing all 11 nodes")
    expect(page.locator("#node-table tbody tr")).to_have_count(11)
    expect(page.locator("#return-periods tbody tr")).to_have_count(11)
    expect(page.locator("#tree-outline li")).to_have_count(11)
    shoot(browser, server, f"/#/jobs/{job}", "#risk-dashboard svg[data-chart=lec]", "risk-tree")


def test_tree_form_checks_as_you_type_and_runs(page: Page, client: httpx.Client) -> None:
    page.goto("/#/risk")
    expect(page.locator("#tree-valid")).to_contain_text("3 nodes")
    first = page.locator("#node-rows tr").first
    first.locator("[data-param=high]").fill("10")  # below low: the server names the leaf
    expect(page.locator("#tree-invalid")).to_contain_text("Leaf 'Data breach'")
    expect(first).to_have_attribute("aria-invalid", "true")
    first.locator("[data-param=high]").fill("900000")
    expect(page.locator("#tree-valid")).to_be_visible()
    page.click("#add-portfolio")
    page.locator("#node-rows tr").last.locator(".node-name").fill("Empty group")
    expect(page.locator("#tree-invalid")).to_contain_text("Portfolio 'Empty group' is empty")
    page.locator("#node-rows tr").last.get_by_role("button", name="Remove").click()
    expect(page.locator("#tree-valid")).to_be_visible()
    page.click("#run-form")
    page.wait_for_url("**/#/jobs/*")
    job = page.url.rsplit("/", 1)[1]
    assert wait_for(client, job)["status"] == "complete"
    expect(page.locator("#risk-dashboard #node-table tbody tr")).to_have_count(3)


def test_job_list_filters_by_workbook_label_and_engine(
    page: Page, client: httpx.Client, example_job: str
) -> None:
    tree = {
        "trials": 500,
        "tree": {"name": "R", "children": [{"name": "X", "probability": 0.1, "low": 1, "high": 9}]},
    }
    risk = submit(client, "risktree", tree, label="Small tree")
    assert wait_for(client, risk)["status"] == "complete"
    page.goto("/#/jobs")
    row = page.locator(f"#job-list tr[data-job-id='{example_job}']")
    expect(row.locator(".workbook-name")).to_have_text("project.xlsx")
    page.fill("#file-filter", "PROJECT.xl")
    expect(page.locator(f"#job-list tr[data-job-id='{risk}']")).to_have_count(0)
    expect(row).to_be_visible()
    assert "file_name=PROJECT.xl" in page.url
    page.fill("#file-filter", "")
    page.select_option("#engine-filter", "risktree")
    expect(page.locator(f"#job-list tr[data-job-id='{risk}']")).to_be_visible()
    expect(row).to_have_count(0)
    page.select_option("#engine-filter", "")
    page.fill("#label-filter", "small TREE")
    expect(page.locator("#job-list tbody tr")).to_have_count(1)
    expect(page.locator(f"#job-list tr[data-job-id='{risk}']")).to_be_visible()


def test_workbook_statistics_cells_show_under_the_outputs(
    page: Page, client: httpx.Client, browser: Browser, server: ServerProc
) -> None:
    cells = {
        "M!A1": "=RiskUniform(0, 1)",
        "M!B1": '=RiskOutput("Total") + A1 * 2',
        "M!C1": "=RiskMean(B1)",
        "M!C2": "=RiskPercentile(B1, 0.9)",
    }
    job = submit(client, "excel", {"cells": cells, "iterations": 4_096, "seed": 3}, label="stats")
    assert wait_for(client, job)["status"] == "complete"
    result = client.get(f"/api/jobs/{job}/result").json()["result"]
    mean = result["statistics"][0]["value"]
    assert result["statistics"][0]["cell"] == "M!C1" and abs(mean - 1.0) < 0.01
    page.goto(f"/#/jobs/{job}")
    section = page.locator("#workbook-statistics")
    expect(section).to_contain_text("=RiskPercentile(B1, 0.9)")
    expect(section.locator("tr[data-cell='M!C1'] td.num")).to_have_attribute(
        "data-value", str(mean)
    )
    expect(section.locator("tr[data-cell='M!C2']")).to_contain_text("Total")
    section.screenshot(path=str(SHOTS / "workbook-statistics.png"))
