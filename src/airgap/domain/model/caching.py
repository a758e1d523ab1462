"""Query-cache policy (SPEC §8): one key for equivalent queries, and how long to keep them.

The key is a hash of the canonical JSON of the query template ``{index, query, aggs, size,
from, sort, _source}``, so queries that differ only in key order share an entry.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from airgap.domain.model.canonical import canonical_sha256

TEMPLATE_KEYS = ("index", "query", "aggs", "size", "from", "sort", "_source")


class TtlClass(enum.StrEnum):
    NORMAL = "normal"
    AGGREGATION = "aggregation"
    HOT = "hot"


def cache_key(template: Mapping[str, Any]) -> str:
    """The cache key of a query template; keys outside the template are ignored."""
    subset = {k: template[k] for k in TEMPLATE_KEYS if k in template}
    return f"q:{canonical_sha256(subset)}"


@attrs.frozen
class CachePolicy:
    """TTL classes: aggregations 30 min, normal 5 min, hot (hit count ≥ threshold) 15 min."""

    normal_ttl: timedelta = timedelta(minutes=5)
    aggregation_ttl: timedelta = timedelta(minutes=30)
    hot_ttl: timedelta = timedelta(minutes=15)
    hot_threshold: int = 10

    def ttl_class(self, *, has_aggregations: bool, hit_count: int) -> TtlClass:
        # Aggregations already get the longest life; "hot" lifts only normal queries.
        if has_aggregations:
            return TtlClass.AGGREGATION
        if hit_count >= self.hot_threshold:
            return TtlClass.HOT
        return TtlClass.NORMAL

    def expiry_after_hit(
        self, expires_at: datetime, *, hit_count: int, has_aggregations: bool, now: datetime
    ) -> datetime:
        """The expiry of an entry once its hit number ``hit_count`` is counted at ``now``:
        the hit that reaches the threshold keeps a normal entry for the hot TTL from then."""
        if not has_aggregations and hit_count == self.hot_threshold:
            return max(expires_at, now + self.hot_ttl)
        return expires_at

    def ttl(self, *, has_aggregations: bool, hit_count: int) -> timedelta:
        return {
            TtlClass.NORMAL: self.normal_ttl,
            TtlClass.AGGREGATION: self.aggregation_ttl,
            TtlClass.HOT: self.hot_ttl,
        }[self.ttl_class(has_aggregations=has_aggregations, hit_count=hit_count)]


@attrs.define(slots=False, eq=False)
class CachedResult:
    """A cached search answer."""

    key: str
    index: str
    result_data: Mapping[str, Any]
    result_count: int
    took_ms: int | None
    stored_at: datetime
    expires_at: datetime
    has_aggregations: bool = False
    hit_count: int = 0
    last_hit_at: datetime | None = None

    def fresh_at(self, now: datetime) -> bool:
        return now < self.expires_at

    def record_hit(self, now: datetime, policy: CachePolicy) -> None:
        """Count a hit. A normal query that turns hot (reaches the threshold) is kept for the
        hot TTL from that moment — once: later hits never push the expiry further, so a
        popular entry still expires and is fetched fresh."""
        self.hit_count += 1
        self.last_hit_at = now
        self.expires_at = policy.expiry_after_hit(
            self.expires_at,
            hit_count=self.hit_count,
            has_aggregations=self.has_aggregations,
            now=now,
        )


@attrs.frozen
class HitsServed:
    """Hits a fast tier served on one entry since it last reported them: how many, and the
    latest (so the table behind it can keep its counts, see ``maintain_query_cache``)."""

    count: int
    last_hit_at: datetime


@attrs.frozen
class HotQuery:
    """A cached query and how often it was answered from the cache (maintenance report)."""

    key: str
    index: str
    hit_count: int
    last_hit_at: datetime | None
    expires_at: datetime
    has_aggregations: bool
