"""An in-memory query cache (with what operators see of it: entries, hits and misses)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from datetime import datetime

from airgap.domain.model.caching import CachedResult, CachePolicy, HitsServed, HotQuery
from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.operations import Page
from airgap.ports.cache_admin import CacheUsage

MAX_PAGE = 500


class MemoryQueryCache:
    """Entries by key, expired lazily; a hit is counted and may extend a hot entry."""

    def __init__(self, policy: CachePolicy | None = None) -> None:
        self._policy = policy or CachePolicy()
        self._entries: dict[str, CachedResult] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._served: dict[str, HitsServed] = {}  # hits not yet drained, by key

    def get(self, key: str, now: datetime) -> CachedResult | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._misses += 1
                return None
            if not entry.fresh_at(now):
                del self._entries[key]
                self._misses += 1
                return None
            entry.record_hit(now, self._policy)
            self._hits += 1
            served = self._served.get(key)
            self._served[key] = HitsServed(
                (served.count if served else 0) + 1,
                max(served.last_hit_at, now) if served else now,
            )
            return copy.deepcopy(entry)

    def drain_hits(self) -> dict[str, HitsServed]:
        with self._lock:
            served, self._served = self._served, {}
            return served

    def add_hits(self, hits: Mapping[str, HitsServed]) -> int:
        with self._lock:
            counted = 0
            for key, served in hits.items():
                entry = self._entries.get(key)
                if entry is None:
                    continue
                entry.hit_count += served.count
                if entry.last_hit_at is None or entry.last_hit_at < served.last_hit_at:
                    entry.last_hit_at = served.last_hit_at
                counted += 1
            return counted

    def delete_expired(self, now: datetime) -> int:
        with self._lock:
            stale = [k for k, e in self._entries.items() if not e.fresh_at(now)]
            for k in stale:
                del self._entries[k]
            return len(stale)

    def hot_queries(self, now: datetime, limit: int = 20) -> list[HotQuery]:
        with self._lock:
            fresh = [e for e in self._entries.values() if e.fresh_at(now) and e.hit_count > 0]
        fresh.sort(key=lambda e: e.key)
        fresh.sort(key=lambda e: (e.hit_count, e.last_hit_at or e.stored_at), reverse=True)
        return [
            HotQuery(e.key, e.index, e.hit_count, e.last_hit_at, e.expires_at, e.has_aggregations)
            for e in fresh[:limit]
        ]

    def put(self, entry: CachedResult) -> None:
        with self._lock:
            self._entries[entry.key] = copy.deepcopy(entry)

    def invalidate(self, key: str) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def invalidate_index(self, index: str) -> int:
        with self._lock:
            keys = [k for k, e in self._entries.items() if e.index == index]
            for k in keys:
                del self._entries[k]
            return len(keys)

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count

    # --- QueryCacheInspector -------------------------------------------------------------------

    def _fresh(self, now: datetime) -> list[CachedResult]:
        return [e for e in self._entries.values() if e.fresh_at(now)]

    def entries(
        self, now: datetime, *, index: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[CachedResult]:
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValidationFailed(f"limit must be 1 to {MAX_PAGE} and offset at least 0")
        with self._lock:
            rows = [e for e in self._fresh(now) if index is None or e.index == index]
            rows.sort(key=lambda e: (-e.hit_count, e.key))
            page = tuple(copy.deepcopy(e) for e in rows[offset : offset + limit])
        return Page(page, len(rows), limit, offset)

    def peek(self, key: str, now: datetime) -> CachedResult | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.fresh_at(now):
                return None
            return copy.deepcopy(entry)

    def usage(self, now: datetime) -> CacheUsage:
        with self._lock:
            fresh = self._fresh(now)
            size = sum(len(json.dumps(e.result_data, default=str)) for e in fresh)
            return CacheUsage(len(fresh), size, self._hits, self._misses)
