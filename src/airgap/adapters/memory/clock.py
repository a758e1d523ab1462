"""A clock and an id generator that tests control."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Time stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by a timedelta or a number of seconds."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += step
            return self._now


class SequentialIds:
    """Predictable UUIDs (``00000000-...-000000000001``, ``...2``, …)."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._lock = threading.Lock()

    def new_id(self) -> uuid.UUID:
        with self._lock:
            value = self._next
            self._next += 1
        return uuid.UUID(int=value)
