"""The Elasticsearch adapter through the real client over real HTTP, against recorded
responses: mapping to the domain's result, read-only use, the whitelist and size cap, and
how every kind of failure is sorted into transient (retry) or permanent (fail now)."""

from __future__ import annotations

import base64
import time

import pytest

from airgap.adapters.elasticsearch import ElasticsearchSearchBackend, ElasticsearchSettings
from airgap.domain.model.errors import PermanentSearchError, TransientSearchError
from integration.elasticsearch.conftest import BackendFactory
from integration.elasticsearch.fake_cluster import FakeCluster, Reply, fixture

MATCH = {"query": {"match": {"name": "kettle"}}, "size": 10, "from": 0}


def test_a_search_maps_the_response_to_the_domain_result(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    result = backend.search("products", MATCH, timeout_s=30.0)
    assert result.total == 3
    assert result.took_ms == 4
    hits = result.body["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == ["p00042", "p00317", "p01288"]
    assert hits[0]["_score"] == pytest.approx(1.2809339)
    assert hits[0]["_source"]["brand"] == "Acme"
    assert result.body["hits"]["total"] == {"value": 3, "relation": "eq"}
    assert backend.name == "elasticsearch"


def test_aggregations_pass_through_unchanged(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    cluster.reply("search", Reply(200, fixture("search_aggregations.json")))
    body = {
        "size": 0,
        "aggs": {
            "by_category": {
                "terms": {"field": "category"},
                "aggs": {"avg_price": {"avg": {"field": "price"}}},
            }
        },
    }
    result = backend.search("products", body, timeout_s=30.0)
    assert result.total == 10_000
    assert result.body["aggregations"] == fixture("search_aggregations.json")["aggregations"]


def test_the_request_asks_for_exact_totals_no_partial_results_and_a_timeout(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    backend.search(
        "products", {**MATCH, "sort": [{"price": "asc"}], "_source": ["name"]}, timeout_s=12.5
    )
    (request,) = cluster.requests
    assert request.method == "POST"
    assert request.path == "/products/_search"
    sent = {**request.body, **{k: v[0] for k, v in request.query.items()}}
    assert sent["query"] == MATCH["query"]
    assert sent["sort"] == [{"price": "asc"}]
    assert sent["_source"] == ["name"]
    assert sent["size"] == 10
    assert str(sent["track_total_hits"]).lower() == "true"
    assert str(sent["allow_partial_search_results"]).lower() == "false"
    assert sent["timeout"] == "12500ms"


def test_a_count_only_search_uses_the_count_api(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    result = backend.search(
        "products", {"query": {"term": {"in_stock": True}}, "size": 0}, timeout_s=30.0
    )
    assert cluster.endpoints() == ["count"]
    assert cluster.requests[0].body == {"query": {"term": {"in_stock": True}}}
    assert result.total == 6677
    assert result.body["hits"] == {
        "total": {"value": 6677, "relation": "eq"},
        "max_score": None,
        "hits": [],
    }


def test_the_backend_only_ever_reads(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    backend.search("products", MATCH, timeout_s=30.0)
    backend.search("products", {"size": 0}, timeout_s=30.0)
    aggregation = {"size": 0, "aggs": {"n": {"value_count": {"field": "x"}}}}
    backend.search("logs-2024", aggregation, timeout_s=30.0)
    assert backend.healthy() is True
    assert cluster.endpoints() == ["search", "count", "search", "health"]
    assert {r.method for r in cluster.requests} <= {"GET", "POST"}


def test_a_parsing_exception_fails_at_once_as_permanent(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, sleeps: list[float]
) -> None:
    cluster.reply("search", Reply(400, fixture("error_400_parsing_exception.json")))
    with pytest.raises(PermanentSearchError, match=r"parsing_exception: \[match\] query malformed"):
        backend.search("products", MATCH, timeout_s=30.0)
    assert len(cluster.requests) == 1
    assert sleeps == []


def test_a_missing_index_fails_at_once_as_permanent(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, sleeps: list[float]
) -> None:
    cluster.reply("search", Reply(404, fixture("error_404_index_not_found.json")))
    with pytest.raises(PermanentSearchError, match=r"404 index_not_found_exception: no such index"):
        backend.search("products", MATCH, timeout_s=30.0)
    assert len(cluster.requests) == 1
    assert sleeps == []


def test_an_unavailable_cluster_is_retried_with_back_off(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, sleeps: list[float]
) -> None:
    unavailable = Reply(503, fixture("error_503_search_phase_execution.json"))
    busy = Reply(429, fixture("error_429_rejected_execution.json"))
    cluster.reply("search", unavailable, busy)
    result = backend.search("products", MATCH, timeout_s=30.0)
    assert result.total == 3
    assert cluster.endpoints() == ["search", "search", "search"]
    assert sleeps == [0.5, 1.0]


def test_retries_run_out_as_a_transient_error(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, sleeps: list[float]
) -> None:
    unavailable = Reply(503, fixture("error_503_search_phase_execution.json"))
    cluster.reply("search", *[unavailable] * 5)
    with pytest.raises(TransientSearchError, match=r"after 4 attempts.*search_phase_execution"):
        backend.search("products", MATCH, timeout_s=30.0)
    assert len(cluster.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_back_off_is_capped(
    cluster: FakeCluster, make_backend: BackendFactory, sleeps: list[float]
) -> None:
    backend = make_backend(cluster.url, max_retries=6, retry_backoff_s=1.0, max_backoff_s=3.0)
    unavailable = Reply(503, fixture("error_503_search_phase_execution.json"))
    cluster.reply("search", *[unavailable] * 6)
    assert backend.search("products", MATCH, timeout_s=30.0).total == 3
    assert sleeps == [1.0, 2.0, 3.0, 3.0, 3.0, 3.0]


def test_refused_credentials_are_transient_and_not_retried_here(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, sleeps: list[float]
) -> None:
    cluster.reply("search", Reply(401, fixture("error_401_security.json")))
    with pytest.raises(TransientSearchError, match="security_exception"):
        backend.search("products", MATCH, timeout_s=30.0)
    assert len(cluster.requests) == 1
    assert sleeps == []


def test_a_slow_cluster_times_out_within_the_budget(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    # The budget covers the whole search, retries included, so the executor's job lease
    # (60 s) always outlasts a 30 s search; the job is retried later, by the executor.
    cluster.reply("search", Reply(200, fixture("search_match.json"), delay_s=2.0))
    started = time.monotonic()
    with pytest.raises(TransientSearchError, match=r"ConnectionTimeout|did not answer"):
        backend.search("products", MATCH, timeout_s=0.4)
    assert time.monotonic() - started < 1.5


def test_a_slow_answer_within_the_budget_is_accepted(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, sleeps: list[float]
) -> None:
    # An attempt may use all the time left, not a slice of it: a query that needs most of
    # the budget is not cut short (and then pointlessly repeated).
    cluster.reply("search", Reply(200, fixture("search_match.json"), delay_s=0.6))
    result = backend.search("products", MATCH, timeout_s=1.0)
    assert result.total == 3
    assert sleeps == []


def test_a_timed_out_answer_is_never_returned(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    cluster.reply("search", Reply(200, fixture("search_timed_out.json")))
    with pytest.raises(TransientSearchError, match="timed out"):
        backend.search("products", MATCH, timeout_s=30.0)


def test_an_answer_from_some_shards_only_is_never_returned(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    partial = fixture("search_match.json")
    partial["_shards"] = {"total": 3, "successful": 2, "skipped": 0, "failed": 1}
    cluster.reply("search", Reply(200, partial))
    with pytest.raises(TransientSearchError, match="2 of 3 shards"):
        backend.search("products", MATCH, timeout_s=30.0)


def test_a_refused_connection_is_transient_after_the_retries(
    refused_url: str, make_backend: BackendFactory, sleeps: list[float]
) -> None:
    backend = make_backend(refused_url)
    with pytest.raises(TransientSearchError, match=r"after 4 attempts.*ConnectionError"):
        backend.search("products", MATCH, timeout_s=30.0)
    assert sleeps == [0.5, 1.0, 2.0]
    assert backend.healthy() is False


def test_a_server_that_is_not_elasticsearch_is_refused(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    cluster.reply("search", Reply(200, fixture("search_match.json"), product_header=False))
    with pytest.raises(TransientSearchError, match="not Elasticsearch"):
        backend.search("products", MATCH, timeout_s=30.0)


@pytest.mark.parametrize(
    "index",
    ["orders", "products,orders", "prod*", "_all", "-products", "remote:products", "Products", ""],
)
def test_the_index_whitelist_is_enforced_before_any_request(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, index: str
) -> None:
    with pytest.raises(PermanentSearchError, match="index"):
        backend.search(index, MATCH, timeout_s=30.0)
    assert cluster.requests == []


def test_index_patterns_widen_the_whitelist(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    backend.search("logs-2024.06", MATCH, timeout_s=30.0)
    assert cluster.requests[0].path == "/logs-2024.06/_search"


def test_the_size_cap_is_enforced_before_any_request(
    cluster: FakeCluster, make_backend: BackendFactory
) -> None:
    backend = make_backend(cluster.url, max_size=100)
    with pytest.raises(PermanentSearchError, match="size 101 is over the limit of 100"):
        backend.search("products", {**MATCH, "size": 101}, timeout_s=30.0)
    assert backend.search("products", {**MATCH, "size": 100}, timeout_s=30.0).total == 3
    assert len(cluster.requests) == 1


@pytest.mark.parametrize("key", ["script_fields", "runtime_mappings", "highlight", "search_after"])
def test_options_outside_the_template_are_refused(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend, key: str
) -> None:
    with pytest.raises(PermanentSearchError, match=key):
        backend.search("products", {**MATCH, key: {}}, timeout_s=30.0)
    assert cluster.requests == []


def test_health_follows_the_cluster_status(
    cluster: FakeCluster, backend: ElasticsearchSearchBackend
) -> None:
    assert backend.healthy() is True
    cluster.reply("health", Reply(200, fixture("cluster_health_red.json")))
    assert backend.healthy() is False
    cluster.reply("health", Reply(503, fixture("error_503_search_phase_execution.json")))
    assert backend.healthy() is False
    assert cluster.requests[0].path == "/_cluster/health"


def test_basic_credentials_are_sent(cluster: FakeCluster, make_backend: BackendFactory) -> None:
    backend = make_backend(cluster.url, username="airgap_search", password="s3cret")
    backend.search("products", MATCH, timeout_s=30.0)
    token = base64.b64encode(b"airgap_search:s3cret").decode()
    assert cluster.requests[0].headers["authorization"] == f"Basic {token}"


def test_an_api_key_is_sent(cluster: FakeCluster, make_backend: BackendFactory) -> None:
    backend = make_backend(cluster.url, api_key="a2V5aWQ6c2VjcmV0")
    backend.search("products", MATCH, timeout_s=30.0)
    assert cluster.requests[0].headers["authorization"] == "ApiKey a2V5aWQ6c2VjcmV0"


def test_settings_come_from_the_environment() -> None:
    assert ElasticsearchSettings.from_env({}) is None
    settings = ElasticsearchSettings.from_env(
        {
            "AIRGAP_ELASTICSEARCH_URL": "https://search.internal:9200",
            "AIRGAP_ELASTICSEARCH_USERNAME": "airgap_search",
            "AIRGAP_ELASTICSEARCH_PASSWORD": "s3cret",
            "AIRGAP_ELASTICSEARCH_CA_CERTS": "/etc/airgap/es-ca.pem",
            "AIRGAP_ELASTICSEARCH_VERIFY_CERTS": "true",
            "AIRGAP_ELASTICSEARCH_TIMEOUT": "20",
        }
    )
    assert settings == ElasticsearchSettings(
        url="https://search.internal:9200",
        username="airgap_search",
        password="s3cret",
        ca_certs="/etc/airgap/es-ca.pem",
        request_timeout_s=20.0,
    )
    assert "s3cret" not in repr(settings)


def test_settings_refuse_contradictions() -> None:
    with pytest.raises(ValueError, match="username"):
        ElasticsearchSettings(url="http://x", password="p")
    with pytest.raises(ValueError, match="either"):
        ElasticsearchSettings(url="http://x", username="u", api_key="k")
    with pytest.raises(ValueError, match="allowed index"):
        ElasticsearchSearchBackend(ElasticsearchSettings(url="http://x"), [])
