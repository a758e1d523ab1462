"""Handing a claimed job back: a worker shutting down releases the job it holds but has not
finished, so another worker takes it at once instead of waiting for the lease to run out
(and without spending one of its attempts)."""

from __future__ import annotations

from airgap.domain.model.jobs import JobStatus, QueryJob
from airgap.domain.services.context import ResponseSide


def release_claimed(side: ResponseSide, job: QueryJob, worker: str) -> bool:
    """Release ``job`` if this worker still holds it (same claim); False otherwise — the
    lease ran out and another worker took it over, or the job already finished."""
    with side.uow() as uow:
        current = uow.jobs.get(job.id)
        if (
            current is None
            or current.status is not JobStatus.PROCESSING
            or current.assigned_worker != worker
            or current.attempts != job.attempts
        ):
            return False
        current.release()
        uow.jobs.save(current)
        uow.commit()
    return True
