"""Domain objects for the port contract tests, built the way the use cases build them.

Everything goes through one :class:`Make`, which owns a :class:`FakeClock` and
:class:`SequentialIds`, so a test reads as a story in time ("a request, a minute later
another") and ids never collide within a test. Usernames and e-mails are unique too, because
the real databases enforce that.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest

from airgap.adapters.memory.clock import FakeClock, SequentialIds
from airgap.domain.model.batching import (
    BatchType,
    Channel,
    ExportBatch,
    ImportBatch,
    ImportStatus,
    Manifest,
    Network,
)
from airgap.domain.model.caching import CachedResult
from airgap.domain.model.jobs import QueryJob, QueryResult
from airgap.domain.model.requests import Response, SearchRequest
from airgap.domain.model.users import ApiKey, ProfileType, Role, User

TO_RESPONSE = Channel(Network.REQUEST, Network.RESPONSE)
TO_REQUEST = Channel(Network.RESPONSE, Network.REQUEST)

MATCH_KETTLE: Mapping[str, Any] = {"index": "products", "query": {"match": {"name": "kettle"}}}


def known_bug(request: pytest.FixtureRequest, adapter: str, *, affects: str, reason: str) -> None:
    """Expect this test to fail, strictly, on the adapter with the bug and on no other: the
    same contract runs against every adapter, and one adapter's bug excuses no other."""
    if adapter == affects:
        request.applymarker(pytest.mark.xfail(reason=f"BUG: {reason}", strict=True))


def state(obj: Any) -> dict[str, Any]:
    """An attrs object's fields, for comparing what was stored with what came back (the
    domain classes compare by identity)."""
    return attrs.asdict(obj, recurse=False)


