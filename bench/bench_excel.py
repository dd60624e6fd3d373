"""Excel engine benchmark (issue: Excel Monte Carlo performance), figures side by side.

    .venv/bin/python bench/bench_excel.py [--quick] [--million] [--big] [--json FILE]

Generates workbooks with openpyxl in a temp dir (bench/excel_models.py): a monthly 10-year
DCF (~5,400 formulas, 22 @RISK inputs, lookups, SUM/SUMIF, NPV, IRR), the same DCF over
2 years (~1,100 formulas) and a 5-year model of ~50 formulas with a hand-written NumPy
twin. Then reports:

- montesim iterations/s on the DCF (``montesim.simulate``; 10^5 iterations, 10^6 with
  ``--million``), end to end and excluding set-up (compile + pool start, measured with a
  1,000-iteration run of the same workbook);
- pycel recalculating the same DCF once per iteration (input cells set to sampled values
  with ``set_value``, outputs ``evaluate``d), over a time budget; the ratio;
- hand NumPy vs montesim (1 worker) on the small model;
- 10^6 iterations of the ~1,000-formula model on 2 workers;
- peak RSS of the main process and of the worker processes at 10^5 and (``--big``) 10^7
  iterations of the ~1,000-formula model.

Every montesim run happens in a fresh subprocess (``--child``), so its peak RSS is its own:
``ru_maxrss`` of the process (main), of its reaped children (the largest worker), and the
largest sum over main + workers sampled with psutil every 100 ms.
Sanity lines check that montesim, pycel and NumPy agree with the inputs fixed at their
means. Prints figures; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import excel_models as em  # noqa: E402

# -- montesim runs, each in a fresh subprocess ----------------------------------------------


def _simulate():
    try:
        from montesim import simulate
    except ImportError:
        from montesim.simulation import simulate
    return simulate


def _norm(cell: str) -> str:
    sheet, _, ref = cell.rpartition("!")
    return sheet.strip("'").upper() + "!" + ref.replace("$", "").upper()


def output_arrays(res, cells: list[str]) -> dict[str, np.ndarray]:
    """Raw values per requested cell, whatever names the result gives its outputs."""
    by_cell = {_norm(e.get("cell", n)): n for n, e in res.summary["outputs"].items()}
    names = list(res.outputs)
    return {
        c: np.asarray(res.outputs[by_cell.get(_norm(c), names[i])]) for i, c in enumerate(cells)
    }


class RssSampler(threading.Thread):
    """Largest RSS of this process plus its descendants (psutil), sampled every 100 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_total = 0
        self.peak_workers = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self.stop.is_set():
            try:
                kids = sum(c.memory_info().rss for c in me.children(recursive=True))
                total = me.memory_info().rss + kids
            except psutil.Error:
                continue
            self.peak_total = max(self.peak_total, total)
            self.peak_workers = max(self.peak_workers, kids)
            self.stop.wait(0.1)


