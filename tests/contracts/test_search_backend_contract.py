"""Contract of the SearchBackend port on a small fixed document set, written against the port
only. Answers are checked in Elasticsearch's response shape, and where the test fixes an
order it is Elasticsearch's order.

To check another backend, add its name to the ``params`` of the ``backend`` fixture and a
branch that creates the ``products`` index with :data:`MAPPING`, indexes :data:`PRODUCTS`
under their ``_id`` and makes them searchable (refresh) before yielding. No other index may
exist under the name ``no-such-index``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from airgap.adapters.memory.search import MemorySearchBackend
from airgap.adapters.tantivy.backend import TantivySearchBackend
from airgap.adapters.tantivy.index import EmbeddedIndex
from airgap.domain.model.errors import PermanentSearchError
from airgap.ports.search import SearchBackend

INDEX = "products"

MAPPING: Mapping[str, Any] = {
    "properties": {
        "name": {"type": "text"},
        "brand": {"type": "keyword"},
        "colour": {"type": "keyword"},
        "price": {"type": "double"},
        "stock": {"type": "integer"},
    }
}

# Brands are listed so that first-seen order differs from key order (toastco before acme).
PRODUCTS: list[dict[str, Any]] = [
    {"_id": "1", "name": "red toaster", "brand": "toastco", "colour": "red", "price": 50.0},
    {"_id": "2", "name": "red kettle", "brand": "acme", "colour": "red", "price": 20.0},
    {"_id": "3", "name": "blue kettle", "brand": "acme", "colour": "blue", "price": 35.0},
    {"_id": "4", "name": "blue toaster", "brand": "toastco", "colour": "blue", "price": 45.0},
    {"_id": "5", "name": "green kettle", "brand": "panco", "colour": "green", "price": 15.0},
    {"_id": "6", "name": "steel pan", "brand": "kettleworks", "colour": "blue", "price": 60.0},
]
STOCK = {"1": 3, "2": 0, "3": 12, "5": 7}  # products 4 and 6 have no stock field
DOCUMENTS = [doc | {"stock": STOCK[doc["_id"]]} if doc["_id"] in STOCK else doc for doc in PRODUCTS]


@pytest.fixture(params=["memory", "tantivy"])
def backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    """A backend holding the ``products`` index, per backend under test."""
    if request.param == "memory":
        yield MemorySearchBackend({INDEX: DOCUMENTS})
    elif request.param == "tantivy":
        yield TantivySearchBackend([EmbeddedIndex.build(INDEX, MAPPING, DOCUMENTS)])
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no search backend builder for {request.param!r}")


def search(backend: SearchBackend, body: Mapping[str, Any]) -> dict[str, Any]:
    result = backend.search(INDEX, body, timeout_s=5.0)
    hits = result.body["hits"]
    assert result.total == hits["total"]["value"]
    assert result.took_ms >= 0
    return dict(result.body)


def ids_of(body: Mapping[str, Any]) -> list[str]:
    return [hit["_id"] for hit in body["hits"]["hits"]]


def test_the_backend_names_itself_and_is_healthy(backend: SearchBackend) -> None:
    assert isinstance(backend.name, str)
    assert backend.name
    assert backend.healthy() is True


def test_match_all_counts_everything_in_elasticsearch_shape(backend: SearchBackend) -> None:
    body = search(backend, {"query": {"match_all": {}}, "size": 10})
    assert body["hits"]["total"] == {"value": 6, "relation": "eq"}
    assert sorted(ids_of(body)) == ["1", "2", "3", "4", "5", "6"]
    by_id = {doc["_id"]: doc for doc in DOCUMENTS}
    for hit in body["hits"]["hits"]:
        assert isinstance(hit["_id"], str)
        expected = {k: v for k, v in by_id[hit["_id"]].items() if k != "_id"}
        assert hit["_source"] == expected
    assert body.get("timed_out") is False


def test_size_defaults_to_ten_and_zero_returns_only_the_count(backend: SearchBackend) -> None:
    assert len(search(backend, {"query": {"match_all": {}}})["hits"]["hits"]) == 6
    counted = search(backend, {"query": {"match_all": {}}, "size": 0})
    assert counted["hits"]["hits"] == []
    assert counted["hits"]["total"]["value"] == 6


def test_match_finds_any_of_the_words(backend: SearchBackend) -> None:
    body = search(backend, {"query": {"match": {"name": "kettle"}}})
    assert sorted(ids_of(body)) == ["2", "3", "5"]
    both_words = {"match": {"name": {"query": "red kettle", "operator": "and"}}}
    assert ids_of(search(backend, {"query": both_words})) == ["2"]


def test_term_and_terms_match_exact_values(backend: SearchBackend) -> None:
    assert sorted(ids_of(search(backend, {"query": {"term": {"brand": "acme"}}}))) == ["2", "3"]
    assert ids_of(search(backend, {"query": {"term": {"brand": {"value": "panco"}}}})) == ["5"]
    assert ids_of(search(backend, {"query": {"term": {"brand": "Acme"}}})) == []
    body = search(backend, {"query": {"terms": {"brand": ["panco", "kettleworks"]}}})
    assert sorted(ids_of(body)) == ["5", "6"]


def test_range_bounds_are_inclusive_or_exclusive_as_asked(backend: SearchBackend) -> None:
    inclusive = search(backend, {"query": {"range": {"price": {"gte": 20, "lte": 45}}}})
    assert sorted(ids_of(inclusive)) == ["2", "3", "4"]
    exclusive = search(backend, {"query": {"range": {"price": {"gt": 20, "lt": 45}}}})
    assert ids_of(exclusive) == ["3"]
    # Documents without the field never match a range.
    assert sorted(ids_of(search(backend, {"query": {"range": {"stock": {"gte": 0}}}}))) == [
        "1",
        "2",
        "3",
        "5",
    ]


def test_bool_combines_must_filter_must_not_and_should(backend: SearchBackend) -> None:
    body = search(
        backend,
        {
            "query": {
                "bool": {
                    "must": [{"match": {"name": "kettle"}}],
                    "filter": [{"range": {"price": {"lte": 40}}}],
                    "must_not": [{"term": {"colour": "green"}}],
                }
            }
        },
    )
    assert sorted(ids_of(body)) == ["2", "3"]
    either = search(
        backend,
        {
            "query": {
                "bool": {
                    "should": [{"term": {"brand": "panco"}}, {"term": {"colour": "red"}}],
                    "minimum_should_match": 1,
                }
            }
        },
    )
    assert sorted(ids_of(either)) == ["1", "2", "5"]
    out_of_stock = {
        "bool": {
            "filter": {"exists": {"field": "stock"}},
            "must_not": {"range": {"stock": {"gt": 0}}},
        }
    }
    assert ids_of(search(backend, {"query": out_of_stock})) == ["2"]


def test_size_and_from_page_through_the_hits(backend: SearchBackend) -> None:
    pages = [
        search(backend, {"query": {"match_all": {}}, "size": 4, "from": start})
        for start in (0, 4, 8)
    ]
    assert [len(page["hits"]["hits"]) for page in pages] == [4, 2, 0]
    assert all(page["hits"]["total"]["value"] == 6 for page in pages)
    seen = [hit_id for page in pages for hit_id in ids_of(page)]
    assert sorted(seen) == ["1", "2", "3", "4", "5", "6"]


def test_sort_orders_the_hits(request: pytest.FixtureRequest, backend: SearchBackend) -> None:
    body = search(backend, {"query": {"match_all": {}}, "sort": [{"price": "desc"}], "size": 3})
    assert ids_of(body) == ["6", "1", "4"]
    body = search(backend, {"query": {"match_all": {}}, "sort": [{"price": {"order": "asc"}}]})
    assert ids_of(body) == ["5", "2", "3", "4", "1", "6"]


def test_a_source_list_returns_only_those_fields(backend: SearchBackend) -> None:
    body = search(backend, {"query": {"term": {"brand": "acme"}}, "_source": ["name", "price"]})
    assert {hit["_id"]: hit["_source"] for hit in body["hits"]["hits"]} == {
        "2": {"name": "red kettle", "price": 20.0},
        "3": {"name": "blue kettle", "price": 35.0},
    }


def test_source_false_and_includes_excludes_are_honoured(
    request: pytest.FixtureRequest, backend: SearchBackend
) -> None:
    bare = search(backend, {"query": {"term": {"brand": "panco"}}, "_source": False})
    assert "_source" not in bare["hits"]["hits"][0]
    picked = search(
        backend,
        {"query": {"term": {"brand": "panco"}}, "_source": {"excludes": ["name", "colour"]}},
    )
    assert picked["hits"]["hits"][0]["_source"] == {"brand": "panco", "price": 15.0, "stock": 7}


def test_terms_aggregation_counts_buckets(backend: SearchBackend) -> None:
    body = search(
        backend,
        {
            "query": {"range": {"price": {"gte": 15}}},
            "size": 0,
            "aggs": {"colours": {"terms": {"field": "colour", "size": 2}}},
        },
    )
    assert body["hits"]["total"]["value"] == 6
    assert body["hits"]["hits"] == []
    colours = body["aggregations"]["colours"]
    assert colours["buckets"] == [{"key": "blue", "doc_count": 3}, {"key": "red", "doc_count": 2}]
    assert colours["sum_other_doc_count"] == 1


def test_terms_aggregation_breaks_ties_by_key_like_elasticsearch(
    request: pytest.FixtureRequest, backend: SearchBackend
) -> None:
    body = search(backend, {"size": 0, "aggs": {"brands": {"terms": {"field": "brand"}}}})
    assert body["aggregations"]["brands"]["buckets"] == [
        {"key": "acme", "doc_count": 2},
        {"key": "toastco", "doc_count": 2},
        {"key": "kettleworks", "doc_count": 1},
        {"key": "panco", "doc_count": 1},
    ]


def test_metric_aggregations(backend: SearchBackend) -> None:
    body = search(
        backend,
        {
            "query": {"term": {"brand": "acme"}},
            "size": 0,
            "aggs": {
                "cheapest": {"min": {"field": "price"}},
                "dearest": {"max": {"field": "price"}},
                "mean": {"avg": {"field": "price"}},
                "total": {"sum": {"field": "price"}},
                "priced": {"value_count": {"field": "price"}},
            },
        },
    )
    aggregations = body["aggregations"]
    assert aggregations["cheapest"]["value"] == 20.0
    assert aggregations["dearest"]["value"] == 35.0
    assert aggregations["mean"]["value"] == 27.5
    assert aggregations["total"]["value"] == 55.0
    assert aggregations["priced"]["value"] == 2


def test_an_unknown_index_is_a_permanent_error(backend: SearchBackend) -> None:
    with pytest.raises(PermanentSearchError):
        backend.search("no-such-index", {"query": {"match_all": {}}}, timeout_s=5.0)
