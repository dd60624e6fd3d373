"""The Excel speed issue's table, before and after, side by side in one run.

    .venv/bin/python bench/bench_excel_speed.py [--before SRC] [--repeat N] [--big] [--pycel]
                                                [--quick] [--json FILE]

``--before SRC`` is the ``src`` folder of another checkout (for example
``git archive <commit> src | tar -x -C /tmp/before``): every montesim figure is then
measured twice, once with that code (``PYTHONPATH=SRC``) and once with this checkout's.
Every run is a fresh process (bench_excel.py's ``--child``), so its import time, peak
RSS (main, and the largest worker) and wall time are its own. Each figure is the best
of ``--repeat`` runs; the load average is printed before and after, since a shared
machine makes single timings noisy. Figures, not pass/fail.

Rows (the issue's table):
- the 200-uniform-input model (~1,600 formulas, bench/excel_models.write_many):
  10^5 iterations on 1 worker, with the inputs as @RISK cells and as spec inputs;
  10^6 on 2 workers against its hand-written NumPy twin on 1 and 2 processes;
- the DCF (~5,400 formulas, 22 inputs): 10^5 iterations on 2 workers (it/s), its set-up
  (read + compile, and getting the plan from the disk plan cache instead), a
  1,000-iteration run cold and with the plan cached, and with ``--pycel`` the ratio to pycel;
- the ~1,100-formula DCF (7 outputs): 10^6 iterations on 2 workers; peak RSS at 10^5
  and, with ``--big``, at 10^7;
- the same DCF over 14 years (~7,500 formulas, standing in for the issue's NPV/IRR model):
  10^5 iterations on 2 workers;
- ``montesim simulate examples/excel/project.xlsx -n 10000``: wall, interpreter included.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_excel as be  # noqa: E402
import excel_models as em  # noqa: E402

ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "excel" / "project.xlsx"


def child(task: dict, src: Path | None) -> dict:
    """One simulate() in a fresh process, with ``src`` first on the path when given."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, str(HERE / "bench_excel.py"), "--child", json.dumps(task)],
        capture_output=True,
        text=True,
        env=env,
        timeout=7200,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("CHILD "):
            return json.loads(line[6:])
    raise RuntimeError(f"montesim child failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}")


def best(runs: list[dict]) -> dict:
    """The run with the smallest elapsed time, with the least CPU time and the largest
    peak RSS of all runs."""
    out = dict(min(runs, key=lambda r: r["elapsed"]))
    for key in ("cpu_main_s", "cpu_workers_s"):
        out[key] = min(r[key] for r in runs)
    for key in ("rss_main_mib", "rss_worker_max_mib"):
        out[key] = max(r[key] for r in runs)
    return out


def montesim(model: em.Model, iterations: int, workers: int, src, repeat: int, **kw) -> dict:
    task = {
        "path": str(model.path),
        "outputs": list(model.outputs.values()),
        "iterations": iterations,
        "seed": 1,
        "workers": workers,
        **kw,
    }
    return best([child(task, src) for _ in range(repeat)])


def cli_latency(src: Path | None, repeat: int, iterations: int) -> tuple[float, float]:
    """Best wall and best CPU seconds of the command (interpreter start included)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "montesim.cli", "simulate", str(EXAMPLE), "-n", str(iterations)]
    times, cpus = [], []
    for _ in range(repeat):
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True, timeout=600)
        times.append(time.perf_counter() - t0)
        after = os.times()
        cpus.append(
            after.children_user
            + after.children_system
            - before.children_user
            - before.children_system
        )
    return min(times), min(cpus)


SETUP_CHILD = r"""
import hashlib, json, sys, tempfile, time
from pathlib import Path
import importlib
from montesim.jobs.planning import PRELOAD, PlanCache, plan_here
# imports are not the set-up's cost: what the server's planning processes preload
for module in PRELOAD:
    importlib.import_module(module)
from montesim.jobs.signing import Signer
from montesim.heap import loads_paused

