"""What operators see of the query cache: its entries and its use. The cache itself is
:class:`~airgap.ports.cache.QueryCache`; an adapter implements both."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import attrs

from airgap.domain.model.caching import CachedResult
from airgap.domain.model.operations import Page


@attrs.frozen
class CacheUsage:
    """Entries held and their approximate size; ``hits``/``misses`` since the cache started
    counting (None when the adapter does not count)."""

    entries: int
    approx_bytes: int | None
    hits: int | None = None
    misses: int | None = None


class QueryCacheInspector(Protocol):
    def entries(
        self, now: datetime, *, index: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[CachedResult]:
        """Fresh entries, most hit first. Reading them counts no hit."""
        ...

    def peek(self, key: str, now: datetime) -> CachedResult | None:
        """A fresh entry without counting a hit."""
        ...

    def usage(self, now: datetime) -> CacheUsage: ...
