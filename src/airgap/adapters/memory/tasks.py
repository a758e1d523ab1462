"""A task queue that records what was asked for; tests and embedders run it themselves."""

from __future__ import annotations

import threading


class MemoryTaskQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[tuple[str, dict[str, str | int]]] = []

    def enqueue(self, task: str, **kwargs: str | int) -> None:
        with self._lock:
            self.sent.append((task, dict(kwargs)))

    def drain(self) -> list[tuple[str, dict[str, str | int]]]:
        """Take everything asked for so far."""
        with self._lock:
            sent, self.sent = self.sent, []
            return sent
