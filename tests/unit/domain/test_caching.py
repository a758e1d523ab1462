"""Query-cache policy (SPEC §8): one key for equivalent queries, TTL classes, hot entries, and
the canonical JSON the key is built on."""

from __future__ import annotations

import hashlib
import math
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgap.domain.model.caching import (
    TEMPLATE_KEYS,
    CachedResult,
    CachePolicy,
    TtlClass,
    cache_key,
)
from airgap.domain.model.canonical import (
    canonical_json,
    canonical_sha256,
    is_finite_json_number,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
POLICY = CachePolicy()
MIN = timedelta(minutes=1)

# --- canonical JSON -------------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == '{"a":[1,{"c":3,"d":2}],"b":1}'


def test_canonical_json_keeps_unicode_and_float_spelling() -> None:
    assert canonical_json({"q": "سلام"}) == '{"q":"سلام"}'
    assert canonical_json(1) != canonical_json(1.0)
    assert canonical_json(True) != canonical_json(1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_canonical_json_refuses_non_finite_numbers(bad: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        canonical_json({"x": bad})


def test_canonical_sha256_is_the_hex_digest_of_the_canonical_text() -> None:
    value = {"b": "ü", "a": 1}
    expected = hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
    assert canonical_sha256(value) == expected
    assert canonical_sha256({"a": 1, "b": "ü"}) == expected


@pytest.mark.parametrize(
    ("value", "finite"),
    [(1, True), (-3, True), (1.5, True), (math.inf, False), (math.nan, False), (True, False)],
)
def test_is_finite_json_number(value: object, finite: bool) -> None:
    assert is_finite_json_number(value) is finite


def test_is_finite_json_number_refuses_non_numbers() -> None:
    assert not is_finite_json_number("1")
    assert not is_finite_json_number(None)


# --- cache key ------------------------------------------------------------------------------

TEMPLATE: dict[str, Any] = {
    "index": "products",
    "query": {"bool": {"must": [{"match": {"name": "lamp"}}], "filter": [{"term": {"a": 1}}]}},
    "size": 10,
    "from": 0,
    "sort": [{"price": "asc"}, {"_score": "desc"}],
    "_source": ["name", "price"],
}


def test_cache_key_shape() -> None:
    key = cache_key(TEMPLATE)
    assert key.startswith("q:")
    assert len(key) == 2 + 64
    assert all(c in string.hexdigits for c in key[2:])


def test_cache_key_ignores_keys_outside_the_template() -> None:
    noisy = {**TEMPLATE, "user_id": "bob", "priority": 9, "max_age_seconds": 60}
    assert cache_key(noisy) == cache_key(TEMPLATE)


def test_cache_key_ignores_key_order() -> None:
    reordered = {
        "_source": ["name", "price"],
        "sort": [{"price": "asc"}, {"_score": "desc"}],
        "query": {"bool": {"filter": [{"term": {"a": 1}}], "must": [{"match": {"name": "lamp"}}]}},
        "from": 0,
        "size": 10,
        "index": "products",
    }
    assert cache_key(reordered) == cache_key(TEMPLATE)


@pytest.mark.parametrize(
    "change",
    [
        {"index": "logs-2025"},
        {"size": 11},
        {"from": 10},
        {"sort": [{"_score": "desc"}, {"price": "asc"}]},  # sort order matters
        {"_source": ["price", "name"]},
        {"size": 10.0},  # Elasticsearch sees 10 and 10.0 differently
        {"aggs": {"by_brand": {"terms": {"field": "brand"}}}},
    ],
)
def test_cache_key_changes_with_any_template_value(change: dict[str, Any]) -> None:
    assert cache_key({**TEMPLATE, **change}) != cache_key(TEMPLATE)


def test_cache_key_covers_exactly_the_template_keys() -> None:
    assert set(TEMPLATE_KEYS) == {"index", "query", "aggs", "size", "from", "sort", "_source"}


# Property: equivalent templates share a key; different templates never do.

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)
templates = st.dictionaries(
    st.sampled_from([*TEMPLATE_KEYS, "user", "note", "priority"]), json_value, max_size=8
)


def shuffled(value: Any, rng: random.Random) -> Any:
    """The same JSON value with every object's keys in a random insertion order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [shuffled(v, rng) for v in value]
    return value


def same_json(a: Any, b: Any) -> bool:
    """Strict JSON equality: 1, 1.0 and True are three different values; so are 0.0 and -0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return bool(a.keys() == b.keys()) and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a.hex() == b.hex()
    return bool(a == b)


def template_part(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in template.items() if k in TEMPLATE_KEYS}


@settings(max_examples=100, deadline=None)
@given(templates, st.randoms(use_true_random=False))
def test_reordered_templates_share_a_key(template: dict[str, Any], rng: random.Random) -> None:
    assert cache_key(shuffled(template, rng)) == cache_key(template)


@settings(max_examples=100, deadline=None)
@given(templates, templates)
def test_different_templates_get_different_keys(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert (cache_key(a) == cache_key(b)) == same_json(template_part(a), template_part(b))


@settings(max_examples=100, deadline=None)
@given(templates, st.sampled_from(TEMPLATE_KEYS), json_value)
def test_changing_one_template_value_changes_the_key(
    template: dict[str, Any], key: str, value: Any
) -> None:
    changed = {**template, key: value}
    if key in template and same_json(template[key], value):
        assert cache_key(changed) == cache_key(template)
    else:
        assert cache_key(changed) != cache_key(template)


# --- TTL classes ----------------------------------------------------------------------------


def test_default_ttls_and_threshold() -> None:
    assert POLICY.normal_ttl == timedelta(minutes=5)
    assert POLICY.aggregation_ttl == timedelta(minutes=30)
    assert POLICY.hot_ttl == timedelta(minutes=15)
    assert POLICY.hot_threshold == 10


@pytest.mark.parametrize(
    ("aggs", "hits", "cls", "minutes"),
    [
        (False, 0, TtlClass.NORMAL, 5),
        (False, 9, TtlClass.NORMAL, 5),
        (False, 10, TtlClass.HOT, 15),
        (False, 500, TtlClass.HOT, 15),
        (True, 0, TtlClass.AGGREGATION, 30),
        (True, 10, TtlClass.AGGREGATION, 30),  # hot aggregations keep the longer life
        (True, 10_000, TtlClass.AGGREGATION, 30),
    ],
)
def test_ttl_classes(aggs: bool, hits: int, cls: TtlClass, minutes: int) -> None:
    assert POLICY.ttl_class(has_aggregations=aggs, hit_count=hits) is cls
    assert POLICY.ttl(has_aggregations=aggs, hit_count=hits) == timedelta(minutes=minutes)


def test_a_configured_policy_is_honoured() -> None:
    policy = CachePolicy(
        normal_ttl=timedelta(seconds=10),
        aggregation_ttl=timedelta(seconds=20),
        hot_ttl=timedelta(seconds=40),
        hot_threshold=2,
    )
    assert policy.ttl(has_aggregations=False, hit_count=1) == timedelta(seconds=10)
    assert policy.ttl(has_aggregations=False, hit_count=2) == timedelta(seconds=40)
    assert policy.ttl(has_aggregations=True, hit_count=2) == timedelta(seconds=20)


# --- cached entries -------------------------------------------------------------------------


def entry(*, aggs: bool = False, hits: int = 0, policy: CachePolicy = POLICY) -> CachedResult:
    ttl = policy.ttl(has_aggregations=aggs, hit_count=hits)
    return CachedResult(
        key=cache_key(TEMPLATE),
        index="products",
        result_data={"hits": {"total": {"value": 1}, "hits": []}},
        result_count=1,
        took_ms=3,
        stored_at=T0,
        expires_at=T0 + ttl,
        has_aggregations=aggs,
        hit_count=hits,
    )


def test_fresh_until_the_expiry_instant() -> None:
    e = entry()
    assert e.fresh_at(T0)
    assert e.fresh_at(T0 + 5 * MIN - timedelta(microseconds=1))
    assert not e.fresh_at(T0 + 5 * MIN)


def test_record_hit_counts_and_remembers_when() -> None:
    e = entry()
    e.record_hit(T0 + MIN, POLICY)
    e.record_hit(T0 + 2 * MIN, POLICY)
    assert e.hit_count == 2
    assert e.last_hit_at == T0 + 2 * MIN


def test_an_entry_that_turns_hot_lives_longer() -> None:
    e = entry(hits=POLICY.hot_threshold - 1)
    assert e.expires_at == T0 + 5 * MIN
    e.record_hit(T0 + MIN, POLICY)
    assert e.hit_count == POLICY.hot_threshold
    assert e.expires_at >= T0 + 15 * MIN
    assert e.fresh_at(T0 + 10 * MIN)


def test_a_hit_never_shortens_an_aggregation_entry() -> None:
    e = entry(aggs=True)
    for minute in range(1, 20):
        e.record_hit(T0 + minute * MIN, POLICY)
        assert e.expires_at >= T0 + 30 * MIN


def test_a_hit_never_shortens_an_entry_stored_with_a_long_ttl() -> None:
    e = entry()
    e.expires_at = T0 + timedelta(hours=2)
    e.record_hit(T0 + MIN, POLICY)
    assert e.expires_at == T0 + timedelta(hours=2)


@pytest.mark.parametrize("aggs", [False, True], ids=["normal", "aggregation"])
def test_a_popular_entry_still_expires(aggs: bool) -> None:
    # Read every 30 s for two hours, the way a cache lookup would (only while fresh). A normal
    # entry turns hot within its first 5 minutes and may then live 15 minutes from that
    # moment; an aggregation lives 30 minutes. Neither may be served for two hours.
    e = entry(aggs=aggs)
    bound = POLICY.aggregation_ttl if aggs else POLICY.normal_ttl + POLICY.hot_ttl
    last_fresh = T0
    for tick in range(240):
        now = T0 + tick * timedelta(seconds=30)
        if e.fresh_at(now):
            e.record_hit(now, POLICY)
            last_fresh = now
    assert e.hit_count > POLICY.hot_threshold  # it was popular, and read often
    assert last_fresh < e.stored_at + bound
    assert e.expires_at <= e.stored_at + bound


@settings(max_examples=100, deadline=None)
@given(
    st.booleans(),
    st.integers(min_value=0, max_value=20),
    st.lists(st.integers(min_value=0, max_value=600), max_size=25),
)
def test_hits_never_shorten_an_entry_and_hot_entries_get_the_hot_ttl(
    aggs: bool, initial_hits: int, gaps: list[int]
) -> None:
    e = entry(aggs=aggs, hits=initial_hits)
    now = T0
    for n, gap in enumerate(gaps, start=1):
        now += timedelta(seconds=gap)
        before = e.expires_at
        e.record_hit(now, POLICY)
        assert e.hit_count == initial_hits + n
        assert e.last_hit_at == now
        assert e.expires_at >= before
        if aggs:
            assert e.expires_at >= e.stored_at + POLICY.aggregation_ttl
        elif e.hit_count >= POLICY.hot_threshold:
            assert e.expires_at >= e.stored_at + POLICY.hot_ttl
