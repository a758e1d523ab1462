"""The export guard: what of an answer may leave the response network (SPEC §4)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airgap.domain.model.export_guard import (
    MIN_RESULT_BYTES,
    ExportGuard,
    ExportGuardInvalid,
    GuardReport,
    IndexGuard,
)


def answer(*sources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "took": 3,
        "timed_out": False,
        "hits": {
            "total": {"value": len(sources), "relation": "eq"},
            "max_score": 1.0,
            "hits": [
                {"_index": "products", "_id": str(n), "_score": 1.0, "_source": s}
                for n, s in enumerate(sources, 1)
            ],
        },
        **extra,
    }


def sources(body: Any) -> list[Any]:
    return [h["_source"] for h in body["hits"]["hits"]]


def size(body: Any) -> int:
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


PRODUCTS = ExportGuard(
    {
        "products": IndexGuard(
            drop_fields=("internal_notes", "supplier.cost"),
            mask_fields={"supplier_email": "***"},
        )
    }
)


def test_drops_and_masks_fields_in_every_hit_and_counts_them() -> None:
    body = answer(
        {"name": "kettle", "internal_notes": "x", "supplier_email": "a@b", "price": 1},
        {"name": "toaster", "supplier_email": "c@d", "supplier": {"cost": 3, "name": "s"}},
    )
    original = copy.deepcopy(body)

    guarded = PRODUCTS.apply("products", body)

    assert sources(guarded.body) == [
        {"name": "kettle", "supplier_email": "***", "price": 1},
        {"name": "toaster", "supplier_email": "***", "supplier": {"name": "s"}},
    ]
    assert guarded.report == GuardReport(dropped_fields=2, masked_fields=2)
    assert guarded.report.metadata() == {
        "export_guard": {
            "dropped_fields": 2,
            "masked_fields": 2,
            "hits_removed": 0,
            "truncated": False,
            "dropped_aggregations": 0,
        }
    }
    assert body == original  # the caller's body is never changed


def test_dotted_keys_arrays_of_objects_and_wildcards_are_covered() -> None:
    guard = ExportGuard(default=IndexGuard(drop_fields=("supplier.cost", "*.secret")))
    body = answer(
        {"supplier.cost": 1, "supplier": [{"cost": 2, "id": 1}, {"cost": 3}], "ok": 1},
        {"a": {"secret": 1, "b": 2}, "c": [{"secret": 1}], "d.secret": 5, "secret": 9},
    )

    guarded = ExportGuard.apply(guard, "anything", body)

    assert sources(guarded.body) == [
        {"supplier": [{"id": 1}, {}], "ok": 1},
        {"a": {"b": 2}, "c": [{}], "secret": 9},
    ]
    assert guarded.report is not None
    assert guarded.report.dropped_fields == 6


def test_an_index_without_a_policy_passes_untouched_without_metadata() -> None:
    body = answer({"internal_notes": "x"})
    guarded = PRODUCTS.apply("orders", body)
    assert guarded.body is body
    assert guarded.report is None


def test_aggregations_and_sort_values_on_guarded_fields_are_removed() -> None:
    query = {
        "sort": [{"supplier_email.keyword": "asc"}],
        "aggs": {
            "emails": {"terms": {"field": "supplier_email"}},
            "brands": {
                "terms": {"field": "brand"},
                "aggs": {"notes": {"cardinality": {"field": "internal_notes"}}},
            },
        },
    }
    body = answer(
        {"name": "kettle"},
        aggregations={
            "emails": {"buckets": [{"key": "a@b", "doc_count": 1}]},
            "brands": {"buckets": [{"key": "acme", "doc_count": 1, "notes": {"value": 1}}]},
        },
    )
    body["hits"]["hits"][0]["sort"] = ["a@b"]

    guarded = PRODUCTS.apply("products", body, query)

    assert guarded.body["aggregations"] == {
        "brands": {"buckets": [{"key": "acme", "doc_count": 1}]}
    }
    assert "sort" not in guarded.body["hits"]["hits"][0]
    assert guarded.report == GuardReport(dropped_fields=1, dropped_aggregations=2)


def test_max_hits_keeps_the_first_hits_and_the_total() -> None:
    guard = ExportGuard(default=IndexGuard(max_hits=2))
    guarded = guard.apply("products", answer(*({"n": n} for n in range(5))))
    assert sources(guarded.body) == [{"n": 0}, {"n": 1}]
    assert guarded.body["hits"]["total"] == {"value": 5, "relation": "eq"}
    assert guarded.report == GuardReport(hits_removed=3)


def test_the_byte_cap_removes_hits_from_the_end_then_aggregations() -> None:
    guard = ExportGuard(default=IndexGuard(max_result_bytes=MIN_RESULT_BYTES))
    body = answer(*({"text": "x" * 100, "n": n} for n in range(20)))
    guarded = guard.apply("products", body)
    kept = sources(guarded.body)
    assert size(guarded.body) <= MIN_RESULT_BYTES
    assert kept == [{"text": "x" * 100, "n": n} for n in range(len(kept))]
    assert 0 < len(kept) < 20
    assert guarded.report == GuardReport(hits_removed=20 - len(kept), truncated=True)

    huge_aggs = answer({"n": 1}, aggregations={"a": {"value": "y" * 5000}})
    guarded = guard.apply("products", huge_aggs)
    assert "aggregations" not in guarded.body
    assert sources(guarded.body) == []
    assert guarded.report == GuardReport(hits_removed=1, truncated=True, dropped_aggregations=1)


# --- properties ------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "secret", "x.y", "a.secret", "notes"])
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30))
SOURCE = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=8,
)
PATHS = st.lists(
    st.lists(st.sampled_from(["a", "b", "secret", "x", "y", "*"]), min_size=1, max_size=3).map(
        ".".join
    ),
    min_size=1,
    max_size=3,
    unique=True,
)


def field_paths(node: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every field path in a source as Elasticsearch reads it: dotted keys split, arrays
    looked through."""
    if isinstance(node, list):
        for item in node:
            yield from field_paths(item, prefix)
    elif isinstance(node, dict):
        for key, value in node.items():
            path = prefix + tuple(key.split("."))
            yield path
            yield from field_paths(value, path)


