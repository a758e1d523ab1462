"""Prometheus metrics of the pipeline, served by each worker process on ``/metrics``.

Job metrics (duration, failures, batch sizes, records moved) are labelled by network and
job, so one dashboard serves both networks; task-message metrics come from
:class:`~airgap.entrypoints.worker.broker.MessageMetrics`. Metrics live in the process's
default registry and are created once per process (:func:`pipeline_metrics`). A worker
started with several processes serves each process on its own port (``port + i``) rather
than merging them, so every number on a page is one process's own.
"""

from __future__ import annotations

import functools
import threading

import attrs
from prometheus_client import Counter, Gauge, Histogram, start_http_server

_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_RECORD_BUCKETS = (0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)
_BYTE_BUCKETS = (1e3, 1e4, 1e5, 1e6, 1e7, 6.4e7)
_QUERY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30)


@attrs.define
class CacheRatio:
    """Hits over executions since the process started (the gauge's value)."""

    hits: int = 0
    total: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock)

    def record(self, hit: bool) -> float:
        with self._lock:
            self.total += 1
            self.hits += int(hit)
            return self.hits / self.total


@attrs.frozen
class PipelineMetrics:
    job_duration: Histogram
    jobs: Counter
    job_failures: Counter
    batch_records: Histogram
    batch_bytes: Histogram
    records_exported: Counter
    records_imported: Counter
    batches_rejected: Counter
    queue_backlog: Gauge
    queries: Counter
    query_duration: Histogram
    cache_hit_ratio: Gauge
    executors_busy: Gauge
    messages: Counter
    message_duration: Histogram
    messages_in_progress: Gauge
    dead_letters: Counter
    cache_ratio: CacheRatio


@functools.cache
def pipeline_metrics() -> PipelineMetrics:
    """The process's pipeline metrics (registered on first use)."""
    return PipelineMetrics(
        job_duration=Histogram(
            "airgap_job_duration_seconds",
            "How long a pipeline job took.",
            ["network", "job"],
            buckets=_DURATION_BUCKETS,
        ),
        jobs=Counter("airgap_jobs", "Pipeline jobs finished.", ["network", "job"]),
        job_failures=Counter(
            "airgap_job_failures", "Pipeline jobs that raised an error.", ["network", "job"]
        ),
        batch_records=Histogram(
            "airgap_batch_records",
            "Records per batch written or imported.",
            ["network", "direction", "batch_type"],
            buckets=_RECORD_BUCKETS,
        ),
        batch_bytes=Histogram(
            "airgap_batch_bytes",
            "Payload bytes per batch written or imported.",
            ["network", "direction", "batch_type"],
            buckets=_BYTE_BUCKETS,
        ),
        records_exported=Counter(
            "airgap_records_exported", "Records written to the outbox.", ["network", "batch_type"]
        ),
        records_imported=Counter(
            "airgap_records_imported",
            "Records read from the inbox, by outcome (accepted, duplicate, rejected).",
            ["network", "batch_type", "outcome"],
        ),
        batches_rejected=Counter(
            "airgap_batches_rejected", "Batches quarantined on import.", ["network"]
        ),
        queue_backlog=Gauge(
            "airgap_queue_backlog",
            "Work waiting: pending requests (request network), open jobs (response network).",
            ["network"],
        ),
        queries=Counter("airgap_queries_executed", "Query jobs finished.", ["status", "cache_hit"]),
        query_duration=Histogram(
            "airgap_query_execution_seconds",
            "Time to run one claimed query job.",
            buckets=_QUERY_BUCKETS,
        ),
        cache_hit_ratio=Gauge(
            "airgap_cache_hit_ratio", "Executed queries answered from the cache (this process)."
        ),
        executors_busy=Gauge("airgap_executors_busy", "Query executor threads holding a job."),
        messages=Counter(
            "airgap_task_messages",
            "Task messages processed, by outcome (done, retried, failed, skipped).",
            ["network", "actor", "outcome"],
        ),
        message_duration=Histogram(
            "airgap_task_message_duration_seconds",
            "Time an actor spent on a message.",
            ["network", "actor"],
            buckets=_DURATION_BUCKETS,
        ),
        messages_in_progress=Gauge(
            "airgap_task_messages_in_progress", "Messages being processed.", ["network", "actor"]
        ),
        dead_letters=Counter(
            "airgap_dead_letters", "Messages that exhausted their retries.", ["network", "actor"]
        ),
        cache_ratio=CacheRatio(),
    )


def serve_metrics(port: int, address: str = "0.0.0.0") -> None:  # noqa: S104 - scraped remotely
    """Serve ``/metrics`` on ``port`` from a daemon thread."""
    start_http_server(port, addr=address)
