"""The housekeeping jobs: the request network's nightly cleanup, and the response
network's health check and cache maintenance, each through its actor."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import attrs
import redis
from sqlalchemy import text

from airgap.adapters.postgres.query_cache import PostgresQueryCache
from airgap.domain.model.audit import LogLevel
from airgap.domain.model.batching import Network
from airgap.domain.model.caching import CachedResult
from airgap.domain.model.health import HealthThresholds
from airgap.domain.services.requests import SubmitRequest, cancel_request, submit_request
from support.workers import KETTLES, Networks, Running, running_on_stub_brokers

DAY = 86_400


def _age(path: os.PathLike[str], days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_the_nightly_cleanup_archives_old_requests_and_prunes_old_files(
    running: Running, redis_client: redis.Redis
) -> None:
    side = running.request.side
    user = running.create_user()
    answered = submit_request(side, SubmitRequest(user.id, "match", KETTLES)).request
    running.send(Network.REQUEST, "requests.export", scope="all")
    running.networks.carry_to_response()
    running.send(Network.RESPONSE, "requests.import")
    running.send(Network.RESPONSE, "results.export", scope="all")
    running.networks.carry_to_request()
    running.send(Network.REQUEST, "results.import")
    cancelled = submit_request(side, SubmitRequest(user.id, "match", KETTLES)).request
    cancel_request(side, user.id, cancelled.id)
    waiting = submit_request(side, SubmitRequest(user.id, "match", KETTLES)).request
    engine = running.request.container.store().engine
    with engine.begin() as connection:  # all three are 40 days old now
        connection.execute(text("UPDATE requests SET created_at = now() - interval '40 days'"))

    outbox = running.networks.request.outbox
    old_batch = sorted((outbox / "carried").iterdir())
    for path in old_batch:
        _age(path, 8)  # exported 8 days ago: past the 7-day retention
    young = outbox / f"requests_20260101_000000_{'0' * 8}-0000-0000-0000-{'0' * 12}.jsonl"
    young.write_bytes(b"")  # written just now: kept
    archived_inbox = sorted((running.networks.request.inbox / "archive").iterdir())
    for path in archived_inbox:
        _age(path, 31)
    not_a_batch = outbox / "notes.txt"
    not_a_batch.write_text("an operator's file")
    _age(not_a_batch, 100)
    leak = f"airgap:ratelimit:leak-{running.networks.tag}"
    kept = f"airgap:ratelimit:kept-{running.networks.tag}"
    redis_client.set(leak, "1")
    redis_client.set(kept, "1", ex=60)

    running.send(Network.REQUEST, "maintenance.cleanup")

    with engine.connect() as connection:
        left = connection.execute(text("SELECT id, status FROM requests")).all()
        answers = connection.execute(text("SELECT count(*) FROM responses")).scalar_one()
    assert [(row[0], row[1]) for row in left] == [(waiting.id, "pending")]
    assert answers == 0
    archives = list((running.networks.data_dir / "request" / "archive").iterdir())
    assert len(archives) == 1
    lines = [json.loads(line) for line in archives[0].read_text().splitlines()]
    by_id = {line["request"]["id"]: line for line in lines}
    assert set(by_id) == {str(answered.id), str(cancelled.id)}
    assert by_id[str(answered.id)]["response"]["status"] == "completed"
    assert by_id[str(answered.id)]["response"]["result_data"]["hits"]["total"]["value"] > 0
    assert by_id[str(cancelled.id)]["response"] is None
    assert not any(p.exists() for p in old_batch)
    assert young.exists() and not_a_batch.exists()
    assert not any(p.exists() for p in archived_inbox)
    assert not redis_client.exists(leak) and redis_client.exists(kept)
    with running.request.side.uow() as uow:  # the archive is in the audit trail
        assert uow.audit.entries()[-1].action == "requests.archive"  # type: ignore[attr-defined]


def test_the_health_check_writes_system_logs_and_alerts_over_thresholds(
    networks: Networks,
) -> None:
    tight = HealthThresholds(disk_percent=0.001, memory_percent=100.0, queue_backlog=1000)
    with running_on_stub_brokers(networks, response_changes={"health": tight}) as running:
        running.send(Network.RESPONSE, "health.check")
        relaxed = attrs.evolve(running.response.jobs.pipeline, health=HealthThresholds(100, 100))
        running.response.jobs.pipeline = relaxed
        running.send(Network.RESPONSE, "health.check")
        with running.response.side.uow() as uow:
            logs = [e for e in uow.system_logs.entries() if e.component == "health"]  # type: ignore[attr-defined]
    assert [e.level for e in logs] == [LogLevel.WARNING, LogLevel.INFO]
    alert, calm = logs
    assert alert.message.startswith("disk ")
    assert alert.details["services"] == {"database": "ok", "redis": "ok", "search": "ok"}
    assert alert.details["queue_backlog"] == 0
    assert calm.message == "healthy"


def test_cache_maintenance_sweeps_expired_entries(running: Running) -> None:
    engine = running.response.container.store().engine
    table = PostgresQueryCache(engine)
    now = datetime.now(UTC)
    for key, expires in (
        ("stale", now - timedelta(minutes=1)),
        ("fresh", now + timedelta(hours=1)),
    ):
        table.put(
            CachedResult(
                key=key,
                index="products",
                result_data={"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}},
                result_count=0,
                took_ms=1,
                stored_at=now - timedelta(hours=1),
                expires_at=expires,
            )
        )
    running.send(Network.RESPONSE, "cache.maintain")
    with engine.connect() as connection:
        keys = connection.execute(text("SELECT key FROM query_cache")).scalars().all()
    assert keys == ["fresh"]
    with running.response.side.uow() as uow:
        logs = [e for e in uow.system_logs.entries() if e.component == "cache"]  # type: ignore[attr-defined]
    assert logs and logs[-1].details["expired_deleted"] == 1
