"""The horn charts' axes (log-frequency ticks, dB ranges), run under Node against the module
the browser loads."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "montesim" / "web" / "js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_js(body: str) -> object:
    script = f'import * as hc from "{WEB / "horn-charts.js"}";\n{body}\n'
    done = subprocess.run(
        [NODE, "--input-type=module"], input=script, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_log_frequency_ticks_are_1_2_5_per_decade_with_the_decades_marked() -> None:
    out = run_js("console.log(JSON.stringify([hc.logTicks(20, 20000), hc.logTicks(500, 4000)]))")
    audio, narrow = out
    assert [t["value"] for t in audio] == [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000]
    assert [t["value"] for t in audio if t["decade"]] == [100, 1000, 10000]
    assert [t["value"] for t in narrow] == [500, 1000, 2000]


def test_db_axes_are_ranged_to_the_data_in_5_db_steps() -> None:
    out = run_js(
        "console.log(JSON.stringify([hc.dbRange([82.3, 93.6], {span: 30}),"
        " hc.dbRange([41, 118], {span: 30}), hc.dbRange([2.5, 9.1], {span: 15}),"
        " hc.dbRange([], {span: 20})]))"
    )
    assert out == [[70, 100], [40, 120], [0, 15], [0, 20]]
    lo, hi = out[0]
    assert lo > 0  # an SPL axis is not pinned to 0 dB


def test_frequency_labels() -> None:
    assert run_js("console.log(JSON.stringify([500, 1000, 2500, 20000].map(hc.hz)))") == [
        "500",
        "1k",
        "2.5k",
        "20k",
    ]