def child_main(task: dict) -> None:
    """Run one simulate() here and print a JSON line of figures (the ``--child`` mode).

    The compiled plan is cached on disk by the model: each run gets an empty cache folder
    (a cold set-up, read and compile included) unless the task names one (``plan_cache``)."""
    scratch = tempfile.TemporaryDirectory(prefix="montesim-plans-")  # removed at exit
    os.environ["MONTESIM_PLAN_CACHE_DIR"] = task.get("plan_cache") or scratch.name
    simulate = _simulate()
    sampler = RssSampler()
    sampler.start()
    keys = ("inputs", "fixed", "workers", "chunk_size", "raw_iterations")
    kw = {k: task[k] for k in keys if task.get(k) is not None}
    t0 = time.perf_counter()
    res = simulate(
        task["path"],
        outputs=task["outputs"],
        iterations=task["iterations"],
        seed=task["seed"],
        **kw,
    )
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    # peaks of the run itself, before reading the outputs back (which may be memory-mapped)
    mib = 1024.0  # ru_maxrss is in KiB on Linux
    # the pool's workers count in RUSAGE_CHILDREN only once reaped: wait for them to exit
    for proc in multiprocessing.active_children():
        proc.join(timeout=30)
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    rss_main, rss_worker = me.ru_maxrss / mib, kids.ru_maxrss / mib
    values = output_arrays(res, task["outputs"])
    out = {
        "iterations": task["iterations"],
        "elapsed": res.elapsed,
        "wall": wall,
        "rss_main_mib": rss_main,
        "rss_worker_max_mib": rss_worker,
        # CPU seconds (import included): on a loaded machine a steadier figure than wall
        "cpu_main_s": me.ru_utime + me.ru_stime,
        "cpu_workers_s": kids.ru_utime + kids.ru_stime,
        "rss_total_peak_mib": sampler.peak_total / 2**20,
        "rss_workers_sum_peak_mib": sampler.peak_workers / 2**20,
        "first": {c: _num(v[0]) for c, v in values.items()},
        "mean": {c: _num(np.nanmean(v)) for c, v in values.items()},
        "std": {c: _num(np.nanstd(v)) for c, v in values.items()},
        "nan": {c: int(np.isnan(v).sum()) for c, v in values.items()},
    }
    print("CHILD " + json.dumps(out), flush=True)


def _num(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def run_child(task: dict, timeout: float = 3600) -> dict:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(task)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("CHILD "):
            return json.loads(line[6:])
    raise RuntimeError(f"montesim child failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}")


def montesim_run(model: em.Model, iterations: int, *, workers: int, seed: int, **kw) -> dict:
    task = {
        "path": str(model.path),
        "outputs": list(model.outputs.values()),
        "iterations": iterations,
        "seed": seed,
        "workers": workers,
        **kw,
    }
    r = run_child(task)
    r["its"] = iterations / r["elapsed"]
    return r


def montesim_rate(model: em.Model, iterations: int, *, workers: int, seed: int, **kw) -> dict:
    """End-to-end it/s, and it/s past the set-up cost (a 1,000-iteration run's time)."""
    setup = montesim_run(model, 1_000, workers=1, seed=seed, **kw)
    r = montesim_run(model, iterations, workers=workers, seed=seed, **kw)
    r["setup_s"] = setup["elapsed"]
    extra = r["elapsed"] - setup["elapsed"]
    r["its_marginal"] = (iterations - 1_000) / extra if extra > 0 else float("nan")
    return r


# -- pycel ------------------------------------------------------------------------------


def pycel_run(plain: em.Model, *, seconds: float, max_iterations: int, seed: int) -> dict:
    """Recalculate the workbook once per iteration: set every input cell, evaluate outputs."""
    from pycel import ExcelCompiler

    rng = np.random.default_rng(seed)
    outs = list(plain.outputs.values())
    t0 = time.perf_counter()
    xl = ExcelCompiler(filename=str(plain.path), plugins=["excel_models"])
    xl.evaluate(outs)  # builds and evaluates every formula once
    load = time.perf_counter() - t0
    n, results = 0, []
    t0 = time.perf_counter()
    while n < max_iterations and (n == 0 or time.perf_counter() - t0 < seconds):
        for cell, dist in plain.inputs.items():
            xl.set_value(cell, float(dist.sample(rng, 1)[0]))
        results.append(xl.evaluate(outs))
        n += 1
    elapsed = time.perf_counter() - t0
    first = [r[0] for r in results if isinstance(r[0], int | float)]
    return {
        "iterations": n,
        "elapsed": elapsed,
        "its": n / elapsed,
        "load_s": load,
        "first_output_mean": float(np.mean(first)) if first else None,
    }


def pycel_fixed(plain: em.Model) -> dict[str, float]:
    from pycel import ExcelCompiler

    xl = ExcelCompiler(filename=str(plain.path), plugins=["excel_models"])
    return dict(zip(plain.outputs.values(), xl.evaluate(list(plain.outputs.values())), strict=True))


# -- sanity: the same model everywhere ----------------------------------------------------


def agree(a: dict[str, float], b: dict[str, float], rel: float = 1e-7) -> tuple[bool, float]:
    worst = 0.0
    for k, x in a.items():
        y = b[k]
        y = None if isinstance(y, str) else y  # an Excel error in pycel: NaN (None) in montesim
        if x is None and y is None:
            continue
        if x is None or y is None:
            return False, float("inf")
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-12))
    return worst <= rel, worst


