"""``montesim risk`` on register's JSON, cycles, and ``montesim simulate`` warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.test_cli import cli
from tests.engines.excel.books import save_book
from tests.engines.risktree.test_register_formats import DEFINITION
from tests.engines.risktree.test_risktree_register_json import REGISTER

pytestmark = pytest.mark.xdist_group("cli")


def test_risk_runs_a_register_json_file(tmp_path: Path) -> None:
    tree = tmp_path / "register.json"
    tree.write_text(json.dumps(REGISTER))
    out = tmp_path / "out.json"
    png = tmp_path / "lec.png"
    done = cli("risk", str(tree), "-n", "2000", "-w", "1", "-o", str(out), "--png", str(png))
    assert done.returncode == 0, done.stderr
    summary = json.loads(out.read_text())
    assert summary["order"] == ["Company", "IT", "Ransomware", "Fraud"]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_risk_names_the_cycle(tmp_path: Path) -> None:
    tree = tmp_path / "cycle.yaml"
    tree.write_text(
        "name: R\nportfolios:\n  - {name: A, parent: B}\n  - {name: B, parent: A}\n"
        "leaves:\n  - {name: L, parent: A, probability: 0.1, low: 10, high: 100}\n"
    )
    done = cli("risk", str(tree), "-n", "100", "-w", "1")
    assert done.returncode == 2
    assert "cycle" in done.stderr and "empty" not in done.stderr


def test_simulate_prints_error_warnings(tmp_path: Path) -> None:
    book = save_book(
        tmp_path / "na.xlsx",
        {
            "M!B1": '=RiskUniform(0, 1, RiskName("U"))',
            "M!B2": "=IF(B1>2, 1, NA())",
            "M!B3": '=RiskOutput("NPV") + B2 + B1',
        },
    )
    done = cli("simulate", str(book), "-n", "2000", "--seed", "1")
    assert done.returncode == 0, done.stderr
    text = " ".join((done.stdout + done.stderr).split())
    assert "every trial of output NPV (M!B3) is #N/A; first produced by M!B2" in text


def test_risk_to_register_writes_a_tree_that_reads_back(tmp_path: Path) -> None:
    from montesim.engines.risktree.loading import parse_spec, read_document

    source = tmp_path / "ours.json"
    source.write_text(json.dumps({**DEFINITION, "extra": 1}))
    out = tmp_path / "register.json"
    done = cli("risk", str(source), "--to-register", str(out))
    assert done.returncode == 0, done.stderr
    assert "tree.extra" in done.stderr and "ignored" in done.stderr
    first = parse_spec({"tree": DEFINITION})
    again = parse_spec(read_document(out))
    assert again.tree.model_dump() == first.tree.model_dump()


def test_risk_to_register_refuses_a_cap_naming_the_leaf(tmp_path: Path) -> None:
    source = tmp_path / "capped.yaml"
    source.write_text(
        "name: R\nchildren:\n  - {name: L, probability: 0.1, low: 10, high: 100, cap: 50}\n"
    )
    done = cli("risk", str(source), "--to-register", str(tmp_path / "out.json"))
    assert done.returncode == 2
    assert "'L'" in done.stderr and "cap" in done.stderr
    assert not (tmp_path / "out.json").exists()


def test_risk_prints_exceedance_and_tolerance(tmp_path: Path) -> None:
    source = tmp_path / "tree.yaml"
    source.write_text(
        "name: R\nchildren:\n  - {name: U, probability: 0.3, severity: "
        "{family: uniform, min: 0, max: 1000}}\ntolerance: [[500, 0.1], [900, 0.05]]\n"
    )
    done = cli("risk", str(source), "-n", "20000", "-w", "1", "--at", "250", "--at", "2000")
    assert done.returncode == 0, done.stderr
    assert "P(R loss ≥ 250) = 22." in done.stdout  # 0.3 · 0.75 = 22.5 %
    assert "P(R loss ≥ 2,000) = 0.0000%" in done.stdout
    assert "Risk tolerance: EXCEEDED" in done.stdout
    assert "Tail drivers of TVaR 99" in done.stdout and "U 100%" in done.stdout


def test_risk_prints_what_controls_buy(tmp_path: Path) -> None:
    source = tmp_path / "tree.yaml"
    source.write_text(
        "name: R\nchildren:\n  - name: A\n    probability: 0.3\n    low: 100\n    high: 1000\n"
        "    controls: [{name: Backups, cost: 10, severity_factor: 0.5}]\n"
        "  - {name: B, probability: 0.1, low: 100, high: 1000}\n"
    )
    done = cli("risk", str(source), "-n", "5000", "-w", "1")
    assert done.returncode == 0, done.stderr
    assert "Backups" in done.stdout and "inherent" in done.stdout
