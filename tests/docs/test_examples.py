"""Every example of README.md and docs/*.md runs, against a server started as the README
says (`make run PORT=… DATA=…`: `montesim serve` on a free port with a fresh data folder),
and gives what its text promises. An example the tests cannot run says why in the document
(``<!-- not run by the tests: … -->``, see tests/docs/examples.py).

Shell blocks run in bash as a reader would paste them, in a scratch folder where
``examples/`` is the project's, with ``.venv/bin`` first on the PATH, MONTESIM_SERVER
pointing at the server and an 80-column terminal. Python blocks run in this process.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import openpyxl
import pytest
import yaml
from scipy import stats as sps
from tests.conftest import free_port, wait_for
from tests.docs.examples import ROOT, Example, all_examples

pytestmark = pytest.mark.xdist_group("docs")

EXAMPLES = all_examples()
BIN = Path(sys.executable).parent
WORKBOOK = ROOT / "examples" / "excel" / "project.xlsx"
SPEC = json.loads((ROOT / "examples" / "excel" / "spec.json").read_text())
TREE = ROOT / "examples" / "risktrees" / "cyber.yaml"
JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# Blocks in documents this work may not edit, until they say why themselves.
NOT_RUN_ELSEWHERE = {
    ("docs/scaling.md", "createdb"): "a benchmark against PostgreSQL that runs for minutes",
}


@dataclass
class Server:
    url: str
    data_dir: Path
    proc: subprocess.Popen


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`make run PORT=… DATA=…`, the quick start's command, on a free port (the virtual
    environment is this one: make is told not to build .venv)."""
    data = tmp_path_factory.mktemp("docs") / "data"
    port = free_port()
    log = (data.parent / "server.log").open("wb")
    env = {**os.environ, "MONTESIM_WORKERS": "2"}
    env.pop("MONTESIM_PORT", None)
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run",
         f"PORT={port}", f"DATA={data}", f"BIN={BIN}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data.parent / "server.log").read_text()[-3000:])
            time.sleep(0.1)
        yield Server(url, data, proc)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch folder that looks like the project's to the examples."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    return tmp_path


def run_shell(code: str, server: Server, workdir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "MONTESIM_SERVER": server.url,
        "MONTESIM_DATA_DIR": str(server.data_dir),
        "COLUMNS": "80",
    }
    if os.environ.get("PYTHONPATH"):  # entries relative to here still mean here, not workdir
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in os.environ["PYTHONPATH"].split(os.pathsep) if p
        )
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", code],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def fits_80_columns(text: str) -> None:
    assert all(len(line) <= 80 for line in text.splitlines()), text
    assert "…" not in text, text  # nothing cut short


# -- what the examples promise ------------------------------------------------------------


def workbook_cells() -> tuple[set[str], set[str]]:
    """The example workbook's @RISK input cells and RiskOutput cells, read with openpyxl."""
    book = openpyxl.load_workbook(WORKBOOK)
    inputs, outputs = set(), set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                text = cell.value if isinstance(cell.value, str) else ""
                where = f"{sheet.title}!{cell.coordinate}"
                if "RiskOutput(" in text:
                    outputs.add(where)
                elif re.match(r"=Risk(Pert|Triang|Normal|Discrete|Uniform)\(", text):
                    inputs.add(where)
    return inputs, outputs


def check_job_walkthrough(done: subprocess.CompletedProcess, server: Server, workdir: Path) -> None:
    doc = json.loads((workdir / "result.json").read_text())
    job_id = doc["job_id"]
    result = doc["result"]
    _, outputs = workbook_cells()
    assert {o["cell"] for o in result["outputs"].values()} == outputs
    assert result["iterations"] == SPEC["iterations"]
    assert "job complete" in done.stderr  # watch
    assert job_id in done.stdout  # montesim jobs lists it, whole
    with httpx.Client(base_url=server.url) as client:
        assert client.get(f"/api/jobs/{job_id}").json()["status"] == "complete"
    # montesim run: the same job in-process prints the summary table, each output a row
    for name in result["outputs"]:
        assert name.split()[0] in done.stdout, name
    assert f"{SPEC['iterations']:,} iterations" in done.stdout
    fits_80_columns(done.stdout)


def check_cancel(done: subprocess.CompletedProcess, server: Server, workdir: Path) -> None:
    with httpx.Client(base_url=server.url) as client:
        [job] = client.get("/api/jobs", params={"label": "long"}).json()["items"]
        assert done.stdout.startswith(job["job_id"])  # the whole id, from its first 8 characters
        assert wait_for(client, job["job_id"], timeout=60)["status"] == "cancelled"


def check_excel_commands(done: subprocess.CompletedProcess, server: Server, workdir: Path) -> None:
    inputs, outputs = workbook_cells()
    for cell in inputs | outputs:  # inspect lists them
        assert cell in done.stdout, cell
    result = json.loads((workdir / "results.json").read_text())
    assert list(result["outputs"]) == ["Model!B10"] and result["iterations"] == 20_000
    [unit_cost] = [i for i in result["inputs"] if i["cell"] == "Inputs!B5"]
    assert unit_cost["family"] == "pert" and unit_cost["source"] == "spec"
    assert unit_cost["mean"] == pytest.approx((11 + 4 * 12 + 15) / 6, abs=0.01)  # PERT's mean
    fits_80_columns(done.stdout)


