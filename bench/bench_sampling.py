"""Input sampling speed: ``sample_inputs`` per block of 4,096 trials and per 10^6 trials.

    PYTHONPATH=src .venv/bin/python bench/bench_sampling.py [--repeat N] [--iterations N]

Two input sets: 200 uniform inputs (the many-inputs model of the Excel speed issue) and
the DCF's 22 mixed inputs (normal, uniform, triang, lognorm, pert; bench/excel_models.py).
A 10^6-trial run is drawn chunk by chunk (16 blocks each, as a worker would) so memory
stays bounded. Each figure is the best of ``--repeat`` runs. To compare with another
checkout, run it again with ``PYTHONPATH`` at that checkout's ``src``. Figures, not
pass/fail.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from montesim.sampling import BLOCK, make_distribution, sample_inputs, stable_id

CHUNK = 16 * BLOCK


def many_uniforms(k: int = 200) -> tuple[list, list[int]]:
    rng = np.random.default_rng(0)
    lo = rng.uniform(0, 10, k).round(2)
    dists = [make_distribution("uniform", [a, a + w]) for a, w in zip(lo, rng.uniform(1, 5, k))]
    return dists, [stable_id(f"x{i + 1}") for i in range(k)]


def dcf_inputs() -> tuple[list, list[int]]:
    specs = [
        ("inflation", "normal", [0.025, 0.008]),
        ("wacc", "uniform", [0.08, 0.11]),
        ("tax rate", "triang", [0.19, 0.25, 0.30]),
        ("fixed costs / year", "lognorm", [5_500_000.0, 600_000.0]),
        ("capex / year", "pert", [800_000.0, 1_200_000.0, 2_000_000.0]),
        ("working capital % revenue", "uniform", [0.08, 0.14]),
        ("marketing % revenue", "triang", [0.03, 0.05, 0.08]),
        ("terminal growth", "normal", [0.02, 0.005]),
        ("initial investment", "lognorm", [9_000_000.0, 1_000_000.0]),
        ("interest rate", "normal", [0.06, 0.01]),
    ]
    for p in range(3):
        vol, price = 60_000.0 * (1 + 0.5 * p), 40.0 + 15 * p
        specs += [
            (f"product {p + 1} volume / year", "normal", [vol, 0.15 * vol]),
            (f"product {p + 1} price", "triang", [0.85 * price, price, 1.25 * price]),
            (f"product {p + 1} growth", "pert", [-0.02, 0.06, 0.15]),
            (f"product {p + 1} cogs %", "uniform", [0.35, 0.50]),
        ]
    return [make_distribution(f, a) for _, f, a in specs], [stable_id(n) for n, _, _ in specs]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def run(dists: list, ids: list[int], iterations: int) -> None:
    for start in range(0, iterations, CHUNK):
        sample_inputs(7, dists, ids, start, min(CHUNK, iterations - start))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=1_000_000)
    args = ap.parse_args()
    import montesim.sampling

    print(f"montesim.sampling from {os.path.dirname(montesim.sampling.__file__)}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, (dists, ids) in [("200 uniform", many_uniforms()), ("22 mixed (DCF)", dcf_inputs())]:
        sample_inputs(7, dists, ids, 0, BLOCK)  # warm: imports, cached backends
        per_block = best(lambda: sample_inputs(7, dists, ids, 0, BLOCK), 5 * args.repeat)
        whole = best(lambda: run(dists, ids, args.iterations), args.repeat)
        print(
            f"{name:>16}: {per_block * 1e3:7.2f} ms per block of {BLOCK}, "
            f"{whole:6.2f} s per {args.iterations:,} trials "
            f"({whole / args.iterations * 1e6:.2f} s per 10^6)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
