"""Is a run's summary JSON the same with another checkout's code? (a check for speed work)

    .venv/bin/python bench/summary_equality.py --before SRC [--iterations N]

``SRC`` is the ``src`` folder of the other checkout (``git archive <commit> src | tar -x
-C /tmp/before``). Each case runs ``montesim.simulate`` in a fresh process with that code
and with this checkout's, and the two summaries (JSON, keys sorted) must be equal byte
for byte: the 200-input model, the ~1,100-formula DCF (7 outputs, also with its output
columns spilled to a file), and a small model whose outputs give Excel errors.
Exit status 1 when any differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = """
import json, sys
sys.path.insert(0, {bench!r})
import montesim
case = json.loads(sys.argv[1])
res = montesim.simulate(case.pop("workbook"), **case)
sys.stdout.write(json.dumps(res.summary, sort_keys=True))
"""

ERRORS = {
    "S!A1": '=RiskNormal(10, 2, RiskName("X"))',
    "S!A2": "=RiskDiscrete({1,2,3},{0.2,0.5,0.3})",
    "S!B1": "=1/(A1>10)",
    "S!B2": '=IF(A2=2, "text", A1*A2)',
    "S!B3": "=SQRT(A1-9)",
}


def run(src: Path, case: dict, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(bench=str(HERE)), json.dumps(case)],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "PYTHONPATH": str(src)},
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, required=True, help="the other checkout's src")
    ap.add_argument("--iterations", type=int, default=100_000)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import excel_models as em

    n = args.iterations
    with tempfile.TemporaryDirectory(prefix="montesim-eq-") as tmp:
        d = Path(tmp)
        many = em.write_many(d / "many.xlsx")
        k = em.write_dcf(d / "dcf_1k.xlsx", months=24, products=3)
        cases = [
            (
                "200 inputs",
                {},
                {"workbook": str(many.path), "outputs": list(many.outputs.values())},
            ),
            ("~1k DCF", {}, {"workbook": str(k.path), "outputs": list(k.outputs.values())}),
            (
                "~1k DCF, spilled",
                {"MONTESIM_RESULT_MEMORY": "0"},
                {"workbook": str(k.path), "outputs": list(k.outputs.values()), "workers": 2},
            ),
            (
                "errors",
                {},
                {"workbook": ERRORS, "outputs": ["S!B1", "S!B2", "S!B3"], "raw_iterations": n // 3},
            ),
        ]
        differ = 0
        for name, env, case in cases:
            case = {"iterations": n, "seed": 3, **case}
            before = run(args.before, dict(case), env)
            after = run(ROOT / "src", dict(case), env)
            same = before == after
            differ += not same
            print(f"{name}: {'identical' if same else 'DIFFERENT'} ({len(after):,} bytes)")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
