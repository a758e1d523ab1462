"""What an admin does to keep the response network flowing: retry a failed job, re-export a
batch, manage the query cache, and retry or discard dead letters. Every action leaves an
audit entry (:mod:`airgap.domain.services.admin_audit`).

Decisions worth knowing:

- **Retry of a failed job** (``QueryJob.requeue``) is allowed only while its failure has not
  crossed. The request network closes a request on its first answer (``failed`` is final
  there), so a new answer after a failure that already went out would be dropped as a
  duplicate; retrying then is refused with a reason instead of pretending. Before it crosses,
  the failed result is withdrawn, so only the new outcome goes out.
- **Re-export of a batch** sends its contents again in a *new* batch with a new sequence
  number (never the same file again): a ``responses`` batch's results are marked unexported
  (as the re-send rule does after the ack timeout, only now); a ``users`` batch forces a full
  users snapshot. A batch the request network acknowledged is not re-sent (it has it);
  ``system`` batches carry only acks, which every later batch carries anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from airgap.domain.model.batching import BatchType, Channel, ExportBatch, ExportStatus
from airgap.domain.model.caching import CachedResult, cache_key
from airgap.domain.model.errors import Conflict, NotFound
from airgap.domain.model.jobs import JobStatus, QueryJob
from airgap.domain.model.operations import DeadLetter
from airgap.domain.services.admin_audit import Actor, record_action
from airgap.domain.services.context import ResponseSide
from airgap.domain.services.execute_queries import EXPORT_TASK
from airgap.domain.services.response_transfer import EXECUTE_TASK
from airgap.domain.services.user_admin import USERS_EXPORT_TASK
from airgap.ports.dead_letters import DeadLetters


@attrs.frozen
class ReExport:
    """What a re-export put back in line: ``records`` results (or the users snapshot), sent
    by the next run of ``task``."""

    batch: ExportBatch
    records: int
    task: str


@attrs.frozen
class WarmedEntry:
    entry: CachedResult
    replaced: bool


@attrs.frozen
class Operations:
    """Operators' actions on the response network."""

    side: ResponseSide
    dead_letters: DeadLetters

    # --- jobs ---------------------------------------------------------------------------------

    def retry_job(self, job_id: uuid.UUID, actor: Actor) -> QueryJob:
        """Put a failed job back in the queue with fresh attempts (see the module notes)."""
        with self.side.uow() as uow:
            now = self.side.clock.now()
            job = uow.jobs.get(job_id)
            if job is None:
                raise NotFound("incoming request not found")
            if job.status is not JobStatus.FAILED:
                raise Conflict(f"only a failed request can be retried; this one is {job.status}")
            failure = uow.results.get_for_job(job.id)
            if failure is not None and failure.export_batch_id is not None:
                raise Conflict(
                    "its failure was already exported (batch "
                    f"{failure.export_batch_id}); the request network has closed the request, "
                    "so the user must submit it again"
                )
            withdrawn = failure is not None and uow.results.withdraw(failure.id)
            if failure is not None and not withdrawn:
                raise Conflict("its failure is being exported right now; try again shortly")
            previous_error = job.error_message
            job.requeue()
            uow.jobs.save(job)
            record_action(
                uow.system_logs,
                actor,
                "job.retry",
                now,
                resource_type="incoming_request",
                resource_id=str(job.id),
                details={
                    "request_id": str(job.request_id),
                    "previous_error": previous_error,
                    "withdrawn_result": str(failure.id) if failure else None,
                },
            )
            uow.commit()
        self.side.tasks.enqueue(EXECUTE_TASK)
        return job

    # --- batches ------------------------------------------------------------------------------

    def reexport_batch(self, batch_id: uuid.UUID, actor: Actor) -> ReExport:
        """Send an export batch's contents again in a new batch (see the module notes)."""
        with self.side.uow() as uow:
            now = self.side.clock.now()
            batch = uow.export_batches.get(batch_id)
            if batch is None:
                raise NotFound("export batch not found")
            if batch.status is ExportStatus.PENDING:
                raise Conflict("the batch is not written yet; the next export run writes it")
            if batch.batch_type is BatchType.RESPONSES:
                if batch.status is not ExportStatus.COMPLETED:
                    raise Conflict(_why_not_resent(batch))
                results = list(uow.results.in_export_batch(batch.id))
                for result in results:
                    result.unmark_exported()
                uow.results.save_all(results)
                batch.mark_resent(now)
                uow.export_batches.save(batch)
                outcome = ReExport(batch, len(results), EXPORT_TASK)
            elif batch.batch_type is BatchType.USERS:
                # A snapshot is always safe to send again (versions make it idempotent),
                # even after an ack: e.g. the request network restored an old backup.
                if batch.awaits_ack:
                    batch.mark_resent(now)
                    uow.export_batches.save(batch)
                outbound = uow.channels.outbound(Channel.from_(self.side.network))
                outbound.users_version_sent = 0
                uow.channels.save_outbound(outbound)
                outcome = ReExport(batch, len(list(uow.users.all())), USERS_EXPORT_TASK)
            else:
                raise Conflict(
                    f"a {batch.batch_type} batch is not re-sent: every later batch carries "
                    "the current acks"
                )
            record_action(
                uow.system_logs,
                actor,
                "batch.reexport",
                now,
                resource_type="export_batch",
                resource_id=str(batch.id),
                details={
                    "batch_type": batch.batch_type.value,
                    "sequence": batch.sequence,
                    "records": outcome.records,
                },
            )
            uow.commit()
        self.side.tasks.enqueue(outcome.task)
        return outcome

    # --- cache --------------------------------------------------------------------------------

    def invalidate_cache_entry(self, key: str, actor: Actor) -> None:
        if not self.side.cache.invalidate(key):
            raise NotFound("no cache entry with this key")
        self._audit(actor, "cache.invalidate", "cache_entry", key, {})

    def invalidate_cache_index(self, index: str, actor: Actor) -> int:
        removed = self.side.cache.invalidate_index(index)
        self._audit(actor, "cache.invalidate_index", "cache", index, {"removed": removed})
        return removed

    def clear_cache(self, actor: Actor) -> int:
        removed = self.side.cache.clear()
        self._audit(actor, "cache.clear", "cache", None, {"removed": removed})
        return removed

    def warm_cache(self, query_type: object, query_params: object, actor: Actor) -> WarmedEntry:
        """Run a query now (validated by the same policy as every request) and cache its
        answer, replacing a cached one; the next request for it is answered from the cache.
        Raises QueryPolicyViolation, or the backend's search errors."""
        validated = self.side.policy.validate(query_type, query_params)
        now = self.side.clock.now()
        key = cache_key(validated.template())
        result = self.side.search.search(
            validated.index, validated.search_body(), timeout_s=self.side.search_timeout_s
        )
        ttl = self.side.cache_policy.ttl(has_aggregations=validated.has_aggregations, hit_count=0)
        replaced = self.side.cache.invalidate(key)
        entry = CachedResult(
            key=key,
            index=validated.index,
            result_data=result.body,
            result_count=result.total,
            took_ms=result.took_ms,
            stored_at=now,
            expires_at=now + ttl,
            has_aggregations=validated.has_aggregations,
        )
        self.side.cache.put(entry)
        self._audit(
            actor,
            "cache.warm",
            "cache_entry",
            key,
            {
                "index": validated.index,
                "query_type": validated.query_type.value,
                "replaced": replaced,
            },
        )
        return WarmedEntry(entry, replaced)

    # --- dead letters -------------------------------------------------------------------------

    def retry_dead_letter(self, letter_id: uuid.UUID, actor: Actor) -> DeadLetter:
        """Send the message again (to the same actor, with the same arguments)."""
        letter = self._letter(letter_id)
        if letter.retried_at is not None:
            raise Conflict(f"this message was already retried at {letter.retried_at.isoformat()}")
        kwargs = _sendable(letter)
        now = self.side.clock.now()
        if not self.dead_letters.mark_retried(letter.id, now):
            raise Conflict("this message was already retried")
        self.side.tasks.enqueue(letter.actor_name, **kwargs)
        self._audit(
            actor,
            "dead_letter.retry",
            "dead_letter",
            str(letter.id),
            {"actor_name": letter.actor_name, "message_id": letter.message_id},
        )
        return attrs.evolve(letter, retried_at=now)

    def discard_dead_letter(self, letter_id: uuid.UUID, actor: Actor) -> DeadLetter:
        letter = self._letter(letter_id)
        if not self.dead_letters.discard(letter.id):
            raise NotFound("dead letter not found")
        self._audit(
            actor,
            "dead_letter.discard",
            "dead_letter",
            str(letter.id),
            {
                "actor_name": letter.actor_name,
                "message_id": letter.message_id,
                "kwargs": dict(letter.kwargs),
                "error": letter.error,
            },
        )
        return letter

    # --- helpers ------------------------------------------------------------------------------

    def _letter(self, letter_id: uuid.UUID) -> DeadLetter:
        letter = self.dead_letters.get(letter_id)
        if letter is None:
            raise NotFound("dead letter not found")
        return letter

    def _audit(
        self,
        actor: Actor,
        action: str,
        resource_type: str,
        resource_id: str | None,
        details: Mapping[str, Any],
    ) -> None:
        with self.side.uow() as uow:
            record_action(
                uow.system_logs,
                actor,
                action,
                self.side.clock.now(),
                resource_type=resource_type,
                resource_id=resource_id,
                details=details,
            )
            uow.commit()


def _why_not_resent(batch: ExportBatch) -> str:
    if batch.status is ExportStatus.ACKNOWLEDGED:
        acked = batch.acknowledged_at.isoformat() if batch.acknowledged_at else "earlier"
        return f"the request network acknowledged this batch ({acked}); it has its results"
    if batch.status is ExportStatus.RESENT:
        return "this batch was already re-sent; its results went out in a later batch"
    return f"a {batch.status} batch cannot be re-sent"


def _sendable(letter: DeadLetter) -> dict[str, str | int]:
    """The message's arguments as the task queue sends them (actors take ids: strings and
    integers by keyword); anything else cannot be re-sent from here."""
    if letter.args:
        raise Conflict("this message has positional arguments; it cannot be re-sent from here")
    kwargs: dict[str, str | int] = {}
    for name, value in letter.kwargs.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise Conflict(f"argument {name!r} is not a string or integer; cannot re-send")
        kwargs[name] = value
    return kwargs
