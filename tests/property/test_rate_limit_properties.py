"""Property tests: the moving-window limiter against brute force and a naive reference model.

Request times are generated as T0 + k/8 seconds. Such dyadic values, and their sums with the
window lengths, are exact in binary floating point, so the float implementation can be
compared for *equality* with a reference model that works in exact :class:`Fraction` time.
A separate test uses arbitrary floats for the properties that must hold regardless.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from airgap.adapters.memory.rate_limit import MemoryRateLimitStore
from airgap.domain.model.rate_limit import (
    MovingWindowLog,
    RateLimitDecision,
    RateLimits,
    Window,
    decide,
)

T0 = 1_700_006_400  # an epoch at midnight UTC
TICKS = 8  # generated times are multiples of 1/8 s

# --- strategies ----------------------------------------------------------------------------

small_limit = st.none() | st.integers(min_value=1, max_value=5)
rate_limits = st.builds(RateLimits, small_limit, small_limit, small_limit)


def _near(seconds: int) -> st.SearchStrategy[int]:
    # A gap within a few ticks of a window length, in ticks: straddles the boundary.
    return st.integers(min_value=-3, max_value=3).map(lambda d: seconds * TICKS + d)


# Gaps between consecutive requests, in ticks. Zero (same instant) is common on purpose, and
# so are gaps that land near each window's length.
gap_ticks = st.one_of(
    st.just(0),
    st.just(0),
    st.integers(min_value=1, max_value=4 * TICKS),
    st.integers(min_value=1, max_value=90 * TICKS),
    _near(60),
    _near(3600),
    _near(86400),
    st.integers(min_value=1, max_value=2 * 86400 * TICKS),
)
timings = st.lists(gap_ticks, min_size=1, max_size=40).map(
    lambda gaps: [sum(gaps[: i + 1]) for i in range(len(gaps))]
)


def as_float(ticks: int) -> float:
    return T0 + ticks / TICKS


def as_exact(ticks: int) -> Fraction:
    return T0 + Fraction(ticks, TICKS)


# --- the naive reference model -------------------------------------------------------------


@attrs.frozen
class RefWindow:
    used: int
    remaining: int
    reset_after: Fraction


@attrs.frozen
class RefDecision:
    allowed: bool
    retry_after: Fraction | None
    warning: bool
    windows: dict[Window, RefWindow]


def ref_in_window(admitted: list[Fraction], now: Fraction, seconds: int) -> list[Fraction]:
    """The admitted requests in (now - seconds, now], by definition."""
    return [t for t in admitted if now - seconds < t <= now]


def ref_admits(limits: RateLimits, admitted: list[Fraction], now: Fraction) -> bool:
    return all(
        len(ref_in_window(admitted, now, window.seconds)) < limit
        for window, limit in limits.limited_windows()
    )


def ref_decide(limits: RateLimits, admitted: list[Fraction], now: Fraction) -> RefDecision:
    """Decide by scanning everything, with exact arithmetic and no cleverness."""
    allowed = ref_admits(limits, admitted, now)
    counted = [*admitted, now] if allowed else admitted
    windows = {}
    warning = False
    for window, limit in limits.limited_windows():
        inside = ref_in_window(counted, now, window.seconds)
        reset_after = min(inside) + window.seconds - now if inside else Fraction(0)
        windows[window] = RefWindow(len(inside), max(limit - len(inside), 0), reset_after)
        warning = warning or len(inside) * 5 >= limit * 4
    retry_after = None
    if not allowed:
        # The earliest moment at which some request leaves some window and, with no new
        # request in between, one would be admitted.
        candidates = sorted({t + window.seconds for t in admitted for window in Window})
        retry_after = next(
            c - now for c in candidates if c > now and ref_admits(limits, admitted, c)
        )
    return RefDecision(allowed, retry_after, warning, windows)


def assert_agrees(actual: RateLimitDecision, expected: RefDecision, limits: RateLimits) -> None:
    assert actual.allowed == expected.allowed
    assert actual.warning == expected.warning
    if expected.retry_after is None:
        assert actual.retry_after is None
    else:
        assert actual.retry_after is not None
        assert Fraction(actual.retry_after) == expected.retry_after
    assert [u.window for u in actual.windows] == list(expected.windows)
    for usage in actual.windows:
        ref = expected.windows[usage.window]
        assert usage.limit == limits.limit(usage.window)
        assert (usage.used, usage.remaining) == (ref.used, ref.remaining)
        assert Fraction(usage.reset_after) == ref.reset_after
    if limits.unlimited:
        assert (actual.limit, actual.remaining, actual.reset_after) == (None, None, 0.0)
    else:
        least = min(ref.remaining for ref in expected.windows.values())
        assert actual.remaining == least
        assert actual.limit is not None
        assert (actual.limit, actual.remaining, actual.reset_after) in {
            (u.limit, u.remaining, u.reset_after) for u in actual.windows
        }


def assert_never_over_limit(limits: RateLimits, admitted: list[Fraction]) -> None:
    """Brute force: no interval (x - w, x] holds more than the limit. The fullest such
    interval ends on an admitted request, so checking those right ends covers them all."""
    for window, limit in limits.limited_windows():
        for end in admitted:
            assert len(ref_in_window(admitted, end, window.seconds)) <= limit


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(limits=rate_limits, times=timings)
def test_log_matches_reference_and_never_exceeds_a_limit(
    limits: RateLimits, times: list[int]
) -> None:
    log = MovingWindowLog()
    admitted: list[Fraction] = []
    for ticks in times:
        now_f, now_x = as_float(ticks), as_exact(ticks)
        expected = ref_decide(limits, admitted, now_x)

        # (b) peek and hit agree with the reference model, field by field.
        assert_agrees(log.peek(limits, now_f), expected, limits)
        before = log.admitted
        decision = log.hit(limits, now_f)
        assert_agrees(decision, expected, limits)

        # (c) a refusal names a positive wait after which a request is admitted.
        if not decision.allowed:
            assert decision.retry_after is not None
            assert decision.retry_after > 0
            # The refused request was not counted (only day-old entries were forgotten).
            assert log.admitted == tuple(t for t in before if t + 86400 > now_f)
            probe = MovingWindowLog(admitted=list(before))
            assert probe.hit(limits, now_f + decision.retry_after).allowed
            assert decision.retry_after_seconds is not None
            assert decision.retry_after_seconds >= decision.retry_after
        elif not limits.unlimited:
            admitted.append(now_x)

    # (a) exactness over every interval of every window.
    assert_never_over_limit(limits, admitted)


@settings(max_examples=200, deadline=None)
@given(
    limits=rate_limits,
    times=st.lists(
        # Small values matter: there ``(t + w) - now`` loses the most bits to rounding.
        st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)
        | st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=30,
    ).map(sorted),
)
def test_arbitrary_floats_keep_the_promises(limits: RateLimits, times: list[float]) -> None:
    # With arbitrary floats "in the window" means ``t + w > now`` as the float sum; exactness
    # is judged by that same reading (it differs from real arithmetic by at most an ulp).
    log = MovingWindowLog()
    for now in times:
        before = log.admitted
        decision = log.hit(limits, now)
        if not decision.allowed:
            assert decision.retry_after is not None
            assert decision.retry_after > 0
            assert decide(limits, now + decision.retry_after, before).allowed
    for window, limit in limits.limited_windows():
        kept = list(log.admitted)
        for end in kept:
            inside = [t for t in kept if t <= end and t + window.seconds > end]
            assert len(inside) <= limit


@settings(max_examples=100, deadline=None)
@given(
    limits=rate_limits,
    now=st.integers(min_value=0, max_value=3 * 86400 * TICKS),
    history=st.lists(st.integers(min_value=0, max_value=3 * 86400 * TICKS), max_size=30),
)
def test_decide_matches_reference_on_any_history(
    limits: RateLimits, now: int, history: list[int]
) -> None:
    # decide() alone, on histories the limiter itself might never build (e.g. after limits
    # were lowered), restricted to the past as the caller's contract says.
    past = sorted(t for t in history if t <= now)
    decision = decide(limits, as_float(now), [as_float(t) for t in past])
    assert_agrees(decision, ref_decide(limits, [as_exact(t) for t in past], as_exact(now)), limits)


# --- stateful: the memory store with several subjects, resets and limit changes ------------


class RateLimitStoreMachine(RuleBasedStateMachine):
    """Drive :class:`MemoryRateLimitStore` and a per-subject reference log side by side."""

    subjects = Bundle("subjects")

    def __init__(self) -> None:
        super().__init__()
        self.store = MemoryRateLimitStore()
        self.model: dict[str, list[Fraction]] = {}
        self.ticks = 0
        self.limits = RateLimits(per_minute=3, per_hour=5, per_day=8)
        self.admitted_ever: dict[str, list[Fraction]] = {}

    @initialize(target=subjects)
    def first_subject(self) -> str:
        return "alice"

    @rule(target=subjects, name=st.sampled_from(["bob", "carol"]))
    def add_subject(self, name: str) -> str:
        return name

    @rule(gap=gap_ticks)
    def advance(self, gap: int) -> None:
        self.ticks += gap

    @rule(limits=rate_limits.filter(lambda limits: not limits.unlimited))
    def change_limits(self, limits: RateLimits) -> None:
        # A profile change applies to the existing log, as it would in production.
        self.limits = limits
        self.admitted_ever.clear()  # the exactness bound is per constant limits

    def _now(self) -> datetime:
        return datetime.fromtimestamp(T0, UTC) + timedelta(microseconds=self.ticks * 125_000)

    @rule(subject=subjects)
    def hit(self, subject: str) -> None:
        log = self.model.setdefault(subject, [])
        expected = ref_decide(self.limits, log, as_exact(self.ticks))
        decision = self.store.hit(subject, self.limits, self._now())
        assert_agrees(decision, expected, self.limits)
        if decision.allowed:
            log.append(as_exact(self.ticks))
            self.admitted_ever.setdefault(subject, []).append(as_exact(self.ticks))

    @rule(subject=subjects)
    def peek(self, subject: str) -> None:
        expected = ref_decide(self.limits, self.model.get(subject, []), as_exact(self.ticks))
        assert_agrees(self.store.peek(subject, self.limits, self._now()), expected, self.limits)

    @rule(subject=consumes(subjects))
    def reset(self, subject: str) -> None:
        self.store.reset(subject)
        self.model.pop(subject, None)
        self.admitted_ever.pop(subject, None)

    @invariant()
    def never_over_limit(self) -> None:
        for admitted in self.admitted_ever.values():
            assert_never_over_limit(self.limits, admitted)


RateLimitStoreMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=40, deadline=None
)
TestRateLimitStoreMachine = RateLimitStoreMachine.TestCase
