"""The dashboards' pure JavaScript (tick fitting, band probabilities, mean differences),
run under Node against the modules the browser loads."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "montesim" / "web" / "js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_js(body: str) -> object:
    """Evaluate an ES module body that ends by printing JSON; return the parsed value."""
    script = f"""
import * as core from "{WEB / "charts" / "core.js"}";
import * as dist from "{WEB / "charts" / "distribution.js"}";
import * as compare from "{WEB / "views" / "compare.js"}";
{body}
"""
    done = subprocess.run(
        [NODE, "--input-type=module"], input=script, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_fitted_ticks_leave_room_for_every_label() -> None:
    cases = [
        (lo, hi, px)
        for lo, hi in [(0, 1), (-152066, 400342), (1e3, 2e8), (0.0012, 0.0019)]
        for px in (120, 250, 560)
    ]
    out = run_js(f"""
const cases = {json.dumps(cases)};
console.log(JSON.stringify(cases.map(([lo, hi, px]) => {{
  const t = core.fittedTicks(lo, hi, px);
  return {{ t, labels: t.map((v) => core.short(v)) }};
}})));
""")
    for (lo, hi, px), got in zip(cases, out, strict=True):
        ticks, labels = got["t"], got["labels"]
        assert len(ticks) >= 2 and all(lo - 1e-9 <= v <= hi + 1e-9 for v in ticks)
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
        assert len(steps) == 1  # evenly spaced
        if len(ticks) > 2:  # beyond the two ends, labels must fit side by side
            room = px / (hi - lo) * (ticks[1] - ticks[0])
            assert room >= max(len(s) for s in labels) * 6.6 + 10, (lo, hi, px, labels)


def test_band_probability_and_quantiles() -> None:
    out = run_js("""
const hist = { edges: [0, 1, 2, 3], counts: [1, 1, 2] };
const ecdf = [{ x: 0, p: 0 }, { x: 10, p: 0.5 }, { x: 30, p: 1 }];
console.log(JSON.stringify([
  dist.cdfFromHistogram(hist, -1), dist.cdfFromHistogram(hist, 1.5), dist.cdfFromHistogram(hist, 2.5),
  dist.cdfFromHistogram(hist, 9), dist.quantileFromEcdf(ecdf, 0.25), dist.quantileFromEcdf(ecdf, 0.75),
]));
""")
    assert out == [0, 0.375, 0.75, 1, 5, 20]


def test_difference_of_means_and_what_differs() -> None:
    out = run_js("""
const a = { mean: 10, std: 2, n: 100 };
const b = { mean: 11, std: 3, n: 400 };
console.log(JSON.stringify({
  diff: compare.meanDifference(a, b),
  none: compare.meanDifference(a, { mean: 1, std: null, n: 5 }),
  fields: compare.differingFields(
    [{ file_id: "f", seed: 1, iterations: 5 }, { file_id: "f", seed: 2, iterations: 5 }],
    [{ inputs: [{ name: "Price", family: "normal", params: [1, 2] }] },
     { inputs: [{ name: "Price", family: "normal", params: [1, 3] }] }]),
}));
""")
    se = math.sqrt(4 / 100 + 9 / 400)
    assert out["diff"]["diff"] == pytest.approx(1.0)
    assert out["diff"]["lo"] == pytest.approx(1 - 1.959964 * se)
    assert out["diff"]["hi"] == pytest.approx(1 + 1.959964 * se)
    assert out["none"] is None
    assert out["fields"] == [
        {"key": "Price", "values": ["normal(1, 2)", "normal(1, 3)"]},
        {"key": "seed", "values": ["1", "2"]},
    ]
