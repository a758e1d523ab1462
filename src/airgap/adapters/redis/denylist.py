"""Revoked tokens in Redis, each entry kept only until its tokens would have expired: one key
per revoked token id, and one per user whose tokens issued before a cut-off are revoked
(a password change). A check reads both in one round trip."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import redis


class RedisTokenDenyList:
    def __init__(self, client: redis.Redis, *, prefix: str = "airgap:revoked") -> None:
        self._client = client
        self._prefix = prefix

    def revoke(self, token_id: str, until: datetime) -> None:
        self._client.set(f"{self._prefix}:{token_id}", "1", ex=_seconds_until(until))

    def revoke_user(self, user_id: str, issued_before: datetime, until: datetime) -> None:
        self._client.set(
            f"{self._prefix}:user:{user_id}",
            repr(issued_before.timestamp()),
            ex=_seconds_until(until),
        )

    def is_revoked(self, token_id: str, user_id: str, issued_at: datetime) -> bool:
        own, cutoff = self._client.mget(
            f"{self._prefix}:{token_id}", f"{self._prefix}:user:{user_id}"
        )
        if own is not None:
            return True
        return cutoff is not None and issued_at.timestamp() < float(cutoff)


def _seconds_until(until: datetime) -> int:
    # An entry already past its expiry is not needed; keep a short one anyway so a clock
    # disagreement between processes cannot reopen what it revoked.
    return max(math.ceil((until - datetime.now(UTC)).total_seconds()), 60)
