"""Revoked token ids in Redis, each kept only until its token would have expired."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import redis


class RedisTokenDenyList:
    def __init__(self, client: redis.Redis, *, prefix: str = "airgap:revoked") -> None:
        self._client = client
        self._prefix = prefix

    def revoke(self, token_id: str, until: datetime) -> None:
        seconds = math.ceil((until - datetime.now(UTC)).total_seconds())
        # A token already past its expiry needs no entry; keep a short one anyway so a
        # clock disagreement between processes cannot reopen it.
        self._client.set(f"{self._prefix}:{token_id}", "1", ex=max(seconds, 60))

    def is_revoked(self, token_id: str) -> bool:
        return bool(self._client.exists(f"{self._prefix}:{token_id}"))
