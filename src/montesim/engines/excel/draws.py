"""The model's random inputs per trial, as the compiled program gets them.

Draws depend only on the seed and the trial (block seeding, ``sampling.draw``), never on
how trials are cut into chunks and batches: a chunk draws its batches' inputs, and the
merge draws the kept window's again (the same numbers) rather than have every chunk ship
them back.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from montesim.sampling.draw import sample_inputs
from montesim.sampling.seeding import BLOCK

if TYPE_CHECKING:
    from montesim.engines.excel.model import Plan


def draw_inputs(plan: Plan, start: int, size: int) -> np.ndarray:
    """The inputs (size, k) of trials [start, start + size), as the program gets them:
    the same numbers however the trials are cut into chunks and batches."""
    samples = sample_inputs(
        plan.seed,
        plan.dists,
        [d.stream_id for d in plan.inputs],
        start,
        size,
        method=plan.sampling,
        corr=plan.corr,
    )
    shifts = np.array([d.shift for d in plan.inputs], dtype=np.float64)
    if shifts.any():
        samples += shifts
    return samples


KEPT_PIECE = 8 * BLOCK  # trials of the kept window drawn per task at the merge


def kept_inputs(plan: Plan) -> np.ndarray:
    """(inputs, raw_iterations): the kept window's inputs, drawn again on every core
    (NumPy's generators release the GIL for much of the work) in block-aligned pieces."""
    n = plan.raw_iterations
    out = np.empty((len(plan.inputs), n))
    if n == 0 or not plan.inputs:
        return out

    def piece(start: int) -> None:
        out[:, start : start + KEPT_PIECE] = draw_inputs(plan, start, min(KEPT_PIECE, n - start)).T

    starts = range(0, n, KEPT_PIECE)
    threads = min(len(starts), os.cpu_count() or 1)
    if threads > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="montesim-inputs") as pool:
            list(pool.map(piece, starts))
    else:
        for start in starts:
            piece(start)
    return out
