"""Retention on the request network: requests closed more than ``older_than`` ago move to
a JSON Lines archive and leave the database (the nightly cleanup, SPEC §11)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from airgap.domain.model.audit import AuditEntry
from airgap.domain.services.context import RequestSide
from airgap.ports.retention import ArchivedRequest, RequestArchive, RequestRetention

DEFAULT_CHUNK = 1000


def archive_old_requests(
    side: RequestSide,
    retention: RequestRetention,
    archive: RequestArchive,
    older_than: timedelta,
    *,
    chunk: int = DEFAULT_CHUNK,
) -> int:
    """Archive, then delete, closed requests created before ``now - older_than``; returns
    how many. Pending and exported requests are never archived: they still await an
    answer (and expire on their own)."""
    now = side.clock.now()
    cutoff = now - older_than

    def keep(requests: Sequence[ArchivedRequest]) -> None:
        archive.keep(requests)

    count = retention.archive_closed_before(cutoff, chunk=chunk, keep=keep)
    if count:
        with side.uow() as uow:
            uow.audit.record(
                AuditEntry(
                    action="requests.archive",
                    created_at=now,
                    resource_type="request",
                    details={"archived": count, "created_before": cutoff.isoformat()},
                )
            )
            uow.commit()
    return count
