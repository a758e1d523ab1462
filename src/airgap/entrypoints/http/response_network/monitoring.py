"""``/api/v1/stats/*``: the queue, the workers, the search backend, the cache and the
crossing, for operators and admins."""

from __future__ import annotations

from litestar import Controller, get

from airgap.domain.services.monitoring import Monitoring
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.response_network.schemas import (
    CacheStatsView,
    QueueStatsView,
    SearchStatsView,
    TransferStatsView,
    WorkerStatsView,
    cache_view,
    queue_view,
    search_view,
    transfer_view,
    workers_view,
)
from airgap.entrypoints.http.response_network.security import READ


class StatsController(Controller):
    path = "/api/v1/stats"
    tags = ["monitoring"]  # noqa: RUF012 - Litestar reads it as a class attribute
    guards = [READ]  # noqa: RUF012
    security = AUTHENTICATED

    @get("/queue", sync_to_thread=True, responses=error_responses(401, 403))
    def queue(self, monitoring: Injected[Monitoring]) -> QueueStatsView:
        """Jobs by status (pending, processing, retry, failed, completed) and priority, with
        the age of the oldest."""
        return queue_view(monitoring.queue())

    @get("/workers", sync_to_thread=True, responses=error_responses(401, 403))
    def workers(self, monitoring: Injected[Monitoring]) -> WorkerStatsView:
        """Worker processes seen through their heartbeats, and the jobs each holds."""
        return workers_view(monitoring.workers())

    @get("/search", sync_to_thread=True, responses=error_responses(401, 403))
    def search(self, monitoring: Injected[Monitoring]) -> SearchStatsView:
        """The backend, its health, each index's document count and probe latency, and
        query latency over the last hour."""
        return search_view(monitoring.search_stats())

    @get("/cache", sync_to_thread=True, responses=error_responses(401, 403))
    def cache(self, monitoring: Injected[Monitoring]) -> CacheStatsView:
        """Entries, size, hits and misses, the hit ratio over the last day, top queries."""
        return cache_view(monitoring.cache_stats())

    @get("/transfer", sync_to_thread=True, responses=error_responses(401, 403))
    def transfer(self, monitoring: Injected[Monitoring]) -> TransferStatsView:
        """Sequence numbers, acks, missing batches and quarantined files with reasons."""
        return transfer_view(monitoring.transfer())
