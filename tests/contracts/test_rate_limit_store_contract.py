"""Contract of the RateLimitStore port: every adapter must pass these, written against the port.

To check another adapter, add its name to the ``params`` of the ``rate_limit_store`` fixture
and a branch that builds it. Each test uses a fresh random subject, so a shared backend (one
Redis) needs no cleaning between tests.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airgap.adapters.memory.rate_limit import MemoryRateLimitStore
from airgap.adapters.redis.rate_limit import RedisRateLimitStore
from airgap.domain.model.rate_limit import RateLimitDecision, RateLimits, Window
from airgap.ports.rate_limit import RateLimitStore

# A fixed, timezone-aware instant; the store must go by the ``now`` it is given.
START = datetime(2030, 6, 1, 12, 0, 0, tzinfo=UTC)
PER_MINUTE_3 = RateLimits(per_minute=3, per_hour=None, per_day=None)
BASIC = RateLimits(per_minute=10, per_hour=100, per_day=500)


@pytest.fixture(params=["memory", "redis"])
def rate_limit_store(request: pytest.FixtureRequest) -> Iterator[RateLimitStore]:
    """One store per adapter under test."""
    if request.param == "memory":
        store: RateLimitStore = MemoryRateLimitStore()
        yield store
    elif request.param == "redis":
        client = request.getfixturevalue("redis_client")
        yield RedisRateLimitStore(client, prefix=f"test:{uuid.uuid4()}")
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no rate-limit store builder for {request.param!r}")


@pytest.fixture
def subject() -> str:
    """A subject no other test (or earlier run against a shared backend) has used."""
    return f"user-{uuid.uuid4()}"


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def allowed_count(decisions: list[RateLimitDecision]) -> int:
    return sum(d.allowed for d in decisions)


# --- hit -----------------------------------------------------------------------------------


def test_hit_admits_up_to_the_limit_then_refuses(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    decisions = [rate_limit_store.hit(subject, PER_MINUTE_3, at(i)) for i in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert all(d.limit == 3 for d in decisions)
    assert [d.retry_after for d in decisions] == [None, None, None, 57.0, 56.0]
    assert decisions[0].reset_after == 60.0
    assert decisions[2].warning
    assert not decisions[0].warning
    assert decisions[0].policy_header == "3;w=60"


def test_hits_at_the_same_instant_count_separately(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    decisions = [rate_limit_store.hit(subject, PER_MINUTE_3, at(0)) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]


def test_refused_hits_are_not_counted(rate_limit_store: RateLimitStore, subject: str) -> None:
    for i in range(3):
        assert rate_limit_store.hit(subject, PER_MINUTE_3, at(i)).allowed
    for i in range(3, 59):
        assert not rate_limit_store.hit(subject, PER_MINUTE_3, at(i)).allowed
    # Had the refusals counted, the window would still be full.
    assert rate_limit_store.hit(subject, PER_MINUTE_3, at(60)).allowed


def test_a_slot_frees_exactly_one_window_later(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    limits = RateLimits(per_minute=1)
    assert rate_limit_store.hit(subject, limits, at(0)).allowed
    assert not rate_limit_store.hit(subject, limits, at(59.999_999)).allowed
    assert rate_limit_store.hit(subject, limits, at(60)).allowed


def test_no_double_burst_around_a_minute_boundary(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    limits = RateLimits(per_minute=10)
    first = [rate_limit_store.hit(subject, limits, at(59.5)) for _ in range(10)]
    second = [rate_limit_store.hit(subject, limits, at(60.5)) for _ in range(10)]
    assert allowed_count(first) == 10
    assert allowed_count(second) == 0
    assert {d.retry_after for d in second} == {59.0}


def test_hour_and_day_windows(rate_limit_store: RateLimitStore, subject: str) -> None:
    limits = RateLimits(per_minute=None, per_hour=2, per_day=3)
    assert rate_limit_store.hit(subject, limits, at(0)).allowed
    assert rate_limit_store.hit(subject, limits, at(600)).allowed
    hour_full = rate_limit_store.hit(subject, limits, at(1200))
    assert not hour_full.allowed
    assert hour_full.retry_after == 2400.0
    assert rate_limit_store.hit(subject, limits, at(3600)).allowed
    day_full = rate_limit_store.hit(subject, limits, at(3 * 3600))
    assert not day_full.allowed
    assert day_full.retry_after == 86400.0 - 3 * 3600
    assert [u.window for u in day_full.windows] == [Window.HOUR, Window.DAY]
    assert rate_limit_store.hit(subject, limits, at(86400)).allowed


def test_unlimited_admits_and_counts_nothing(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    for i in range(50):
        decision = rate_limit_store.hit(subject, RateLimits.none(), at(i * 0.01))
        assert decision.allowed
        assert decision.limit is None
        assert decision.remaining is None
    assert rate_limit_store.peek(subject, RateLimits(per_minute=1), at(1)).allowed


def test_the_instant_not_the_time_zone_counts(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    limits = RateLimits(per_minute=1)
    assert rate_limit_store.hit(subject, limits, at(0)).allowed
    elsewhere = timezone(timedelta(hours=-7))
    assert not rate_limit_store.hit(subject, limits, at(30).astimezone(elsewhere)).allowed
    assert rate_limit_store.hit(subject, limits, at(60).astimezone(elsewhere)).allowed


def test_naive_datetimes_are_refused(rate_limit_store: RateLimitStore, subject: str) -> None:
    naive = datetime(2030, 6, 1, 12, 0, 0)  # naive on purpose
    with pytest.raises(ValueError, match="timezone-aware"):
        rate_limit_store.hit(subject, BASIC, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        rate_limit_store.peek(subject, BASIC, naive)


# --- peek ----------------------------------------------------------------------------------


def test_peek_counts_nothing_and_agrees_with_the_next_hit(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    fresh = rate_limit_store.peek(subject, PER_MINUTE_3, at(0))
    assert fresh.allowed
    assert fresh.remaining == 2  # as if the request were counted, like hit reports it
    for _ in range(10):
        rate_limit_store.peek(subject, PER_MINUTE_3, at(0))
    for i in range(4):
        peeked = rate_limit_store.peek(subject, PER_MINUTE_3, at(i))
        assert rate_limit_store.hit(subject, PER_MINUTE_3, at(i)) == peeked
    refused = rate_limit_store.peek(subject, PER_MINUTE_3, at(10))
    assert not refused.allowed
    assert refused.retry_after == 50.0


# --- reset ---------------------------------------------------------------------------------


def test_reset_forgets_the_subject(rate_limit_store: RateLimitStore, subject: str) -> None:
    for _ in range(3):
        rate_limit_store.hit(subject, PER_MINUTE_3, at(0))
    assert not rate_limit_store.hit(subject, PER_MINUTE_3, at(1)).allowed
    rate_limit_store.reset(subject)
    after = rate_limit_store.hit(subject, PER_MINUTE_3, at(1))
    assert after.allowed
    assert after.remaining == 2


def test_reset_of_an_unknown_subject_is_harmless(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    rate_limit_store.reset(subject)
    assert rate_limit_store.hit(subject, PER_MINUTE_3, at(0)).remaining == 2


# --- isolation -----------------------------------------------------------------------------


def test_subjects_are_isolated(rate_limit_store: RateLimitStore, subject: str) -> None:
    other = f"{subject}-other"
    for _ in range(3):
        assert rate_limit_store.hit(subject, PER_MINUTE_3, at(0)).allowed
    assert not rate_limit_store.hit(subject, PER_MINUTE_3, at(0)).allowed
    assert rate_limit_store.peek(other, PER_MINUTE_3, at(0)).remaining == 2
    assert rate_limit_store.hit(other, PER_MINUTE_3, at(0)).allowed
    rate_limit_store.reset(other)
    assert not rate_limit_store.hit(subject, PER_MINUTE_3, at(0)).allowed


# --- concurrency ---------------------------------------------------------------------------


def _hammer(
    store: RateLimitStore, subjects: list[str], limits: RateLimits, when: datetime
) -> list[tuple[str, RateLimitDecision]]:
    """Hit from one thread per entry of ``subjects``, all released at once."""
    barrier = threading.Barrier(len(subjects))

    def one(name: str) -> tuple[str, RateLimitDecision]:
        barrier.wait()
        return name, store.hit(name, limits, when)

    with ThreadPoolExecutor(max_workers=len(subjects)) as pool:
        return list(pool.map(one, subjects))


def test_fifty_threads_against_ten_per_minute_admit_exactly_ten(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    limits = RateLimits(per_minute=10)
    results = _hammer(rate_limit_store, [subject] * 50, limits, at(0))
    assert allowed_count([d for _, d in results]) == 10
    assert rate_limit_store.peek(subject, limits, at(1)).allowed is False
    # Exactly ten were recorded, so exactly ten slots free a minute later.
    later = [rate_limit_store.hit(subject, limits, at(60)) for _ in range(11)]
    assert allowed_count(later) == 10


def test_concurrent_subjects_do_not_share_quota(
    rate_limit_store: RateLimitStore, subject: str
) -> None:
    limits = RateLimits(per_minute=5)
    names = [f"{subject}-{i % 4}" for i in range(40)]
    results = _hammer(rate_limit_store, names, limits, at(0))
    for i in range(4):
        mine = [d for name, d in results if name == f"{subject}-{i}"]
        assert allowed_count(mine) == 5
