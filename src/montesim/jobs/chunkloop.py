"""The one chunk loop: dispatch chunks to an executor, hand back each as it finishes.

The job runner persists what it gets back; nothing else runs chunks. A bounded window of
chunks is in flight (two per worker) so workers stay busy without flooding the queue;
``should_stop`` is polled between waits (heartbeats, cancellation), and whatever is
still in flight when the loop ends is cancelled. The window is re-read as it runs, so a
Dask cluster that grows gets more chunks. A draining worker stops sending chunks, lets
those in flight finish (until its drain deadline) and hands the rest back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait

from montesim.engines.base import Chunk
from montesim.errors import HandBack
from montesim.jobs.executors import ChunkTask, Executor

POLL_SECONDS = 0.1


def run_chunks(
    executor: Executor,
    chunks: Sequence[Chunk],
    task: Callable[[Chunk], ChunkTask],
    on_done: Callable[[Chunk, Future], None],
    should_stop: Callable[[], bool],
    *,
    sequential: bool = False,
    draining: Callable[[], float | None] = lambda: None,
) -> bool:
    """Run ``chunks``; True when every one finished, False when ``should_stop()`` said so.

    ``sequential`` runs one chunk at a time in index order (chunk k may need chunk k-1's
    persisted partial, which ``task`` reads when chunk k is submitted).
    ``draining()`` is a monotonic deadline once the worker drains: HandBack is raised
    when nothing is in flight any more, or at the deadline.
    """
    queue = sorted(chunks, key=lambda c: c.index) if sequential else list(chunks)
    in_flight: dict[Future, Chunk] = {}
    try:
        while queue or in_flight:
            if should_stop():
                return False
            deadline = draining()
            if deadline is not None and (not in_flight or time.monotonic() > deadline):
                raise HandBack  # what is still queued is another worker's now
            window = 1 if sequential else max(1, executor.workers) * 2
            while queue and deadline is None and len(in_flight) < window:
                chunk = queue.pop(0)
                in_flight[executor.submit(task(chunk))] = chunk
            done, _ = wait(list(in_flight), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: in_flight[f].index):
                on_done(in_flight.pop(fut), fut)
        return not should_stop()
    finally:
        for fut in in_flight:
            fut.cancel()
