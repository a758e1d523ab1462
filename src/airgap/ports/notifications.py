"""Telling a user that a request finished (optional; off unless webhooks are configured)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import attrs


@attrs.frozen
class CompletionNotice:
    """What a webhook receives when a request is answered (or failed)."""

    request_id: uuid.UUID
    user_id: uuid.UUID
    status: str
    result_count: int | None
    received_at: datetime
    error: str | None = None

    def as_json(self) -> Mapping[str, Any]:
        return {
            "event": "request.finished",
            "request_id": str(self.request_id),
            "user_id": str(self.user_id),
            "status": self.status,
            "result_count": self.result_count,
            "received_at": self.received_at.isoformat(),
            "error": self.error,
        }


class DeliveryFailed(Exception):
    """The notice did not arrive. ``transient`` failures (connection errors, timeouts, 5xx,
    429) are worth retrying; others (4xx, a bad address) are not."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class Notifier(Protocol):
    def deliver(self, url: str, notice: CompletionNotice) -> None:
        """POST the notice to ``url``; raises :class:`DeliveryFailed`."""
        ...


class Webhooks(Protocol):
    def url_for(self, user_id: uuid.UUID, username: str) -> str | None:
        """The user's webhook, by id or username; None when the user has none."""
        ...


class AnsweredRequests(Protocol):
    def answered_in(self, import_batch_id: uuid.UUID) -> Sequence[uuid.UUID]:
        """The ids of requests whose answers came in the batch with this batch id."""
        ...
