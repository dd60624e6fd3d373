"""Horn BEM benchmark: seconds per frequency at ~1,000/2,000/4,000 triangles, peak memory,
and the first-solve (compile) cost cold and with caches warm.

    .venv/bin/python bench/bench_horn.py [--device numba|opencl] [--sizes 1000,2000,4000]
    .venv/bin/python bench/bench_horn.py --cold-and-cached   # two fresh processes

Each size meshes the R-OSSE example with element sizes scaled to hit the target count,
then solves 3 frequencies in this process (the first pays compilation). Prints figures;
nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEOMETRY = {"formula": "R-OSSE", "R": 120, "a": 42, "a0": 15.5, "r0": 12.7, "k": 2, "q": 3.4}
# element sizes (throat, mouth) in mm that give about the target triangle count
SIZES = {1000: (9.0, 24.0), 2000: (6.0, 17.0), 4000: (4.2, 12.0)}


def run_sizes(sizes: list[int], freqs: list[float]) -> list[dict]:
    from montesim.engines.base import NullContext
    from montesim.engines.horn import HornEngine
    from montesim.engines.horn.engine import mesh_of, surface_of

    engine = HornEngine()
    rows = []
    for target in sizes:
        throat, mouth = SIZES[target]
        spec = {
            "geometry": GEOMETRY,
            "mesh": {"throat_size": throat, "mouth_size": mouth, "angular_segments": 48},
            "frequencies": {"values": freqs},
        }
        plan = engine.validate(spec, {})
        t = time.perf_counter()
        mesh = mesh_of(plan)
        mesh_s = time.perf_counter() - t
        t = time.perf_counter()
        surface_of(plan)
        grid_s = time.perf_counter() - t
        seconds = []
        for chunk in engine.chunks(plan):
            t = time.perf_counter()
            part = engine.run_chunk(plan, chunk, NullContext())
            seconds.append(round(time.perf_counter() - t, 2))
            if not part["ok"]:
                print("  failed:", part["reason"], file=sys.stderr)
        rows.append(
            {
                "target": target,
                "triangles": mesh.triangle_count,
                "vertices": int(len(mesh.vertices)),
                "mesh_seconds": round(mesh_s, 2),
                "grid_seconds": round(grid_s, 2),
                "seconds_per_frequency": seconds,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def first_solve(env: dict[str, str]) -> float:
    """Wall seconds of one fresh process that solves one frequency of a small sphere."""
    code = (
        "import sys, time; sys.path.insert(0, 'tests/engines/horn');"
        "from spheres import icosphere; from montesim.engines.horn import HornEngine;"
        "from montesim.engines.base import NullContext; e = HornEngine();"
        "v, f = icosphere(0.1, 2);"
        "spec = {'user_mesh': {'vertices': v.tolist(), 'triangles': f.tolist(),"
        " 'tags': [2] * len(f), 'units': 'm'}, 'frequencies': {'values': [1000.0]}};"
        "p = e.validate(spec, {}); t = time.perf_counter();"
        "assert e.run_chunk(p, e.chunks(p)[0], NullContext())['ok'];"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default=os.environ.get("MONTESIM_HORN_DEVICE", "numba"))
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--freqs", default="1000,2000,4000", help="Hz, comma-separated")
    ap.add_argument("--cold-and-cached", action="store_true")
    args = ap.parse_args()
    os.environ["MONTESIM_HORN_DEVICE"] = args.device
    if args.cold_and_cached:
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "NUMBA_CACHE_DIR": cache, "MONTESIM_HORN_DEVICE": args.device}
            cold = first_solve(env)
            cached = first_solve(env)
        print(json.dumps({"device": args.device, "first_solve_cold_s": round(cold, 1),
                          "first_solve_cached_s": round(cached, 1)}))  # fmt: skip
        return
    print(f"device={args.device} cpus={os.cpu_count()}", flush=True)
    run_sizes([int(s) for s in args.sizes.split(",")], [float(f) for f in args.freqs.split(",")])


if __name__ == "__main__":
    main()
