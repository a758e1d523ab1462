"""What the harness checks: after every step (no request or job in two states, one response
per request and one result per job, nothing imported twice, sequence numbers without gaps,
nothing imported that was not sent as it was sent, nothing acknowledged that was not
imported, rate limits kept) and after quiescence (every accepted, uncancelled request has
exactly one result or an explicit failure).

The :class:`Ledger` is the harness's own record of what users were told — which requests
were accepted, which cancellations succeeded — kept independently of what the networks
store, so a request that silently disappears, or one nobody submitted, is noticed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs

from airgap.domain.model.batching import ExportBatch, ExportStatus, ImportBatch, ImportStatus
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.requests import RequestStatus
from support.harness.world import RequestNetworkState, ResponseNetworkState


@attrs.define
class Ledger:
    """What the users were told."""

    accepted: dict[uuid.UUID, uuid.UUID] = attrs.field(factory=dict)  # request -> user
    cancelled: set[uuid.UUID] = attrs.field(factory=set)
    admitted: dict[uuid.UUID, list[datetime]] = attrs.field(factory=dict)  # user -> times
    final: dict[uuid.UUID, RequestStatus] = attrs.field(factory=dict)  # as first seen

    def accept(self, request_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> None:
        assert request_id not in self.accepted, f"request id {request_id} handed out twice"
        self.accepted[request_id] = user_id
        self.admitted.setdefault(user_id, []).append(at)

    @property
    def uncancelled(self) -> set[uuid.UUID]:
        return set(self.accepted) - self.cancelled


def duplicates(values: Iterable[object]) -> list[object]:
    return [value for value, count in Counter(values).items() if count > 1]


# --- after every step --------------------------------------------------------------------------


def check_rate_limits(times: Sequence[datetime], limits: RateLimits, now: datetime) -> None:
    """No moving window ending now admitted more than its limit (a window of length w holds
    the requests in (now - w, now], as the domain counts them)."""
    for seconds, limit in (
        (60, limits.per_minute),
        (3600, limits.per_hour),
        (86_400, limits.per_day),
    ):
        if limit is None:
            continue
        start = now - timedelta(seconds=seconds)
        used = sum(1 for t in times if start < t <= now)
        assert used <= limit, f"{used} requests admitted within {seconds} s; the limit is {limit}"


def check_sequences(batches: Sequence[ExportBatch]) -> None:
    """Per channel, the batches sent are numbered 1..n: no number reused, none skipped."""
    by_channel: dict[str, list[int]] = {}
    for batch in batches:
        by_channel.setdefault(batch.channel.name, []).append(batch.sequence)
    for channel, sequences in by_channel.items():
        assert sorted(sequences) == list(range(1, len(sequences) + 1)), (
            f"{channel}: sequence numbers {sorted(sequences)}"
        )


def check_imported_once(batches: Sequence[ImportBatch], network: str) -> None:
    """A batch id is imported (status ``completed``) at most once; every later copy is a
    ``duplicate``."""
    completed = [b.batch_id for b in batches if b.status is ImportStatus.COMPLETED]
    twice = duplicates(completed)
    assert not twice, f"{network} network imported batch(es) {twice} more than once"


def check_request_network(state: RequestNetworkState, ledger: Ledger) -> None:
    ids = [r.id for r in state.requests]
    assert not duplicates(ids), f"a request stored twice: {duplicates(ids)}"
    assert set(ids) == set(ledger.accepted), (
        f"stored requests differ from accepted ones: unknown {set(ids) - set(ledger.accepted)},"
        f" missing {set(ledger.accepted) - set(ids)}"
    )
    answered = [r.request_id for r in state.responses]
    assert not duplicates(answered), f"two responses for request(s) {duplicates(answered)}"
    responses = {r.request_id: r for r in state.responses}
    assert set(responses) <= set(ids), "a response for a request that does not exist"
    for request in state.requests:
        status = request.status
        assert isinstance(status, RequestStatus)
        seen = ledger.final.get(request.id)
        assert seen is None or seen is status, (
            f"request {request.id} was {seen} and is now {status}: a final state changed"
        )
        if status.is_final:
            ledger.final[request.id] = status
        if request.id in ledger.cancelled:
            assert status is RequestStatus.CANCELLED, f"cancelled request {request.id} is {status}"
        response = responses.get(request.id)
        if status is RequestStatus.COMPLETED:
            assert response is not None and response.status == "completed", (
                f"request {request.id} is completed without a completed response ({response})"
            )
        elif status is RequestStatus.FAILED:
            assert request.error_message, f"request {request.id} failed without a reason"
            assert response is None or response.status == "failed", (
                f"request {request.id} failed but its response says {response.status}"
            )
        else:
            assert response is None, f"request {request.id} is {status} but has a response"
    check_sequences(state.export_batches)
    check_imported_once(state.import_batches, "request")


def check_response_network(state: ResponseNetworkState, ledger: Ledger) -> None:
    job_ids = [j.id for j in state.jobs]
    assert not duplicates(job_ids), f"a job stored twice: {duplicates(job_ids)}"
    per_request = [j.request_id for j in state.jobs]
    assert not duplicates(per_request), f"two jobs for request(s) {duplicates(per_request)}"
    unknown = set(per_request) - set(ledger.accepted)
    assert not unknown, f"jobs for requests nobody submitted: {unknown}"
    results_per_job = [r.job_id for r in state.results]
    assert not duplicates(results_per_job), f"two results for job(s) {duplicates(results_per_job)}"
    results_per_request = [r.request_id for r in state.results]
    assert not duplicates(results_per_request), (
        f"two results for request(s) {duplicates(results_per_request)}"
    )
    results = {r.job_id: r for r in state.results}
    assert set(results) <= set(job_ids), "a result for a job that does not exist"
    for job in state.jobs:
        result = results.get(job.id)
        if job.status.is_final:
            assert result is not None, (
                f"job {job.id} is {job.status} ({job.error_message}) but has no result to send"
            )
            assert result.status == job.status.value, (
                f"job {job.id} is {job.status} but its result says {result.status}"
            )
        else:
            assert result is None, f"job {job.id} is {job.status} but already has a result"
    check_sequences(state.export_batches)
    check_imported_once(state.import_batches, "response")


def check_crossing(
    request_state: RequestNetworkState, response_state: ResponseNetworkState
) -> None:
    """What crossed is what was sent, and an acknowledgement means an import:

    - every batch a network imported (``completed`` or ``duplicate``) is a batch the other
      network wrote, with the same id, sequence number and payload checksum (a batch
      altered on the way is refused, never imported under a changed name or number);
    - every batch a network holds as ``acknowledged`` was imported by the other network
      under its id and sequence number (otherwise its contents will never be re-sent, and
      are lost if the batch was)."""
    for sender, receiver, direction in (
        (request_state, response_state, "request -> response"),
        (response_state, request_state, "response -> request"),
    ):
        sent = {b.id: b for b in sender.export_batches}
        imported = {
            (b.batch_id, b.sequence)
            for b in receiver.import_batches
            if b.status is ImportStatus.COMPLETED
        }
        for batch in receiver.import_batches:
            if batch.status is ImportStatus.FAILED or batch.batch_id is None:
                continue
            origin = sent.get(batch.batch_id)
            assert origin is not None, (
                f"{direction}: imported batch {batch.batch_id} (sequence {batch.sequence}), "
                "which was never sent"
            )
            assert origin.sequence == batch.sequence, (
                f"{direction}: batch {batch.batch_id} was sent as sequence {origin.sequence} "
                f"and imported as sequence {batch.sequence}"
            )
            # A batch written but not yet recorded (its writer died in between) may cross
            # before the next export run records its checksum.
            if origin.status is not ExportStatus.PENDING:
                assert origin.payload_sha256 == batch.payload_sha256, (
                    f"{direction}: batch {batch.batch_id} was imported with another payload "
                    "than the one sent"
                )
        for batch in sender.export_batches:
            if batch.status is ExportStatus.ACKNOWLEDGED:
                assert (batch.id, batch.sequence) in imported, (
                    f"{direction}: batch {batch.sequence} ({batch.batch_type}) is acknowledged "
                    "but was never imported"
                )


# --- after quiescence --------------------------------------------------------------------------


def check_settled(
    request_state: RequestNetworkState, response_state: ResponseNetworkState, ledger: Ledger
) -> None:
    """Every accepted, uncancelled request ended with exactly one result (``completed``)
    or an explicit failure (``failed`` with a reason); nothing is left in between."""
    requests = {r.id: r for r in request_state.requests}
    responses = {r.request_id: r for r in request_state.responses}
    unfinished = {
        request_id: requests[request_id].status
        for request_id in ledger.uncancelled
        if requests[request_id].status not in (RequestStatus.COMPLETED, RequestStatus.FAILED)
    }
    assert not unfinished, f"requests still unanswered after quiescence: {unfinished}"
    for request_id in ledger.uncancelled:
        request = requests[request_id]
        if request.status is RequestStatus.COMPLETED:
            assert responses[request_id].result_data is not None
        else:
            assert request.error_message, f"request {request_id} failed without a reason"
    stuck = [(j.request_id, j.status) for j in response_state.jobs if not j.status.is_final]
    assert not stuck, f"jobs never finished: {stuck}"
