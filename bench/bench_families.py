"""Draws per second of each distribution family: 10^6 draws of one input, by LHS.

    PYTHONPATH=src .venv/bin/python bench/bench_families.py [--iterations N] [--repeat N]

Each family with its example parameters (those of tests/sampling) is drawn through
``sample_inputs`` chunk by chunk (16 blocks of 4,096, as a worker does), best of
``--repeat`` runs in CPU seconds of this process (sampling is single-threaded). The first
call per family, which builds its SciPy object and any table, is not timed. Figures, not
pass/fail.
"""

# ruff: noqa: I001
from __future__ import annotations

# montesim first: it sets NumPy's portable SIMD level, which must happen before NumPy loads
import montesim  # noqa: F401

import argparse
import time

from montesim.sampling import BLOCK, make_distribution, sample_inputs
from montesim.sampling.families import FAMILY_TABLE

CHUNK = 16 * BLOCK

EXAMPLES: dict[str, list] = {
    "normal": [0, 1],
    "lognorm": [10, 3],
    "lognorm2": [1, 0.5],
    "uniform": [0, 1],
    "triang": [1, 2, 5],
    "pert": [1, 2, 5],
    "beta": [2, 3],
    "gamma": [2, 3],
    "expon": [4],
    "weibull": [1.5, 2],
    "poisson": [3],
    "binomial": [10, 0.3],
    "discrete": [[1, 2, 5], [0.2, 0.5, 0.3]],
    "intuniform": [1, 6],
    "cumul": [0, 10, [2, 5], [0.3, 0.6]],
    "trigen": [1, 2, 5, 10, 90],
    "betageneral": [2, 3, 10, 20],
    "cauchy": [1, 2],
    "chisq": [4],
    "cumuld": [0, 10, [1, 5, 9], [0.9, 0.3, 0.1]],
    "erf": [2],
    "erlang": [3, 2],
    "extvalue": [1, 2],
    "extvaluemin": [1, 2],
    "f": [5, 12],
    "frechet": [1, 2, 5],
    "general": [0, 10, [2, 5, 7, 9], [1, 2, 3, 1]],
    "histogrm": [10, 20, [1, 2, 3, 2, 1]],
    "invgauss": [2, 3],
    "johnsonsb": [1, 2, 0, 10],
    "johnsonsu": [1, 2, 0, 3],
    "kumaraswamy": [2, 3, 0, 10],
    "laplace": [1, 2],
    "levy": [0, 1],
    "logistic": [1, 2],
    "loglogistic": [0, 1, 3],
    "pareto": [3, 2],
    "pareto2": [2, 5],
    "pearson5": [5, 2],
    "pearson6": [2, 6, 3],
    "rayleigh": [2],
    "student": [5],
    "bernoulli": [0.3],
    "duniform": [[1, 5, 7]],
    "geomet": [0.3],
    "hypergeo": [10, 20, 50],
    "negbin": [3, 0.4],
}


def cpu_seconds(dist, iterations: int) -> float:
    start = time.process_time()
    for first in range(0, iterations, CHUNK):
        sample_inputs(1, [dist], [7], first, min(CHUNK, iterations - first))
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="families to time (default: all)")
    args = parser.parse_args()
    missing = set(FAMILY_TABLE) - set(EXAMPLES)
    if missing:
        raise SystemExit(f"no example parameters for {sorted(missing)}")
    print(f"{'family':<12} {'draws/s':>12}  ({args.iterations:,} draws, best of {args.repeat})")
    for name in args.only or list(FAMILY_TABLE):
        dist = make_distribution(name, EXAMPLES[name])
        sample_inputs(1, [dist], [7], 0, BLOCK)  # builds the SciPy object and any table
        best = min(cpu_seconds(dist, args.iterations) for _ in range(args.repeat))
        print(f"{name:<12} {args.iterations / best:>12,.0f}")


if __name__ == "__main__":
    main()
