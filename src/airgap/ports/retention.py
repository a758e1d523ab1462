"""Retention on the request network: old requests leave the database for an archive file.

The store hands out closed requests (completed, failed, cancelled) created before a cutoff,
with their answers, one chunk at a time; the archive writes them as JSON Lines; only after
the archive file is safely on disk does the store delete the chunk. A crash in between
leaves the requests in the database, so they are archived again next time (an archive may
hold a request twice, never lose one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

import attrs

from airgap.domain.model.requests import Response, SearchRequest


@attrs.frozen
class ArchivedRequest:
    request: SearchRequest
    response: Response | None


class RequestRetention(Protocol):
    def archive_closed_before(
        self,
        cutoff: datetime,
        *,
        chunk: int,
        keep: Callable[[Sequence[ArchivedRequest]], None],
    ) -> int:
        """For each chunk of at most ``chunk`` closed requests created before ``cutoff``:
        call ``keep`` with them, then delete them (with their answers) in the same
        transaction. If ``keep`` raises, that chunk is not deleted. Returns how many were
        deleted."""
        ...


class RequestArchive(Protocol):
    def keep(self, requests: Sequence[ArchivedRequest]) -> None:
        """Write the requests durably (fsynced) before returning."""
        ...
