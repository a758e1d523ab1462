"""Task messages that exhausted their retries (SPEC §11), kept for an operator."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

from airgap.domain.model.operations import DeadLetter, Page


class DeadLetters(Protocol):
    """Each call is its own transaction."""

    def add(self, letter: DeadLetter) -> bool:
        """Keep a message; False (and nothing changes) if its ``message_id`` is kept
        already — a message dead-lettered twice is one letter."""
        ...

    def get(self, letter_id: uuid.UUID) -> DeadLetter | None: ...

    def page(
        self,
        *,
        actor_name: str | None = None,
        retried: bool | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DeadLetter]:
        """Newest failure first."""
        ...

    def mark_retried(self, letter_id: uuid.UUID, at: datetime) -> bool:
        """Record that the message was sent again; False if it was already retried (or is
        gone), so two operators retrying at once send it once."""
        ...

    def discard(self, letter_id: uuid.UUID) -> bool:
        """Delete the letter; False if there was none."""
        ...