path = Path(sys.argv[1])
spec = {"file_id": "wb", "iterations": 100_000, "seed": 1}
t0 = time.perf_counter()
planned = plan_here("excel", spec, {"wb": path})  # read + compile (+ pickle)
cold = time.perf_counter() - t0
folder, signer = Path(tempfile.mkdtemp()), Signer.random()
PlanCache(directory=folder, signer=signer).put(
    PlanCache.key("excel", spec, {"wb": hashlib.sha256(path.read_bytes()).hexdigest()}), planned
)
t0 = time.perf_counter()  # what a later run pays: hash the file, load and check the entry
digest = hashlib.sha256(path.read_bytes()).hexdigest()
found = PlanCache(directory=folder, signer=signer).get(PlanCache.key("excel", spec, {"wb": digest}))
plan = loads_paused(found.plan_bytes)  # as the workers and the merge load it
cached = time.perf_counter() - t0
print("SETUP " + json.dumps({"cold": cold, "cached": cached}))
"""


def setup_times(path: Path, src: Path | None, repeat: int) -> tuple[float, float]:
    """Best read + compile time, and best time to get the compiled plan from the disk
    plan cache instead (a fresh process each, imports excluded)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src) + os.pathsep + env.get("PYTHONPATH", "")
    runs = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-c", SETUP_CHILD, str(path)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        if proc.returncode != 0:  # code from before the disk plan cache: no such figure
            return float("nan"), float("nan")
        out = proc.stdout
        runs.append(json.loads(next(x for x in out.splitlines() if x.startswith("SETUP "))[6:]))
    return min(r["cold"] for r in runs), min(r["cached"] for r in runs)


def _twin(n: int) -> float:
    rng = np.random.default_rng(n)
    return float(em.many_numpy(em.many_sample(rng, n))["Total"].mean())