def matches(pattern: str, path: tuple[str, ...]) -> bool:
    parts = pattern.split(".")
    return len(path) >= len(parts) and all(p in ("*", k) for p, k in zip(parts, path, strict=False))


@given(st.lists(st.dictionaries(KEYS, SOURCE, max_size=5), max_size=6), PATHS)
def test_no_dropped_field_survives_at_any_depth(
    docs: list[dict[str, Any]], drops: list[str]
) -> None:
    guard = ExportGuard(default=IndexGuard(drop_fields=tuple(drops)))
    guarded = guard.apply("products", answer(*docs))
    for source in sources(guarded.body):
        for path in field_paths(source):
            assert not any(matches(d, path) for d in drops), (path, drops)


@given(st.lists(st.dictionaries(KEYS, SOURCE, max_size=5), max_size=6), PATHS)
def test_masked_fields_hold_only_the_mask(docs: list[dict[str, Any]], masks: list[str]) -> None:
    guard = ExportGuard(default=IndexGuard(mask_fields=dict.fromkeys(masks, "***")))
    guarded = guard.apply("products", answer(*docs))

    def check(node: Any, prefix: tuple[str, ...] = ()) -> None:
        if isinstance(node, list):
            for item in node:
                check(item, prefix)
        elif isinstance(node, dict):
            for key, value in node.items():
                path = prefix + tuple(key.split("."))
                if any(matches(m, path) for m in masks):
                    assert value == "***", (path, value)
                else:
                    check(value, path)

    for source in sources(guarded.body):
        check(source)


