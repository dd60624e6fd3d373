"""The CLI speaks plainly: expected failures in one line (no traceback), files named as the
user typed them, tables that fit 80 columns without cutting a digit or a word, charts that
say what they leave out."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.cli.test_cli import server, write_spec  # noqa: F401  (the module's server fixture)
from tests.conftest import ServerProc, free_port, wait_for

pytestmark = pytest.mark.xdist_group("cli")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_TREE = ROOT / "examples" / "risktrees" / "cyber.yaml"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SUFFIX = {"": 1.0, "k": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def cli80(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The CLI in an 80-column terminal, with no MONTESIM_SERVER unless ``env`` sets one."""
    base = {k: v for k, v in os.environ.items() if k != "MONTESIM_SERVER"}
    return subprocess.run(
        [sys.executable, "-m", "montesim.cli", *args],
        capture_output=True,
        text=True,
        env={**base, "COLUMNS": "80", **(env or {})},
        timeout=120,
    )


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and 'File "' not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ["jobs"],
        ["watch", "ed57a678"],
        ["result", "ed57a678"],
    ],
)
def test_no_server_is_one_line_naming_the_url_and_how_to_set_it(args: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    for env, extra in (({"MONTESIM_SERVER": url}, []), ({}, ["--server", url])):
        line = one_line_error(cli80(*args, *extra, env=env))
        assert url in line and "MONTESIM_SERVER" in line and "--server" in line, line


def test_no_server_on_submit_and_a_server_without_a_scheme(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"units": 10})
    url = f"http://127.0.0.1:{free_port()}"
    line = one_line_error(cli80("submit", "sleep", str(spec), "--server", url))
    assert url in line and "MONTESIM_SERVER" in line
    line = one_line_error(cli80("jobs", "--server", "localhost:8000"))
    assert "'localhost:8000'" in line and "http://" in line and "--server" in line


