"""A job-running process's lifecycle (``montesim worker``): build it, serve its metrics,
run until a signal or a dead scheduler, then drain. The CLI only parses options.

SIGTERM (or Ctrl-C) drains: no new jobs, chunks in flight finish, running jobs are
handed back to another worker, exit 0. A scheduler thread that ends on its own is exit 1.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY as PROCESS_REGISTRY

from montesim.config import Settings
from montesim.errors import MetricsUnavailable
from montesim.jobs import metrics as job_metrics
from montesim.jobs.service import Service, build


@dataclass
class Worker:
    service: Service
    settings: Settings
    metrics_url: str | None = None
    _metrics_server: Any = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def owner(self) -> str:
        assert self.service.scheduler is not None
        return self.service.scheduler.owner

    def stop(self) -> None:
        """Ask the worker to drain and exit (what SIGTERM does)."""
        self._stopping.set()

    def run(self, say: Callable[[str], None], *, handle_signals: bool = True) -> int:
        """Run until stopped; the exit code. ``say`` prints a line for the operator."""
        scheduler = self.service.scheduler
        assert scheduler is not None
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda _signum, _frame: self.stop())
        self.service.start()
        where = f", metrics at {self.metrics_url}" if self.metrics_url else ""
        say(f"montesim worker {scheduler.owner} on {self.settings.url}{where}")
        code = 0
        try:
            while not self._stopping.wait(0.5):
                if not scheduler.looping():
                    say("error: the scheduler thread ended")
                    code = 1
                    break
        finally:
            say("montesim worker stopping: draining")
            self.close()
        return code

    def close(self) -> None:
        self.service.close()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server = None


def create_worker(
    settings: Settings, *, metrics_port: int = 0, metrics_host: str = "127.0.0.1"
) -> Worker:
    """The store, scheduler and executor of a worker, and its metrics endpoint (not yet
    started). ExecutorUnavailable when the executor cannot start; MetricsUnavailable when
    the metrics port cannot be bound."""
    service = build(settings, role="worker")
    worker = Worker(service, settings)
    if metrics_port:
        try:
            worker._metrics_server = job_metrics.serve_metrics(
                metrics_port,
                metrics_host,
                job_metrics.REGISTRY,
                service.presence.registry,
                PROCESS_REGISTRY,
            )
        except OSError as exc:
            service.close()
            raise MetricsUnavailable(
                f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror or exc}"
            ) from None
        worker.metrics_url = f"http://{metrics_host}:{metrics_port}/metrics"
    return worker
