"""Answers on the request network cached in Redis for an hour (``GET /requests/{id}/response``
is then one key read); PostgreSQL stays the source. Redis trouble reads as a miss."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

import orjson
import redis

from airgap.domain.model.requests import Response
from airgap.ports.response_cache import CachedAnswer

DEFAULT_TTL_S = 3600

log = logging.getLogger(__name__)


def _encode(answer: CachedAnswer) -> bytes:
    r = answer.response
    document = {
        "owner_id": str(answer.owner_id),
        "request_id": str(r.request_id),
        "status": r.status,
        "result_data": r.result_data,
        "result_count": r.result_count,
        "execution_time_ms": r.execution_time_ms,
        "received_at": r.received_at.isoformat(),
        "cache_hit": r.cache_hit,
        "from_cache": r.from_cache,
        "import_batch_id": None if r.import_batch_id is None else str(r.import_batch_id),
        "error": r.error,
        "metadata": dict(r.metadata),
    }
    try:
        return orjson.dumps(document)
    except TypeError:  # integers beyond 64 bits: the standard library writes them exactly
        return json.dumps(document, ensure_ascii=False).encode()


def _decode(raw: bytes) -> CachedAnswer:
    # The standard library's parser keeps integers beyond 64 bits exact (orjson would not).
    d: dict[str, Any] = json.loads(raw)
    batch = d["import_batch_id"]
    return CachedAnswer(
        owner_id=uuid.UUID(d["owner_id"]),
        response=Response(
            request_id=uuid.UUID(d["request_id"]),
            status=d["status"],
            result_data=d["result_data"],
            result_count=d["result_count"],
            execution_time_ms=d["execution_time_ms"],
            received_at=datetime.fromisoformat(d["received_at"]),
            cache_hit=d["cache_hit"],
            from_cache=d["from_cache"],
            import_batch_id=None if batch is None else uuid.UUID(batch),
            error=d["error"],
            metadata=d["metadata"],
        ),
    )


class RedisResponseCache:
    """:class:`~airgap.ports.response_cache.ResponseCache` on Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        ttl_s: int = DEFAULT_TTL_S,
        prefix: str = "airgap:response",
    ) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._prefix = prefix

    def _key(self, request_id: uuid.UUID) -> str:
        return f"{self._prefix}:{request_id}"

    def get(self, request_id: uuid.UUID) -> CachedAnswer | None:
        try:
            raw = self._client.get(self._key(request_id))
        except redis.RedisError as error:
            log.warning("response cache unavailable: %s", error)
            return None
        if not isinstance(raw, bytes):
            return None
        try:
            return _decode(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("dropping an unreadable cached answer for %s", request_id)
            return None

    def put(self, answer: CachedAnswer) -> None:
        try:
            self._client.set(self._key(answer.response.request_id), _encode(answer), ex=self._ttl_s)
        except redis.RedisError as error:
            log.warning("response cache unavailable: %s", error)

    def ttl(self, request_id: uuid.UUID) -> int:
        """Seconds the entry has left (-2: none), for tests and operators."""
        return int(self._client.ttl(self._key(request_id)))