@given(
    st.lists(st.dictionaries(KEYS, SOURCE, max_size=4), max_size=20),
    st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    st.one_of(st.none(), st.integers(min_value=MIN_RESULT_BYTES, max_value=8 * MIN_RESULT_BYTES)),
    st.booleans(),
)
def test_caps_are_respected(
    docs: list[dict[str, Any]], max_hits: int | None, max_bytes: int | None, with_aggs: bool
) -> None:
    guard = ExportGuard(default=IndexGuard(max_hits=max_hits, max_result_bytes=max_bytes))
    extra = {"aggregations": {"big": {"value": "z" * 3000}}} if with_aggs else {}
    body = answer(*docs, **extra)

    guarded = guard.apply("products", body)
    kept = guarded.body["hits"]["hits"] if "hits" in guarded.body else []

    if max_hits is not None:
        assert len(kept) <= max_hits
    if max_bytes is not None:
        assert size(guarded.body) <= max_bytes
    report = guarded.report
    if report is None:
        assert max_hits is None and max_bytes is None
        return
    assert len(kept) + report.hits_removed == len(docs)
    assert kept == body["hits"]["hits"][: len(kept)]  # the first hits, unchanged
    assert report.truncated == (
        max_bytes is not None
        and size(ExportGuard(default=IndexGuard(max_hits=max_hits)).apply("products", body).body)
        > max_bytes
    )


# --- configuration ---------------------------------------------------------------------------


def test_configuration_index_entries_inherit_what_they_leave_out() -> None:
    guard = ExportGuard.from_mapping(
        {
            "indices": {
                "products": {
                    "drop_fields": ["internal_notes"],
                    "mask_fields": {"supplier_email": "***"},
                    "max_hits": 100,
                }
            },
            "default": {"max_result_bytes": 1048576, "drop_fields": ["secret"]},
        }
    )
    assert guard.for_index("products") == IndexGuard(
        drop_fields=("internal_notes",),
        mask_fields={"supplier_email": "***"},
        max_hits=100,
        max_result_bytes=1048576,
    )
    assert guard.for_index("orders") == IndexGuard(
        drop_fields=("secret",), max_result_bytes=1048576
    )
    assert ExportGuard.from_mapping({}) == ExportGuard()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([], "must be an object, not a list"),
        ({"indexes": {}}, "indexes: unknown key (expected one of indices, default)"),
        ({"indices": {"products": {"drop": []}}}, "indices.products.drop: unknown key"),
        ({"indices": {"products": []}}, "indices.products: must be an object, not a list"),
        (
            {"indices": {"products": {"drop_fields": "notes"}}},
            "indices.products.drop_fields: must be a list, not a string",
        ),
        (
            {"indices": {"products": {"drop_fields": ["a..b"]}}},
            "indices.products.drop_fields[0]: 'a..b' is not a field path",
        ),
        (
            {"default": {"mask_fields": ["a"]}},
            "default.mask_fields: must be an object, not a list",
        ),
        (
            {"default": {"max_hits": "ten"}},
            "default.max_hits: must be a whole number or null, not a string",
        ),
        ({"default": {"max_hits": True}}, "default.max_hits: must be a whole number or null"),
        ({"default": {"max_hits": -1}}, "default.max_hits: must be at least 0"),
        (
            {"default": {"max_result_bytes": 10}},
            f"default.max_result_bytes: must be at least {MIN_RESULT_BYTES}",
        ),
        (
            {"indices": {"p": {"drop_fields": ["a"], "mask_fields": {"a": "*"}}}},
            "indices.p: field 'a' is both dropped and masked",
        ),
        ({"indices": {"": {}}}, "indices: an index name must not be empty"),
    ],
)
def test_configuration_errors_name_the_problem(config: object, message: str) -> None:
    with pytest.raises(ExportGuardInvalid) as raised:
        ExportGuard.from_mapping(config)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
