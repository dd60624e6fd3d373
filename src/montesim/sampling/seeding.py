"""Deterministic random streams.

Every random draw in montesim comes from a generator keyed by the user's seed plus a
tuple of integers (a stream id such as an input or a leaf, and a block of trials).
Trials are grouped in fixed blocks of ``BLOCK`` so that results do not depend on how a
job is cut into chunks: a chunk always covers whole blocks and draws block by block.
"""

from __future__ import annotations

import hashlib

import numpy as np

BLOCK = 4096


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """A generator for ``seed`` and stream ``key`` (same as ``SeedSequence(seed).spawn`` children)."""
    ss = np.random.SeedSequence(int(seed), spawn_key=tuple(int(k) for k in key))
    return np.random.Generator(np.random.PCG64(ss))


def stable_id(name: str) -> int:
    """A stable 32-bit stream id for a name (independent of Python's hash seed)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=4).digest(), "big")


def blocks(start: int, size: int) -> list[tuple[int, int, int]]:
    """The ``(block_index, offset_in_block, length)`` pieces covering trials [start, start+size)."""
    out = []
    pos, end = start, start + size
    while pos < end:
        b = pos // BLOCK
        off = pos - b * BLOCK
        n = min(BLOCK - off, end - pos)
        out.append((b, off, n))
        pos += n
    return out


def round_chunk_size(size: int) -> int:
    """Chunk sizes are whole blocks so a chunk never splits a block between workers."""
    return max(BLOCK, (int(size) + BLOCK - 1) // BLOCK * BLOCK)
