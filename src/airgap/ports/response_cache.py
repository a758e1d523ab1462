"""The request network's cache of answers (Redis, an hour), in front of PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Protocol

import attrs

from airgap.domain.model.requests import Response


@attrs.frozen
class CachedAnswer:
    """An answer and whose request it answers (so a hit can be refused to anyone else
    without reading the database)."""

    owner_id: uuid.UUID
    response: Response


class ResponseCache(Protocol):
    """Answers never change once stored, so entries need no invalidation, only expiry.
    A cache that cannot be reached behaves as empty: the database still answers."""

    def get(self, request_id: uuid.UUID) -> CachedAnswer | None: ...

    def put(self, answer: CachedAnswer) -> None: ...
