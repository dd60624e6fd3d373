"""Worker processes keep freed memory for their next arrays (glibc's malloc only).

An engine's batch makes and frees thousands of same-sized NumPy temporaries (32,768
trials are 256 KiB each). glibc serves blocks above its mmap threshold (128 KiB at
start) with fresh ``mmap`` calls and hands freed heap tops back to the system, so each
temporary costs its page faults again: on this project's 2-core machine a 256 KiB
``a ^ b`` took 115 µs instead of 9. Raising the mmap and trim thresholds in worker
processes lets such blocks come from, and return to, the heap. The price is that a worker
keeps up to ``TRIM`` bytes of freed memory; the main process is left as it is (its
memory is what a server's users see).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger("montesim.executor")

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP = 32 << 20  # blocks above this still come from mmap (glibc's upper bound)
TRIM = 256 << 20  # freed memory at the heap's top kept for reuse, at most


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process; False where not glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM))
    if not ok:
        log.debug("mallopt refused the heap thresholds")
    return ok
