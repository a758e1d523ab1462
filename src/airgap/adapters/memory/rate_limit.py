"""In-memory rate-limit store: one moving-window log per subject behind one lock."""

from __future__ import annotations

import threading
from datetime import datetime

from airgap.domain.model.rate_limit import (
    MovingWindowLog,
    RateLimitDecision,
    RateLimits,
    epoch_seconds,
)


class MemoryRateLimitStore:
    """:class:`~airgap.ports.rate_limit.RateLimitStore` for tests and single-process embedding.

    One lock guards every log, so check-and-count is atomic across threads; the work under it
    is a bisect and an insert, short enough that a finer-grained lock would not pay. Logs live
    only as long as the process.
    """

    def __init__(self) -> None:
        """Start with no subjects."""
        self._logs: dict[str, MovingWindowLog] = {}
        self._lock = threading.Lock()

    def hit(self, subject: str, limits: RateLimits, now: datetime) -> RateLimitDecision:
        """Decide a request by ``subject`` at ``now`` and count it if admitted."""
        at = epoch_seconds(now)
        with self._lock:
            log = self._logs.get(subject)
            if log is None:
                log = self._logs[subject] = MovingWindowLog()
            return log.hit(limits, at)

    def peek(self, subject: str, limits: RateLimits, now: datetime) -> RateLimitDecision:
        """Decide a request by ``subject`` at ``now`` without counting it."""
        at = epoch_seconds(now)
        with self._lock:
            # A peek must not create state, so an unknown subject gets a throwaway empty log.
            return self._logs.get(subject, MovingWindowLog()).peek(limits, at)

    def reset(self, subject: str) -> None:
        """Forget every request counted for ``subject``."""
        with self._lock:
            self._logs.pop(subject, None)
