"""The production search backend: the :class:`~airgap.ports.search.SearchBackend` port on the
official Elasticsearch client.

Read-only by construction: the only APIs it calls are ``search``, ``count`` and
``cluster.health``, and it refuses search options outside the query template. It enforces
again what the query policy enforced on the other network — the index whitelist (one
concrete index, matching an allowed name or pattern) and the ``size`` cap — and bounds each
search by ``timeout_s`` (at most the configured 30 s), retries included.

Failures are sorted for the executor: connection errors, timeouts, 429 and 5xx answers are
retried here with exponential back-off and then raised as
:class:`~airgap.domain.model.errors.TransientSearchError` (the job is retried later);
credentials refused (401/403) are transient without retrying here (an operator can fix
them); any other 4xx — a malformed query, an unknown index — is a
:class:`~airgap.domain.model.errors.PermanentSearchError` at once. Partial answers
(``timed_out`` or failed shards) are never passed on as results.
"""

from __future__ import annotations

import fnmatch
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from elasticsearch import (
    ApiError,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    TransportError,
    UnsupportedProductError,
)

from airgap.adapters.elasticsearch.settings import ElasticsearchSettings
from airgap.domain.model.errors import PermanentSearchError, TransientSearchError
from airgap.domain.model.search import SearchResult

__all__ = ["ElasticsearchSearchBackend", "build_client"]

log = logging.getLogger(__name__)

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_CREDENTIAL_STATUSES = frozenset({401, 403})
_BODY_KEYS = {
    "query": "query",
    "aggs": "aggs",
    "aggregations": "aggs",
    "size": "size",
    "from": "from_",
    "sort": "sort",
    "_source": "source",
}
_HEALTH_TIMEOUT_S = 5.0


def build_client(settings: ElasticsearchSettings) -> Elasticsearch:
    """A client with the settings' credentials and TLS options and no retries of its own
    (the backend retries, within its time budget)."""
    options: dict[str, Any] = {
        "request_timeout": settings.request_timeout_s,
        "max_retries": 0,
        "retry_on_timeout": False,
    }
    if settings.api_key is not None:
        options["api_key"] = settings.api_key
    elif settings.username is not None:
        options["basic_auth"] = (settings.username, settings.password or "")
    if settings.url.lower().startswith("https"):
        options["verify_certs"] = settings.verify_certs
        if settings.ca_certs is not None:
            options["ca_certs"] = settings.ca_certs
        if not settings.verify_certs:
            options["ssl_show_warn"] = False
    return Elasticsearch(settings.url, **options)


def describe(error: BaseException) -> str:
    """One line about a client error: status, Elasticsearch's error type and reason."""
    if isinstance(error, ApiError):
        body = error.body if isinstance(error.body, Mapping) else {}
        detail = body.get("error")
        if isinstance(detail, Mapping):
            causes = detail.get("root_cause") or []
            first = causes[0] if causes and isinstance(causes[0], Mapping) else detail
            kind = first.get("type", detail.get("type", "error"))
            reason = first.get("reason", detail.get("reason", ""))
            return f"{error.meta.status} {kind}: {reason}"
        return f"{error.meta.status} {error.message}"
    return f"{type(error).__name__}: {error}"