def check_risk(done: subprocess.CompletedProcess, server: Server, workdir: Path) -> None:
    summary = json.loads((workdir / "lec.json").read_text())
    tree = yaml.safe_load(TREE.read_text())
    names = [tree["name"], *(leaf["name"] for leaf in tree["leaves"])]
    assert sorted(summary["nodes"]) == sorted(names) and summary["trials"] == 100_000
    assert (workdir / "lec.png").read_bytes()[:4] == b"\x89PNG"
    drawn = {row["node"] for row in summary["chart"]["layer"][0]["data"]["values"]}
    said = " ".join(done.stderr.split())
    assert drawn and len(drawn) < len(names)  # the README says it leaves some out
    assert f"draws {len(drawn)} of {len(names)} nodes" in said, said
    assert all(name in said for name in names if name not in drawn), said
    fits_80_columns(done.stdout)


def check_tokens(done: subprocess.CompletedProcess, server: Server, workdir: Path) -> None:
    secrets = re.findall(r"^mst_\S+$", done.stdout, re.M)
    assert len(secrets) == 2 and len(set(secrets)) == 2  # alice's and ops's, once each
    table = done.stdout.split(secrets[-1], 1)[1]
    assert "alice" in table and "ops" in table and "admin" in table
    assert re.search(r"^revoked alice \(", done.stdout, re.M)


SHELL_CHECKS: dict[str, Callable[[subprocess.CompletedProcess, Server, Path], None]] = {
    "montesim submit excel examples/excel/spec.json": check_job_walkthrough,
    "montesim cancel": check_cancel,
    "montesim inspect examples/excel/project.xlsx": check_excel_commands,
    "montesim risk examples/risktrees/cyber.yaml": check_risk,
    "montesim token create alice": check_tokens,
}


def check_simulate_in_python(namespace: dict, printed: str) -> None:
    res = namespace["res"]
    npv = np.asarray(res.outputs["Model!B10"], dtype=float)
    assert npv.shape == (100_000,) and printed.splitlines()[2] == "100000"
    mean, p5, p95 = (float(x) for x in printed.splitlines()[0].split())
    spread = float(np.std(npv))
    assert mean == pytest.approx(float(np.mean(npv)), rel=1e-9)
    assert p5 == pytest.approx(float(np.quantile(npv, 0.05)), abs=1e-3 * spread)
    assert p95 == pytest.approx(float(np.quantile(npv, 0.95)), abs=1e-3 * spread)
    # the strongest driver is the input with the largest rank correlation (SciPy's)
    rho = {name: sps.spearmanr(values, npv).statistic for name, values in res.inputs.items()}
    strongest = max(rho, key=lambda name: abs(rho[name]))
    top = res.tornado("Model!B10")[0]
    assert str(top) == printed.splitlines()[1]
    assert top["input"] == strongest and top["rho"] == pytest.approx(rho[strongest], abs=1e-3)


PYTHON_CHECKS: dict[str, Callable[[dict, str], None]] = {
    "montesim.simulate(": check_simulate_in_python,
}


def _check_for(example: Example) -> Callable | None:
    checks = SHELL_CHECKS if example.language == "sh" else PYTHON_CHECKS
    found = [check for key, check in checks.items() if key in example.code]
    assert len(found) <= 1, f"{example.id} matches several checks"
    return found[0] if found else None


def _not_run(example: Example) -> str | None:
    if example.not_run:
        return example.not_run
    for (path, text), reason in NOT_RUN_ELSEWHERE.items():
        if example.path == path and text in example.code:
            return reason
    return None


# -- the tests ----------------------------------------------------------------------------


def test_every_example_is_checked_or_says_why_not() -> None:
    assert len(EXAMPLES) >= 8  # README.md's examples at least: the parser finds them
    for example in EXAMPLES:
        reason = _not_run(example)
        if reason is None:
            assert _check_for(example), f"{example.id}: no check of what it promises"
        else:
            assert len(reason) > 20, f"{example.id}: say why it is not run"
    shown = {e.path for e in EXAMPLES}
    assert "README.md" in shown


def test_no_document_sends_readers_outside_the_project() -> None:
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = doc.read_text()
        assert "../shared" not in text and "/work/" not in text, doc
    assert (ROOT / "docs" / "design.md").is_file()


@pytest.mark.parametrize("example", [e for e in EXAMPLES if not _not_run(e)], ids=lambda e: e.id)
def test_example_runs_and_keeps_its_promise(
    example: Example, server: Server, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = _check_for(example)
    assert check is not None
    if example.language == "sh":
        done = run_shell(example.code, server, workdir)
        assert done.returncode == 0, f"{example.id}\n{done.stdout}\n{done.stderr}"
        check(done, server, workdir)
        return
    monkeypatch.chdir(workdir)
    namespace: dict = {"__name__": "__readme__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(example.code, example.id, "exec"), namespace)
    check(namespace, printed.getvalue())
