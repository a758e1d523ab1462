"""The answer of a search backend, in Elasticsearch's response shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen
class SearchResult:
    """``body`` is Elasticsearch-shaped: ``{"hits": {"total": {"value", "relation"},
    "hits": [{"_id", "_score", "_source"}]}, "aggregations": {...}, "took": ms}``."""

    body: Mapping[str, Any]
    took_ms: int
    total: int

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> SearchResult:
        hits = body.get("hits") or {}
        total = hits.get("total") or {}
        value = total.get("value", 0) if isinstance(total, Mapping) else int(total)
        return cls(body=body, took_ms=int(body.get("took", 0)), total=int(value))
