"""GET /metrics (Prometheus text format).

Three sources: gauges computed from the store at scrape time (right in a multi-process
deployment), this process's counters and histograms (montesim.jobs.metrics plus the
stream clients here), and the client library's process and runtime collectors.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from montesim.api.deps import services
from montesim.jobs import metrics as job_metrics
from montesim.jobs.progress import stall_threshold
from montesim.jobs.states import JobStatus
from montesim.jobs.store import Store

router = APIRouter(tags=["metrics"])

API_REGISTRY = CollectorRegistry(auto_describe=True)

STREAM_CLIENTS = Gauge(
    "montesim_stream_clients",
    "Stream clients connected to this process, by transport (sse, websocket)",
    ["transport"],
    registry=API_REGISTRY,
)
for _transport in ("sse", "websocket"):
    STREAM_CLIENTS.labels(_transport)


class StoreCollector(Collector):
    """Gauges read from the store when scraped."""

    def __init__(self, store: Store, stall_floor_seconds: float) -> None:
        self.store = store
        self.stall_floor_seconds = stall_floor_seconds

    def collect(self) -> Iterator[GaugeMetricFamily]:
        counts = self.store.count_by_status()
        by_status = GaugeMetricFamily(
            "montesim_jobs", "Jobs in the store by status", labels=["status"]
        )
        for status in JobStatus:
            by_status.add_metric([status.value], counts.get(status, 0))
        yield by_status
        yield GaugeMetricFamily(
            "montesim_queue_depth",
            "Jobs queued, waiting to start",
            value=counts.get(JobStatus.QUEUED, 0),
        )
        yield GaugeMetricFamily(
            "montesim_jobs_running", "Jobs running", value=counts.get(JobStatus.RUNNING, 0)
        )
        running = self.store.running_jobs()
        yield GaugeMetricFamily(
            "montesim_jobs_stalled",
            "Running jobs flagged stalled (alive, but no progress for longer than their threshold)",
            value=sum(1 for j in running if j.stalled),
        )
        idle = GaugeMetricFamily(
            "montesim_job_seconds_since_progress",
            "Seconds since a running job last persisted progress",
            labels=["job_id", "engine"],
        )
        limit = GaugeMetricFamily(
            "montesim_job_stall_threshold_seconds",
            "No progress for longer than this flags a running job stalled (from its chunk pace)",
            labels=["job_id", "engine"],
        )
        now = time.time()
        for job in running:
            labels = [job.id, job.engine]
            since = job.progress_at or job.started_at or now
            idle.add_metric(labels, max(0.0, now - since))
            threshold = stall_threshold(self.store.chunk_seconds(job.id), self.stall_floor_seconds)
            limit.add_metric(labels, threshold)
        yield idle
        yield limit


def _store_registry(request: Request) -> CollectorRegistry:
    state = request.app.state
    registry = getattr(state, "metrics_registry", None)
    svc = services(request)
    if registry is None or getattr(state, "metrics_store", None) is not svc.store:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(StoreCollector(svc.store, svc.settings.stall_floor_seconds))
        state.metrics_registry = registry
        state.metrics_store = svc.store
    return registry


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    body = b"".join(
        generate_latest(registry)
        for registry in (
            _store_registry(request),
            job_metrics.REGISTRY,
            services(request).presence.registry,
            API_REGISTRY,
            DEFAULT_REGISTRY,
        )
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
