"""The sample catalogue is deterministic, large enough, and well-typed."""

from __future__ import annotations

import itertools
from datetime import datetime

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend
from airgap.adapters.tantivy.sample import (
    PRODUCTS_INDEX,
    generate_products,
    products_mapping,
)


def test_the_same_seed_gives_the_same_documents() -> None:
    first = list(itertools.islice(generate_products(), 200))
    again = list(itertools.islice(generate_products(), 200))
    other = list(itertools.islice(generate_products(seed=1), 200))
    assert first == again
    assert first != other
    # A pinned document: changing the generator changes every benchmark and demo answer.
    assert first[0] == {
        "_id": "p00001",
        "name": "Cobalt premium perfume",
        "description": "A premium orange perfume made of ceramic for beginners. "
        "Designed in collaboration with experts.",
        "category": "beauty",
        "brand": "Cobalt",
        "price": 22.66,
        "in_stock": False,
        "rating": 3.3,
        "created_at": "2022-04-30T05:22:00Z",
    }


def test_the_default_catalogue_has_ten_thousand_well_typed_products() -> None:
    products = list(generate_products())
    assert len(products) == 10_000
    assert len({p["_id"] for p in products}) == 10_000
    fields = set(products_mapping()["properties"])
    for product in products:
        assert set(product) - {"_id"} == fields
        assert isinstance(product["price"], float)
        assert 1.0 <= product["price"] <= 2_500.0
        assert 1.0 <= product["rating"] <= 5.0
        assert isinstance(product["in_stock"], bool)
        datetime.fromisoformat(product["created_at"].replace("Z", "+00:00"))
    assert len({p["category"] for p in products}) == 12
    assert 0.7 < sum(p["in_stock"] for p in products) / len(products) < 0.8


def test_the_catalogue_loads_and_answers() -> None:
    index = EmbeddedIndex.build(PRODUCTS_INDEX, products_mapping(), generate_products(1_000))
    backend = TantivySearchBackend([index])
    body = backend.search(
        PRODUCTS_INDEX,
        {
            "query": {"match": {"name": "kettle"}},
            "size": 0,
            "aggs": {"c": {"terms": {"field": "category"}}},
        },
        timeout_s=5,
    ).body
    assert body["hits"]["total"]["value"] > 0
    assert [b["key"] for b in body["aggregations"]["c"]["buckets"]] == ["kitchen"]
