"""The risk committee's views in the browser: tail drivers, appetite, P(loss ≥ x),
controls, a colour per node for 30+ nodes, return periods in view at 1280 px.

Screenshots land in tests/e2e/screenshots/ (git-ignored) at 1280×800 and 390 px wide.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.conftest import ServerProc, submit, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM
from tests.e2e.test_results_ui import SHOTS, SIZES, new_page, shoot

pytestmark = [pytest.mark.xdist_group("e2e-risk"), pytest.mark.e2e, NEEDS_CHROMIUM]

AREAS = ("Cyber", "Operations", "Finance", "Legal")
TREE = {
    "name": "Enterprise",
    "portfolios": [{"name": a, "parent": "Enterprise"} for a in AREAS],
    "leaves": [
        {
            "name": f"{area} risk {i}",
            "parent": area,
            "probability": 0.04 + 0.01 * i,
            "low": 10_000 * i,
            "high": 400_000 * i,
            **(
                {
                    "controls": [
                        {"name": f"{area} control {i}", "cost": 5_000 * i, "severity_factor": 0.6}
                    ]
                }
                if i in (2, 5)
                else {}
            ),
        }
        for area in AREAS
        for i in range(1, 8)
    ],
}
SPEC = {
    "tree": TREE,
    "trials": 20_000,
    "seed": 3,
    "tolerance": [[200_000, 0.5], [2_000_000, 0.05], [8_000_000, 0.002]],
    "output": {"exceedance_at": [1_000_000]},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    data = tmp_path_factory.mktemp("e2e-risk")
    proc = ServerProc(data_dir=data, database_url=f"sqlite:///{data / 'montesim.db'}").start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def job(server: ServerProc) -> Iterator[tuple[str, dict]]:
    with server.client() as client:
        job_id = submit(client, "risktree", SPEC, label="Committee pack")
        assert wait_for(client, job_id)["status"] == "complete"
        result = client.get(f"/api/jobs/{job_id}/result").json()
        yield job_id, result


def open_job(browser: Browser, server: ServerProc, job_id: str, size: str = "wide") -> Page:
    page = new_page(browser, server, size)
    page.goto(f"/#/jobs/{job_id}")
    expect(page.locator("#risk-dashboard")).to_be_visible()
    return page


def test_committee_views(browser: Browser, server: ServerProc, job) -> None:
    job_id, body = job
    result = body.get("result", body)
    page = open_job(browser, server, job_id)
    # tail drivers: the root's leaves ranked by their share of TVaR 99
    rows = page.locator("#drivers-table tbody tr")
    expect(rows).to_have_count(28)
    ranked = sorted(
        result["nodes"]["Enterprise"]["contributions"]["tvar99"].items(), key=lambda kv: -kv[1]
    )
    assert rows.first.get_attribute("data-node") == ranked[0][0]
    page.check("#drivers-by-child")
    expect(rows).to_have_count(4)
    # appetite: the verdict, and the box reading P(loss ≥ x) as the engine does
    verdict = "Outside" if result["tolerance"]["exceeded"] else "Within"
    expect(page.locator("#tolerance-verdict")).to_contain_text(verdict)
    page.fill("#exceed-x", "1000000")
    expected = result["nodes"]["Enterprise"]["exceedance_at"][0]["probability"]
    expect(page.locator("#exceed-p")).to_contain_text(f"{expected * 100:.3f}%")
    # controls: one row each, inherent against residual
    expect(page.locator("#controls-table tbody tr")).to_have_count(8)
    expect(page.locator("#inherent-residual")).to_contain_text("Inherent")
    # 33 nodes drawn, each in its own colour
    page.click("#lec-all")
    strokes = page.locator("#lec-card g.lec path.series").evaluate_all(
        "els => els.map(e => e.getAttribute('stroke'))"
    )
    nodes = strokes[:33]
    assert len(set(nodes)) == 33
    # the likelihood × impact matrix has a point per leaf
    expect(page.locator("#matrix-card svg[data-chart=matrix] circle")).to_have_count(28)
    # every return-period column in view at 1280 px, no horizontal scroll needed
    last = page.locator("#return-periods thead th").last
    expect(last).to_contain_text("1 in 1000")
    box = last.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 1280
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()


def test_committee_views_read_at_390px(browser: Browser, server: ServerProc, job) -> None:
    job_id, _ = job
    page = open_job(browser, server, job_id, "narrow")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # tables scroll inside their panels, the page does not
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()
    shoot(
        browser,
        server,
        f"/#/jobs/{job_id}",
        "#risk-dashboard svg[data-chart=lec]",
        "risk-committee",
    )


def test_a_register_file_opens_in_the_form_and_exports_back(
    browser: Browser, server: ServerProc, tmp_path
) -> None:
    import json

    from tests.engines.risktree.test_register_formats import DEFINITION

    source = tmp_path / "enterprise.json"
    source.write_text(json.dumps(DEFINITION))
    page = new_page(browser, server)
    page.goto("/#/risk")
    page.set_input_files("#tree-file", str(source))
    expect(page.locator("#file-ok")).to_contain_text("6 nodes (3 leaves)")
    page.click("#edit-file")
    rows = page.locator("#node-rows tr")
    expect(rows).to_have_count(5)  # two portfolios under the root, three leaves
    expect(page.locator("#root-name")).to_have_value("Enterprise")
    fraud = rows.nth(4)  # portfolios first, then the leaves in the file's order
    expect(fraud.locator(".node-name")).to_have_value("Fraud")
    expect(fraud.locator(".family")).to_have_value("metalog")
    expect(fraud.locator("[data-param=upper]")).to_have_value("2000000")
    expect(fraud.locator("[data-param=quantiles]")).to_have_value(
        "0.1:10000, 0.3:30000, 0.5:60000, 0.7:120000, 0.9:300000"
    )
    expect(page.locator("#tree-valid")).to_contain_text("6 nodes")
    SHOTS.mkdir(exist_ok=True)
    page.locator("#from-form").screenshot(path=str(SHOTS / "risk-form-wide.png"))
    page.set_viewport_size(SIZES["narrow"])
    page.locator("#from-form").screenshot(path=str(SHOTS / "risk-form-narrow.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls
    page.set_viewport_size(SIZES["wide"])
    # edit a leaf, then export for register: the edit is in the file
    outage = rows.nth(3)
    expect(outage.locator(".node-name")).to_have_value("Cloud Outage")
    outage.locator(".occ-value").fill("0.4")
    expect(page.locator("#tree-valid")).to_be_visible()
    with page.expect_download() as info:
        page.click("#export-register")
    exported = json.loads(Path(info.value.path()).read_text())
    by_name = {leaf["name"]: leaf for leaf in exported["leaves"]}
    assert by_name["Cloud Outage"]["probability"] == 0.4
    assert by_name["Fraud"]["distributionShape"]["maxLoss"] == 2_000_000
    assert by_name["Ransomware Attack"]["distributionShape"]["terms"] is None
    # a copula set beside the form is checked with the tree; register cannot hold it
    page.click("#from-form details.tree-extras summary")
    copula = {"leaves": ["Cloud Outage", "Ransomware Attack"], "matrix": [[1, 0.6], [0.6, 1]]}
    page.fill("#tree-extras", json.dumps({"correlation": copula}))
    expect(page.locator("#tree-valid")).to_be_visible()
    page.fill("#tree-extras", json.dumps({"correlation": {**copula, "matrix": [[1, 2], [2, 1]]}}))
    expect(page.locator("#tree-invalid")).to_contain_text("correlation.matrix")
    page.fill("#tree-extras", json.dumps({"correlation": copula}))
    expect(page.locator("#tree-valid")).to_be_visible()
    page.click("#export-register")
    expect(page.locator("#tree-check")).to_contain_text("register has no correlation")
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()
