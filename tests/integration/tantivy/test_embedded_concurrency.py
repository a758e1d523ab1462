"""Concurrent searches on one embedded backend give the answers a lone search gives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from airgap.adapters.tantivy.sample import generate_products, products_mapping

QUERIES: list[dict[str, Any]] = [
    {"query": {"match": {"name": "kettle"}}, "size": 5},
    {
        "query": {
            "bool": {
                "filter": [{"term": {"category": "kitchen"}}, {"range": {"price": {"lte": 50}}}]
            }
        },
        "sort": ["price"],
    },
    {"size": 0, "aggs": {"b": {"terms": {"field": "brand", "size": 5}}}},
    {"query": {"fuzzy": {"name": "kettel"}}, "size": 3, "sort": [{"rating": "desc"}, "_doc"]},
    {
        "size": 0,
        "aggs": {"m": {"date_histogram": {"field": "created_at", "calendar_interval": "quarter"}}},
    },
]


def _stable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "took"}


def test_concurrent_searches_agree_with_serial_ones() -> None:
    index = EmbeddedIndex.build("products", products_mapping(), generate_products(2_000))
    backend = TantivySearchBackend([index])
    expected = [_stable(dict(backend.search("products", q, timeout_s=5).body)) for q in QUERIES]

    def run(i: int) -> tuple[int, dict[str, Any]]:
        query = QUERIES[i % len(QUERIES)]
        return i % len(QUERIES), _stable(dict(backend.search("products", query, timeout_s=5).body))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(400)))
    for which, body in results:
        assert body == expected[which]


def test_an_index_can_be_replaced_while_searches_run() -> None:
    first = EmbeddedIndex.build("products", products_mapping(), generate_products(100))
    second = EmbeddedIndex.build("products", products_mapping(), generate_products(300))
    backend = TantivySearchBackend([first])

    def count(_: int) -> int:
        return backend.search("products", {"size": 0}, timeout_s=5).total

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(count, i) for i in range(200)]
        backend.add(second)
        totals = {f.result() for f in futures}
    assert totals <= {100, 300}
    assert count(0) == 300