def test_submit_names_the_file_the_user_gave(server: ServerProc, tmp_path: Path) -> None:  # noqa: F811
    spec = write_spec(tmp_path, {"iterations": 1000})
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook")
    env = {"MONTESIM_SERVER": server.url}
    done = cli80("submit", "excel", str(spec), "--file", str(bad), env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    text = " ".join(done.stderr.split())
    assert str(bad) in text and not UUID.search(text), text
    missing = tmp_path / "missing.xlsx"
    line = one_line_error(cli80("submit", "excel", str(spec), "--file", str(missing), env=env))
    assert str(missing) in line and "no such file" in line.lower()


def test_run_and_simulate_name_the_file_the_user_gave(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, {"iterations": 1000})
    bad = tmp_path / "notes.xlsx"
    bad.write_text("not a workbook")
    commands = (
        ["run", "excel", str(spec), "--file", str(bad)],
        ["simulate", str(bad)],
        ["inspect", str(bad)],
        ["verify", str(bad)],
    )
    for args in commands:
        done = cli80(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        text = " ".join(done.stderr.split())
        assert str(bad) in text and "not a readable" in text and not UUID.search(text), text


def test_jobs_fit_80_columns_with_whole_ids_and_whole_words(
    server: ServerProc,  # noqa: F811
    tmp_path: Path,
) -> None:
    label = "quarterly forecast for the northern region, second revision"
    spec = write_spec(tmp_path, {"units": 10, "chunk_size": 10})
    env = {"MONTESIM_SERVER": server.url}
    job_id = cli80("submit", "sleep", str(spec), "--label", label, env=env).stdout.strip()
    wait_for(server.client(), job_id)
    done = cli80("jobs", "--limit", "5", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, done.stdout
    assert "…" not in done.stdout
    assert any(job_id in line for line in lines), done.stdout  # the id whole, on one line
    words = done.stdout.split()
    for word in label.split() + ["complete", "sleep"]:
        assert word in words, (word, done.stdout)


def _shown_number(text: str) -> float:
    m = re.fullmatch(r"(-?[\d,]*\.?\d+)([kMBT]?)", text)
    assert m, text
    return float(m.group(1).replace(",", "")) * SUFFIX[m.group(2)]


def _tree_nodes(path: Path) -> list[str]:
    tree = yaml.safe_load(path.read_text())
    names = [tree["name"]] if "name" in tree else []
    for key in ("portfolios", "leaves"):
        names += [item["name"] for item in tree.get(key, [])]
    return names


def test_risk_table_fits_80_columns_and_never_cuts_a_number(tmp_path: Path) -> None:
    out = tmp_path / "lec.json"
    png = tmp_path / "lec.png"
    done = cli80(
        "risk", str(EXAMPLE_TREE), "-n", "20000", "-w", "1", "-o", str(out), "--png", str(png)
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80 and "…" not in done.stdout, done.stdout
    rows = [line for line in lines if line.startswith("│")]
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    values = [c for c in cells if c[1]]  # rows that carry figures (others are wrapped names)
    assert len(values) == len(summary["order"])
    for name, row in zip(summary["order"], values, strict=True):
        node = summary["nodes"][name]
        q = node["quantiles"]
        expected = [node["aal"], q["p90"], q["p99"], q["p99.5"], node["tvar"]["99"]]
        shown = [_shown_number(row[i]) for i in (1, 3, 4, 5, 6)]
        for got, want in zip(shown, expected, strict=True):
            # three significant digits (5.45M) at the least: a cut number would be far off
            assert got == pytest.approx(want, rel=5e-3, abs=0.5), (name, row)
    # every word of every node name is in the table (wrapped, not cut)
    table_words = set(done.stdout.split())
    for name in _tree_nodes(EXAMPLE_TREE):
        assert set(name.split()) <= table_words, name


def test_risk_png_says_which_nodes_it_leaves_out(tmp_path: Path) -> None:
    png = tmp_path / "lec.png"
    out = tmp_path / "lec.json"
    done = cli80(
        "risk", str(EXAMPLE_TREE), "-n", "2000", "-w", "1", "-o", str(out), "--png", str(png)
    )
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    chart = json.loads(out.read_text())["chart"]
    drawn = {row["node"] for row in chart["layer"][0]["data"]["values"]}
    nodes = _tree_nodes(EXAMPLE_TREE)
    left_out = [n for n in nodes if n not in drawn]
    assert left_out, "the example tree has more nodes than the chart draws by default"
    text = " ".join(done.stderr.split())
    assert f"draws {len(nodes) - len(left_out)} of {len(nodes)} nodes" in text, text
    for name in left_out:
        assert name in text
    # asked for every node, the chart draws them all and says nothing is left out
    every = ",".join(nodes)
    done = cli80(
        "risk",
        str(EXAMPLE_TREE),
        "-n",
        "2000",
        "-w",
        "1",
        "--png",
        str(png),
        "--chart-nodes",
        every,
    )
    assert done.returncode == 0, done.stderr
    assert "not drawn" not in done.stderr and "wrote" in done.stderr


def test_risk_missing_file_and_unknown_chart_node_are_one_line(tmp_path: Path) -> None:
    line = one_line_error(cli80("risk", str(tmp_path / "nope.yaml")))
    assert str(tmp_path / "nope.yaml") in line and "no such file" in line
    done = cli80("risk", str(EXAMPLE_TREE), "-n", "100", "-w", "1", "--chart-nodes", "Cyber,Nope")
    assert done.returncode == 2 and "'Nope'" in done.stderr and "Traceback" not in done.stderr


def test_token_list_fits_80_columns_with_whole_ids_and_dates(tmp_path: Path) -> None:
    env = {"MONTESIM_DATA_DIR": str(tmp_path), "MONTESIM_DATABASE_URL": ""}
    name = "release-automation.northern-region"  # 34 characters: under the id, whole
    assert cli80("token", "create", name, env=env).returncode == 0
    assert cli80("token", "create", "ops", "--admin", env=env).returncode == 0
    assert cli80("token", "revoke", "ops", env=env).returncode == 0
    done = cli80("token", "list", env=env)
    assert done.returncode == 0, done.stderr
    assert max(len(line) for line in done.stdout.splitlines()) <= 80 and "…" not in done.stdout
    ids = UUID.findall(done.stdout)
    assert len(ids) == 2, done.stdout  # both whole
    words = done.stdout.split()
    assert name in words and "admin" in words and "never" in words
    dates = re.findall(r"\b\d{4}-\d{2}-\d{2}\b", done.stdout)
    assert len(dates) == 3, done.stdout  # two created, one revoked: none cut


def test_serve_on_a_taken_port_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"MONTESIM_DATA_DIR": str(tmp_path), "MONTESIM_DATABASE_URL": ""}
        line = one_line_error(cli80("serve", "--port", str(port), env=env))
    assert f"127.0.0.1:{port}" in line and "--port" in line and "MONTESIM_PORT" in line, line
    assert "serving" not in line


def test_names_with_brackets_are_shown_as_written(tmp_path: Path) -> None:
    """Rich reads "[core]" as markup: names are escaped, so they print as the user wrote them."""
    tree = tmp_path / "brackets.yaml"
    tree.write_text(
        'name: "Ops [core]"\nportfolios: []\nleaves:\n'
        '  - {name: "Fire [bldg 2]", parent: "Ops [core]", probability: 0.1, low: 1000, high: 90000}\n'
    )
    done = cli80("risk", str(tree), "-n", "2000", "-w", "1")
    assert done.returncode == 0, done.stderr
    assert "Ops [core]: 2,000 trials" in done.stdout and "Fire [bldg 2]" in done.stdout
