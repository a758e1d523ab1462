"""The query cache's first tier on Redis (:class:`~airgap.ports.cache.FastQueryCache`).

Each entry is a hash ``{prefix}:entry:{key}`` holding the answer (JSON text) and its
bookkeeping. A lookup with a ``now`` at or past the entry's expiry treats it as gone; Redis
drops the key by itself a time to live after it was stored (``PEXPIRE``, relative, so the
caller's clock need not agree with the server's). A set ``{prefix}:index:{index}`` lists
the keys of each index, so one index can be invalidated without scanning; it lives as long
as its longest entry. Every operation that reads and writes runs as one Lua script, so
concurrent workers count every hit exactly once. The hot rule (a normal entry hit
``hot_threshold`` times lives for the hot TTL from then) is the domain's: the script counts,
and the one caller that sees the threshold reached extends the expiry. A hit is also noted
in a ledger (``{prefix}:served``, ``{prefix}:served-at``) that the table behind takes over
(:meth:`RedisQueryCache.drain_hits`), so hits served here cost PostgreSQL nothing.

Redis being unreachable must not stop answers: a connection error or timeout turns a lookup
into a miss and a write into nothing, is logged once, and Redis is left alone for
``pause_s`` seconds (redis-py's own retries would otherwise make every lookup wait for the
dead server). The table behind it keeps serving; see
:class:`~airgap.domain.services.query_cache.TieredQueryCache`. An invalidation that could
not reach Redis would leave copies that must not be served when it comes back (with its
data, if it persists): the first contact that succeeds afterwards empties the cache first.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

import orjson
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from airgap.domain.model.caching import CachedResult, CachePolicy, HitsServed

if TYPE_CHECKING:
    from airgap.ports.cache import FastQueryCache

log = logging.getLogger(__name__)

T = TypeVar("T")

MICROS = 1_000_000

# The hash fields, in the order the lookup script returns them.
_FIELDS = (
    "index",
    "result",
    "result_count",
    "took_ms",
    "stored_at",
    "expires_at",
    "has_aggregations",
    "hit_count",
    "last_hit_at",
)

# An index's key set lives as long as its longest-lived entry.
_KEEP_SET = """
local function keep(set, ttl_ms)
  local pttl = redis.call('PTTL', set)
  if pttl < 0 or pttl < ttl_ms then
    redis.call('PEXPIRE', set, ttl_ms)
  end
end
"""

# KEYS[1]: entry, KEYS[2]/KEYS[3]: the ledger of hits served (counts, latest times) by key.
# ARGV: now (µs), cache key. The entry's fields after counting the hit, or nil when there is
# no fresh entry.
_GET = (
    """
local expires = redis.call('HGET', KEYS[1], 'expires_at')
if not expires or tonumber(expires) <= tonumber(ARGV[1]) then
  return false
