"""ATH-style .cfg designs parse as data into a horn spec; unknown keys become warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from montesim.engines.horn.ath import design_from_cfg, parse_entries
from montesim.engines.horn.spec import parse_spec
from montesim.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "horn"


def test_the_example_cfg_becomes_a_valid_spec() -> None:
    design = design_from_cfg((EXAMPLES / "osse-1inch.cfg").read_text())
    g = design.spec["geometry"]
    assert g["formula"] == "OSSE" and g["L"] == 110.0 and g["q"] == 0.995
    assert g["a"] == "48 - 8*abs(sin(p))^2"  # an expression stays text for the evaluator
    assert design.spec["mesh"] == {
        "angular_segments": 48,
        "length_segments": 16,
        "throat_size": 5.0,
        "mouth_size": 18.0,
        "rear_size": 30.0,
    }
    assert design.spec["polars"]["planes"] == {
        "horizontal": 0.0,
        "vertical": 90.0,
        "diagonal": 45.0,
    }
    assert design.spec["polars"]["angles"] == {"start": 0.0, "stop": 180.0, "step": 5.0}
    assert design.spec["distance"] == 2.0
    assert design.ignored == {"Output.STL": "1"}
    assert design.warnings == ["Output.STL: not used by the horn engine (kept, ignored)"]
    parse_spec({**design.spec, "frequencies": {"start": 500, "stop": 8000}})


def test_blocks_keys_comments_and_inclinations() -> None:
    text = """
    ; a comment
    R-OSSE = { R = 140 ; mouth
      a = 40  a0 = 15.5
      r0 = 12.7  k = 2  tmax = 0.9  Colour = red }
    ABEC.Polars:SPL_D = { MapAngleRange = 0,90,19  Inclination = 30 }
    Some.Setting = 3
    """
    design = design_from_cfg(text)
    g = design.spec["geometry"]
    assert g == {
        "formula": "R-OSSE",
        "R": 140.0,
        "a": 40.0,
        "a0": 15.5,
        "r0": 12.7,
        "k": 2.0,
        "tmax": 0.9,
    }
    assert design.spec["polars"]["planes"] == {"diagonal": 30.0}
    assert design.spec["polars"]["angles"]["step"] == 5.0
    assert set(design.ignored) == {"R-OSSE.Colour", "Some.Setting"}


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("Mesh.AngularSegments = 32", "cfg"),
        ("OSSE = { L = 100 ", "cfg.OSSE"),
        ("OSSE = { L = 100 }\nR-OSSE = { R = 100 }", "cfg.R-OSSE"),
        ("OSSE = { L = 100 }\nMesh.LengthSegments = many", "cfg.Mesh.LengthSegments"),
        ("OSSE = { L = 100 }\nimport os", "cfg"),
        (
            "OSSE = { L = 100 }\nABEC.Polars:SPL_H = { MapAngleRange = 0,180 }",
            "cfg.ABEC.Polars:SPL_H.MapAngleRange",
        ),
    ],
)
def test_bad_designs_name_where(text: str, location: str) -> None:
    with pytest.raises(InputError) as err:
        design_from_cfg(text)
    assert err.value.location == location, err.value.message


def test_values_are_never_executed() -> None:
    entries = parse_entries("OSSE = { a = __import__('os').system('false') }")
    assert entries == [("OSSE", [("a", "__import__('os').system('false')")])]
    design = design_from_cfg("OSSE = { L = 100  a = __import__('os').system('false') }")
    with pytest.raises(InputError) as err:
        from montesim.engines.horn.waveguide import build_wall

        build_wall(parse_spec({**design.spec, "frequencies": {"values": [1000]}}).geometry, 16, 4)
    assert err.value.location == "spec.geometry.a"