def numpy_twin(iterations: int, processes: int, repeat: int) -> float:
    """Best wall time of the hand-written twin (sampling included) over ``processes``."""
    parts = [iterations // processes] * processes
    times = []
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_twin, [1000] * processes)  # start-up is not the twin's cost
        for _ in range(repeat):
            t0 = time.perf_counter()
            # batches of 10^5: the twin's arrays are (n, 200) doubles
            pool.map(_twin, [p // 10 for p in parts for _ in range(10)])
            times.append(time.perf_counter() - t0)
    return min(times)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--before", type=Path, help="src folder of the code to compare against")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--big", action="store_true", help="peak RSS at 10^7 iterations too")
    ap.add_argument("--pycel", action="store_true", help="pycel on the DCF (slow)")
    ap.add_argument("--quick", action="store_true", help="10x fewer iterations everywhere")
    ap.add_argument("--only", help="run only the rows whose name contains this text")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    e5, e6 = 100_000 // scale, 1_000_000 // scale
    versions = ([("before", args.before)] if args.before else []) + [("after", None)]
    print(f"load average at start: {load()} ({os.cpu_count()} CPUs)")
    fig: dict = {"load_start": load(), "rows": {}}

    def row(name: str, goal: str, measure) -> None:
        if args.only and args.only not in name:
            return
        values = {label: measure(src) for label, src in versions}
        fig["rows"][name] = {"goal": goal, **values}
        print(f"  {name}: " + "; ".join(f"{k} {v['text']}" for k, v in values.items()))

    with tempfile.TemporaryDirectory(prefix="montesim-speed-") as tmp:
        d = Path(tmp)
        many = em.write_many(d / "many.xlsx")
        many_plain = em.write_many(d / "many_plain.xlsx", risk=False)
        dcf = em.write_dcf(d / "dcf.xlsx")
        k = em.write_dcf(d / "dcf_1k.xlsx", months=24, products=3)
        # the 7,500-formula NPV/IRR model (7 inputs) is not in the repository: the
        # same DCF over 14 years stands in for it (22 inputs)
        big = em.write_dcf(d / "dcf_7k.xlsx", months=168, products=3)
        print(
            f"models: many-input {many.formulas:,} formulas ({len(many.inputs)} inputs), "
            f"DCF {dcf.formulas:,}, ~1k model {k.formulas:,} ({len(k.outputs)} outputs), "
            f"NPV/IRR DCF {big.formulas:,}"
        )
        spec_inputs = em.many_spec_inputs(many_plain)
        rep = args.repeat

        def timed(model, n, w, **kw):
            def measure(src):
                r = montesim(model, n, w, src, rep, **kw)
                r["text"] = (
                    f"{r['elapsed']:.2f} s ({n / r['elapsed']:,.0f} it/s; CPU main "
                    f"{r['cpu_main_s']:.1f} s + workers {r['cpu_workers_s']:.1f} s; "
                    f"RSS main {r['rss_main_mib']:.0f} MiB, worker {r['rss_worker_max_mib']:.0f})"
                )
                return r

            return measure

        row(
            f"many-input, {e5:,} it, 1 worker (@RISK cells)",
            "",
            timed(many, e5, 1),
        )
        row(
            f"many-input, {e5:,} it, 1 worker (spec inputs)",
            "",
            timed(many_plain, e5, 1, inputs=spec_inputs),
        )
        row(f"many-input, {e6:,} it, 2 workers", "within 1.5x of the twin", timed(many, e6, 2))
        for procs in (1, 2) if not args.only or args.only in "hand NumPy twin" else ():
            t = numpy_twin(e6, procs, rep)
            fig["rows"][f"numpy twin {procs}"] = {"elapsed": t}
            print(
                f"  hand NumPy twin, {e6:,} it, {procs} process(es): {t:.2f} s ({e6 / t:,.0f} it/s)"
            )

        def dcf_rate(src):
            setup = montesim(dcf, 1_000, 1, src, rep)  # cold: read and compile
            plans = tempfile.mkdtemp(prefix="montesim-plans-", dir=tmp)
            montesim(dcf, 1_000, 1, src, 1, plan_cache=plans)  # fills the plan cache
            warm = montesim(dcf, 1_000, 1, src, rep, plan_cache=plans)
            r = montesim(dcf, e5, 2, src, rep)
            cold, cached = setup_times(dcf.path, src, rep)
            r["setup_s"], r["setup_cached_s"] = cold, cached
            r["run_1000_s"], r["run_1000_cached_s"] = setup["elapsed"], warm["elapsed"]
            r["text"] = (
                f"{e5 / r['elapsed']:,.0f} it/s ({r['elapsed']:.2f} s); set-up (read + "
                f"compile) {cold:.2f} s, from the plan cache {cached:.3f} s; a 1,000-iteration "
                f"run {setup['elapsed']:.2f} s, with the plan cached {warm['elapsed']:.2f} s"
            )
            return r

        row(f"DCF, {e5:,} it, 2 workers", "set-up < 0.5 s", dcf_rate)
        if args.pycel:
            dcf_plain = em.write_dcf(d / "dcf_plain.xlsx", risk=False)
            p = be.pycel_run(dcf_plain, seconds=30.0, max_iterations=50, seed=1)
            fig["pycel"] = p
            for label, _ in versions:
                r = fig["rows"][f"DCF, {e5:,} it, 2 workers"][label]
                print(
                    f"  DCF vs pycel ({label}): {(e5 / r['elapsed']) / p['its']:,.0f}x (goal >= 2,000x)"
                )
        row(f"~1k model, {e6:,} it, 2 workers", "< 6 s", timed(k, e6, 2))
        row(f"~1k model, {e5:,} it, 2 workers (RSS)", "", timed(k, e5, 2))
        if args.big:
            row(
                "~1k model, 10,000,000 it, 2 workers (RSS)",
                "main < 300 MiB",
                timed(k, 10_000_000, 2),
            )

        row(
            f"NPV/IRR DCF ~{big.formulas // 100 * 100:,} formulas, {e5:,} it, 2 workers",
            "",
            timed(big, e5, 2),
        )

        def latency(src):
            t, cpu = cli_latency(src, max(rep, 3), 10_000)
            return {"wall": t, "cpu": cpu, "text": f"{t:.2f} s wall, {cpu:.2f} s CPU"}

        row("montesim simulate examples/excel/project.xlsx -n 10000", "< 1.5 s", latency)
    fig["load_end"] = load()
    print(f"load average at end: {load()}")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1, default=str))


if __name__ == "__main__":
    main()
