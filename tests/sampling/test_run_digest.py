"""A run's outputs are bit-identical for a seed, whatever the chunk size or worker count.

The digest is stored: a change to the draws (sampler, inverse CDFs, correlation) or to the
evaluation shows up here and must be deliberate, with the digest updated in its own commit.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from montesim.simulation import simulate

CELLS = {
    "M!A1": "=RiskNormal(10, 2, RiskTruncate(5, 14))",
    "M!A2": "=RiskTriang(1, 2, 6)",
    "M!A3": "=RiskPert(0, 3, 4)",
    "M!A4": "=RiskLognorm(5, 1)",
    "M!A5": "=RiskUniform(-1, 1)",
    "M!A6": "=RiskDiscrete({1,2,5},{0.2,0.5,0.3})",
    "M!A7": "=RiskPoisson(3)",
    "M!A8": "=RiskGamma(2, 1.5)",
    "M!B1": '=RiskOutput("Total") + A1*A2 - A3 + A4/A6 + A5*A7 + A8',
    "M!B2": '=RiskOutput("Ratio") + IF(A5>0, A1/A5, A2)',
}
CORRELATION = {
    "inputs": ["M!A1", "M!A2", "M!A4"],
    "matrix": [[1, 0.6, -0.3], [0.6, 1, 0], [-0.3, 0, 1]],
}
ITERATIONS = 3 * 4096 + 1000  # whole blocks and a part block
DIGEST = "bbe627d65216ff7066d254ff4f92a77399163094978dd4661e5b9b21e577dec9"


def run_digest(**kw: object) -> str:
    res = simulate(CELLS, iterations=ITERATIONS, seed=7, correlation=CORRELATION, **kw)
    h = hashlib.sha256()
    for name in sorted(res.outputs):
        h.update(name.encode())
        h.update(np.ascontiguousarray(res.outputs[name], dtype=np.float64).tobytes())
    for name in sorted(res.inputs):
        h.update(name.encode())
        h.update(np.ascontiguousarray(res.inputs[name], dtype=np.float64).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize(
    "kw",
    [
        {"workers": 1},
        {"workers": 1, "chunk_size": 4096, "batch_size": 4096},
        {"workers": 1, "chunk_size": 8192},
    ],
    ids=["one-chunk", "block-chunks", "two-block-chunks"],
)
def test_run_digest_is_stored_one(kw: dict) -> None:
    assert run_digest(**kw) == DIGEST


def test_run_digest_with_two_workers() -> None:
    assert run_digest(workers=2, chunk_size=4096) == DIGEST


def test_every_montesim_process_uses_numpys_portable_kernels() -> None:
    """The digest holds on any CPU because montesim keeps NumPy off its AVX-512 kernels
    (they round differently in the last bit); MONTESIM_NATIVE_SIMD=1 opts out."""
    import os
    import subprocess
    import sys

    code = "import montesim, os; print(os.environ.get('NPY_DISABLE_CPU_FEATURES', ''))"
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert "X86_V4" in out.stdout and "AVX512F" in out.stdout
    env["MONTESIM_NATIVE_SIMD"] = "1"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == ""
