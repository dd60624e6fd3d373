"""A horn job's result page: SPL, impedance and DI charts, a polar map per plane, the mesh
size and the failed frequency. The job is stored complete (engine merge of partials made
here, no BEM solve) in the server's database before the server starts; the server runs
no job (MONTESIM_MAX_CONCURRENT_JOBS=0), so a horn job submitted from the form stays
queued instead of solving.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, expect
from tests.conftest import ServerProc
from tests.e2e.conftest import NEEDS_CHROMIUM
from tests.engines.horn.spheres import icosphere

from montesim.engines.horn import HornEngine
from montesim.jobs.store import Store

pytestmark = [
    pytest.mark.xdist_group("e2e"),
    pytest.mark.e2e,
    NEEDS_CHROMIUM,
]

FREQS = [500.0, 1000.0, 2000.0, 4000.0, 8000.0]


def partial(i: int, f: float, angles: np.ndarray, planes) -> dict:
    if f == 8000.0:
        return {
            "index": i,
            "frequency": f,
            "ok": False,
            "reason": "mesh too coarse at 8,000 Hz",
            "warnings": [],
        }
    beam = (f / 1000) ** 0.7
    levels = {name: (np.cos(np.radians(angles) / 2) ** beam + 0.05).tolist() for name, _ in planes}
    warnings = (
        [
            "mesh accuracy at 4,000 Hz: only 4.1 elements per wavelength on the wall (6 or more "
            "recommended); refine it for this frequency"
        ]
        if f == 4000.0
        else []
    )
    return {
        "index": i, "frequency": f, "ok": True, "warnings": warnings, "axis": (0.5 * beam, -0.2),
        "surface": (300.0 * min(1, f / 2000), 150.0), "planes": levels,
        "power": 4 * math.pi * 0.29 * beam / (1 + beam) ** 2, "rho_c": 413.0, "seconds": 2.5,
    }  # fmt: skip


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProc, str]]:
    data = tmp_path_factory.mktemp("horn-ui")
    url = f"sqlite:///{data / 'montesim.db'}"
    v, f = icosphere(0.1, 2)
    tags = np.where(v[f].mean(axis=1)[:, 2] > 0.085, 2, 1)
    engine = HornEngine()
    spec = {
        "user_mesh": {
            "vertices": v.tolist(),
            "triangles": f.tolist(),
            "tags": tags.tolist(),
            "units": "m",
        },
        "frequencies": {"values": FREQS},
    }
    plan = engine.validate(spec, {})
    parts = [partial(i, fq, plan.angles, plan.planes) for i, fq in enumerate(FREQS)]
    result = engine.merge(plan, parts)
    store = Store(url)
    row, _ = store.create_job(
        engine="horn",
        spec=spec,
        spec_summary=engine.describe_spec(spec),
        unit="frequencies",
        label="Cap on a sphere",
    )
    assert store.claim_next("seed", 60, 10).id == row.id
    store.start_work(
        row.id, "seed", total_units=len(FREQS), chunks_total=len(FREQS), unit="frequencies"
    )
    for i, p in enumerate(parts):
        store.put_chunk(row.id, "seed", i, 1, pickle.dumps(p), 2.5)
    assert store.complete(row.id, "seed", result.summary, result.artifacts) is not None
    store.close()
    server = ServerProc(
        data_dir=data, database_url=url, env={"MONTESIM_MAX_CONCURRENT_JOBS": "0"}
    ).start()
    yield server, row.id
    server.stop()


def test_horn_result_page_shows_charts_polar_maps_mesh_and_failures(
    seeded: tuple[ServerProc, str], browser: Browser, tmp_path: Path
) -> None:
    server, job_id = seeded
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"/#/jobs/{job_id}")
    result = page.locator(".horn-result")
    expect(result).to_be_visible(timeout=20_000)
    expect(result.locator('tr[data-key="Triangles"] td')).to_have_text("320")
    expect(result.locator('tr[data-key="Frequencies"] td')).to_have_text("5 (4 solved)")
    expect(result.locator(".horn-failures li")).to_have_text("8k Hz: mesh too coarse at 8,000 Hz")
    captions = result.locator("figcaption")
    expect(captions).to_have_count(8)  # 4 response charts, a polar plot, 3 maps
    for name in ("horizontal", "vertical", "diagonal"):
        cells = result.locator(f'figure[data-plane="{name}"] rect')
        expect(cells).to_have_count(len(FREQS) * 37)
    # the failed frequency's column is grey, the on-axis cell of a solved one is 0 dB (red)
    failed = result.locator('figure[data-plane="horizontal"] rect[data-f="8000"][data-angle="0"]')
    expect(failed).to_have_attribute("fill", "#e6e6e6")
    on_axis = result.locator('figure[data-plane="horizontal"] rect[data-f="500"][data-angle="0"]')
    expect(on_axis).to_have_attribute("fill", "rgb(215,40,40)")
    expect(result.locator("a", has_text="mesh.msh")).to_be_visible()
    for name in ("on-axis.frd", "impedance.zma", "response.csv"):
        expect(result.locator("a", has_text=name)).to_be_visible()
    # the mesh-accuracy note is shown open, not folded away
    alert = result.locator(".horn-mesh-warning")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("4.1 elements per wavelength on the wall")
    # a log-frequency axis with 1-2-5 ticks, decades marked; the SPL axis ranged to the data
    spl = result.locator('svg.horn-chart[data-name="spl"]')
    labels = spl.locator("g.x-tick text").all_text_contents()
    assert labels == ["500", "1k", "2k"], labels  # the solved 500 Hz - 4 kHz
    expect(spl.locator('g.x-tick.decade[data-value="1000"]')).to_have_count(1)
    y_values = [
        float(v)
        for v in spl.locator("g.y-tick").evaluate_all("els => els.map(e => e.dataset.value)")
    ]
    levels = [x for x in stored_spl(server, job_id) if x is not None]
    assert min(y_values) <= min(levels) and max(y_values) >= max(levels)
    assert min(y_values) > min(levels) - 30 and min(y_values) > 0  # not pinned to 0 dB
    expect(result.locator('svg.horn-chart[data-name="beamwidth"]')).to_be_visible()
    # the polar plot at a chosen frequency
    chooser = result.locator("#horn-polar-frequency")
    expect(chooser.locator("option")).to_have_count(4)  # the solved frequencies
    expect(result.locator("svg.horn-polar")).to_have_attribute("data-frequency", "2000")
    chooser.select_option(label="500 Hz")
    expect(result.locator("svg.horn-polar")).to_have_attribute("data-frequency", "500")
    expect(result.locator("svg.horn-polar path.series")).to_have_count(3)
    page.screenshot(path=str(shots_dir() / "horn-result-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(spl).to_be_visible()
    tick_px = spl.locator("g.x-tick text").first.evaluate("e => e.getBoundingClientRect().height")
    assert tick_px >= 8, tick_px  # readable on a phone
    page.screenshot(path=str(shots_dir() / "horn-result-390.png"), full_page=True)
    context.close()
    assert not errors, errors


def shots_dir() -> Path:
    shots = Path(__file__).parent / "screenshots"
    shots.mkdir(exist_ok=True)
    return shots


def stored_spl(server: ServerProc, job_id: str) -> list:
    return httpx.get(f"{server.url}/api/jobs/{job_id}/result").json()["result"]["spl_on_axis"][
        "spl"
    ]


EXAMPLE_CFG = Path(__file__).parents[2] / "examples" / "horn" / "osse-1inch.cfg"


def test_an_ath_cfg_design_is_uploaded_from_the_form_and_its_mistakes_named(
    seeded: tuple[ServerProc, str], browser: Browser, tmp_path: Path
) -> None:
    server, _ = seeded
    shots = Path(__file__).parent / "screenshots"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(base_url=server.url, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/#/new?engine=horn")
    expect(page.locator("#engine-field")).to_have_value("horn")
    expect(page.locator('label[for="file-field"]')).to_have_text("ATH design file (.cfg, optional)")
    expect(page.locator("#file-key-field")).to_have_value("cfg_file_id")
    expect(page.locator("#file-field")).to_have_attribute("accept", ".cfg,text/plain")

    # a design with a mistake: the server's 422 names the key, beside the file input
    page.locator("#file-field").set_input_files(
        {"name": "wide.cfg", "mimeType": "text/plain", "buffer": b"OSSE = { L = 60  a = wide }"}
    )
    page.locator("#submit-job").click()
    problem = page.locator("#form-problem .problem")
    expect(problem).to_have_attribute("data-location", "spec.cfg_file_id.OSSE.a")
    expect(problem.locator(".problem-location")).to_have_text("spec.cfg_file_id.OSSE.a")
    beside = page.locator("#file-problem")
    expect(beside).to_be_visible()
    expect(beside.locator("code")).to_have_text("OSSE.a")
    expect(beside).to_contain_text("in wide.cfg:")
    expect(page.locator("#file-field")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(f"{server.url}/#/new?engine=horn")  # nothing was queued
    page.screenshot(path=str(shots / "horn-cfg-problem.png"), full_page=True)

    # the example design: uploaded, sent as cfg_file_id instead of the example geometry
    page.locator("#file-field").set_input_files(str(EXAMPLE_CFG))
    page.locator("#submit-job").click()
    page.wait_for_url(f"{server.url}/#/jobs/**")
    job_id = page.url.rsplit("/", 1)[1]
    job = httpx.get(f"{server.url}/api/jobs/{job_id}").json()
    assert job["engine"] == "horn" and job["status"] == "queued", job
    spec = job["spec"]
    assert "geometry" not in spec and "mesh" not in spec, spec
    upload = httpx.get(f"{server.url}/api/files/{spec['cfg_file_id']}").json()
    assert upload["filename"] == "osse-1inch.cfg"
    assert upload["size"] == EXAMPLE_CFG.stat().st_size
    page.screenshot(path=str(shots / "horn-cfg-queued.png"), full_page=True)
    httpx.post(f"{server.url}/api/jobs/{job_id}/cancel")
    context.close()
    assert not errors, errors
