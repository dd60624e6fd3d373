"""ATH-style .cfg designs parse as data into a horn spec; unknown keys become warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from montesim.engines.horn import HornEngine
from montesim.engines.horn.ath import design_from_cfg, parse_entries
from montesim.engines.horn.results import config_summary
from montesim.engines.horn.spec import parse_spec
from montesim.errors import InputError

OUTPUT_STL = (
    "Output.STL: not used (an output setting of ATH (files to write); it does not change the solve)"
)

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
    assert design.warnings == [OUTPUT_STL]
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


# -- a design as a job's spec: cfg (text) or cfg_file_id (an upload) --------------------

FREQS = {"values": [1000.0]}
CFG = (EXAMPLES / "osse-1inch.cfg").read_text()


def plan_error(spec: dict, files: dict | None = None) -> InputError:
    with pytest.raises(InputError) as err:
        HornEngine().validate(spec, files or {})
    return err.value


def test_a_cfg_spec_plans_the_design_with_its_unused_keys_as_warnings() -> None:
    plan = HornEngine().validate({"cfg": CFG, "frequencies": FREQS}, {})
    assert plan.formula == "OSSE" and plan.geometry.L == 110.0
    assert plan.mesh_spec.throat_size == 5.0 and plan.distance == 2.0
    assert dict(plan.planes) == {"horizontal": 0.0, "vertical": 90.0, "diagonal": 45.0}
    assert OUTPUT_STL in plan.warnings
    assert config_summary({"cfg": CFG, "frequencies": FREQS})["formula_type"] == "OSSE"
    assert config_summary({"cfg_file_id": "x", "frequencies": FREQS})["formula_type"] == "ATH .cfg"


def test_the_specs_own_fields_override_the_design() -> None:
    spec = {
        "cfg": CFG,
        "frequencies": FREQS,
        "geometry": {"L": 90},
        "mesh": {"throat_size": 8},
        "distance": 1.0,
    }
    plan = HornEngine().validate(spec, {})
    assert plan.geometry.L == 90 and plan.geometry.q == 0.995  # the rest from the design
    assert plan.mesh_spec.throat_size == 8 and plan.mesh_spec.mouth_size == 18.0
    assert plan.distance == 1.0
    # an error in an overriding value is the spec's own, not the design's
    assert plan_error({**spec, "geometry": {"L": -1}}).location == "spec.geometry.L"


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("OSSE = { L = 100 ", "spec.cfg.OSSE"),
        ("Mesh.AngularSegments = 32", "spec.cfg"),
        ("OSSE = { L = 100 }\nMesh.AngularSegments = lots", "spec.cfg.Mesh.AngularSegments"),
        ("OSSE = { L = 100  a = wide }", "spec.cfg.OSSE.a"),  # a name, not a number
        ("OSSE = { L = -100 }", "spec.cfg.OSSE.L"),
        ("OSSE = { L = 100  a = 45 }\nMesh.AngularSegments = 2", "spec.cfg.Mesh.AngularSegments"),
        ("R-OSSE = { a = 45 }", "spec.cfg.R-OSSE"),  # R-OSSE needs R: the block lacks it
    ],
)
def test_bad_designs_in_a_spec_name_the_key(text: str, location: str) -> None:
    err = plan_error({"cfg": text, "frequencies": FREQS})
    assert err.location == location, err.message


def test_an_uploaded_design_is_read_as_text(tmp_path) -> None:
    path = tmp_path / "design.cfg"
    path.write_text(CFG)
    plan = HornEngine().validate({"cfg_file_id": "f1", "frequencies": FREQS}, {"f1": path})
    assert plan.formula == "OSSE"
    path.write_text("OSSE = { L = 100  a = wide }")
    err = plan_error({"cfg_file_id": "f1", "frequencies": FREQS}, {"f1": path})
    assert err.location == "spec.cfg_file_id.OSSE.a"
    path.write_bytes(b"\xff\xfe OSSE")
    err = plan_error({"cfg_file_id": "f1", "frequencies": FREQS}, {"f1": path})
    assert err.location == "spec.cfg_file_id" and "UTF-8" in err.message
    err = plan_error({"cfg_file_id": "nope", "frequencies": FREQS})
    assert err.location == "spec.cfg_file_id"
    err = plan_error({"cfg": CFG, "cfg_file_id": "f1", "frequencies": FREQS}, {"f1": path})
    assert err.location == "spec.cfg_file_id"


# -- designs as ATH writes them (written from ATH's documented keys) ---------------------

FLAT = """
; an OSSE waveguide in ATH's flat keys, as ATH's own examples write it
Scale = 1.5                    ; lengths (and mesh sizes) x 1.5
Throat.Diameter = 25.4
Throat.Angle = 10
Coverage.Angle = 45 - 5*sin(p)^2
Length = 2*60                  ; a constant expression
Term.s = 0.6
Term.n = 4
Term.q = 0.995
OS.k = 1
Morph.TargetShape = 0
Morph.FutureOption = alpha=beta
Mesh.Quadrants = 14
Mesh.AngularSegments = 32
Mesh.LengthSegments = 10
Mesh.ThroatResolution = 6
Mesh.MouthResolution = 16
Source.Shape = 1
Source.Velocity = 2
ABEC.SimType = 2
ABEC.f1 = 200
ABEC.f2 = 8000
ABEC.NumFrequencies = 20
ABEC.Abscissa = 1
ABEC.MeshFrequency = 1000
ABEC.Polars:SPL_V = {
  MapAngleRange = 0,90,19
  NormAngle = 5
  Inclination = 270
}
_Source.Contours = {
  dome WG0 22 5.1 2 -0.8 5 1.5
}
Output.STL = 1
"""


def test_an_osse_design_in_aths_flat_keys() -> None:
    design = design_from_cfg(FLAT)
    g = design.spec["geometry"]
    assert g["formula"] == "OSSE"
    assert g["r0"] == pytest.approx(25.4 / 2 * 1.5)  # the diameter halved, then scaled
    assert g["L"] == pytest.approx(120 * 1.5)
    assert g["a0"] == 10 and g["s"] == 0.6 and g["n"] == 4 and g["q"] == 0.995 and g["k"] == 1
    assert g["a"] == "45 - 5*sin(p)^2"  # an angle: not scaled
    assert design.spec["mesh"] == {
        "angular_segments": 32,
        "length_segments": 10,
        "throat_size": pytest.approx(9.0),
        "mouth_size": pytest.approx(24.0),
    }
    assert design.spec["frequencies"] == {
        "start": 200.0,
        "stop": 8000.0,
        "count": 20.0,
        "spacing": "log",
    }
    assert design.spec["sim_type"] == "2"
    assert design.spec["polars"]["planes"] == {"vertical": 270.0}  # SPL_V, and 270 is vertical
    assert design.spec["polars"]["angles"] == {"start": 0.0, "stop": 90.0, "step": 5.0}
    assert design.spec["polars"]["norm_angle"] == 5.0
    reasons = design.reasons
    assert design.ignored["Morph.FutureOption"] == "alpha=beta"  # one key, split on the first =
    for key in (
        "Morph.FutureOption", "Mesh.Quadrants", "Source.Shape", "Source.Velocity",
        "ABEC.MeshFrequency", "_Source.Contours", "Output.STL",
    ):  # fmt: skip
        assert reasons.get(key), key
    assert (
        "symmetry" in reasons["Mesh.Quadrants"] and "commented out" in reasons["_Source.Contours"]
    )
    assert "flat disc" in reasons["Source.Shape"]
    used = {"Scale", "Throat.Diameter", "Throat.Angle", "Coverage.Angle", "Length", "Term.s"}
    assert not used & set(reasons)  # what is used is not listed as ignored
    assert any(w.startswith("Mesh.Quadrants: not used (") for w in design.warnings)
    # and it plans: every value lands in a valid spec
    plan = HornEngine().validate({"cfg": FLAT}, {})
    assert len(plan.frequencies) == 20 and plan.frequencies[-1] == pytest.approx(8000)
    assert dict(plan.planes) == {"vertical": 270.0} and plan.norm_angle == 5.0


@pytest.mark.parametrize(
    ("name", "inclination", "plane"),
    [
        ("SPL_H", None, "horizontal"),
        ("SPL_V", "270", "vertical"),
        ("SPL_V", None, "vertical"),
        ("SPL_D", "30", "diagonal"),
        ("Custom", "270", "vertical"),
        ("Custom", "180", "horizontal"),
        ("Custom", "60", "diagonal"),
    ],
)
def test_a_polar_blocks_plane(name: str, inclination: str | None, plane: str) -> None:
    extra = f"  Inclination = {inclination}" if inclination else ""
    design = design_from_cfg(
        f"OSSE = {{ L = 100 }}\nABEC.Polars:{name} = {{ NormAngle = 0{extra} }}"
    )
    assert list(design.spec["polars"]["planes"]) == [plane]


@pytest.mark.parametrize(
    ("text", "location"),
    [
        ("Length = 100\nABEC.SimType = 1", "spec.cfg.ABEC.SimType"),  # infinite baffle
        ("Length = 100\nMorph.TargetShape = 3", "spec.cfg.Morph.TargetShape"),
        ("Length = 100\nMorph.TargetShape = 1\nMorph.FixedPart = 1.5", "spec.cfg.Morph.FixedPart"),
        ("Length = 100\nMorph.TargetShape = 1\nMorph.Rate = 0", "spec.cfg.Morph.Rate"),
        ("Length = 100\nMorph.TargetShape = 1\nMorph.Exponent = 4", "spec.cfg.Morph.Exponent"),
        ("Length = 100\nOS.h = 2", "spec.cfg.OS.h"),
        ("Length = 100\nMesh.Enclosure = {\n Depth = 100\n}", "spec.cfg.Mesh.Enclosure"),
        ("Length = 100\nABEC.Abscissa = 3", "spec.cfg.ABEC.Abscissa"),
        ("Length = 100\nScale = -1", "spec.cfg.Scale"),
        ("Length = 100\nMesh.ThroatResolution = fine", "spec.cfg.Mesh.ThroatResolution"),
        ("Length = 100\nThroat.Diameter = -4", "spec.cfg.Throat.Diameter"),
        ("Length = -100", "spec.cfg.Length"),
        ("Coverage.Angle = 95\nLength = 100", "spec.cfg.Coverage.Angle"),
        ("Length = 100\nABEC.f1 = 9000\nABEC.f2 = 100", "spec.cfg.ABEC.f1"),
    ],
)
def test_ath_keys_that_cannot_be_solved_name_the_key(text: str, location: str) -> None:
    err = plan_error({"cfg": text, "frequencies": FREQS} if "ABEC.f" not in text else {"cfg": text})
    assert err.location == location, err.message


def test_an_assignment_splits_on_its_first_equals_sign() -> None:
    assert parse_entries("Morph.FutureOption = alpha=beta\nX = a == b") == [
        ("Morph.FutureOption", "alpha=beta"),
        ("X", "a == b"),
    ]
    # in a block, several pairs may share a line
    assert parse_entries("OSSE = { L = 100  a = 45 }") == [("OSSE", [("L", "100"), ("a", "45")])]


def test_aths_section_blocks_read_as_their_dotted_keys() -> None:
    text = """
    R-OSSE = {
      Scale = 2
      R = 70
      a = 40
    }
    MORPH = {
      TargetShape = 0
      Rate = 3
    }
    Mesh = {
      AngularSegments = 24
      ThroatResolution = 4
      Quadrants = 1234
    }
    Source = {
      Shape = 2
      Velocity = 1
    }
    """
    design = design_from_cfg(text)
    assert design.spec["geometry"]["R"] == 140  # Scale in the waveguide block
    assert design.spec["mesh"] == {"angular_segments": 24, "throat_size": 8.0}
    assert set(design.reasons) == {"Morph.Rate", "Mesh.Quadrants"}  # the source is as built
    err = plan_error(
        {"cfg": text.replace("TargetShape = 0", "TargetShape = 7"), "frequencies": FREQS}
    )
    assert err.location == "spec.cfg.Morph.TargetShape"
    assert "rectangle" in err.message


def test_a_morphed_ath_design_meshes_closed_with_a_rounded_rectangle_mouth() -> None:
    pytest.importorskip("gmsh")
    import numpy as np

    from montesim.engines.horn.engine import mesh_of
    from montesim.engines.horn.waveguide import rounded_rectangle_radius

    text = """
    Throat.Diameter = 25.4
    Length = 100
    Coverage.Angle = 48.5 - 7*cos(2*p)^5 - 16*sin(p)^12
    Term.s = 0.7
    Term.n = 3.7
    Morph.TargetShape = 1
    Morph.FixedPart = 0.3
    Morph.CornerRadius = 18
    Mesh.AngularSegments = 32
    Mesh.LengthSegments = 10
    Mesh.ThroatResolution = 8
    Mesh.MouthResolution = 20
    """
    plan = HornEngine().validate({"cfg": text, "frequencies": FREQS}, {})
    assert not [w for w in plan.warnings if "Morph" in w]  # every morph key is used
    mouth = plan.wall.mouth
    half_w, half_h = np.abs(mouth[:, 0]).max(), np.abs(mouth[:, 1]).max()
    assert half_w == round(half_w) and half_h == round(half_h)  # whole mm, as ATH rounds up
    radius = np.hypot(mouth[:, 0], mouth[:, 1])
    expected = rounded_rectangle_radius(plan.wall.azimuths, half_w, half_h, 18.0)
    assert np.allclose(radius, expected)
    mesh = mesh_of(plan)  # checked closed and oriented on the way
    assert set(np.unique(mesh.tags)) == {1, 2, 3}
