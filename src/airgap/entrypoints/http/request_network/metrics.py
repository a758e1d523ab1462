"""The request network's own metrics, beside the HTTP ones every app has."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import attrs
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from airgap.entrypoints.http.common.metrics import Metrics


@attrs.frozen
class RequestNetworkMetrics:
    submitted: Counter  # by query type and whether a stored answer served it
    rate_limited: Counter
    logins: Counter  # by outcome


def request_network_metrics(
    metrics: Metrics,
    *,
    active_accounts: Callable[[], int],
    request_counts: Callable[[], dict[str, int]],
) -> RequestNetworkMetrics:
    """Counters the handlers bump, and gauges read from the database at scrape time."""

    def at_scrape() -> Iterable[object]:
        accounts = GaugeMetricFamily(
            f"{metrics.namespace}_active_users",
            "Accounts that may sign in (active, not stopped on this network)",
        )
        accounts.add_metric([], active_accounts())
        requests = GaugeMetricFamily(
            f"{metrics.namespace}_requests", "Requests stored, by status", labels=["status"]
        )
        for status, count in sorted(request_counts().items()):
            requests.add_metric([status], count)
        return [accounts, requests]

    metrics.on_scrape(at_scrape)
    return RequestNetworkMetrics(
        submitted=metrics.counter(
            "requests_submitted_total",
            "Search requests accepted",
            ("query_type", "answered_from_store"),
        ),
        rate_limited=metrics.counter(
            "rate_limit_rejections_total", "Search requests refused by the rate limits"
        ),
        logins=metrics.counter("logins_total", "Sign-in attempts", ("outcome",)),
    )
