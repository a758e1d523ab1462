"""How much work is waiting: cheap counts the pipeline's triggers and health checks read.

Counts are read outside any unit of work and lock nothing. ``up_to`` caps a count so that a
trigger asking "is a full batch waiting?" never counts a million rows to learn "yes".
"""

from __future__ import annotations

from typing import Protocol


class RequestBacklog(Protocol):
    def pending_requests(self, up_to: int) -> int:
        """Requests waiting for export, counted up to ``up_to``."""
        ...


class ResponseBacklog(Protocol):
    def unexported_results(self, up_to: int) -> int:
        """Results waiting for export, counted up to ``up_to``."""
        ...

    def open_jobs(self) -> int:
        """The queue backlog: jobs pending, due for a retry, or being processed."""
        ...
