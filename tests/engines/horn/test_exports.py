"""Beamwidth against a baffled piston's closed form; FRD/ZMA/CSV read back as REW would."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import j1

from montesim.engines.horn import exports


def piston_row(ka: float, step: float) -> list[list[float]]:
    """A baffled piston's polar curve, dB re on-axis: 20 log10 |2 J1(x)/x|, x = ka sin(t)."""
    angles = np.arange(0.0, 90.0 + 1e-9, step)
    x = ka * np.sin(np.radians(angles))
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(x > 1e-9, 2 * j1(x) / np.where(x > 1e-9, x, 1), 1.0)
    return [[float(a), float(20 * np.log10(abs(v)))] for a, v in zip(angles, d, strict=True)]


@pytest.mark.parametrize("ka", [3.0, 5.0, 10.0])
def test_beamwidth_of_a_baffled_piston(ka: float) -> None:
    x6 = brentq(lambda x: 20 * np.log10(2 * j1(x) / x) + 6, 0.1, 3.8)  # first -6 dB point
    expected = 2 * np.degrees(np.arcsin(x6 / ka))
    assert exports.beamwidth(piston_row(ka, 0.5)) == pytest.approx(expected, abs=0.1)
    assert exports.beamwidth(piston_row(ka, 5.0)) == pytest.approx(expected, abs=2.5)


def test_no_beamwidth_where_it_cannot_be_read() -> None:
    assert exports.beamwidth(piston_row(1.0, 5.0)) is None  # never 6 dB down by 90 degrees
    assert exports.beamwidth(None) is None  # a failed frequency
    assert exports.beamwidth([[0.0, -7.0], [5.0, -8.0]]) is None  # below from the start
    assert exports.beamwidth([[0.0, 0.0], [5.0, None], [10.0, -9.0]]) is None  # a gap
    assert exports.beamwidth([[0.0, 0.0], [10.0, -3.0], [20.0, -9.0]]) == pytest.approx(30.0)


SUMMARY = {
    "frequencies": [500.0, 1000.0, 2000.0],
    "spl_on_axis": {"spl": [90.5, None, 95.25], "phase_degrees": [10.0, None, -170.5]},
    "impedance": {"real": [0.3, 0.9, None], "imaginary": [0.4, -0.1, None]},
    "di": {"di": [3.0, None, 9.5]},
    "directivity": {"horizontal": [[[0.0, 0.0], [10.0, -3.0], [20.0, -9.0]], None, None]},
    "metadata": {"distance_m": 2.0, "conventions": {"pressure": "rms", "phasor": "exp(+jwt)"}},
}


def test_frd_and_zma_read_back_as_rew_and_vituixcad_read_them() -> None:
    frd = exports.frd(SUMMARY).decode()
    assert frd.startswith("*") and "rms" in frd and "raw" in frd
    data = np.loadtxt(io.StringIO(frd), comments="*")
    assert data.tolist() == [[500.0, 90.5, 10.0], [2000.0, 95.25, -170.5]]  # gaps left out
    zma = np.loadtxt(io.StringIO(exports.zma(SUMMARY).decode()), comments="*")
    assert zma[:, 0].tolist() == [500.0, 1000.0]
    assert zma[0, 1] == pytest.approx(0.5) and zma[0, 2] == pytest.approx(53.1301, abs=1e-3)
    assert zma[1, 2] == pytest.approx(np.degrees(np.arctan2(-0.1, 0.9)), abs=1e-4)


def test_csv_has_every_series_with_empty_cells_for_gaps() -> None:
    rows = list(csv.DictReader(io.StringIO(exports.csv(SUMMARY).decode())))
    assert [r["frequency_hz"] for r in rows] == ["500", "1000", "2000"]
    assert rows[1]["spl_db"] == "" and rows[2]["z_real"] == "" and rows[0]["di_db"] == "3"
    assert (
        rows[0]["beamwidth_6db_horizontal_deg"] == "30"
        and rows[1]["beamwidth_6db_horizontal_deg"] == ""
    )
    assert set(exports.artifacts(SUMMARY)) == {"on-axis.frd", "impedance.zma", "response.csv"}
