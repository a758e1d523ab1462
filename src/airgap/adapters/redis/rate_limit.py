"""The rate-limit store on Redis: one Lua script checks and counts all three windows at once.

Each subject has a sorted set of admitted requests scored by their time in integer
microseconds (integers keep the window boundaries exact, where floats could disagree with the
domain's arithmetic by an ulp). The script counts, per limited window, the entries still in
the window and reads the one or two timestamps the decision needs; it records the request
only if every window has room, and prunes entries no window counts any more. Because the
whole check-and-count runs inside Redis, concurrent requests from any number of API
processes can never exceed a limit. The numbers and the decision itself come from the
domain (:func:`airgap.domain.model.rate_limit.decide_observed`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import redis

from airgap.domain.model.rate_limit import (
    RateLimitDecision,
    RateLimits,
    WindowObservation,
    decide_observed,
    epoch_seconds,
)

MICROS = 1_000_000

# KEYS[1]: the subject's log (sorted set), KEYS[2]: a counter that makes members unique.
# ARGV[1]: now in µs, ARGV[2]: "1" to record an admitted request, then pairs of
# (window length in µs, limit).
_SCRIPT = """
local now = tonumber(ARGV[1])
local record = ARGV[2] == '1'
local pairs_count = (#ARGV - 2) / 2
local longest = 0
local allowed = true
local out = {}
for i = 1, pairs_count do
  local w = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  if w > longest then longest = w end
  local low = '(' .. string.format('%.0f', now - w)
  local used = redis.call('ZCOUNT', KEYS[1], low, '+inf')
  local oldest = ''
  local freeing = ''
  if used > 0 then
    oldest = redis.call('ZRANGEBYSCORE', KEYS[1], low, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2]
    if used >= limit then
      allowed = false
      freeing = redis.call(
        'ZRANGEBYSCORE', KEYS[1], low, '+inf', 'WITHSCORES', 'LIMIT', used - limit, 1)[2]
    end
  end
  out[i] = {used, oldest, freeing}
end
if allowed and record and pairs_count > 0 then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, string.format('%.0f', now) .. ':' .. seq)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - longest))
  local ttl = math.floor(longest / 1000) + 60000
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {allowed and 1 or 0, out}
"""


class RedisRateLimitStore:
    """:class:`~airgap.ports.rate_limit.RateLimitStore` on Redis."""

    def __init__(self, client: redis.Redis, *, prefix: str = "airgap:ratelimit") -> None:
        self._client = client
        self._prefix = prefix
        self._script = client.register_script(_SCRIPT)

    def _keys(self, subject: str) -> list[str]:
        return [f"{self._prefix}:{subject}:log", f"{self._prefix}:{subject}:seq"]

    def _run(
        self, subject: str, limits: RateLimits, now: datetime, record: bool
    ) -> RateLimitDecision:
        limited = limits.limited_windows()
        now_us = round(epoch_seconds(now) * MICROS)
        if not limited:
            return decide_observed(limits, now_us / MICROS, {})
        args: list[int | str] = [now_us, "1" if record else "0"]
        for window, limit in limited:
            args += [window.seconds * MICROS, limit]
        reply = cast(list[Any], self._script(keys=self._keys(subject), args=args))
        observations = {
            window: _observation(raw)
            for (window, _limit), raw in zip(limited, reply[1], strict=True)
        }
        return decide_observed(limits, now_us / MICROS, observations)

    def hit(self, subject: str, limits: RateLimits, now: datetime) -> RateLimitDecision:
        return self._run(subject, limits, now, record=True)

    def peek(self, subject: str, limits: RateLimits, now: datetime) -> RateLimitDecision:
        return self._run(subject, limits, now, record=False)

    def reset(self, subject: str) -> None:
        self._client.delete(*self._keys(subject))


def _observation(raw: list[Any]) -> WindowObservation:
    used, oldest, freeing = raw
    return WindowObservation(
        used=int(used),
        oldest=_seconds(oldest),
        freeing=_seconds(freeing),
    )


def _seconds(score: bytes | str) -> float | None:
    text = score.decode() if isinstance(score, bytes) else score
    return None if text == "" else int(float(text)) / MICROS
