"""Properties of the embedded engine, checked by hypothesis.

* A ``bool`` of filters returns exactly the set algebra of its parts: ``filter`` the
  intersection, ``should`` the union, ``must_not`` the complement — and each part returns
  what a plain Python reading of the query says it should.
* ``from``/``size`` paging over a sorted query never skips or repeats a document, whatever
  the page size, the ties and the missing values.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from airgap.adapters.tantivy import EmbeddedIndex, TantivySearchBackend

MAPPING = {
    "properties": {
        "k": {"type": "keyword"},
        "n": {"type": "long"},
        "f": {"type": "double"},
        "b": {"type": "boolean"},
        "t": {"type": "text"},
    }
}
KEYS = ["a", "b", "ab", "ba", "abc", "c"]
WORDS = ["red", "blue", "green", "kettle", "lamp"]


def _random_documents(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    docs = []
    for number in range(count):
        doc: dict[str, Any] = {"_id": f"d{number}"}
        if rng.random() < 0.9:
            doc["k"] = rng.choice(KEYS)
        if rng.random() < 0.85:
            doc["n"] = rng.randint(-5, 5)
        if rng.random() < 0.8:
            doc["f"] = rng.choice([-2.5, -1.0, 0.0, 0.5, 1.0, 2.25, 3.5])
        if rng.random() < 0.8:
            doc["b"] = rng.random() < 0.5
        if rng.random() < 0.9:
            doc["t"] = " ".join(rng.choices(WORDS, k=rng.randint(1, 3)))
        docs.append(doc)
    return docs


DOCUMENTS = _random_documents(160, seed=7)
ALL = frozenset(d["_id"] for d in DOCUMENTS)
BACKEND = TantivySearchBackend([EmbeddedIndex.build("props", MAPPING, DOCUMENTS)])

Predicate = Callable[[Mapping[str, Any]], bool]


def matching(predicate: Predicate) -> frozenset[str]:
    return frozenset(d["_id"] for d in DOCUMENTS if predicate(d))


def engine(query: Mapping[str, Any]) -> frozenset[str]:
    body = BACKEND.search("props", {"query": query, "size": 1000, "_source": False}, timeout_s=5)
    found = [hit["_id"] for hit in body.body["hits"]["hits"]]
    assert len(found) == len(set(found)) == body.total
    return frozenset(found)


def _compare(value: Any, op: str, bound: Any) -> bool:
    if value is None:
        return False
    return {
        "gt": value > bound,
        "gte": value >= bound,
        "lt": value < bound,
        "lte": value <= bound,
    }[op]


@st.composite
def leaves(draw: st.DrawFn) -> tuple[dict[str, Any], Predicate]:
    """A leaf clause and the Python predicate that says which documents it matches."""
    kind = draw(st.sampled_from(["term", "terms", "range", "exists", "prefix", "bool", "match"]))
    if kind == "term":
        key = draw(st.sampled_from(KEYS))
        return {"term": {"k": key}}, lambda d: d.get("k") == key
    if kind == "terms":
        values = draw(st.lists(st.integers(-6, 6), min_size=1, max_size=3))
        return {"terms": {"n": values}}, lambda d: d.get("n") in values
    if kind == "range":
        field = draw(st.sampled_from(["n", "f"]))
        bounds = draw(
            st.dictionaries(
                st.sampled_from(["gt", "gte", "lt", "lte"]),
                st.sampled_from([-3, -1, 0, 0.5, 1, 2, 4]),
                min_size=1,
                max_size=2,
            )
        )

        def in_range(d: Mapping[str, Any]) -> bool:
            return all(_compare(d.get(field), op, b) for op, b in bounds.items())

        # A decimal bound on the long field n rounds the way Elasticsearch rounds it, which
        # selects the same integers as the plain comparison.
        return {"range": {field: bounds}}, in_range
    if kind == "exists":
        field = draw(st.sampled_from(["k", "n", "f", "b", "t"]))
        return {"exists": {"field": field}}, lambda d: field in d
    if kind == "prefix":
        prefix = draw(st.sampled_from(["a", "ab", "b", "c", "x"]))
        return {"prefix": {"k": prefix}}, lambda d: str(d.get("k", "\0")).startswith(prefix)
    if kind == "bool":
        truth = draw(st.booleans())
        return {"term": {"b": truth}}, lambda d: d.get("b") is truth
    word = draw(st.sampled_from(WORDS))
    return {"match": {"t": word}}, lambda d: word in str(d.get("t", "")).split()


def trees(depth: int = 2) -> st.SearchStrategy[tuple[dict[str, Any], Predicate]]:
    """Nested bools over the leaves, each with its predicate."""
    if depth == 0:
        return leaves()
    child = trees(depth - 1)

    @st.composite
    def compound(draw: st.DrawFn) -> tuple[dict[str, Any], Predicate]:
        occur = draw(st.sampled_from(["filter", "should", "must_not", "must"]))
        parts = draw(st.lists(st.one_of(leaves(), child), min_size=1, max_size=3))
        queries = [q for q, _ in parts]
        predicates = [p for _, p in parts]
        if occur in {"filter", "must"}:
            return {"bool": {occur: queries}}, lambda d: all(p(d) for p in predicates)
        if occur == "should":
            return {"bool": {"should": queries}}, lambda d: any(p(d) for p in predicates)
        return {"bool": {"must_not": queries}}, lambda d: not any(p(d) for p in predicates)

    return st.one_of(leaves(), compound())


@given(st.lists(leaves(), min_size=1, max_size=4))
def test_bool_of_filters_is_the_set_algebra_of_its_parts(parts: list[Any]) -> None:
    queries = [q for q, _ in parts]
    singles = [engine(q) for q in queries]
    for (_, predicate), found in zip(parts, singles, strict=True):
        assert found == matching(predicate)
    assert engine({"bool": {"filter": queries}}) == frozenset.intersection(*singles)
    assert engine({"bool": {"should": queries}}) == frozenset.union(*singles)
    assert engine({"bool": {"must_not": queries}}) == ALL - frozenset.union(*singles)
    assert engine({"bool": {"filter": queries[:1], "must_not": queries[1:]}}) == (
        singles[0] - frozenset.union(frozenset(), *singles[1:])
    )


@given(trees())
def test_nested_bools_match_their_reading(tree: tuple[dict[str, Any], Predicate]) -> None:
    query, predicate = tree
    assert engine(query) == matching(predicate)


@given(st.lists(leaves(), min_size=2, max_size=4), st.integers(0, 5))
def test_minimum_should_match_counts_matching_parts(parts: list[Any], wanted: int) -> None:
    queries = [q for q, _ in parts]
    found = engine({"bool": {"should": queries, "minimum_should_match": wanted}})
    # Elasticsearch: at least max(wanted, 1) parts when there is nothing but should clauses.
    least = max(wanted, 1)
    expected = matching(lambda d: sum(p(d) for _, p in parts) >= least)
    assert found == (expected if wanted <= len(parts) else frozenset())


documents = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "k": st.sampled_from(KEYS),
            "n": st.integers(-3, 3),
            "f": st.sampled_from([-1.5, 0.0, 0.25, 2.0]),
            "t": st.sampled_from(["red", "red red", "red lamp", "blue"]),
        },
    ),
    min_size=0,
    max_size=30,
)
sorts = st.sampled_from(
    [
        [{"n": "asc"}],
        [{"n": "desc"}],
        [{"k": "asc"}],
        [{"f": {"order": "desc", "missing": "_first"}}],
        [{"f": {"order": "asc", "missing": -100}}],
        [{"n": "asc"}, {"k": "desc"}],
        ["_doc"],
        [{"_score": "asc"}],
        None,
    ]
)


@given(documents, sorts, st.integers(1, 7), st.booleans())
def test_paging_never_skips_or_repeats(
    docs: list[dict[str, Any]], sort: list[Any] | None, page: int, match: bool
) -> None:
    indexed = [{"_id": str(i), **doc} for i, doc in enumerate(docs)]
    backend = TantivySearchBackend([EmbeddedIndex.build("paging", MAPPING, indexed)])
    query = {"match": {"t": "red"}} if match else {"match_all": {}}
    base: dict[str, Any] = {"query": query, "_source": False}
    if sort is not None:
        base["sort"] = sort
    whole = backend.search("paging", {**base, "size": 1000}, timeout_s=5).body
    total = whole["hits"]["total"]["value"]
    everything = [hit["_id"] for hit in whole["hits"]["hits"]]
    assert len(everything) == total
    paged: list[str] = []
    for start in range(0, total + page, page):
        body = backend.search("paging", {**base, "from": start, "size": page}, timeout_s=5).body
        assert body["hits"]["total"]["value"] == total
        paged.extend(hit["_id"] for hit in body["hits"]["hits"])
    assert paged == everything
    assert len(set(paged)) == total
    if sort is not None and isinstance(sort[0], dict) and "n" in sort[0]:
        values = [indexed[int(i)].get("n") for i in paged]
        present = [v for v in values if v is not None]
        ascending = sort[0]["n"] == "asc"
        assert present == sorted(present, reverse=not ascending)
        assert values[len(present) :] == [None] * (len(values) - len(present))
