"""Port: where the moving-window logs of rate-limited subjects live."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from airgap.domain.model.rate_limit import RateLimitDecision, RateLimits


class RateLimitStore(Protocol):
    """Atomic check-and-count of the moving windows for a subject (e.g. a user id).

    Semantics every adapter keeps (the contract tests in
    ``tests/contracts/test_rate_limit_store_contract.py`` hold them to it):

    - ``hit`` decides exactly as :func:`airgap.domain.model.rate_limit.decide` over the
      subject's admitted requests and, if admitted, records ``now`` -- as one atomic step, so
      concurrent hits (threads, processes) can never admit more than a limit.
    - A refused request is not recorded; neither is one decided under fully unlimited limits.
    - ``peek`` reports what ``hit`` would decide at ``now`` and records nothing.
    - ``reset`` forgets the subject's log (an admin resetting a user's counters).
    - ``now`` must be timezone-aware; adapters raise :class:`ValueError` for a naive one.
    - Subjects are independent of each other.
    """

    def hit(self, subject: str, limits: RateLimits, now: datetime) -> RateLimitDecision:
        """Decide a request by ``subject`` at ``now`` and count it if admitted."""
        ...

    def peek(self, subject: str, limits: RateLimits, now: datetime) -> RateLimitDecision:
        """Decide a request by ``subject`` at ``now`` without counting it."""
        ...

    def reset(self, subject: str) -> None:
        """Forget every request counted for ``subject``."""
        ...
