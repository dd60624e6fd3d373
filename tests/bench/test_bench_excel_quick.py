"""The Excel benchmark runs, and its cross-checks against pycel and hand NumPy hold.

``bench_excel.py --quick`` builds the benchmark workbooks and evaluates them with the
inputs fixed at their means in montesim, in pycel (an independent Excel evaluator) and
in a hand-written NumPy model. The figures it prints are not checked (no timings in
tests); the agreement lines are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("bench")
BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_excel.py"


def test_quick_benchmark_agrees_with_pycel_and_numpy(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sanity DCF: montesim (inputs fixed at means) vs pycel: agree" in done.stdout
    assert "sanity small: montesim (inputs fixed at means) vs pycel: agree" in done.stdout
    assert "sanity small: hand NumPy vs pycel: agree" in done.stdout
    sanity = json.loads(out.read_text())["sanity"]
    for model in ("dcf", "small"):
        assert sanity[model]["ok"] and sanity[model]["worst_rel"] < 1e-9, sanity[model]
        assert sanity[model]["montesim"].keys() == sanity[model]["pycel"].keys()
