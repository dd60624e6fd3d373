"""Counters and histograms of the work this process does (Prometheus).

They count events as they happen here; gauges that describe the whole store (jobs by
status, queue depth, stalled jobs) are computed from the store when scraped instead,
so they stay right however many processes share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.registry import Collector

from montesim.jobs.model import Job
from montesim.jobs.states import JobStatus

REGISTRY = CollectorRegistry(auto_describe=True)

WORK_UNITS = Counter(
    "montesim_work_units_processed",
    "Work units (iterations, trials, steps) persisted by this process",
    ["engine", "unit"],
    registry=REGISTRY,
)
CHUNKS_DONE = Counter(
    "montesim_chunks_persisted",
    "Chunks this process ran and persisted",
    ["engine"],
    registry=REGISTRY,
)
CHUNK_SECONDS = Histogram(
    "montesim_chunk_duration_seconds",
    "Seconds a chunk took in its worker",
    ["engine"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "montesim_job_duration_seconds",
    "Seconds from start to the terminal state, by engine and final status",
    ["engine", "status"],
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600),
    registry=REGISTRY,
)
FAILURES = Counter(
    "montesim_job_failures",
    "Jobs that ended in error, by error code",
    ["code"],
    registry=REGISTRY,
)
CHUNK_RETRIES = Counter(
    "montesim_chunk_retries",
    "Chunks run again because their worker process died or the Dask cluster lost them",
    registry=REGISTRY,
)


def chunk_persisted(job: Job, size: int, seconds: float) -> None:
    WORK_UNITS.labels(job.engine, job.unit or "units").inc(size)
    CHUNKS_DONE.labels(job.engine).inc()
    CHUNK_SECONDS.labels(job.engine).observe(seconds)


def observe_job(job: Job) -> None:
    """Record a job reaching a terminal state (other states are ignored)."""
    if not job.status.terminal:
        return
    if job.started_at and job.completed_at:
        JOB_SECONDS.labels(job.engine, job.status.value).observe(
            max(0.0, job.completed_at - job.started_at)
        )
    if job.status == JobStatus.ERROR:
        FAILURES.labels(job.error_code or "unknown").inc()


class Chained(Collector):
    """Several registries scraped as one (one HTTP endpoint for all of them)."""

    def __init__(self, *registries: CollectorRegistry) -> None:
        self.registries = registries

    def collect(self) -> Iterator[Any]:
        for registry in self.registries:
            yield from registry.collect()


def serve_metrics(port: int, host: str, *registries: CollectorRegistry) -> Any:
    """Expose ``registries`` at ``http://host:port/metrics`` (a thread); the server.

    ``montesim worker --metrics-port`` uses it: every worker process is scraped on its
    own port, as ``serve`` is at ``/metrics``.
    """
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Chained(*registries))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
