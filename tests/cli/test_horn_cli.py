"""`montesim horn`: design files in, 422-style errors naming the field, the polar-map chart."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from montesim.cli import app
from montesim.cli.horn import load_design, polar_map_chart

OUTPUT_STL = (
    "Output.STL: not used (an output setting of ATH (files to write); it does not change the solve)"
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "horn"
runner = CliRunner()


def test_yaml_and_cfg_examples_load_as_horn_specs() -> None:
    spec, warnings = load_design(EXAMPLES / "rosse-1inch.yaml")
    assert spec["geometry"]["formula"] == "R-OSSE" and warnings == []
    spec, warnings = load_design(EXAMPLES / "osse-1inch.cfg")
    # the design travels as the spec's cfg: the engine reads it, its warnings reach the result
    assert spec == {"cfg": (EXAMPLES / "osse-1inch.cfg").read_text()}
    assert warnings == [OUTPUT_STL]


def test_flat_parameter_files_become_geometry(tmp_path: Path) -> None:
    path = tmp_path / "flat.yaml"
    path.write_text("formula: OSSE\nL: 100\na: 45\nmesh: {throat_size: 8}\n")
    spec, _ = load_design(path)
    assert spec == {"geometry": {"formula": "OSSE", "L": 100, "a": 45}, "mesh": {"throat_size": 8}}


@pytest.mark.parametrize(
    ("text", "args", "message"),
    [
        ("formula: OSSE\nL: -5\na: 45\n", [], "spec.geometry.L"),
        ("formula: R-OSSE\nR: 90\na: '40 + x'\n", [], "unknown name 'x'"),
        ("formula: R-OSSE\nR: 90\n", ["--n", "0"], "spec.frequencies.count"),
        ("- just a list\n", [], "mapping"),
    ],
)
def test_bad_designs_exit_2_naming_the_field(tmp_path: Path, text, args, message) -> None:
    path = tmp_path / "design.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["horn", str(path), "--freq", "500:4000", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OSSE = { L = 100 ", "spec.cfg.OSSE"),
        ("Mesh.AngularSegments = 32\n", "spec.cfg:"),
        (
            "OSSE = { L = 100  a = 45 }\nMesh.LengthSegments = many\n",
            "spec.cfg.Mesh.LengthSegments",
        ),
        ("OSSE = { L = 100  a = wide }\n", "spec.cfg.OSSE.a"),
    ],
)
def test_bad_cfg_designs_exit_2_naming_the_key(tmp_path: Path, text, message) -> None:
    path = tmp_path / "design.cfg"
    path.write_text(text)
    result = runner.invoke(app, ["horn", str(path), "--freq", "500:4000"])
    assert result.exit_code == 2, result.output
    assert message in result.output.replace("\n", ""), result.output


def test_bad_frequency_range_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["horn", str(EXAMPLES / "rosse-1inch.yaml"), "--freq", "lots"])
    assert result.exit_code == 2 and "START:STOP" in result.output


def test_polar_map_chart_skips_failed_frequencies() -> None:
    summary = {
        "frequencies": [500.0, 1000.0],
        "directivity": {"horizontal": [[[0.0, 0.0], [90.0, -6.0]], None]},
    }
    chart = polar_map_chart(summary)
    rows = chart["data"]["values"]
    assert rows == [
        {"plane": "horizontal", "frequency": 500.0, "angle": 0.0, "db": 0.0},
        {"plane": "horizontal", "frequency": 500.0, "angle": 90.0, "db": -6.0},
    ]


def test_the_ath_flat_key_example_loads_with_its_morph_and_sweep() -> None:
    from montesim.engines.horn import HornEngine

    spec, warnings = load_design(EXAMPLES / "osse-morph-ath.cfg")
    assert warnings == [
        "Mesh.Quadrants: not used (the full model is solved (no symmetry reduction): the "
        "same result, more time)"
    ]
    plan = HornEngine().validate(spec, {})
    assert plan.geometry.formula == "OSSE" and plan.geometry.r0 == 12.7
    assert plan.geometry.morph.target_shape == 1 and plan.geometry.morph.fixed_part == 0.4
    assert len(plan.frequencies) == 8 and plan.frequencies[-1] == 5000
    assert dict(plan.planes) == {"horizontal": 0.0, "vertical": 270.0}


def test_a_design_that_states_its_sweep_keeps_it_unless_freq_is_given() -> None:
    from montesim.cli.horn import design_sweep

    assert design_sweep(load_design(EXAMPLES / "osse-morph-ath.cfg")[0])  # ABEC.f1/f2
    assert not design_sweep(load_design(EXAMPLES / "osse-1inch.cfg")[0])  # none stated
    assert not design_sweep(load_design(EXAMPLES / "rosse-1inch.yaml")[0])
    assert not design_sweep({"cfg": "OSSE = { L = 100"})  # unreadable: the run names it
