"""The sample data set: a deterministic catalogue of products for the index ``products``.

``airgap up`` loads it into the embedded engine, ``airgap search load --sample`` into either
backend, and the benchmarks search it. The same seed and count always give the same
documents, byte for byte, on every machine (a private ``random.Random``; no global state).

``price`` and ``rating`` are mapped as ``double`` rather than ``float``: Elasticsearch keeps
``float`` values in 32 bits, so its sums and averages of prices such as 19.99 would drift in
the seventh digit and disagree with the embedded engine, which keeps 64 bits.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["PRODUCTS_INDEX", "SAMPLE_SEED", "generate_products", "products_mapping"]

PRODUCTS_INDEX = "products"
SAMPLE_SEED = 20_240_601
SAMPLE_COUNT = 10_000

_CATEGORIES: dict[str, tuple[tuple[str, ...], float]] = {
    # category: (product nouns, typical price)
    "kitchen": (("kettle", "toaster", "blender", "frying pan", "chef knife", "coffee grinder"), 45),
    "electronics": (("headphones", "speaker", "charger", "keyboard", "monitor", "webcam"), 120),
    "home": (("lamp", "rug", "cushion", "curtain", "mirror", "clock"), 60),
    "garden": (("hose", "rake", "planter", "shears", "sprinkler", "wheelbarrow"), 40),
    "sports": (("yoga mat", "dumbbell", "bicycle helmet", "tennis racket", "football", "rope"), 55),
    "toys": (("puzzle", "robot kit", "doll house", "kite", "board game", "building blocks"), 30),
    "books": (("cookbook", "novel", "atlas", "field guide", "sketchbook", "dictionary"), 20),
    "clothing": (("jacket", "sweater", "rain coat", "scarf", "hiking boots", "gloves"), 70),
    "beauty": (("shampoo", "face cream", "hair dryer", "perfume", "lip balm", "brush set"), 25),
    "office": (
        ("desk chair", "notebook", "pen set", "stapler", "desk organiser", "whiteboard"),
        35,
    ),
    "automotive": (
        (
            "car charger",
            "tyre inflator",
            "seat cover",
            "dash camera",
            "wiper blades",
            "jump starter",
        ),
        65,
    ),
    "outdoor": (
        ("tent", "sleeping bag", "lantern", "camping stove", "backpack", "water filter"),
        90,
    ),
}
_BRANDS = (
    "Acme",
    "Brava",
    "Lumo",
    "Nordwind",
    "Kestrel",
    "Orchid",
    "Tessera",
    "Halcyon",
    "Verdant",
    "Quill",
    "Ironwood",
    "Solace",
    "Pinnacle",
    "Marlow",
    "Zephyr",
    "Cobalt",
    "Juniper",
    "Atlas",
    "Ember",
    "Fable",
    "Granite",
    "Harbor",
    "Indigo",
    "Kinetic",
    "Lattice",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Prism",
    "Radiant",
    "Sable",
    "Tundra",
    "Umber",
    "Vela",
    "Willow",
    "Yarrow",
)
_ADJECTIVES = (
    "compact",
    "classic",
    "deluxe",
    "portable",
    "lightweight",
    "heavy-duty",
    "ergonomic",
    "wireless",
    "smart",
    "vintage",
    "modern",
    "rugged",
    "foldable",
    "premium",
    "eco",
    "quiet",
    "fast",
    "waterproof",
    "adjustable",
    "handmade",
)
_MATERIALS = (
    "steel",
    "bamboo",
    "oak",
    "aluminium",
    "ceramic",
    "cotton",
    "wool",
    "leather",
    "glass",
    "recycled plastic",
    "copper",
    "linen",
)
_COLOURS = ("red", "blue", "green", "black", "white", "grey", "yellow", "orange", "teal", "navy")
_USES = (
    "everyday use",
    "small apartments",
    "busy families",
    "weekend trips",
    "the office",
    "beginners",
    "professionals",
    "outdoor adventures",
    "gift giving",
    "long journeys",
)
_FEATURES = (
    "Comes with a two year warranty.",
    "Easy to clean and built to last.",
    "Ships in plastic-free packaging.",
    "Rated highly for comfort and durability.",
    "Energy efficient and quiet in operation.",
    "Includes a travel pouch and spare parts.",
    "Designed in collaboration with experts.",
    "Available while stocks last.",
)
_START = datetime(2022, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = int((datetime(2025, 1, 1, tzinfo=UTC) - _START).total_seconds())


def products_mapping() -> dict[str, Any]:
    """The Elasticsearch mapping of ``products`` (used by both backends)."""
    return {
        "properties": {
            "name": {"type": "text"},
            "description": {"type": "text"},
            "category": {"type": "keyword"},
            "brand": {"type": "keyword"},
            "price": {"type": "double"},
            "in_stock": {"type": "boolean"},
            "rating": {"type": "double"},
            "created_at": {"type": "date"},
        }
    }


def generate_products(
    count: int = SAMPLE_COUNT, seed: int = SAMPLE_SEED
) -> Iterator[dict[str, Any]]:
    """``count`` product documents with ids ``p00001``, ``p00002``, ... (deterministic)."""
    if count < 0:
        raise ValueError("count must not be negative")
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
    categories = sorted(_CATEGORIES)
    width = max(5, len(str(count)))
    for number in range(1, count + 1):
        category = rng.choice(categories)
        nouns, typical = _CATEGORIES[category]
        noun = rng.choice(nouns)
        adjective = rng.choice(_ADJECTIVES)
        colour = rng.choice(_COLOURS)
        material = rng.choice(_MATERIALS)
        brand = rng.choice(_BRANDS)
        price = round(min(max(rng.lognormvariate(0, 0.6) * typical, 1.0), 2_500.0), 2)
        rating = round(min(5.0, max(1.0, rng.gauss(3.9, 0.7))), 1)
        created = _START + timedelta(seconds=rng.randrange(_SPAN_SECONDS))
        description = (
            f"A {adjective} {colour} {noun} made of {material} for {rng.choice(_USES)}. "
            f"{rng.choice(_FEATURES)}"
        )
        yield {
            "_id": f"p{number:0{width}d}",
            "name": f"{brand} {adjective} {noun}",
            "description": description,
            "category": category,
            "brand": brand,
            "price": price,
            "in_stock": rng.random() < 0.75,
            "rating": rating,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
