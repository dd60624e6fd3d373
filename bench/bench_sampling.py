"""Input sampling speed: ``sample_inputs`` per block of 4,096 trials and per 10^6 trials.

    PYTHONPATH=src .venv/bin/python bench/bench_sampling.py [--repeat N] [--iterations N]

Two input sets: 200 uniform inputs (the many-inputs model of the Excel speed issue) and
the DCF's 22 mixed inputs (normal, uniform, triang, lognorm, pert; bench/excel_models.py).
A 10^6-trial run is drawn chunk by chunk (16 blocks each, as a worker would) so memory
stays bounded. Each figure is the best of ``--repeat`` runs, in CPU seconds of this
process (``time.process_time``; sampling is single-threaded), which a busy shared
machine disturbs less than wall time. To compare with another
checkout, run it again with ``PYTHONPATH`` at that checkout's ``src``. Figures, not
pass/fail.
"""

# ruff: noqa: I001
from __future__ import annotations

# montesim first: it sets NumPy's portable SIMD level, which must happen before NumPy loads
import montesim  # noqa: F401

import argparse
import os
import time

import numpy as np

from montesim.sampling import BLOCK, make_distribution, sample_inputs, stable_id

CHUNK = 16 * BLOCK


def many_uniforms(k: int = 200) -> tuple[list, list[int]]:
    rng = np.random.default_rng(0)
    lo = rng.uniform(0, 10, k).round(2)
    hi = lo + rng.uniform(1, 5, k)
    dists = [make_distribution("uniform", [a, b]) for a, b in zip(lo, hi, strict=True)]
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


def best(repeat: int, fn, *args) -> float:
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn(*args)
        times.append(time.process_time() - t)
    return min(times)


def run(dists: list, ids: list[int], iterations: int) -> None:
    for start in range(0, iterations, CHUNK):
        sample_inputs(7, dists, ids, start, min(CHUNK, iterations - start))


def stages(repeat: int) -> None:
    """Per block of 200 Latin-hypercube inputs, each step alone (ms)."""
    from montesim.sampling import lhs, rng_for

    _, ids = many_uniforms()
    rngs = [rng_for(7, sid, 0) for sid in ids]
    k = len(ids)
    u, strata = np.empty((k, BLOCK)), np.empty((k, BLOCK))
    ints = np.array([r.permutation(BLOCK) for r in rngs])
    floats = np.arange(BLOCK, dtype=np.float64)

    def seeds() -> None:
        for sid in ids:
            rng_for(7, sid, 0)

    def permutations() -> None:
        for r in rngs:
            r.permutation(BLOCK)

    def shuffles() -> None:
        for j, r in enumerate(rngs):
            strata[j] = floats
            r.shuffle(strata[j])

    def jitters() -> None:
        for j, r in enumerate(rngs):
            r.random(out=u[j])

    steps = [
        ("rng_for x200", seeds),
        ("rng.permutation(4096) x200", permutations),
        ("float arange copied + rng.shuffle x200", shuffles),
        ("rng.random(out=) x200", jitters),
        ("stratify (reference)", lambda: lhs.stratify(ints, u, BLOCK)),
    ]
    if hasattr(lhs, "stratify_into"):
        jitters()

        def fast() -> None:
            lhs.stratify_into(strata, u.copy(), BLOCK)

        steps += [
            ("u.copy() (subtract from the next line)", u.copy),
            ("stratify_into (fast path) + u.copy()", fast),
        ]
    for name, fn in steps:
        print(f"{name:>42}: {best(5 * repeat, fn) * 1e3:6.2f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=1_000_000)
    ap.add_argument("--stages", action="store_true", help="also time each step of a block")
    args = ap.parse_args()
    import montesim.sampling

    print(f"montesim.sampling from {os.path.dirname(montesim.sampling.__file__)}")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, (dists, ids) in [("200 uniform", many_uniforms()), ("22 mixed (DCF)", dcf_inputs())]:
        sample_inputs(7, dists, ids, 0, BLOCK)  # warm: imports, cached backends
        per_block = best(5 * args.repeat, sample_inputs, 7, dists, ids, 0, BLOCK)
        whole = best(args.repeat, run, dists, ids, args.iterations)
        print(
            f"{name:>16}: {per_block * 1e3:7.2f} ms per block of {BLOCK}, "
            f"{whole:6.2f} s per {args.iterations:,} trials "
            f"({whole / args.iterations * 1e6:.2f} s per 10^6)"
        )
    if args.stages:
        stages(args.repeat)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