class ElasticsearchSearchBackend:
    """Runs validated searches on an Elasticsearch cluster (read-only)."""

    name = "elasticsearch"

    def __init__(
        self,
        settings: ElasticsearchSettings,
        allowed_indices: Iterable[str],
        *,
        client: Elasticsearch | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._allowed = frozenset(allowed_indices)
        if not self._allowed or any(not p for p in self._allowed):
            raise ValueError("the Elasticsearch backend needs at least one allowed index")
        self._client = client if client is not None else build_client(settings)
        self._sleep = sleep
        self._monotonic = monotonic
        self._jitter = jitter

    def close(self) -> None:
        self._client.close()

    # -- the port -------------------------------------------------------------------------------

    def search(self, index: str, body: Mapping[str, Any], *, timeout_s: float) -> SearchResult:
        self._check_index(index)
        request = self._request(body)
        budget = min(timeout_s, self._settings.request_timeout_s)
        if request.get("size", 10) == 0 and "aggs" not in request:
            return self._count(index, request.get("query"), budget)
        request.update(
            track_total_hits=True,
            allow_partial_search_results=False,
            timeout=f"{max(int(budget * 1000), 1)}ms",
        )

        def run(client: Elasticsearch) -> Any:
            return client.search(index=index, **request)

        response = self._call(run, budget, f"search on [{index}]")
        if response.get("timed_out"):
            raise TransientSearchError(f"Elasticsearch timed out searching [{index}]")
        shards = response.get("_shards") or {}
        if shards.get("failed"):
            raise TransientSearchError(
                f"Elasticsearch answered from {shards.get('successful')} of "
                f"{shards.get('total')} shards of [{index}]"
            )
        return SearchResult.from_body(response)

    def healthy(self) -> bool:
        try:
            client = self._client.options(request_timeout=_HEALTH_TIMEOUT_S)
            health = client.cluster.health(timeout=f"{int(_HEALTH_TIMEOUT_S)}s")
        except (ApiError, TransportError) as error:
            log.warning("Elasticsearch health check failed: %s", describe(error))
            return False
        return health.get("status") in {"green", "yellow"}

    # -- details --------------------------------------------------------------------------------

    def _check_index(self, index: str) -> None:
        if (
            not index
            or any(c in index for c in ",*?: ")
            or index.startswith(("-", "_", "+", "."))
            or index != index.lower()
        ):
            raise PermanentSearchError(f"index [{index}] is not one concrete index name")
        if not any(fnmatch.fnmatchcase(index, pattern) for pattern in self._allowed):
            raise PermanentSearchError(f"index [{index}] is not in the allowed indices")

    def _request(self, body: Mapping[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {}
        for key, value in body.items():
            name = _BODY_KEYS.get(key)
            if name is None:
                raise PermanentSearchError(
                    f"search option [{key}] is not allowed by the Elasticsearch backend"
                )
            request[name] = value
        size = request.get("size", 10)
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise PermanentSearchError(f"size must be a non-negative integer, got {size!r}")
        if size > self._settings.max_size:
            raise PermanentSearchError(
                f"size {size} is over the limit of {self._settings.max_size} results"
            )
        return request

    def _count(self, index: str, query: Any, budget: float) -> SearchResult:
        started = self._monotonic()

        def run(client: Elasticsearch) -> Any:
            if query is None:
                return client.count(index=index)
            return client.count(index=index, query=query)

        counted = self._call(run, budget, f"count on [{index}]")
        took = int((self._monotonic() - started) * 1000)
        return SearchResult.from_body(
            {
                "took": took,
                "timed_out": False,
                "_shards": counted.get("_shards", {}),
                "hits": {
                    "total": {"value": int(counted["count"]), "relation": "eq"},
                    "max_score": None,
                    "hits": [],
                },
            }
        )

    def _call(
        self, run: Callable[[Elasticsearch], Any], budget: float, what: str
    ) -> dict[str, Any]:
        """Run ``run`` with retries until it answers, fails for good, or ``budget`` runs out."""
        settings = self._settings
        started = self._monotonic()
        attempt = 0
        while True:
            remaining = budget - (self._monotonic() - started)
            if remaining <= 0:
                raise TransientSearchError(
                    f"Elasticsearch did not answer the {what} in {budget:g} s"
                )
            try:
                response = run(self._client.options(request_timeout=remaining))
                return dict(response.body)
            except UnsupportedProductError as error:
                raise TransientSearchError(
                    f"the server at the Elasticsearch URL is not Elasticsearch: {describe(error)}"
                ) from error
            except ApiError as error:
                status = error.meta.status
                if status in _CREDENTIAL_STATUSES:
                    raise TransientSearchError(
                        f"Elasticsearch refused the credentials for the {what}: {describe(error)}"
                    ) from error
                if status not in _RETRY_STATUSES:
                    raise PermanentSearchError(
                        f"Elasticsearch rejected the {what}: {describe(error)}"
                    ) from error
                failure: Exception = error
            except (ConnectionTimeout, ConnectionError, TransportError) as error:
                failure = error
            attempt += 1
            if attempt > settings.max_retries:
                raise TransientSearchError(
                    f"Elasticsearch {what} failed after {attempt} attempts: {describe(failure)}"
                ) from failure
            delay = min(settings.max_backoff_s, settings.retry_backoff_s * 2 ** (attempt - 1))
            delay *= 0.5 + self._jitter() / 2  # jitter, so workers do not retry in step
            if self._monotonic() - started + delay >= budget:
                raise TransientSearchError(
                    f"Elasticsearch {what} failed and no time is left to retry: {describe(failure)}"
                ) from failure
            log.warning(
                "Elasticsearch %s failed (attempt %d, retrying in %.2f s): %s",
                what,
                attempt,
                delay,
                describe(failure),
            )
            self._sleep(delay)
