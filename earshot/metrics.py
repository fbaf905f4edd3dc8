"""Prometheus metrics (``prometheus-client``): what a fleet's dashboards and alerts watch.

- Workers (``earshot worker --metrics-port``): per process, jobs by outcome, seconds per job and
  audio seconds transcribed. With ``--concurrency N`` worker k serves on port + k - 1.
- The review app (``/earshot/metrics``): the queue as every worker shares it (jobs queued, running,
  failed, done in the last hour, the oldest wait). The route asks for the bearer token kept in
  ``<data_dir>/secrets/metrics.key`` (Prometheus: ``authorization: {credentials_file: ...}``), so a
  proxy that publishes the app does not publish its figures too.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from storage.db import Database
from storage.jobs import queue_status

METRICS_KEY = "metrics"  # the bearer token's name in the secret store


class WorkerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "earshot_worker_jobs", "Jobs this worker ended, by outcome", ["outcome"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "earshot_worker_job_seconds",
            "Wall-clock seconds per job, from claim to saved transcript",
            buckets=(1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640, 1280),
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "earshot_worker_audio_seconds", "Seconds of call audio transcribed", registry=self.registry
        )

    def serve(self, port: int, host: str) -> WSGIServer:
        """Serve ``/metrics`` from a thread of this process until it exits (or ``shutdown()``)."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        return server


class QueueCollector(Collector):
    """Reads the queue at each scrape, so every process that serves it shows the same shared truth."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        queue = queue_status(self._db, now)
        jobs = GaugeMetricFamily("earshot_queue_jobs", "Jobs in the work queue, by status", labels=["status"])
        for status in ("queued", "running", "failed"):
            jobs.add_metric([status], getattr(queue, status))
        yield jobs
        yield GaugeMetricFamily(
            "earshot_queue_done_last_hour", "Jobs finished in the last hour", value=queue.done_last_hour
        )
        waited = 0.0 if queue.oldest_queued_at is None else (now - queue.oldest_queued_at).total_seconds()
        yield GaugeMetricFamily(
            "earshot_queue_oldest_wait_seconds", "How long the oldest queued job has waited", value=waited
        )


def queue_registry(db: Database) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(QueueCollector(db))
    return registry
