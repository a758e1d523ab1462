"""Exclusive locks around jobs that must not run twice at once (importing one inbox)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol


class JobLocks(Protocol):
    def hold(self, name: str, *, timeout_s: float) -> AbstractContextManager[bool]:
        """Hold the lock ``name`` for the ``with`` block, waiting at most ``timeout_s`` for
        it; the block receives False if the wait ran out (and then holds nothing). A lock
        held by a process that dies is released with it."""
        ...
