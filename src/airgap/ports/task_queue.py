"""Background work, named by ``"<area>.<verb>"`` and given ids only."""

from __future__ import annotations

from typing import Protocol


class TaskQueue(Protocol):
    """Asks for a job to run soon (e.g. ``"requests.export"``). Adapters send only after
    the caller's unit of work has committed; delivery is at least once, so every task is
    idempotent."""

    def enqueue(self, task: str, **kwargs: str | int) -> None: ...
