"""Unit tests of the moving-window rate-limit policy (airgap.domain.model.rate_limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.rate_limit import (
    LONGEST_WINDOW_SECONDS,
    WARNING_RATIO,
    MovingWindowLog,
    RateLimitDecision,
    RateLimits,
    Window,
    WindowUsage,
    decide,
    epoch_seconds,
)

# A realistic epoch that is a multiple of a day, so fixed-window boundaries (which a naive
# limiter would use) fall on T0 + k * window.
T0 = 1_700_006_400.0
assert T0 % 86_400 == 0

BASIC = RateLimits(per_minute=10, per_hour=100, per_day=500)


def hits(log: MovingWindowLog, limits: RateLimits, times: list[float]) -> list[bool]:
    return [log.hit(limits, t).allowed for t in times]


# --- Window and RateLimits -----------------------------------------------------------------


def test_window_seconds_and_values() -> None:
    assert [w.value for w in Window] == ["minute", "hour", "day"]
    assert [w.seconds for w in Window] == [60, 3600, 86400]
    assert LONGEST_WINDOW_SECONDS == 86400
    assert WARNING_RATIO == 0.8


def test_rate_limits_accessors() -> None:
    assert BASIC.limit(Window.MINUTE) == 10
    assert BASIC.limit(Window.HOUR) == 100
    assert BASIC.limit(Window.DAY) == 500
    assert not BASIC.unlimited
    assert BASIC.limited_windows() == ((Window.MINUTE, 10), (Window.HOUR, 100), (Window.DAY, 500))
    partial = RateLimits(per_minute=None, per_hour=5, per_day=None)
    assert partial.limited_windows() == ((Window.HOUR, 5),)
    assert not partial.unlimited


def test_unlimited_constructors() -> None:
    assert RateLimits.unlimited_limits().unlimited
    assert RateLimits.none() == RateLimits.unlimited_limits() == RateLimits()
    assert RateLimits.none().limited_windows() == ()


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "10"])
def test_rate_limits_reject_non_positive_or_non_int(bad: object) -> None:
    with pytest.raises(ValidationFailed):
        RateLimits(per_minute=bad)  # type: ignore[arg-type]


# --- each window on its own ---------------------------------------------------------------


@pytest.mark.parametrize("window", list(Window))
def test_each_window_admits_its_limit_then_refuses(window: Window) -> None:
    limits = RateLimits(**{f"per_{window.value}": 3})
    log = MovingWindowLog()
    w = window.seconds
    # Three admitted, spread inside the window; the fourth is refused.
    assert hits(log, limits, [T0, T0 + 1, T0 + 2]) == [True, True, True]
    refused = log.hit(limits, T0 + 10)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(w - 10)
    # Just before the first admitted request leaves the window: still refused.
    assert not log.hit(limits, T0 + w - 0.001).allowed
    # Exactly one window after it: that slot is free (half-open interval).
    assert log.hit(limits, T0 + w).allowed
    # ...but only that one slot; the next frees at T0 + 1 + w.
    assert not log.hit(limits, T0 + w + 0.5).allowed
    assert log.hit(limits, T0 + 1 + w).allowed


def test_windows_are_independent() -> None:
    # A generous minute limit does not let the hour limit be exceeded, and vice versa.
    limits = RateLimits(per_minute=2, per_hour=3, per_day=None)
    log = MovingWindowLog()
    assert hits(log, limits, [T0, T0 + 1]) == [True, True]
    minute_bound = log.hit(limits, T0 + 2)
    assert not minute_bound.allowed
    assert [u.window for u in minute_bound.windows] == [Window.MINUTE, Window.HOUR]
    assert minute_bound.windows[0].remaining == 0
    assert minute_bound.windows[1].remaining == 1  # the refused request is not counted
    assert log.hit(limits, T0 + 60).allowed  # minute freed, hour now at 3
    hour_bound = log.hit(limits, T0 + 200)
    assert not hour_bound.allowed
    assert hour_bound.windows[0].remaining == 2  # the minute would admit...
    assert hour_bound.retry_after == 3600 - 200  # ...but the hour says wait for T0 + 3600


def test_unlimited_admits_everything_and_reports_nothing() -> None:
    log = MovingWindowLog()
    for i in range(1000):
        decision = log.hit(RateLimits.none(), T0 + i * 0.001)
        assert decision == RateLimitDecision(
            allowed=True,
            limit=None,
            remaining=None,
            reset_after=0.0,
            retry_after=None,
            warning=False,
            windows=(),
        )
    assert decision.policy_header == ""
    assert decision.rate_limit_header == ""
    # Nothing to count against, so nothing recorded.
    assert log.admitted == ()


def test_unlimited_window_is_left_out() -> None:
    decision = decide(RateLimits(per_minute=None, per_hour=None, per_day=2), T0, [])
    assert [u.window for u in decision.windows] == [Window.DAY]
    assert decision.limit == 2
    assert decision.remaining == 1


# --- refused requests ---------------------------------------------------------------------


def test_refused_requests_are_not_counted() -> None:
    limits = RateLimits(per_minute=2)
    log = MovingWindowLog()
    assert hits(log, limits, [T0, T0 + 1]) == [True, True]
    # A client hammering while refused does not push its own release further out.
    assert not any(hits(log, limits, [T0 + 1 + i * 0.5 for i in range(1, 110)]))
    assert log.admitted == (T0, T0 + 1)
    assert log.hit(limits, T0 + 60).allowed
    assert log.hit(limits, T0 + 61).allowed
    assert not log.hit(limits, T0 + 62).allowed


def test_double_burst_at_fixed_window_boundary_is_refused() -> None:
    # A fixed minute window [T0, T0 + 60) then [T0 + 60, T0 + 120) would admit 10 requests at
    # T0 + 59.5 and 10 more at T0 + 60.5: twenty within one second. The moving window must not.
    limits = RateLimits(per_minute=10)
    log = MovingWindowLog()
    assert all(hits(log, limits, [T0 + 59.5] * 10))
    second_burst = [log.hit(limits, T0 + 60.5) for _ in range(10)]
    assert not any(d.allowed for d in second_burst)
    assert all(d.retry_after == 59.0 for d in second_burst)
    # Exactly a minute after the first burst, the whole quota is back.
    assert all(hits(log, limits, [T0 + 119.5] * 10))
    assert not log.hit(limits, T0 + 119.5).allowed


# --- the numbers --------------------------------------------------------------------------


def test_remaining_reset_and_binding_window_are_exact() -> None:
    limits = RateLimits(per_minute=3, per_hour=5, per_day=None)
    decision = decide(limits, T0 + 20, [T0, T0 + 10])
    assert decision.allowed
    assert decision.windows == (
        WindowUsage(window=Window.MINUTE, limit=3, used=3, remaining=0, reset_after=40.0),
        WindowUsage(window=Window.HOUR, limit=5, used=3, remaining=2, reset_after=3580.0),
    )
    # The minute window has the least remaining, so it is the one reported.
    assert (decision.limit, decision.remaining, decision.reset_after) == (3, 0, 40.0)
    assert decision.retry_after is None
    assert decision.reset_seconds == 40
    assert decision.retry_after_seconds is None


def test_first_request_resets_a_full_window_later() -> None:
    decision = decide(BASIC, T0, [])
    assert decision.allowed
    assert [(u.used, u.remaining, u.reset_after) for u in decision.windows] == [
        (1, 9, 60.0),
        (1, 99, 3600.0),
        (1, 499, 86400.0),
    ]
    assert (decision.limit, decision.remaining, decision.reset_after) == (10, 9, 60.0)


def test_refusal_reports_usage_without_the_refused_request() -> None:
    limits = RateLimits(per_minute=3, per_hour=5, per_day=None)
    decision = decide(limits, T0 + 30, [T0, T0 + 10, T0 + 20])
    assert not decision.allowed
    assert decision.windows == (
        WindowUsage(window=Window.MINUTE, limit=3, used=3, remaining=0, reset_after=30.0),
        WindowUsage(window=Window.HOUR, limit=5, used=3, remaining=2, reset_after=3570.0),
    )
    assert decision.retry_after == 30.0
    assert decision.retry_after_seconds == 30
    assert (decision.limit, decision.remaining, decision.reset_after) == (3, 0, 30.0)


def test_retry_after_is_the_latest_of_the_exhausted_windows() -> None:
    limits = RateLimits(per_minute=1, per_hour=2, per_day=None)
    decision = decide(limits, T0 + 110, [T0, T0 + 100])
    assert not decision.allowed
    # Minute frees at T0 + 160, hour at T0 + 3600: only the later admits a request.
    assert decision.retry_after == 3490.0
    # Both have 0 remaining; the headers name the one that binds longest, matching Retry-After.
    assert (decision.limit, decision.remaining, decision.reset_after) == (2, 0, 3490.0)
    assert decide(limits, T0 + 110 + 3489.999, [T0, T0 + 100]).allowed is False
    assert decide(limits, T0 + 3600, [T0, T0 + 100]).allowed is True


def test_retry_after_uses_the_entry_that_brings_the_count_below_the_limit() -> None:
    # Limits lowered after the fact (profile downgrade): 4 counted against a limit of 2. Two
    # entries must leave before one slot is free, so the wait is for the second oldest.
    limits = RateLimits(per_minute=2)
    decision = decide(limits, T0 + 30, [T0, T0 + 5, T0 + 10, T0 + 15])
    assert not decision.allowed
    assert decision.retry_after == 60 + 10 - 30
    assert decision.windows[0].used == 4
    assert decision.windows[0].remaining == 0
    assert decision.windows[0].reset_after == 30.0  # the oldest still frees first


def test_retry_after_survives_float_rounding() -> None:
    # Pairs where ``now + ((first + 60) - now)`` rounds to just below ``first + 60``: a naive
    # retry_after would send the client back an ulp too early, to be refused again.
    limits = RateLimits(per_minute=1)
    awkward = [
        (0.09083699017983304, 2.1074928600476603),
        (6.279921254689994e-05, 23.500679114819167),
    ]
    for first, now in awkward:
        assert now + ((first + 60) - now) < first + 60  # the trap is real
        refused = decide(limits, now, [first])
        assert not refused.allowed
        assert refused.retry_after is not None
        assert refused.retry_after > 0
        assert decide(limits, now + refused.retry_after, [first]).allowed
    for first, now in [(0.1, 0.30000000000000004), (1.7e9 + 0.1, 1.7e9 + 0.7), (3.3, 59.9)]:
        refused = decide(limits, now, [first])
        assert not refused.allowed
        assert refused.retry_after is not None
        assert refused.retry_after > 0
        assert decide(limits, now + refused.retry_after, [first]).allowed


# --- warning -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "first_warning"),
    [(10, 8), (5, 4), (100, 80), (3, 3), (1, 1), (7, 6)],
)
def test_warning_from_eighty_percent(limit: int, first_warning: int) -> None:
    limits = RateLimits(per_minute=limit)
    log = MovingWindowLog()
    flags = [log.hit(limits, T0).warning for _ in range(limit)]
    assert flags == [n >= first_warning for n in range(1, limit + 1)]
    assert log.hit(limits, T0).warning  # refused, still at (over) the mark


def test_warning_from_any_window() -> None:
    limits = RateLimits(per_minute=10, per_hour=5, per_day=None)
    assert not decide(limits, T0 + 100, [T0, T0 + 1]).warning
    # 4 of 5 in the hour trips the warning although the minute holds only this request.
    assert decide(limits, T0 + 200, [T0, T0 + 1, T0 + 2]).warning


# --- headers -------------------------------------------------------------------------------


def test_policy_header_text() -> None:
    assert decide(BASIC, T0, []).policy_header == "10;w=60, 100;w=3600, 500;w=86400"
    premium = RateLimits(per_minute=60, per_hour=1000, per_day=10000)
    assert decide(premium, T0, []).policy_header == "60;w=60, 1000;w=3600, 10000;w=86400"
    assert decide(RateLimits(per_hour=100), T0, []).policy_header == "100;w=3600"
    assert decide(RateLimits(10, None, 500), T0, []).policy_header == "10;w=60, 500;w=86400"


def test_rate_limit_header_text() -> None:
    assert decide(BASIC, T0, []).rate_limit_header == "limit=10, remaining=9, reset=60"
    # Fractional reset rounds up so a client never comes back too early.
    assert decide(BASIC, T0 + 0.25, [T0]).rate_limit_header == "limit=10, remaining=8, reset=60"
    refused = decide(RateLimits(per_minute=1), T0 + 10.5, [T0])
    assert refused.rate_limit_header == "limit=1, remaining=0, reset=50"
    assert refused.retry_after_seconds == 50


# --- the log ------------------------------------------------------------------------------


def test_peek_does_not_record() -> None:
    limits = RateLimits(per_minute=1)
    log = MovingWindowLog()
    for _ in range(5):
        assert log.peek(limits, T0).allowed
    assert len(log.admitted) == 0
    assert log.hit(limits, T0).allowed
    assert not log.peek(limits, T0 + 1).allowed
    assert list(log.admitted) == [T0]


def test_log_forgets_entries_older_than_a_day() -> None:
    limits = RateLimits(per_minute=5)
    log = MovingWindowLog()
    assert all(hits(log, limits, [T0, T0 + 1, T0 + 2]))
    assert log.hit(limits, T0 + 86_401).allowed
    # T0 and T0 + 1 are a day old (half-open: exactly a day counts as gone); T0 + 2 is not.
    assert log.admitted == (T0 + 2, T0 + 86_401)


def test_clock_stepping_back_keeps_the_log_sorted_and_counts_the_future() -> None:
    limits = RateLimits(per_minute=2)
    log = MovingWindowLog()
    assert log.hit(limits, T0 + 30).allowed
    assert log.hit(limits, T0 + 10).allowed  # another process's clock is behind
    assert log.admitted == (T0 + 10, T0 + 30)
    # At T0 + 75 the entry at T0 + 10 has left, the one at T0 + 30 has not.
    assert log.hit(limits, T0 + 75).allowed
    assert not log.hit(limits, T0 + 76).allowed


def test_seeded_log_is_sorted() -> None:
    log = MovingWindowLog(admitted=[T0 + 2, T0, T0 + 1])
    assert log.admitted == (T0, T0 + 1, T0 + 2)


def test_epoch_seconds() -> None:
    moment = datetime(2030, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    assert epoch_seconds(moment) == moment.timestamp()
    shifted = moment.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert epoch_seconds(shifted) == epoch_seconds(moment)
    with pytest.raises(ValueError, match="timezone-aware"):
        epoch_seconds(datetime(2030, 1, 1))  # naive on purpose