end
redis.call('HINCRBY', KEYS[1], 'hit_count', 1)
redis.call('HSET', KEYS[1], 'last_hit_at', ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
local latest = redis.call('HGET', KEYS[3], ARGV[2])
if not latest or tonumber(latest) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[1])
end
return redis.call('HMGET', KEYS[1], """
    + ", ".join(f"'{f}'" for f in _FIELDS)
    + ")\n"
)

# KEYS[1]: entry, KEYS[2]: its index's set. ARGV: set prefix, cache key, index, time to live
# (ms), then the fields and values.
_PUT = (
    _KEEP_SET
    + """
local old = redis.call('HGET', KEYS[1], 'index')
if old and old ~= ARGV[3] then
  redis.call('SREM', ARGV[1] .. old, ARGV[2])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('SADD', KEYS[2], ARGV[2])
keep(KEYS[2], tonumber(ARGV[4]))
return 1
"""
)

# KEYS[1]: entry, KEYS[2]: its index's set. ARGV: new expiry (µs), time to live from now
# (ms). Moves the expiry later, never earlier.
_EXTEND = (
    _KEEP_SET
    + """
local current = redis.call('HGET', KEYS[1], 'expires_at')
if not current or tonumber(ARGV[1]) <= tonumber(current) then
  return 0
end
redis.call('HSET', KEYS[1], 'expires_at', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
keep(KEYS[2], tonumber(ARGV[2]))
return 1
"""
)

# KEYS[1]/KEYS[2]: the ledger (counts, latest times). Both, and forget them.
_DRAIN = """
local counts = redis.call('HGETALL', KEYS[1])
local latest = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
return {counts, latest}
"""

# KEYS[1]: entry. ARGV: set prefix, cache key.
_INVALIDATE = """
local index = redis.call('HGET', KEYS[1], 'index')
if not index then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. index, ARGV[2])
return 1
"""

# KEYS[1]: the index's set. ARGV: entry prefix, index. A key whose entry was since stored
# under another index is left alone.
_INVALIDATE_INDEX = """
local removed = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = ARGV[1] .. key
  if redis.call('HGET', entry, 'index') == ARGV[2] then
    redis.call('DEL', entry)
    removed = removed + 1
  end
end
redis.call('DEL', KEYS[1])
return removed
"""

_ADDRESS_KEYS = frozenset(
    {"host", "port", "path", "db", "username", "password", "credential_provider", "client_name"}
)


def fail_fast_client(client: redis.Redis, *, timeout_s: float = 0.5) -> redis.Redis:
    """A new client to ``client``'s server that gives up at once: no retries, short
    timeouts. redis-py retries a failing command ten times with back-off (about four
    seconds against a closed port); a cache must rather miss. Close it when done."""
    pool = client.connection_pool
    address = {
        name: value
        for name, value in pool.connection_kwargs.items()
        if name in _ADDRESS_KEYS or name.startswith("ssl")
    }
    return redis.Redis(
        connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class,
            retry=Retry(NoBackoff(), 0),
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            **address,
        )
    )


def _micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds


def _moment(micros: int) -> datetime:
    seconds, fraction = divmod(micros, MICROS)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=fraction)


def _ttl_ms(start: datetime, end: datetime) -> int:
    """How long Redis keeps a key (at least a millisecond): relative, so it never depends on
    the caller's clock agreeing with Redis's. A lookup checks the entry's own expiry, so
    keeping a key longer than it is fresh costs memory, never a stale answer."""
    return max(1, (_micros(end) - _micros(start)) // 1000)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


def _optional_int(value: bytes | str | None) -> int | None:
    text = _text(value)
    return None if text == "" else int(text)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits: the standard library writes them exactly
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode()


class RedisQueryCache:
    """:class:`~airgap.ports.cache.FastQueryCache` on Redis; see the module docstring."""

    def __init__(
        self,
        client: redis.Redis,
        policy: CachePolicy | None = None,
        *,
        prefix: str = "airgap:query-cache",
        pause_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._policy = policy or CachePolicy()
        self._prefix = prefix
        self._entry_prefix = f"{prefix}:entry:"
        self._set_prefix = f"{prefix}:index:"
        self._ledger = [f"{prefix}:served", f"{prefix}:served-at"]
        self._pause_s = pause_s
        self._monotonic = monotonic
        self._paused_until = 0.0
        self._outage = False
        self._missed_invalidation = False
        self._state = threading.Lock()
        self._get = client.register_script(_GET)
        self._put = client.register_script(_PUT)
        self._extend = client.register_script(_EXTEND)
        self._invalidate = client.register_script(_INVALIDATE)
        self._invalidate_index = client.register_script(_INVALIDATE_INDEX)
        self._drain = client.register_script(_DRAIN)

    # -- availability ----------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """False while Redis is being left alone after a connection failure."""
        return self._monotonic() >= self._paused_until

    def _guarded(
        self, what: str, action: Callable[[], T], fallback: T, *, invalidation: bool = False
    ) -> T:
        """``action``, or ``fallback`` when Redis cannot be reached. An invalidation that
        does not reach Redis leaves copies there that must not be served: the first contact
        that succeeds afterwards empties the cache first."""
        if not self.available:
            self._missed_invalidation |= invalidation
            return fallback
        try:
            if self._missed_invalidation:
                dropped = self._clear()
                self._missed_invalidation = False
                log.warning(
                    "query cache: Redis missed an invalidation while unreachable; "
                    "dropped its %d entries (the table still has them)",
                    dropped,
                )
            result = action()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            self._missed_invalidation |= invalidation
            with self._state:
                self._paused_until = self._monotonic() + self._pause_s
                first = not self._outage
                self._outage = True
            if first:
                log.warning(
                    "query cache: Redis unreachable during %s (%s); answering from the "
                    "table, trying Redis again every %.0f s",
                    what,
                    error,
                    self._pause_s,
                )
            return fallback
        except redis.RedisError as error:
            # Anything else Redis refuses (out of memory, a read-only replica) is not worth
            # failing a query for either; it is logged every time.
            self._missed_invalidation |= invalidation
            log.warning("query cache: Redis refused %s: %s", what, error)
            return fallback
        if self._outage:
            with self._state:
                self._outage = False
            log.info("query cache: Redis is reachable again")
        return result

    # -- the port ----------------------------------------------------------------------------

    def get(self, key: str, now: datetime) -> CachedResult | None:
        reply = self._guarded(
            "a lookup",
            lambda: self._get(
                keys=[self._entry_prefix + key, *self._ledger], args=[_micros(now), key]
            ),
            None,
        )
        if reply is None:
            return None
        values = dict(zip(_FIELDS, cast(list[Any], reply), strict=True))
        entry = CachedResult(
            key=key,
            index=_text(values["index"]),
            result_data=json.loads(values["result"]),
            result_count=int(values["result_count"]),
            took_ms=_optional_int(values["took_ms"]),
            stored_at=_moment(int(values["stored_at"])),
            expires_at=_moment(int(values["expires_at"])),
            has_aggregations=_text(values["has_aggregations"]) == "1",
            hit_count=int(values["hit_count"]),
            last_hit_at=now,
        )
        # The script counted the hit; the domain says whether that hit made the entry hot.
        # Exactly one caller sees the count reach the threshold, so the extension happens once.
        hot_until = self._policy.expiry_after_hit(
            entry.expires_at,
            hit_count=entry.hit_count,
            has_aggregations=entry.has_aggregations,
            now=now,
        )
        if hot_until > entry.expires_at:
            entry.expires_at = hot_until
            self._guarded(
                "extending a hot entry",
                lambda: self._extend(
                    keys=[self._entry_prefix + key, self._set_prefix + entry.index],
                    args=[_micros(hot_until), _ttl_ms(now, hot_until)],
                ),
                None,
            )
        return entry

    def put(self, entry: CachedResult) -> None:
        expires_us = _micros(entry.expires_at)
        fields: list[bytes | str | int] = [
            "index",
            entry.index,
            "result",
            _dumps(entry.result_data),
            "result_count",
            entry.result_count,
            "took_ms",
            "" if entry.took_ms is None else entry.took_ms,
            "stored_at",
            _micros(entry.stored_at),
            "expires_at",
            expires_us,
            "has_aggregations",
            "1" if entry.has_aggregations else "0",
            "hit_count",
            entry.hit_count,
            "last_hit_at",
            "" if entry.last_hit_at is None else _micros(entry.last_hit_at),
        ]
        self._guarded(
            "a store",
            lambda: self._put(
                keys=[self._entry_prefix + entry.key, self._set_prefix + entry.index],
                args=[
                    self._set_prefix,
                    entry.key,
                    entry.index,
                    _ttl_ms(entry.stored_at, entry.expires_at),
                    *fields,
                ],
            ),
            None,
        )

    def invalidate(self, key: str) -> bool:
        removed = self._guarded(
            "an invalidation",
            lambda: self._invalidate(keys=[self._entry_prefix + key], args=[self._set_prefix, key]),
            0,
            invalidation=True,
        )
        return bool(removed)

    def invalidate_index(self, index: str) -> int:
        removed = self._guarded(
            "an index invalidation",
            lambda: self._invalidate_index(
                keys=[self._set_prefix + index], args=[self._entry_prefix, index]
            ),
            0,
            invalidation=True,
        )
        return int(removed)

    def clear(self) -> int:
        """Remove every entry (and index set) under the prefix; returns how many entries
        there were. The ledger of hits served stays for the table to take over."""
        return self._guarded("clearing", self._clear, 0, invalidation=True)

    def _clear(self) -> int:
        entries = 0
        for prefix, counted in ((self._entry_prefix, True), (self._set_prefix, False)):
            batch: list[bytes | str] = []
            for name in self._client.scan_iter(match=_glob_escape(prefix) + "*", count=500):
                entries += counted
                batch.append(name)
                if len(batch) >= 500:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)
        return entries

    def drain_hits(self) -> dict[str, HitsServed]:
        """The hits this tier served since the last drain, by key (then forgotten)."""
        reply = self._guarded("reporting hits", lambda: self._drain(keys=self._ledger), None)
        if reply is None:
            return {}
        counts, latest = (_pairs(part) for part in cast(list[Any], reply))
        return {
            key: HitsServed(int(count), _moment(int(latest[key])))
            for key, count in counts.items()
            if key in latest
        }


def _pairs(flat: list[bytes | str]) -> dict[str, str]:
    """``HGETALL``'s flat reply as a dict of text."""
    return {_text(flat[n]): _text(flat[n + 1]) for n in range(0, len(flat), 2)}


def _glob_escape(text: str) -> str:
    """``text`` matched literally by Redis's glob patterns."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


if TYPE_CHECKING:  # mypy checks that the adapter satisfies its port

    def _conforms(cache: RedisQueryCache) -> FastQueryCache:
        return cache
