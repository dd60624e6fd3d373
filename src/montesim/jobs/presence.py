"""This process's row in the ``workers`` table, refreshed every heartbeat.

Operators list the rows (``GET /api/workers``): which processes share the store, their
role, the jobs each runs and the chunks each has persisted. A process that stops cleanly
removes its row; a dead one's row is forgotten after ``FORGET_SECONDS`` of silence.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from montesim.jobs.scheduler import Scheduler, make_owner
from montesim.jobs.store import Store

log = logging.getLogger("montesim.presence")

FORGET_SECONDS = 3600.0


def montesim_version() -> str:
    try:
        return version("montesim")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


class Presence:
    def __init__(
        self,
        store: Store,
        *,
        role: str,
        executor: str | None,
        scheduler: Scheduler | None,
        every: float,
    ) -> None:
        self.store = store
        self.role = role
        self.executor = executor
        self.scheduler = scheduler
        self.every = every
        self.id = scheduler.owner if scheduler is not None else make_owner()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def row(self) -> dict[str, Any]:
        values: dict[str, Any] = dict(
            host=socket.gethostname(),
            pid=os.getpid(),
            role=self.role,
            version=montesim_version(),
            executor=self.executor,
            jobs=[],
            chunks_done=0,
            dask_workers=None,
        )
        sched = self.scheduler
        if sched is not None:
            values["jobs"] = sorted(sched.active_jobs)
            values["chunks_done"] = sched.runner.chunks_done
            count = getattr(sched.executor, "connected_workers", None)
            values["dask_workers"] = count() if count is not None else None
        return values

    def beat(self) -> None:
        self.store.beat_worker(self.id, **self.row())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="presence", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # the store is away: the next beat tries again
                log.warning("could not record this process in the workers table", exc_info=True)
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.store.remove_worker(self.id)
        except Exception:
            log.warning("could not remove this process from the workers table", exc_info=True)
