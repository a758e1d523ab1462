"""The conformance suite's fixed document set: twelve products small enough to check every
expected answer by hand (see the comments in ``cases.py``).

Prices and ratings are exact binary fractions (20.0, 42.25, 8.75...), so sums and averages
are the same in every engine whatever the order of addition.
"""

from __future__ import annotations

from typing import Any

MAPPING: dict[str, Any] = {
    "properties": {
        "name": {"type": "text", "fields": {"keyword": {"type": "keyword"}}},
        "description": {"type": "text"},
        "category": {"type": "keyword"},
        "brand": {"type": "keyword"},
        "tags": {"type": "keyword"},
        "price": {"type": "double"},
        "stock": {"type": "long"},
        "in_stock": {"type": "boolean"},
        "rating": {"type": "double"},
        "created_at": {"type": "date"},
        "dimensions": {"properties": {"width_cm": {"type": "long"}, "height_cm": {"type": "long"}}},
    }
}

DOCUMENTS: list[dict[str, Any]] = [
    {
        "_id": "1",
        "name": "Red kettle",
        "description": "A red kettle that boils water fast",
        "category": "kitchen",
        "brand": "acme",
        "tags": ["sale", "new"],
        "price": 20.0,
        "stock": 3,
        "in_stock": True,
        "rating": 4.5,
        "created_at": "2024-01-05T10:00:00Z",
        "dimensions": {"width_cm": 20, "height_cm": 25},
    },
    {
        "_id": "2",
        "name": "Blue kettle with whistle",
        "description": "Blue kettle with a loud whistle",
        "category": "kitchen",
        "brand": "acme",
        "price": 35.5,
        "stock": 0,
        "in_stock": False,
        "rating": 3.5,
        "created_at": "2024-01-20T08:30:00Z",
    },
    {
        "_id": "3",
        "name": "Red toaster",
        "description": "Toaster with two wide slots",
        "category": "kitchen",
        "brand": "brava",
        "tags": ["sale"],
        "price": 50.0,
        "stock": 7,
        "in_stock": True,
        "rating": 4.0,
        "created_at": "2024-02-10T12:00:00Z",
    },
    {
        "_id": "4",
        "name": "Steel frying pan",
        "description": "Heavy steel pan for frying eggs",
        "category": "kitchen",
        "brand": "brava",
        "price": 42.25,
        "stock": 12,
        "in_stock": True,
        "rating": 4.75,
        "created_at": "2024-02-29T23:59:59Z",
    },
    {
        "_id": "5",
        "name": "Desk lamp",
        "description": "Small lamp for the desk",
        "category": "office",
        "brand": "lumo",
        "price": 18.5,
        "stock": 5,
        "in_stock": True,
        "rating": 3.0,
        "created_at": "2024-03-01T00:00:00Z",
    },
    {
        "_id": "6",
        "name": "Standing desk",
        "description": "Electric standing desk with memory presets",
        "category": "office",
        "brand": "lumo",
        "price": 250.0,
        "stock": 1,
        "in_stock": True,
        "rating": 4.25,
        "created_at": "2024-03-15T09:00:00Z",
        "dimensions": {"width_cm": 140, "height_cm": 120},
    },
    {
        "_id": "7",
        "name": "Office chair",
        "description": "Ergonomic chair for long days at the desk",
        "category": "office",
        "brand": "nordwind",
        "price": 120.0,
        "stock": 0,
        "in_stock": False,
        "rating": 2.5,
        "created_at": "2024-04-02T14:00:00Z",
    },
    {
        "_id": "8",
        "name": "Garden hose",
        "description": "Flexible hose for the garden",
        "category": "garden",
        "brand": "nordwind",
        "tags": ["outdoor"],
        "price": 25.0,
        "in_stock": True,
        "created_at": "2024-04-30T18:00:00Z",
    },
    {
        "_id": "9",
        "name": "Red garden chair",
        "description": "Weatherproof chair for the garden",
        "category": "garden",
        "brand": "acme",
        "tags": ["outdoor", "sale"],
        "price": 60.0,
        "stock": 4,
        "in_stock": True,
        "rating": 3.75,
        "created_at": "2024-05-05T07:00:00Z",
    },
    {
        "_id": "10",
        "name": "Quick brown fox lamp",
        "description": "The quick brown fox jumps over the lamp",
        "category": "home",
        "price": 75.0,
        "stock": 2,
        "in_stock": False,
        "rating": 5.0,
    },
    {
        "_id": "11",
        "name": "Lamp shade",
        "description": "Linen shade for table lamps",
        "category": "home",
        "brand": "lumo",
        "price": 15.0,
        "stock": 9,
        "in_stock": True,
        "rating": 4.125,
        "created_at": "2024-06-01T00:00:00Z",
    },
    {
        "_id": "12",
        "name": "Kettle descaler",
        "description": "Removes limescale from kettles",
        "category": "kitchen",
        "brand": "kettleco",
        "price": 8.75,
        "stock": 30,
        "in_stock": True,
        "rating": 3.25,
        "created_at": "2024-06-15T16:45:00Z",
    },
]

ALL_IDS = frozenset(doc["_id"] for doc in DOCUMENTS)


def source_of(doc_id: str) -> dict[str, Any]:
    """The ``_source`` a backend returns for a document: the document without ``_id``."""
    doc = next(d for d in DOCUMENTS if d["_id"] == doc_id)
    return {k: v for k, v in doc.items() if k != "_id"}
