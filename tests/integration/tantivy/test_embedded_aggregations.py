"""Aggregation details beyond the conformance table: ties at the terms cut, bounds, meta,
dates, and the shapes Elasticsearch gives them."""

from __future__ import annotations

from typing import Any

import pytest

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend

MAPPING = {"properties": {"k": {"type": "keyword"}, "n": {"type": "long"}, "at": {"type": "date"}}}
# forty keys seen once each, "z" twice, "y" three times
DOCS: list[dict[str, Any]] = (
    [{"k": f"k{i:02d}", "n": i} for i in range(40)]
    + [{"k": "z", "n": 100}] * 2
    + [{"k": "y", "n": 200, "at": "2023-12-31T23:00:00Z"}] * 3
    + [{"at": "2024-02-15T00:00:00Z"}, {"at": "2026-07-01T00:00:00Z"}]
)


@pytest.fixture(scope="module")
def backend() -> TantivySearchBackend:
    return TantivySearchBackend([EmbeddedIndex.build("aggs", MAPPING, DOCS)])


def aggs(backend: TantivySearchBackend, spec: dict[str, Any], **body: Any) -> dict[str, Any]:
    result = backend.search("aggs", {"size": 0, "aggs": spec, **body}, timeout_s=5).body
    return dict(result["aggregations"])


def keys(result: dict[str, Any]) -> list[Any]:
    return [b["key"] for b in result["buckets"]]


def test_a_cut_inside_a_tie_takes_the_smallest_keys(backend: TantivySearchBackend) -> None:
    result = aggs(backend, {"t": {"terms": {"field": "k", "size": 4}}})["t"]
    assert keys(result) == ["y", "z", "k00", "k01"]
    assert result["sum_other_doc_count"] == 38
    ascending = aggs(
        backend, {"t": {"terms": {"field": "k", "size": 3, "order": {"_count": "asc"}}}}
    )
    assert keys(ascending["t"]) == ["k00", "k01", "k02"]
    assert ascending["t"]["sum_other_doc_count"] == 42


def test_terms_ordered_by_a_stats_value_and_by_key_descending(
    backend: TantivySearchBackend,
) -> None:
    by_max = aggs(
        backend,
        {
            "t": {
                "terms": {"field": "k", "size": 2, "order": {"s.max": "desc"}},
                "aggs": {"s": {"stats": {"field": "n"}}},
            }
        },
    )["t"]
    assert keys(by_max) == ["y", "z"]
    assert by_max["buckets"][0]["s"] == {
        "count": 3,
        "min": 200.0,
        "max": 200.0,
        "avg": 200.0,
        "sum": 600.0,
    }
    by_key = aggs(backend, {"t": {"terms": {"field": "k", "size": 2, "order": {"_key": "desc"}}}})
    assert keys(by_key["t"]) == ["z", "y"]


def test_min_doc_count_zero_lists_terms_without_matches(backend: TantivySearchBackend) -> None:
    result = aggs(
        backend,
        {"t": {"terms": {"field": "k", "size": 3, "min_doc_count": 0, "order": {"_key": "desc"}}}},
        query={"term": {"k": "y"}},
    )["t"]
    assert result["buckets"] == [
        {"key": "z", "doc_count": 0},
        {"key": "y", "doc_count": 3},
        {"key": "k39", "doc_count": 0},
    ]


def test_terms_on_a_date_and_a_range_on_a_date_have_string_forms(
    backend: TantivySearchBackend,
) -> None:
    result = aggs(
        backend,
        {
            "t": {"terms": {"field": "at", "size": 1}},
            "r": {"range": {"field": "at", "ranges": [{"to": 1704067200000}]}},
            "s": {"stats": {"field": "at"}},
        },
    )
    assert result["t"]["buckets"] == [
        {"key": 1704063600000, "key_as_string": "2023-12-31T23:00:00.000Z", "doc_count": 3}
    ]
    assert result["r"]["buckets"] == [
        {
            "key": "*-2024-01-01T00:00:00.000Z",
            "to": 1704067200000.0,
            "to_as_string": "2024-01-01T00:00:00.000Z",
            "doc_count": 3,
        }
    ]
    assert result["s"]["count"] == 5
    assert result["s"]["min_as_string"] == "2023-12-31T23:00:00.000Z"
    assert result["s"]["max_as_string"] == "2026-07-01T00:00:00.000Z"


def test_calendar_years_and_extended_bounds(backend: TantivySearchBackend) -> None:
    years = aggs(
        backend,
        {"y": {"date_histogram": {"field": "at", "calendar_interval": "year", "format": "yyyy"}}},
    )["y"]["buckets"]
    assert [(b["key_as_string"], b["doc_count"]) for b in years] == [
        ("2023", 3),
        ("2024", 1),
        ("2025", 0),
        ("2026", 1),
    ]
    bounded = aggs(
        backend,
        {
            "m": {
                "date_histogram": {
                    "field": "at",
                    "calendar_interval": "month",
                    "format": "yyyy-MM",
                    "extended_bounds": {"min": "2024-01", "max": "2024-04"},
                }
            }
        },
        query={"range": {"at": {"gte": "2024-01-01", "lt": "2025-01-01"}}},
    )["m"]["buckets"]
    assert [(b["key_as_string"], b["doc_count"]) for b in bounded] == [
        ("2024-01", 0),
        ("2024-02", 1),
        ("2024-03", 0),
        ("2024-04", 0),
    ]
    histogram = aggs(
        backend,
        {
            "h": {
                "histogram": {
                    "field": "n",
                    "interval": 100,
                    "extended_bounds": {"min": 0, "max": 400},
                }
            }
        },
    )["h"]["buckets"]
    assert [(b["key"], b["doc_count"]) for b in histogram] == [
        (0.0, 40),
        (100.0, 2),
        (200.0, 3),
        (300.0, 0),
        (400.0, 0),
    ]


def test_meta_is_echoed_and_metrics_on_keywords_count_values(
    backend: TantivySearchBackend,
) -> None:
    result = aggs(
        backend,
        {
            "n": {"value_count": {"field": "k"}, "meta": {"owner": "ops"}},
            "c": {"cardinality": {"field": "n"}},
            "avg_missing": {"avg": {"field": "n", "missing": 0}},
        },
    )
    assert result["n"] == {"value": 45, "meta": {"owner": "ops"}}
    assert result["c"] == {"value": 42}
    # 40 values 0..39 (sum 780) + 200 + 600, with the two dated-only documents counted as 0
    assert result["avg_missing"]["value"] == pytest.approx((780 + 200 + 600) / 47)
