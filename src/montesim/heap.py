"""glibc's malloc tuned for each kind of montesim process (a no-op elsewhere).

glibc serves blocks above its mmap threshold with fresh ``mmap`` calls, and raises that
threshold (up to 32 MiB) each time such a block is freed; freed memory at the heap's top
goes back to the system past the trim threshold. Neither default suits us:

- a **worker** makes and frees thousands of same-sized NumPy temporaries per batch
  (32,768 trials are 256 KiB each). Each fresh mapping costs its page faults again: on
  this project's 2-core machine a 256 KiB ``a ^ b`` took 115 µs instead of 9. Workers
  keep such blocks on the heap and keep up to ``WORKER_TRIM`` of freed memory for reuse.
- the **main process** (server, ``montesim.simulate``) handles few large blocks: chunks'
  results, an output's row at the merge (80 MB at 10^7 iterations). Once the threshold
  has risen those come from the heaps of its threads, where freed memory stays resident
  (a 10^7-iteration merge peaked at 448 MiB instead of 291). The main process fixes
  its threshold at ``MAIN_MMAP``, so large blocks go back to the system when freed.

Python's cycle collector is paused (``gc_paused``) while a compiled plan is built or
unpickled: hundreds of thousands of small objects, nearly none in cycles, whose every
collection pass also walks everything else alive (a DCF plan loaded in 16 ms instead of
62; its compile took an eighth less).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import logging
import pickle
from collections.abc import Iterator
from typing import Any

log = logging.getLogger("montesim.executor")

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
WORKER_MMAP = 32 << 20  # blocks above this still come from mmap (glibc's upper bound)
WORKER_TRIM = 256 << 20
MAIN_MMAP = 1 << 20
MAIN_TRIM = 128 << 10  # glibc's default: retained free memory goes back soon (32 MiB: +80 MiB)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once (``find_library`` runs ``ldconfig`` each time)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def _mallopt(mmap: int, trim: int) -> bool:
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, mmap)) and bool(mallopt(M_TRIM_THRESHOLD, trim))
    if not ok:
        log.debug("mallopt refused the heap thresholds")
    return ok


def keep_freed_memory() -> bool:
    """In a worker process: temporaries reuse the heap. False where not glibc."""
    return _mallopt(WORKER_MMAP, WORKER_TRIM)


def return_large_blocks() -> bool:
    """In the main process: blocks of MAIN_MMAP and more go back to the system when
    freed. False where not glibc."""
    return _mallopt(MAIN_MMAP, MAIN_TRIM)


def release_free_memory() -> bool:
    """Hand the free memory of every heap of this process back to the system now (glibc's
    ``malloc_trim``): between the outputs of a large merge, freed blocks under MAIN_MMAP
    otherwise add up in the heaps of its threads. False where not glibc."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cycle collector paused for a burst of object making (as it was, after). Objects
    not in cycles are still freed as they go; cycles wait for the next pass after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def loads_paused(data: bytes) -> Any:
    """``pickle.loads`` with the cycle collector paused (a plan's thousands of objects)."""
    with gc_paused():
        return pickle.loads(data)
