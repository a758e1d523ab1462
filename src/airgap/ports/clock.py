"""Time, as the core sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Gives the current time, timezone-aware (UTC)."""

    def now(self) -> datetime: ...
