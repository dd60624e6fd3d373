"""What a newcomer sees first: engine menus offer only engines meant for users, the job
list reads at 390 px (a horn job's summary in words, not JSON), and the studio grid keeps
its column and row headers wherever it is scrolled. Screenshots go to
tests/e2e/screenshots/ (git-ignored) to be looked at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from playwright.sync_api import Browser, Page, expect
from tests.conftest import ServerProc, wait_for
from tests.e2e.conftest import NEEDS_CHROMIUM

SHOTS = Path(__file__).resolve().parent / "screenshots"

pytestmark = [pytest.mark.xdist_group("e2e-newcomer"), pytest.mark.e2e, NEEDS_CHROMIUM]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    data = tmp_path_factory.mktemp("e2e-newcomer")
    # one job at a time: a gated job holds the queue, so the horn job below never solves
    env = {"MONTESIM_MAX_CONCURRENT_JOBS": "1"}
    proc = ServerProc(data, f"sqlite:///{data / 'montesim.db'}", env=env).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def client(server: ServerProc) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


def open_page(browser: Browser, server: ServerProc, width: int, height: int = 844):
    context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def menu(page: Page, selector: str) -> list[str]:
    page.wait_for_selector(f"{selector} option[value=excel]", state="attached")
    return page.eval_on_selector_all(f"{selector} option", "els => els.map(e => e.value)")


def test_engine_menus_offer_only_engines_meant_for_users(
    browser: Browser, server: ServerProc, client: httpx.Client
) -> None:
    engines = {e["name"]: e for e in client.get("/api/engines").json()["engines"]}
    hidden = {name for name, e in engines.items() if e["user_facing"] is False}
    # the test plug-ins and the example plug-in declare themselves so; the built-ins do not
    assert {"sleep", "sleep-nonresumable", "heat1d"} <= hidden
    assert {"excel", "risktree"} <= set(engines) - hidden
    context, page = open_page(browser, server, 1280)
    try:
        page.goto("/#/new")
        assert set(menu(page, "#engine-field")) == set(engines) - hidden
        page.goto("/#/jobs")
        assert set(menu(page, "#engine-filter")) - {""} == set(engines) - hidden
        # a link that names a test engine still opens its form (the tests submit that way)
        page.goto("/#/new?engine=sleep")
        expect(page.locator("#engine-field")).to_have_value("sleep")
        assert "sleep" in menu(page, "#engine-field")
    finally:
        context.close()


def test_job_list_reads_at_390_px_with_a_horn_summary_in_words(
    browser: Browser, server: ServerProc, client: httpx.Client, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    blocker = client.post(
        "/api/jobs",
        json={"engine": "sleep", "spec": {"units": 10, "chunk_size": 10, "gate": str(gate)}},
    ).json()["job_id"]
    example = client.get("/api/engines").json()["engines"]
    horn_spec = next(e for e in example if e["name"] == "horn")["example_spec"]
    horn = client.post("/api/jobs", json={"engine": "horn", "spec": horn_spec}).json()["job_id"]
    label = "quarterly-forecast-for-the-northern-region-second-revision-without-spaces"
    client.patch(f"/api/jobs/{blocker}", json={"label": label})
    view = client.get(f"/api/jobs/{horn}").json()
    config = view["config_summary"]
    assert config, view  # the horn engine summarises its spec for job lists
    context, page = open_page(browser, server, 390)
    try:
        page.goto("/#/jobs")
        row = page.locator(f"#job-list tr[data-job-id='{horn}']")
        expect(row).to_be_visible()
        shot(page, "newcomer-jobs-390")
        summary = row.locator("td").first.inner_text()
        assert "{" not in summary and '":' not in summary, summary  # no raw JSON
        assert str(config["formula_type"]) in summary and "Hz" in summary, summary
        n = config["num_frequencies"]
        assert f"{n} frequenc" in summary, summary
        # nothing sideways: the page is no wider than the phone, long labels wrap
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1] == 390, widths
        for cell in page.locator("#job-list td").all():
            box = cell.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    finally:
        context.close()
        client.post(f"/api/jobs/{horn}/cancel")
        gate.write_text("open")
        wait_for(client, blocker)
        wait_for(client, horn)


@pytest.fixture
def wide_book(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Plan"
    for c in range(1, 61):
        ws.cell(row=1, column=c, value=f"Year {c}")
        for r in range(2, 120):
            ws.cell(row=r, column=c, value=r * c)
    ws["A121"] = "=RiskNormal(10, 2)"
    ws["B121"] = '=RiskOutput("Total") + A121 + SUM(A2:BH119)'
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("width", [1280, 390])
def test_studio_grid_keeps_its_headers_when_scrolled(
    browser: Browser, server: ServerProc, wide_book: Path, width: int
) -> None:
    context, page = open_page(browser, server, width)
    try:
        page.goto("/#/studio")
        page.set_input_files("#workbook-file", str(wide_book))
        expect(page.locator(".sheet-tab").first).to_be_visible(timeout=60_000)
        expect(page.locator(".grid-colhead .head").first).to_be_visible()
        # Scrolled sideways and down in one task: before any script has run, the header
        # bars are already where they belong (the browser keeps them there).
        at_once = page.eval_on_selector(
            ".grid-scroll",
            """el => {
                el.scrollLeft = 2500; el.scrollTop = 1200;
                const box = el.getBoundingClientRect();
                const col = el.querySelector('.grid-colhead').getBoundingClientRect();
                const row = el.querySelector('.grid-rowhead').getBoundingClientRect();
                const corner = el.querySelector('.grid-corner').getBoundingClientRect();
                return {top: box.top + el.clientTop, left: box.left + el.clientLeft,
                        colTop: col.top, rowLeft: row.left, cornerTop: corner.top,
                        cornerLeft: corner.left, scrolled: [el.scrollLeft, el.scrollTop]};
            }""",
        )
        assert at_once["scrolled"][0] > 0 and at_once["scrolled"][1] > 0, at_once
        assert at_once["colTop"] == pytest.approx(at_once["top"], abs=0.5), at_once
        assert at_once["cornerTop"] == pytest.approx(at_once["top"], abs=0.5), at_once
        assert at_once["rowLeft"] == pytest.approx(at_once["left"], abs=0.5), at_once
        assert at_once["cornerLeft"] == pytest.approx(at_once["left"], abs=0.5), at_once
        # Once drawn, each visible column's letter sits over that column's cells.
        page.wait_for_function(
            "() => [...document.querySelectorAll('.grid-body .cell')].some(c => +c.dataset.c > 30)"
        )
        shot(page, f"newcomer-studio-scrolled-{width}")
        pairs = page.evaluate(
            """() => {
                const heads = [...document.querySelectorAll('.grid-colhead .head')];
                const scroller = document.querySelector('.grid-scroll').getBoundingClientRect();
                return heads.map(h => {
                    const r = h.getBoundingClientRect();
                    return {text: h.textContent, left: r.left, top: r.top, scrollerTop: scroller.top};
                });
            }"""
        )
        assert pairs, "no column headers drawn"
        for head in pairs:
            assert head["top"] == pytest.approx(head["scrollerTop"] + 1, abs=1.5), head
        for head in pairs[1:-1]:
            column = _column_number(head["text"])
            cells = page.locator(f".grid-body .cell[data-c='{column}']")
            assert cells.count() > 0, head
            assert cells.first.bounding_box()["x"] == pytest.approx(head["left"], abs=0.5), head
        numbers = [_column_number(h["text"]) for h in pairs]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gaps
        assert get_column_letter(numbers[-1]) == pairs[-1]["text"]
    finally:
        context.close()


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def test_api_engines_says_which_are_for_users(client: httpx.Client) -> None:
    listed = client.get("/api/engines").json()["engines"]
    assert all(isinstance(e["user_facing"], bool) for e in listed)
    assert {"sleep", "excel"} <= {e["name"] for e in listed}  # hidden is not absent


def test_wide_result_tables_keep_the_node_names_in_view_at_390_px(
    browser: Browser, server: ServerProc, client: httpx.Client
) -> None:
    engines = {e["name"]: e for e in client.get("/api/engines").json()["engines"]}
    spec = {**engines["risktree"]["example_spec"], "trials": 2000}
    job_id = client.post("/api/jobs", json={"engine": "risktree", "spec": spec}).json()["job_id"]
    assert wait_for(client, job_id)["status"] == "complete"
    context, page = open_page(browser, server, 390)
    try:
        page.goto(f"/#/jobs/{job_id}")
        expect(page.locator("#node-table tbody tr").first).to_be_visible()
        for table in ("#node-table", "#return-periods"):
            moved = page.eval_on_selector(
                table,
                """t => {
                    const box = t.parentElement;
                    const before = box.scrollLeft;
                    box.scrollLeft = box.scrollWidth;
                    const name = t.querySelector('tbody tr td, tbody tr th').getBoundingClientRect();
                    const edge = box.getBoundingClientRect().left + box.clientLeft;
                    return {wider: box.scrollWidth > box.clientWidth, scrolled: box.scrollLeft > before,
                            nameLeft: name.left, edge};
                }""",
            )
            assert moved["wider"] and moved["scrolled"], moved  # it does scroll at 390 px
            assert moved["nameLeft"] == pytest.approx(moved["edge"], abs=0.5), moved
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
