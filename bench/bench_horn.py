"""Horn BEM benchmark: seconds per frequency (wall and CPU) at ~1,000/2,000/4,000 triangles,
the peak memory of each run, and numba's compile cost cold and from its cache.

    .venv/bin/python bench/bench_horn.py [--device numba|opencl] [--sizes 1000,2000,4000]

Every measurement runs in a fresh process, so peak RSS is that run's alone:

1. compile, cold: an empty ``NUMBA_CACHE_DIR`` (and ``POCL_CACHE_DIR``, where PoCL keeps
   its OpenCL kernel binaries); one small sphere solved twice in the
   process. The first solve pays compilation; first minus second is the compile cost.
2. compile, cached: the same in a new process over the cache the first one filled.
3. each size: the R-OSSE example meshed with element sizes scaled to the target count,
   then ``--freqs`` solved one chunk at a time over the warm cache (the first frequency
   still pays cache loading, so the steady figure is the median of the rest).

CPU seconds are the process's (all threads): with numba's threads on N cores, CPU/wall
near N means the cores were ours. Prints JSON lines, then a table; nothing here is a
pass/fail test. Note the load average (printed) beside the figures.

Measured 2026-12-01 on the shared 2-core dev machine (bempp-cl 0.4.2, numba 0.68, PoCL 3.1;
per frequency, the median after the first; wall figures inflated by other work there):

    triangles        numba CPU (wall)            OpenCL/PoCL CPU (wall)
    1,062            12-15 s (11-36 s; load 2-7)  4.1 s (4.1 s; load 2-3)
    2,066            28-52 s (52-93 s; load 5-7)  9.6 s (9.8 s; load 3)
    4,020            96-111 s (50-124 s; load 2-7) 32 s (29 s; load 3)
    peak RSS         870 / 980 / 1,310 MB         750 / 850 / 1,190 MB
    first solve      109 s CPU compile cold,      38 s CPU cold, 29 s with PoCL's
                     122 s "cached": no gain      kernel cache
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEOMETRY = {"formula": "R-OSSE", "R": 120, "a": 42, "a0": 15.5, "r0": 12.7, "k": 2, "q": 3.4}
# element sizes (throat, mouth) in mm that give about the target triangle count
SIZES = {1000: (9.0, 24.0), 2000: (6.0, 17.0), 4000: (4.2, 12.0)}

# one process's work, run as `python bench_horn.py --child KIND ARG`
_CHILD = r"""
import json, resource, sys, time
kind, arg = sys.argv[1], sys.argv[2]
sys.path.insert(0, "tests/engines/horn")
sys.path.insert(0, "bench")
from montesim.engines.base import NullContext
from montesim.engines.horn import HornEngine
from montesim.engines.horn.engine import mesh_of, surface_of
from montesim.engines.horn.solver import device_note

def clock():
    return time.perf_counter(), time.process_time()

def since(t):
    w, c = clock()
    return round(w - t[0], 3), round(c - t[1], 3)

engine = HornEngine()
out = {"kind": kind}
if kind == "compile":
    from spheres import icosphere
    v, f = icosphere(0.1, 2)
    spec = {"user_mesh": {"vertices": v.tolist(), "triangles": f.tolist(),
            "tags": [2] * len(f), "units": "m"}, "frequencies": {"values": [1000.0, 1100.0]}}
    t = clock()
    import bempp_cl.api  # noqa: F401  (import cost on its own)
    out["import"] = since(t)
    plan = engine.validate(spec, {})
    runs = []
    for chunk in engine.chunks(plan):
        t = clock()
        assert engine.run_chunk(plan, chunk, NullContext())["ok"]
        runs.append(since(t))
    out["first_solve"], out["second_solve"] = runs
    out["triangles"] = len(f)
else:
    from bench_horn import GEOMETRY, SIZES
    throat, mouth = SIZES[int(arg)]
    freqs = [float(x) for x in sys.argv[3].split(",")]
    spec = {"geometry": GEOMETRY,
            "mesh": {"throat_size": throat, "mouth_size": mouth, "angular_segments": 48},
            "frequencies": {"values": freqs}}
    plan = engine.validate(spec, {})
    t = clock()
    mesh = mesh_of(plan)
    out["mesh"] = since(t)
    t = clock()
    surface_of(plan)
    out["grid"] = since(t)
    out["target"] = int(arg)
    out["triangles"] = mesh.triangle_count
    out["vertices"] = int(len(mesh.vertices))
    out["frequencies"] = []
    for chunk in engine.chunks(plan):
        t = clock()
        part = engine.run_chunk(plan, chunk, NullContext())
        wall, cpu = since(t)
        out["frequencies"].append({"hz": freqs[chunk.index], "wall": wall, "cpu": cpu,
                                   "ok": part["ok"], "reason": part.get("reason")})
out["device"] = device_note()
out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out), flush=True)
"""


def child(env: dict[str, str], *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr[-4000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default=os.environ.get("MONTESIM_HORN_DEVICE", "numba"))
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--freqs", default="1000,2000,3000,4000", help="Hz, comma-separated")
    ap.add_argument("--cache", help="NUMBA_CACHE_DIR to use (default: a new empty one)")
    ap.add_argument("--no-compile", action="store_true", help="only the sizes")
    args = ap.parse_args()
    print(
        f"device={args.device} cpus={os.cpu_count()} load={os.getloadavg()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        env = {
            **os.environ,
            "NUMBA_CACHE_DIR": cache,
            "POCL_CACHE_DIR": cache,  # PoCL's kernel binaries, for --device opencl
            "MONTESIM_HORN_DEVICE": args.device,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        }
        if not args.no_compile:
            cold = child(env, "compile", "-")
            cached = child(env, "compile", "-")
        sizes = [child(env, "size", s, args.freqs) for s in args.sizes.split(",")]
    print(f"\nload average at the end: {os.getloadavg()}")

    def compile_line(name: str, row: dict) -> str:
        (w1, c1), (w2, c2) = row["first_solve"], row["second_solve"]
        return (
            f"{name:<16} import {row['import'][0]:6.1f} s  first solve {w1:7.1f} s wall "
            f"{c1:7.1f} s CPU  second {w2:5.2f} s  → compile ≈ {w1 - w2:6.1f} s wall "
            f"{c1 - c2:6.1f} s CPU  peak {row['peak_rss_mb']} MB"
        )

    if not args.no_compile:
        print(compile_line("compile, cold", cold))
        print(compile_line("compile, cached", cached))
    for row in sizes:
        rest = row["frequencies"][1:] or row["frequencies"]
        wall = statistics.median(f["wall"] for f in rest)
        cpu = statistics.median(f["cpu"] for f in rest)
        first = row["frequencies"][0]
        print(
            f"{row['triangles']:>6} triangles ({row['vertices']} vertices): "
            f"{wall:6.2f} s wall {cpu:6.2f} s CPU per frequency (median of "
            f"{len(rest)}; first {first['wall']:.1f} s), mesh {row['mesh'][0]:.1f} s, "
            f"peak {row['peak_rss_mb']} MB, {row['device']}"
        )


if __name__ == "__main__":
    main()