def sanity(name: str, risk: em.Model, plain: em.Model, seed: int) -> dict:
    fixed = risk.fixed_values()
    ms = montesim_run(risk, 1, workers=1, seed=seed, fixed=fixed)["first"]
    py = pycel_fixed(plain)
    ok, worst = agree(ms, py)
    print(
        f"  sanity {name}: montesim (inputs fixed at means) vs pycel: "
        f"{'agree' if ok else 'DISAGREE'}, worst relative difference {worst:.1e}"
    )
    for cell in risk.outputs.values():
        print(f"    {cell:12s} montesim {ms[cell]!s:>24}  pycel {py[cell]!s:>24}")
    return {"ok": ok, "worst_rel": worst, "montesim": ms, "pycel": py}


# -- the benchmark --------------------------------------------------------------------------


def numpy_small(iterations: int, seed: int, repeat: int = 3) -> dict:
    best = float("inf")
    for _ in range(repeat):
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        out = em.small_numpy(*em.small_sample(rng, iterations))
        best = min(best, time.perf_counter() - t0)
    return {
        "iterations": iterations,
        "elapsed": best,
        "its": iterations / best,
        "mean": {k: float(np.nanmean(v)) for k, v in out.items()},
        "std": {k: float(np.nanstd(v)) for k, v in out.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--quick", action="store_true", help="small sizes: a smoke run of a few seconds"
    )
    ap.add_argument("--iterations", type=int, default=100_000, help="DCF iterations")
    ap.add_argument("--million", action="store_true", help="also run the DCF at 10^6 iterations")
    ap.add_argument("--big", action="store_true", help="also peak RSS at 10^7 iterations")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=None)
    ap.add_argument("--k-iterations", type=int, default=1_000_000, help="~1,000-formula model run")
    ap.add_argument("--small-iterations", type=int, default=100_000)
    ap.add_argument("--pycel-seconds", type=float, default=30.0)
    ap.add_argument("--pycel-max", type=int, default=50, help="most pycel iterations")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, help="write the workbooks here instead of a temp dir")
    ap.add_argument("--json", type=Path, help="write the figures as JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return
    if args.quick:
        args.iterations, args.k_iterations, args.small_iterations = 5_000, 10_000, 10_000
        args.pycel_seconds, args.pycel_max, args.million, args.big = 2.0, 3, False, False
    dcf_shape = {"months": 24, "products": 1} if args.quick else {"months": 120, "products": 3}
    ck = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    seed, workers = args.seed, args.workers

    with tempfile.TemporaryDirectory(prefix="montesim-bench-") as tmp:
        d = args.keep or Path(tmp)
        d.mkdir(parents=True, exist_ok=True)
        dcf = em.write_dcf(d / "dcf.xlsx", **dcf_shape)
        dcf_plain = em.write_dcf(d / "dcf_plain.xlsx", risk=False, **dcf_shape)
        k = em.write_dcf(d / "dcf_1k.xlsx", months=24, products=3)
        small = em.write_small(d / "small.xlsx")
        small_plain = em.write_small(d / "small_plain.xlsx", risk=False)
        fig: dict = {
            "formulas": {"dcf": dcf.formulas, "model_1k": k.formulas, "small": small.formulas},
            "random_inputs": {
                "dcf": len(dcf.inputs),
                "model_1k": len(k.inputs),
                "small": len(small.inputs),
            },
            "dcf_shape": dcf_shape,
            "workers": workers,
        }
        print(
            f"workbooks in {d}: DCF {dcf.formulas:,} formulas ({len(dcf.inputs)} @RISK inputs, "
            f"{dcf_shape['months']} months x {dcf_shape['products']} products), "
            f"~1k model {k.formulas:,} formulas, small model {small.formulas} formulas"
        )

        print("sanity checks")
        fig["sanity"] = {
            "dcf": sanity("DCF", dcf, dcf_plain, seed),
            "small": sanity("small", small, small_plain, seed),
        }
        hand = em.small_numpy(*[[v] for v in small.fixed_values().values()])
        ok, worst = agree(
            {c: float(hand[n][0]) for n, c in small.outputs.items()},
            fig["sanity"]["small"]["pycel"],
        )
        print(f"  sanity small: hand NumPy vs pycel: {'agree' if ok else 'DISAGREE'} ({worst:.1e})")
        fig["sanity"]["small_numpy"] = {"ok": ok, "worst_rel": worst}

        print(f"montesim on the DCF, {args.iterations:,} iterations, {workers} workers ...")
        fig["dcf_montesim"] = montesim_rate(dcf, args.iterations, workers=workers, seed=seed, **ck)
        if args.million:
            print("montesim on the DCF, 1,000,000 iterations ...")
            fig["dcf_montesim_1e6"] = montesim_run(dcf, 1_000_000, workers=workers, seed=seed, **ck)
        print(
            f"pycel on the DCF (up to {args.pycel_max} iterations or {args.pycel_seconds:g} s) ..."
        )
        fig["dcf_pycel"] = pycel_run(
            dcf_plain, seconds=args.pycel_seconds, max_iterations=args.pycel_max, seed=seed
        )
        npv, py = dcf.outputs["NPV"], fig["dcf_pycel"]
        ms_mean, ms_std = fig["dcf_montesim"]["mean"][npv], fig["dcf_montesim"]["std"][npv]
        z = (py["first_output_mean"] - ms_mean) / (ms_std / math.sqrt(py["iterations"]))
        fig["dcf_npv_mean_z"] = z
        print(
            f"  DCF NPV mean: pycel {py['first_output_mean']:,.0f} over {py['iterations']} "
            f"iterations, montesim {ms_mean:,.0f} (z = {z:.1f})"
        )
        fig["ratio"] = fig["dcf_montesim"]["its"] / fig["dcf_pycel"]["its"]
        fig["ratio_marginal"] = fig["dcf_montesim"]["its_marginal"] / fig["dcf_pycel"]["its"]

        print(
            f"small model: hand NumPy vs montesim (1 worker), {args.small_iterations:,} iterations ..."
        )
        fig["small_numpy"] = numpy_small(args.small_iterations, seed)
        fig["small_montesim"] = montesim_rate(
            small, args.small_iterations, workers=1, seed=seed, **ck
        )
        npv = small.outputs["NPV"]
        ms_mean, ms_std = fig["small_montesim"]["mean"][npv], fig["small_montesim"]["std"][npv]
        np_std = fig["small_numpy"]["std"]["NPV"]
        z = (ms_mean - fig["small_numpy"]["mean"]["NPV"]) / math.sqrt(
            (ms_std**2 + np_std**2) / args.small_iterations
        )
        fig["small_npv_mean_z"] = z
        print(
            f"  small NPV mean: montesim {ms_mean:,.0f}, NumPy {fig['small_numpy']['mean']['NPV']:,.0f} (z = {z:.1f})"
        )

        print(f"~1k-formula model: {args.k_iterations:,} iterations on 2 workers ...")
        fig["k_run"] = montesim_run(k, args.k_iterations, workers=2, seed=seed, **ck)
        if not args.quick:
            print("  the same without raw iterations (so no sensitivity analysis) ...")
            fig["k_run_noraw"] = montesim_run(
                k, args.k_iterations, workers=2, seed=seed, raw_iterations=0, **ck
            )
        rss_sizes = [10_000] if args.quick else [100_000] + ([10_000_000] if args.big else [])
        fig["rss"] = {}
        for n in rss_sizes:
            if n == args.k_iterations and workers == 2:  # that run was in a fresh process too
                fig["rss"][str(n)] = fig["k_run"]
                continue
            print(f"peak RSS, ~1k-formula model, {n:,} iterations, {workers} workers ...")
            fig["rss"][str(n)] = montesim_run(k, n, workers=workers, seed=seed, **ck)

    report(fig, args)
    if args.json:
        args.json.write_text(json.dumps(fig, indent=1, default=str))
        print(f"figures written to {args.json}")


def report(fig: dict, args: argparse.Namespace) -> None:
    m, p = fig["dcf_montesim"], fig["dcf_pycel"]
    f = fig["formulas"]
    rows = [
        ("formulas: DCF / ~1k model / small", f"{f['dcf']:,} / {f['model_1k']:,} / {f['small']}"),
        (
            "sanity: fixed inputs, montesim = pycel",
            f"DCF {fig['sanity']['dcf']['ok']}, small {fig['sanity']['small']['ok']}, "
            f"NumPy = pycel {fig['sanity']['small_numpy']['ok']}",
        ),
        (
            "sanity: NPV mean z (pycel, NumPy vs montesim)",
            f"{fig['dcf_npv_mean_z']:.1f}, {fig['small_npv_mean_z']:.1f}",
        ),
        (
            f"montesim DCF, {m['iterations']:,} it, {fig['workers']} workers",
            f"{m['its']:,.0f} it/s ({m['elapsed']:.2f} s; set-up {m['setup_s']:.2f} s)",
        ),
        ("montesim DCF, past set-up", f"{m['its_marginal']:,.0f} it/s"),
    ]
    if "dcf_montesim_1e6" in fig:
        r = fig["dcf_montesim_1e6"]
        rows.append(("montesim DCF, 1,000,000 it", f"{r['its']:,.0f} it/s ({r['elapsed']:.2f} s)"))
    rows += [
        (
            f"pycel DCF, {p['iterations']} it",
            f"{p['its']:.2f} it/s ({1 / p['its'] * 1000:.0f} ms/it; load {p['load_s']:.1f} s)",
        ),
        (
            "ratio montesim / pycel",
            f"{fig['ratio']:,.0f}x (past set-up {fig['ratio_marginal']:,.0f}x)",
        ),
    ]
    sn, sm = fig["small_numpy"], fig["small_montesim"]
    rows += [
        (f"small: hand NumPy, {sn['iterations']:,} it", f"{sn['its']:,.0f} it/s"),
        (
            f"small: montesim 1 worker, {sm['iterations']:,} it",
            f"{sm['its']:,.0f} it/s (past set-up {sm['its_marginal']:,.0f}); "
            f"NumPy/montesim {sn['its'] / sm['its']:.1f}x",
        ),
    ]
    kr = fig["k_run"]
    rows.append(
        (
            f"~1k model, {kr['iterations']:,} it, 2 workers",
            f"{kr['elapsed']:.2f} s ({kr['its']:,.0f} it/s)",
        )
    )
    if "k_run_noraw" in fig:
        kr = fig["k_run_noraw"]
        rows.append(
            ("  the same, raw_iterations=0", f"{kr['elapsed']:.2f} s ({kr['its']:,.0f} it/s)")
        )
    for n, r in fig["rss"].items():
        rows.append(
            (
                f"peak RSS at {int(n):,} it (MiB)",
                f"main {r['rss_main_mib']:.0f}, largest worker {r['rss_worker_max_mib']:.0f}, "
                f"main+workers {r['rss_total_peak_mib']:.0f} ({r['elapsed']:.1f} s)",
            )
        )
    width = max(len(a) for a, _ in rows)
    print()
    print(f"{'measure':<{width}}  figure")
    print(f"{'-' * width}  {'-' * 40}")
    for a, b in rows:
        print(f"{a:<{width}}  {b}")


if __name__ == "__main__":
    main()
