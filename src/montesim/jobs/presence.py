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
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from montesim.jobs.liveness import make_owner
from montesim.jobs.scheduler import Scheduler
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
        self.started = time.time()
        self.last_beat: float | None = None  # when the row was last written
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(PresenceCollector(self))

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
            dashboard=None,
            problem=None,
        )
        sched = self.scheduler
        if sched is not None:
            values["jobs"] = sorted(sched.active_jobs)
            values["chunks_done"] = sched.runner.chunks_done
            values["problem"] = sched.refusal
            count = getattr(sched.executor, "connected_workers", None)
            values["dask_workers"] = count() if count is not None else None
            link = getattr(sched.executor, "dashboard_link", None)
            values["dashboard"] = link() if link is not None else None
        return values

    def beat(self) -> None:
        self.store.beat_worker(self.id, **self.row())
        self.last_beat = time.time()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="presence", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.beat()
                failing = False
            except Exception as exc:  # the store is away: the next beat tries again
                first = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
                log.warning(
                    "could not record this process in the workers table: %s",
                    first,
                    exc_info=not failing,  # the traceback once per outage
                )
                failing = True
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.store.remove_worker(self.id)
        except Exception:
            log.warning("could not remove this process from the workers table", exc_info=True)


class PresenceCollector(Collector):
    """This process's gauges, read when scraped: who it is, its jobs, its heartbeat's age.

    Counters of its work (chunks persisted, chunk seconds) are in montesim.jobs.metrics.
    """

    def __init__(self, presence: Presence) -> None:
        self.presence = presence

    def collect(self) -> Iterator[Any]:
        p = self.presence
        info = InfoMetricFamily("montesim_worker", "This montesim process")
        info.add_metric(
            [],
            {
                "worker_id": p.id,
                "role": p.role,
                "executor": p.executor or "",
                "host": socket.gethostname(),
                "pid": str(os.getpid()),
                "version": montesim_version(),
            },
        )
        yield info
        sched = p.scheduler
        yield GaugeMetricFamily(
            "montesim_worker_jobs_running",
            "Jobs this process is running now",
            value=len(sched.active_jobs) if sched is not None else 0,
        )
        yield GaugeMetricFamily(
            "montesim_worker_heartbeat_age_seconds",
            "Seconds since this process last wrote its row in the workers table",
            value=time.time() - (p.last_beat or p.started),
        )
        yield GaugeMetricFamily(
            "montesim_worker_arithmetic_ok",
            "1 when this process computes as the store's reference digest says (else it "
            "claims no jobs; see /api/workers problem)",
            value=0 if sched is not None and sched.refusal else 1,
        )
        count = getattr(sched.executor, "connected_workers", None) if sched else None
        if count is not None:
            yield GaugeMetricFamily(
                "montesim_worker_dask_workers",
                "Dask workers connected to this process's scheduler",
                value=count(),
            )
