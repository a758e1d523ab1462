"""Synthetic records for ``airgap batch sample`` (and the batch benchmark): plausible
requests, results, users and import reports, reproducible from a seed."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from airgap.domain.model.batching import BatchType, ImportStatus, Rejection
from airgap.domain.model.canonical import canonical_sha256
from airgap.domain.model.records import (
    ImportReportRecord,
    RequestRecord,
    ResultRecord,
    TransferRecord,
    UserRecord,
)

_WORDS = ("kettle", "toaster", "lamp", "desk", "chair", "mug", "teapot", "blender", "fan")
_BRANDS = ("acme", "brava", "lumo", "toastco")
# The shape of an argon2id hash, of no password (sample users never sign in).
_PLACEHOLDER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def sample_request(rng: random.Random, now: datetime) -> RequestRecord:
    params = {
        "index": "products",
        "query": {"match": {"name": rng.choice(_WORDS)}},
        "size": rng.choice((10, 20, 50)),
        "from": 0,
    }
    created = now - timedelta(seconds=rng.randrange(3600), microseconds=rng.randrange(10**6))
    return RequestRecord(
        request_id=_uuid(rng),
        user_id=_uuid(rng),
        query_type="match",
        query_params=params,
        query_hash=canonical_sha256({"query_type": "match", "params": params}),
        priority=rng.randint(1, 10),
        created_at=created,
        expires_at=created + timedelta(days=7),
    )


def sample_result(rng: random.Random, now: datetime) -> ResultRecord:
    hits = [
        {
            "_id": str(rng.randrange(10_000)),
            "_score": round(rng.random() * 10, 3),
            "_source": {"name": f"{rng.choice(_BRANDS)} {rng.choice(_WORDS)}", "price": 20.0},
        }
        for _ in range(rng.randint(0, 5))
    ]
    return ResultRecord(
        request_id=_uuid(rng),
        request_batch_id=_uuid(rng),
        request_batch_sequence=rng.randint(1, 1000),
        query_hash=f"{rng.getrandbits(256):064x}",
        status="completed",
        backend="embedded",
        index="products",
        executed_at=now - timedelta(microseconds=rng.randrange(10**9)),
        result_data={"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}},
        result_count=len(hits),
        execution_time_ms=rng.randint(1, 500),
        took_ms=rng.randint(1, 100),
    )


def sample_user(rng: random.Random, _now: datetime) -> UserRecord:
    name = f"user{rng.randrange(10**6):06d}"
    return UserRecord(
        user_id=_uuid(rng),
        username=name,
        email=f"{name}@example.org",
        hashed_password=_PLACEHOLDER_HASH,
        profile_type="basic",
        rate_limit_per_minute=None,
        rate_limit_per_hour=None,
        rate_limit_per_day=None,
        priority=5,
        role="user",
        is_active=True,
        version=1,
        snapshot_version=1,
        full_name=name.title(),
    )


def sample_report(rng: random.Random, _now: datetime) -> ImportReportRecord:
    return ImportReportRecord(
        batch_id=_uuid(rng),
        sequence=rng.randint(1, 1000),
        batch_type=BatchType.REQUESTS,
        status=ImportStatus.COMPLETED,
        accepted=rng.randint(0, 500),
        duplicates=rng.randint(0, 5),
        rejections=(Rejection(str(_uuid(rng)), "query hash does not match the request"),),
    )


_MAKERS: dict[BatchType, Callable[[random.Random, datetime], TransferRecord]] = {
    BatchType.REQUESTS: sample_request,
    BatchType.RESPONSES: sample_result,
    BatchType.USERS: sample_user,
    BatchType.SYSTEM: sample_report,
}


def sample_records(
    batch_type: BatchType, count: int, *, seed: int | None = None, now: datetime | None = None
) -> list[TransferRecord]:
    """``count`` records of the kind a ``batch_type`` batch carries."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    moment = now or datetime.now(UTC)
    make = _MAKERS[batch_type]
    return [make(rng, moment) for _ in range(count)]
