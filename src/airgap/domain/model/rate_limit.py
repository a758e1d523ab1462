"""Rate-limit policy: an exact moving window (sliding log) over a minute, an hour and a day.

A request at time ``now`` is admitted only if, for every limited window of length ``w``, the
number of already admitted requests in the half-open interval ``(now - w, now]`` is below that
window's limit. A refused request is not counted. Because every admitted request is compared
with the exact log of its predecessors, no interval of length ``w`` -- wherever it starts --
ever holds more than the limit, unlike a fixed window, which lets a double burst through
around a window boundary.

Timestamps are epoch seconds as floats. An entry ``t`` counts in the window of ``now`` while
``t + w > now``; it stops counting at exactly ``now == t + w``. The comparison is spelled with
``t + w`` (never ``now - w``) on purpose: the moment a slot frees is then the float ``t + w``
itself, so a caller that waits exactly ``retry_after`` is admitted, with no rounding gap.

Everything here is pure; :class:`MovingWindowLog` is the in-memory building block for
adapters, and the Redis adapter reproduces :func:`decide` atomically in one script. Callers
that can only observe counts (not the whole log) use :func:`observe` / :func:`decide_observed`.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from fractions import Fraction

import attrs

from airgap.domain.model.errors import ValidationFailed

__all__ = [
    "LONGEST_WINDOW_SECONDS",
    "WARNING_RATIO",
    "MovingWindowLog",
    "RateLimitDecision",
    "RateLimits",
    "Window",
    "WindowObservation",
    "WindowUsage",
    "decide",
    "decide_observed",
    "epoch_seconds",
    "observe",
]

WARNING_RATIO = 0.8
"""Usage (after a decision) at or above this share of a window's limit sets ``warning``."""

# The ratio read as the decimal the constant spells, so that exactly 80 % of a limit compares
# equal instead of falling foul of 0.8's binary approximation.
_WARNING_FRACTION = Fraction(repr(WARNING_RATIO))