class Make:
    """Builds domain objects at the clock's current time with fresh sequential ids."""

    def __init__(self, clock: FakeClock | None = None, ids: SequentialIds | None = None) -> None:
        self.clock = clock or FakeClock()
        self.ids = ids or SequentialIds()
        self._serial = itertools.count(1)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def later(self, seconds: float) -> datetime:
        return self.now + timedelta(seconds=seconds)

    # --- users and keys --------------------------------------------------------------------

    def user(
        self,
        username: str | None = None,
        *,
        profile: ProfileType = ProfileType.BASIC,
        role: Role = Role.USER,
    ) -> User:
        name = username or f"user{next(self._serial)}"
        return User.create(
            id=self.ids.new_id(),
            username=name,
            email=f"{name}@example.org",
            hashed_password=f"hashed:{name}",
            profile_type=profile,
            role=role,
            full_name=name.title(),
            now=self.now,
        )

    def api_key(self, user: User, *, scopes: frozenset[str] = frozenset({"search"})) -> ApiKey:
        serial = next(self._serial)
        return ApiKey(
            id=self.ids.new_id(),
            user_id=user.id,
            name=f"key {serial}",
            prefix=f"ag_{serial:04d}",
            key_hash=f"{serial:064x}",
            scopes=scopes,
            created_at=self.now,
            expires_at=self.now + timedelta(days=30),
        )

    # --- request network -------------------------------------------------------------------

    def request(
        self,
        user: User,
        *,
        priority: int = 5,
        query_hash: str = "hash-kettle",
        created_at: datetime | None = None,
    ) -> SearchRequest:
        return SearchRequest.submit(
            id=self.ids.new_id(),
            user_id=user.id,
            query_type="match",
            query_params=dict(MATCH_KETTLE),
            query_hash=query_hash,
            priority=priority,
            now=created_at or self.now,
        )

    def response(
        self,
        request: SearchRequest,
        *,
        received_at: datetime | None = None,
        status: str = "completed",
    ) -> Response:
        failed = status == "failed"
        return Response(
            request_id=request.id,
            status=status,
            result_data=None if failed else {"hits": {"total": {"value": 1}, "hits": []}},
            result_count=None if failed else 1,
            execution_time_ms=12,
            received_at=received_at or self.now,
            error="index unavailable" if failed else None,
            metadata={"backend": "memory"},
        )

    # --- transfer bookkeeping ----------------------------------------------------------------

    def export_batch(
        self,
        sequence: int,
        *,
        channel: Channel = TO_RESPONSE,
        written: bool = True,
        batch_type: BatchType = BatchType.REQUESTS,
    ) -> ExportBatch:
        """A batch planned on ``channel``; ``written`` also records its file as written."""
        batch = ExportBatch.planned(
            id=self.ids.new_id(),
            batch_type=batch_type,
            channel=channel,
            sequence=sequence,
            created_at=self.now,
            record_count=2,
        )
        if written:
            batch.mark_written(self.manifest_for(batch))
        return batch

    def manifest_for(self, batch: ExportBatch) -> Manifest:
        return Manifest(
            batch_id=batch.id,
            batch_type=batch.batch_type,
            source_network=batch.channel.source,
            destination_network=batch.channel.destination,
            sequence=batch.sequence,
            created_at=batch.created_at,
            record_count=batch.record_count,
            payload_size=321,
            payload_sha256="ab" * 32,
        )

    def import_batch(
        self,
        *,
        batch_id: uuid.UUID | None = None,
        status: ImportStatus = ImportStatus.COMPLETED,
        received_at: datetime | None = None,
        reported: bool = False,
        sequence: int = 1,
    ) -> ImportBatch:
        return ImportBatch(
            id=self.ids.new_id(),
            batch_id=batch_id or self.ids.new_id(),
            batch_type=BatchType.REQUESTS,
            source_network=Network.REQUEST,
            sequence=sequence,
            filename=f"requests_{sequence}.jsonl",
            status=status,
            received_at=received_at or self.now,
            record_count=2,
            accepted=2 if status is ImportStatus.COMPLETED else 0,
            error_message="payload checksum mismatch" if status is ImportStatus.FAILED else None,
            reported=reported,
        )

    # --- response network -------------------------------------------------------------------

    def job(
        self,
        *,
        priority: int = 5,
        imported_at: datetime | None = None,
        request_id: uuid.UUID | None = None,
        user_id: uuid.UUID | None = None,
    ) -> QueryJob:
        when = imported_at or self.now
        return QueryJob(
            id=self.ids.new_id(),
            request_id=request_id or self.ids.new_id(),
            user_id=user_id or self.ids.new_id(),
            query_type="match",
            query_params=dict(MATCH_KETTLE),
            query_hash="hash-kettle",
            priority=priority,
            created_at=when - timedelta(minutes=5),
            expires_at=when + timedelta(days=7),
            imported_at=when,
            import_batch_id=self.ids.new_id(),
            import_batch_sequence=1,
        )

    def result(self, job: QueryJob, *, executed_at: datetime | None = None) -> QueryResult:
        return QueryResult(
            id=self.ids.new_id(),
            job_id=job.id,
            request_id=job.request_id,
            request_batch_id=job.import_batch_id,
            request_batch_sequence=job.import_batch_sequence,
            query_hash=job.query_hash,
            status="completed",
            backend="memory",
            index="products",
            executed_at=executed_at or self.now,
            result_data={"hits": {"total": {"value": 2, "relation": "eq"}, "hits": []}},
            result_count=2,
            execution_time_ms=7,
            took_ms=3,
            metadata={"policy": {"removed_fields": 0}},
        )

    # --- cache ------------------------------------------------------------------------------

    def cached(
        self,
        key: str,
        *,
        index: str = "products",
        ttl: timedelta = timedelta(minutes=5),
        has_aggregations: bool = False,
    ) -> CachedResult:
        return CachedResult(
            key=key,
            index=index,
            result_data={"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [{"_id": "1"}]}},
            result_count=1,
            took_ms=4,
            stored_at=self.now,
            expires_at=self.now + ttl,
            has_aggregations=has_aggregations,
        )
