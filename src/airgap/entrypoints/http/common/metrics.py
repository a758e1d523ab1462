"""Prometheus metrics (prometheus-client): request duration histogram, request totals and
errors by route and status, requests in progress, and whatever a network adds.

Routes are labelled by their template (``/api/v1/requests/{request_id}``), never by the raw
path, so the number of series stays bounded. With several worker processes, set
``PROMETHEUS_MULTIPROC_DIR`` (``airgap request api`` does) and every worker's counts are
summed at scrape time; otherwise each app keeps its own registry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

from litestar import MediaType, Response, get
from litestar.handlers import HTTPRouteHandler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from airgap.entrypoints.http.common.auth import PUBLIC

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class _ScrapeTime(Collector):
    def __init__(self, collect: Callable[[], Iterable[object]]) -> None:
        self._collect = collect

    def collect(self) -> Iterable[object]:  # type: ignore[override]
        return self._collect()


class Metrics:
    """The metrics of one app. ``counter``/``gauge`` add the network's own; ``on_scrape``
    adds values computed when Prometheus asks (e.g. counts read from the database)."""

    def __init__(self, namespace: str = "airgap") -> None:
        self.namespace = namespace
        self._multiprocess = multiprocess()
        # In multiprocess mode values live in files, and exposition reads them; metric
        # objects then register nowhere (a shared registry would refuse the second app).
        self.registry = None if self._multiprocess else CollectorRegistry()
        self._scrape_time: list[Collector] = []
        self.requests = self.counter(
            "http_requests_total", "HTTP requests answered", ("method", "route", "status")
        )
        self.errors = self.counter(
            "http_request_errors_total",
            "HTTP requests answered with a 4xx or 5xx status",
            ("method", "route", "status"),
        )
        self.duration = Histogram(
            f"{namespace}_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ("method", "route"),
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = self.gauge(
            "http_requests_in_progress", "HTTP requests being answered", ("method",)
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(
            f"{self.namespace}_{name}", documentation, tuple(labels), registry=self.registry
        )

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(
            f"{self.namespace}_{name}",
            documentation,
            tuple(labels),
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def on_scrape(self, collect: Callable[[], Iterable[object]]) -> None:
        """``collect`` yields prometheus ``Metric`` families each time /metrics is read."""
        collector = _ScrapeTime(collect)
        self._scrape_time.append(collector)
        if self.registry is not None:
            self.registry.register(collector)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(method, route, code).inc()
        if status >= 400:
            self.errors.labels(method, route, code).inc()
        self.duration.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        for collector in self._scrape_time:
            registry.register(collector)
        return generate_latest(registry)


def metrics_handler(metrics: Metrics) -> HTTPRouteHandler:
    """``GET /metrics`` in the Prometheus text format."""

    @get(
        "/metrics",
        opt={PUBLIC: True},
        include_in_schema=False,
        sync_to_thread=True,
        media_type=MediaType.TEXT,
    )
    def read_metrics() -> Response[bytes]:
        return Response(
            content=metrics.exposition(),
            media_type=CONTENT_TYPE_LATEST,
        )

    return read_metrics