class Window(enum.StrEnum):
    """The three moving windows a profile limits, shortest first."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"

    @property
    def seconds(self) -> int:
        """Length of the window in seconds: 60, 3600 or 86400."""
        return _WINDOW_SECONDS[self]


_WINDOW_SECONDS: dict[Window, int] = {Window.MINUTE: 60, Window.HOUR: 3600, Window.DAY: 86400}

LONGEST_WINDOW_SECONDS = Window.DAY.seconds
"""How much history a log must keep for :func:`decide` to be exact."""


def _check_limit(_instance: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    # bool is an int subclass; ``True`` as a limit is a bug, not "one request".
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationFailed(
            f"rate limit {attribute.name} must be a positive integer or None, got {value!r}"
        )


@attrs.frozen
class RateLimits:
    """The limits of one profile: admitted requests per minute, hour and day.

    ``None`` means that window is unlimited. A limit must be a positive integer (a profile that
    may make no requests at all is a deactivated user, not a rate limit).
    """

    per_minute: int | None = attrs.field(default=None, validator=_check_limit)
    per_hour: int | None = attrs.field(default=None, validator=_check_limit)
    per_day: int | None = attrs.field(default=None, validator=_check_limit)

    def limit(self, window: Window) -> int | None:
        """The limit for ``window`` (``None`` when unlimited)."""
        if window is Window.MINUTE:
            return self.per_minute
        if window is Window.HOUR:
            return self.per_hour
        return self.per_day

    def limited_windows(self) -> tuple[tuple[Window, int], ...]:
        """``(window, limit)`` for every limited window, in minute/hour/day order."""
        pairs: list[tuple[Window, int]] = []
        for window in Window:
            limit = self.limit(window)
            if limit is not None:
                pairs.append((window, limit))
        return tuple(pairs)

    @property
    def unlimited(self) -> bool:
        """True when no window is limited (e.g. the admin profile)."""
        return self.per_minute is None and self.per_hour is None and self.per_day is None

    @classmethod
    def unlimited_limits(cls) -> RateLimits:
        """Limits that admit everything. Also available as :meth:`none`."""
        return cls(per_minute=None, per_hour=None, per_day=None)

    @classmethod
    def none(cls) -> RateLimits:
        """Alias of :meth:`unlimited_limits`."""
        return cls.unlimited_limits()


@attrs.frozen
class WindowUsage:
    """How one limited window stands after a decision.

    ``used`` counts the request just decided when it was admitted. ``reset_after`` is the
    number of seconds until the oldest counted request leaves the window (one slot frees);
    0 when nothing is counted.
    """

    window: Window
    limit: int
    used: int
    remaining: int
    reset_after: float


@attrs.frozen
class RateLimitDecision:
    """The verdict on one request and the usage to report in response headers.

    ``limit``/``remaining``/``reset_after`` describe the most constrained window: the one with
    the fewest remaining requests, ties going to the one whose slot frees last (so that, when
    refused, the headers agree with ``retry_after``), then to the shorter window. They are
    ``None``/``None``/``0.0`` when nothing is limited.

    ``retry_after`` is set only when refused: the seconds after which one request would be
    admitted, provided no other is admitted meanwhile (the maximum over exhausted windows).
    ``warning`` is True when any window's usage after the decision is at least
    :data:`WARNING_RATIO` of its limit.
    """

    allowed: bool
    limit: int | None
    remaining: int | None
    reset_after: float
    retry_after: float | None
    warning: bool
    windows: tuple[WindowUsage, ...]

    @property
    def policy_header(self) -> str:
        """Value of the ``RateLimit-Policy`` header (draft-ietf-httpapi-ratelimit-headers-07).

        One ``<limit>;w=<window seconds>`` item per limited window, minute first, joined by
        ``", "``; e.g. ``'10;w=60, 100;w=3600, 500;w=86400'``. Empty when unlimited (the
        header is then omitted).
        """
        return ", ".join(f"{usage.limit};w={usage.window.seconds}" for usage in self.windows)

    @property
    def rate_limit_header(self) -> str:
        """Value of the ``RateLimit`` header (draft-07): ``limit=10, remaining=9, reset=60``.

        Describes the most constrained window; ``reset`` is :attr:`reset_seconds`. Empty when
        unlimited.
        """
        if self.limit is None or self.remaining is None:
            return ""
        return f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_seconds}"

    @property
    def reset_seconds(self) -> int:
        """``reset_after`` rounded up to whole seconds (for ``X-RateLimit-Reset``)."""
        return math.ceil(self.reset_after)

    @property
    def retry_after_seconds(self) -> int | None:
        """``retry_after`` rounded up to whole seconds (for ``Retry-After``); None if allowed.

        Rounding up keeps the promise: waiting this long is always enough.
        """
        if self.retry_after is None:
            return None
        return math.ceil(self.retry_after)


@attrs.frozen
class WindowObservation:
    """What :func:`decide` needs to know about one window's log before a request.

    ``used``: admitted requests still counting in the window (``t + w > now``).
    ``oldest``: the earliest of them, or None when ``used`` is 0.
    ``freeing``: when ``used >= limit``, the entry whose expiry brings the count back below
    the limit (the ``(used - limit)``-th counted entry, 0-based, oldest first); else None.

    An adapter that keeps its log elsewhere (Redis) can gather these with a count and two
    indexed reads instead of shipping the whole day's log.
    """

    used: int
    oldest: float | None
    freeing: float | None


def epoch_seconds(moment: datetime) -> float:
    """Epoch seconds of a timezone-aware ``moment``.

    Raises :class:`ValueError` for a naive datetime, which would silently be read as local
    time and so disagree between processes.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("rate limiting needs a timezone-aware datetime")
    return moment.timestamp()


def observe(window: Window, limit: int, now: float, admitted: Sequence[float]) -> WindowObservation:
    """Observe ``window`` (limited to ``limit``) in the ascending log ``admitted`` at ``now``.

    Entries later than ``now`` (another process's clock running ahead) are counted too: that
    is the conservative reading, and it keeps every interval of length ``w`` within the limit.
    """
    seconds = window.seconds
    # ``t + w`` is monotone in ``t``, so the log stays sorted under this key.
    first = bisect.bisect_right(admitted, now, key=lambda t: t + seconds)
    used = len(admitted) - first
    if used == 0:
        return WindowObservation(used=0, oldest=None, freeing=None)
    freeing = admitted[first + used - limit] if used >= limit else None
    return WindowObservation(used=used, oldest=admitted[first], freeing=freeing)


