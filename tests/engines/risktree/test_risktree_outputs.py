"""What a run hands back: LEC on a shared grid, chart, raw trials, examples, CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from montesim.cli.risk import register
from montesim.engines.risktree.loading import as_spec, read_document

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "risktrees"


def test_summary_shape_and_shared_grid(simulate, leaf) -> None:
    result = simulate(
        [{"name": "IT", "children": [leaf("A"), leaf("B", frequency=2.0)]}],
        trials=20_000,
        seed=1,
        output={"scale": "linear", "ticks": 40, "tail_trim": 0.01, "raw_trials": 500},
    )
    s = result.summary
    ticks = s["grid"]["ticks"]
    assert len(ticks) == 40 and ticks[0] > 0 and np.all(np.diff(ticks) > 0)
    root = s["nodes"]["Root"]
    assert ticks[-1] == pytest.approx(root["quantiles"]["p99"], rel=0.02)  # the trim level
    for name, node in s["nodes"].items():
        lec = node["lec"]
        assert lec["loss"][1:] == ticks[: len(lec["loss"]) - 1], name  # a prefix of the grid
        assert lec["exceedance"][0] == pytest.approx(1 - node["p_no_loss"])
        assert min(lec["exceedance"]) >= 0.01
        q = node["quantiles"]
        assert q["p50"] <= q["p90"] <= q["p95"] <= q["p99"] <= q["p99.5"] <= node["max"]
        assert node["tvar"]["95"] >= q["p95"] and node["tvar"]["99"] >= q["p99"]
    json.dumps(s)  # JSON-able all the way down
    rows = list(csv.reader(io.StringIO(result.artifacts["trials.csv"][1].decode())))
    assert rows[0] == ["trial", "Root", "IT", "A", "B"] and len(rows) == 501
    for row in rows[1:]:
        root_loss, it, a, b = map(float, row[1:])
        assert root_loss == pytest.approx(it) and it == pytest.approx(a + b)


def test_chart_overlays_chosen_nodes_with_quantile_markers(simulate, leaf) -> None:
    s = simulate(
        [leaf("A"), leaf("B")], trials=5_000, output={"chart_nodes": ["A", "Root"]}
    ).summary
    chart = s["chart"]
    assert chart["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    lines, marks = chart["layer"]
    assert {row["node"] for row in lines["data"]["values"]} == {"A", "Root"}
    assert {(m["node"], m["quantile"]) for m in marks["data"]["values"]} == {
        ("A", "p90"),
        ("A", "p99"),
        ("Root", "p90"),
        ("Root", "p99"),
    }
    import vl_convert as vlc

    assert vlc.vegalite_to_svg(chart).startswith("<svg")


@pytest.mark.parametrize("name", ["cyber.yaml", "cyber.csv", "enterprise.yaml", "committee.yaml"])
def test_examples_run(name: str, run_spec) -> None:
    result = run_spec({**as_spec(read_document(EXAMPLES / name)), "trials": 3_000})
    assert result.summary["nodes"][result.summary["root"]]["aal"] > 0
    if name == "enterprise.yaml":
        assert max(n["depth"] for n in result.summary["nodes"].values()) == 3
    if name == "committee.yaml":
        assert result.summary["tolerance"] is not None and len(result.summary["controls"]) == 4


def test_cli_writes_json_and_png(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # a second command keeps `risk` a subcommand
    out, png = tmp_path / "lec.json", tmp_path / "lec.png"
    res = CliRunner().invoke(
        app,
        [
            "risk",
            str(EXAMPLES / "cyber.yaml"),
            "--trials",
            "5000",
            "-o",
            str(out),
            "--png",
            str(png),
            "--workers",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(out.read_text())
    assert summary["trials"] == 5000 and summary["root"] == "Cyber"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reports_bad_tree(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: R\nchildren:\n  - {name: A, probability: 3, low: 1, high: 2}\n")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    res = CliRunner().invoke(app, ["risk", str(bad)])
    assert res.exit_code == 2
    assert "Leaf 'A'" in res.output and "probability" in res.output


def test_engine_schema_and_example() -> None:
    from montesim.engines.base import get_engine

    engine = get_engine("risktree")
    schema = engine.spec_schema()
    json.dumps(schema)
    assert {"tree", "trials", "seed"} <= set(schema["properties"])
    plan = engine.validate(engine.example_spec(), {})
    assert engine.unit == "trials" and plan.spec.trials == engine.example_spec()["trials"]
