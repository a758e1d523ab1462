"""Redis housekeeping for the nightly cleanup.

Redis drops expired keys by itself (lazily, and by sampling). The sweep walks this network's
expiring key families with ``SCAN`` — touching an expired key makes Redis reclaim it at
once — and deletes keys of those families that have no expiry at all: every rate-limit
window and revoked-token key is written with one, so a key without is a leak.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import redis

#: Families written with an expiry (rate-limit windows, revoked tokens).
EXPIRING_FAMILIES = ("airgap:ratelimit:*", "airgap:revoked:*")


@attrs.frozen
class SweepReport:
    scanned: int
    removed: int


class RedisHousekeeping:
    def __init__(self, client: redis.Redis, families: Sequence[str] = EXPIRING_FAMILIES) -> None:
        self._client = client
        self._families = tuple(families)

    def sweep(self, *, batch: int = 1000) -> SweepReport:
        scanned = removed = 0
        for family in self._families:
            for key in self._client.scan_iter(match=family, count=batch):
                scanned += 1
                if self._client.ttl(key) == -1:  # -1: no expiry; -2: gone meanwhile
                    removed += int(self._client.delete(key))
        return SweepReport(scanned, removed)