def _delay_until(target: float, now: float) -> float:
    """Seconds from ``now`` to ``target`` such that ``now + delay >= target`` in floats.

    ``target - now`` can round down by an ulp; nudging it up keeps the promise that a request
    made exactly ``delay`` later finds the slot free.
    """
    delay = target - now
    while now + delay < target:
        delay = math.nextafter(delay, math.inf)
    return max(delay, 0.0)


def _is_warning(used: int, limit: int) -> bool:
    return used >= _WARNING_FRACTION * limit


def decide_observed(
    limits: RateLimits, now: float, observations: Mapping[Window, WindowObservation]
) -> RateLimitDecision:
    """Decide one request at ``now`` from per-window observations (see :func:`observe`).

    ``observations`` must hold an entry for every limited window of ``limits``.
    """
    limited = limits.limited_windows()
    if not limited:
        return RateLimitDecision(
            allowed=True,
            limit=None,
            remaining=None,
            reset_after=0.0,
            retry_after=None,
            warning=False,
            windows=(),
        )
    allowed = all(observations[window].used < limit for window, limit in limited)

    usages: list[WindowUsage] = []
    retry_after: float | None = None
    for window, limit in limited:
        seen = observations[window]
        seconds = window.seconds
        if allowed:
            used = seen.used + 1
            oldest: float | None = seen.oldest if seen.oldest is not None else now
        else:
            used = seen.used
            oldest = seen.oldest
            if seen.freeing is not None:
                wait = _delay_until(seen.freeing + seconds, now)
                retry_after = wait if retry_after is None else max(retry_after, wait)
        reset_after = 0.0 if oldest is None else _delay_until(oldest + seconds, now)
        usages.append(
            WindowUsage(
                window=window,
                limit=limit,
                used=used,
                remaining=max(limit - used, 0),
                reset_after=reset_after,
            )
        )

    # Least remaining first; among equals, the slot that frees last; then the shorter window.
    order = {window: index for index, window in enumerate(Window)}
    binding = min(usages, key=lambda u: (u.remaining, -u.reset_after, order[u.window]))
    return RateLimitDecision(
        allowed=allowed,
        limit=binding.limit,
        remaining=binding.remaining,
        reset_after=binding.reset_after,
        retry_after=retry_after,
        warning=any(_is_warning(u.used, u.limit) for u in usages),
        windows=tuple(usages),
    )


def decide(limits: RateLimits, now: float, admitted: Sequence[float]) -> RateLimitDecision:
    """Decide whether one more request at ``now`` is admitted.

    ``admitted`` holds the ascending epoch-second timestamps of previously admitted requests;
    the caller keeps at least the last day of them. The usage reported counts this request
    when it is admitted. Pure: nothing is recorded.
    """
    observations = {
        window: observe(window, limit, now, admitted) for window, limit in limits.limited_windows()
    }
    return decide_observed(limits, now, observations)


def _ascending(timestamps: Sequence[float]) -> list[float]:
    # A log seeded by a caller is sorted here once, so every bisect afterwards is sound.
    return sorted(timestamps)


@attrs.define
class MovingWindowLog:
    """An in-memory sliding log for one subject (not thread-safe; adapters lock around it).

    Requests decided under fully unlimited limits are not recorded: there is nothing to count
    them against, and an admin's log would otherwise grow with every request.
    """

    _admitted: list[float] = attrs.field(factory=list, alias="admitted", converter=_ascending)

    @property
    def admitted(self) -> tuple[float, ...]:
        """The recorded timestamps, ascending."""
        return tuple(self._admitted)

    def hit(self, limits: RateLimits, now: float) -> RateLimitDecision:
        """Decide a request at ``now`` and, if admitted, record it; forget entries a day old."""
        self._prune(now)
        decision = decide(limits, now, self._admitted)
        if decision.allowed and not limits.unlimited:
            # insort, not append: a clock that steps back must not unsort the log.
            bisect.insort(self._admitted, now)
        return decision

    def peek(self, limits: RateLimits, now: float) -> RateLimitDecision:
        """Decide a request at ``now`` without recording anything."""
        return decide(limits, now, self._admitted)

    def _prune(self, now: float) -> None:
        # Entries outside the longest window can never count again, whatever the limits.
        stale = bisect.bisect_right(self._admitted, now, key=lambda t: t + LONGEST_WINDOW_SECONDS)
        if stale:
            del self._admitted[:stale]
