"""The query cache's durable tier: the response network's ``query_cache`` table
(:class:`~airgap.ports.cache.DurableQueryCache`).

Unlike the repositories, the cache is not part of a job's unit of work: a lookup or a store
is one statement of its own, committed at once (autocommit), so a cache write never waits
for, or rolls back with, a job's transaction. A lookup counts its hit in the same statement
that reads the row (``UPDATE … RETURNING``), so concurrent workers each count theirs; the
hot rule (a normal entry hit ``hot_threshold`` times lives for the hot TTL from then) is
the domain's, applied by the one caller that sees the threshold reached. Hits the Redis tier
served arrive in bulk (:meth:`PostgresQueryCache.add_hits`). Expired rows stay until the
hourly sweep (:meth:`PostgresQueryCache.delete_expired`) but are never served.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    bindparam,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL

from airgap.adapters.postgres import tables
from airgap.adapters.postgres.engine import build_engine
from airgap.adapters.postgres.statements import upsert
from airgap.adapters.postgres.translation import cached_result_from, cached_result_row
from airgap.domain.model.caching import CachedResult, CachePolicy, HitsServed, HotQuery
from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.operations import Page
from airgap.ports.cache_admin import CacheUsage

if TYPE_CHECKING:
    from airgap.ports.cache import DurableQueryCache

MAX_PAGE = 500  # the largest page an operator may ask for (as everywhere in the admin API)

_cache = tables.query_cache
_c = _cache.c

_FRESH = (_c.key == bindparam("p_key")) & (_c.expires_at > bindparam("p_now"))
_COUNT_HIT = (
    update(_cache).where(_FRESH).values(hit_count=_c.hit_count + 1, last_hit_at=bindparam("p_now"))
)
_GET = _COUNT_HIT.returning(*_cache.c)
# Hits the Redis tier served, added in one statement whatever their number.
_ADD_HITS = text(
    "UPDATE query_cache AS t SET hit_count = t.hit_count + v.n, "
    "last_hit_at = GREATEST(t.last_hit_at, v.at) "
    "FROM unnest(CAST(:keys AS varchar[]), CAST(:counts AS integer[]), "
    "CAST(:ats AS timestamptz[])) AS v(key, n, at) WHERE t.key = v.key"
)
_EXTEND = (
    update(_cache)
    .where(_c.key == bindparam("p_key"))
    .values(expires_at=func.greatest(_c.expires_at, bindparam("p_expires_at")))
)
_INVALIDATE = delete(_cache).where(_c.key == bindparam("p_key"))
_INVALIDATE_INDEX = delete(_cache).where(_c.index_name == bindparam("p_index"))
_DELETE_EXPIRED = delete(_cache).where(_c.expires_at <= bindparam("p_now"))
_PEEK = select(_cache).where(_FRESH)
_USAGE = select(
    func.count(), func.coalesce(func.sum(func.pg_column_size(_c.result_data)), 0)
).where(_c.expires_at > bindparam("p_now"))
_HOT = (
    select(_c.key, _c.index_name, _c.hit_count, _c.last_hit_at, _c.expires_at, _c.has_aggregations)
    .where(_c.expires_at > bindparam("p_now"), _c.hit_count > 0)
    .order_by(_c.hit_count.desc(), _c.last_hit_at.desc().nulls_last(), _c.key)
    .limit(bindparam("p_limit"))
)


def cache_engine(url: str | URL, *, pool_size: int = 5) -> Engine:
    """An engine of the cache's own whose commits do not wait for the disk
    (``synchronous_commit = off``): a crash of the server may lose the last fraction of a
    second of cache writes — an entry that will be fetched again, a few hit counts — never
    make an answer wrong, and a hit then costs a round trip instead of a WAL flush. Its own
    pool, so the setting never reaches the units of work."""
    engine = build_engine(url, application_name="airgap-query-cache", pool_size=pool_size)

    @event.listens_for(engine, "connect")
    def _commit_without_waiting(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        dbapi_connection.autocommit = autocommit

    return engine


class PostgresQueryCache:
    """The ``query_cache`` table as a query cache; see the module docstring."""

    def __init__(self, engine: Engine, policy: CachePolicy | None = None) -> None:
        """``engine``: best one from :func:`cache_engine`; any engine of the response
        database works. Each call is one statement, committed as it runs."""
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._policy = policy or CachePolicy()

    def _extend_if_hot(
        self, connection: Connection, key: str, row: RowMapping, now: datetime
    ) -> datetime:
        """The entry's expiry after the hit the statement counted, stored when this hit
        made it hot (exactly one caller sees the count reach the threshold)."""
        expires_at: datetime = row["expires_at"]
        after = self._policy.expiry_after_hit(
            expires_at,
            hit_count=row["hit_count"],
            has_aggregations=row["has_aggregations"],
            now=now,
        )
        if after > expires_at:
            connection.execute(_EXTEND, {"p_key": key, "p_expires_at": after})
        return after

    def get(self, key: str, now: datetime) -> CachedResult | None:
        with self._engine.connect() as connection:
            row = connection.execute(_GET, {"p_key": key, "p_now": now}).mappings().first()
            if row is None:
                return None
            entry = cached_result_from(row)
            entry.expires_at = self._extend_if_hot(connection, key, row, now)
            return entry

    def add_hits(self, hits: Mapping[str, HitsServed]) -> int:
        """Hits the tier in front served. They raise the counts (what the maintenance
        reports) but extend no expiry: the tier that served them applied the hot rule to its
        own copy, and this row is only read again when that copy is gone."""
        if not hits:
            return 0
        keys = sorted(hits)
        params = {
            "keys": keys,
            "counts": [hits[k].count for k in keys],
            "ats": [hits[k].last_hit_at for k in keys],
        }
        with self._engine.connect() as connection:
            return int(connection.execute(_ADD_HITS, params).rowcount)

    def put(self, entry: CachedResult) -> None:
        with self._engine.connect() as connection:
            upsert(connection, _cache, [cached_result_row(entry)], key=("key",))

    def invalidate(self, key: str) -> bool:
        return self._delete(_INVALIDATE, {"p_key": key}) > 0

    def invalidate_index(self, index: str) -> int:
        return self._delete(_INVALIDATE_INDEX, {"p_index": index})

    def clear(self) -> int:
        return self._delete(delete(_cache), {})

    def delete_expired(self, now: datetime) -> int:
        return self._delete(_DELETE_EXPIRED, {"p_now": now})

    def hot_queries(self, now: datetime, limit: int = 20) -> list[HotQuery]:
        with self._engine.connect() as connection:
            rows = connection.execute(_HOT, {"p_now": now, "p_limit": limit}).mappings().all()
        return [
            HotQuery(
                key=row["key"],
                index=row["index_name"],
                hit_count=row["hit_count"],
                last_hit_at=row["last_hit_at"],
                expires_at=row["expires_at"],
                has_aggregations=row["has_aggregations"],
            )
            for row in rows
        ]

    # --- what operators see (QueryCacheInspector) -------------------------------------------

    def entries(
        self, now: datetime, *, index: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[CachedResult]:
        """Fresh entries, most hit first; reading them counts no hit."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValidationFailed(f"limit must be 1 to {MAX_PAGE} and offset at least 0")
        fresh = _c.expires_at > now
        if index is not None:
            fresh = fresh & (_c.index_name == index)
        listing = (
            select(_cache)
            .where(fresh)
            .order_by(_c.hit_count.desc(), _c.key)
            .limit(limit)
            .offset(offset)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(listing).mappings().all()
            total = connection.execute(select(func.count()).where(fresh)).scalar_one()
        return Page(tuple(cached_result_from(r) for r in rows), int(total), limit, offset)

    def peek(self, key: str, now: datetime) -> CachedResult | None:
        with self._engine.connect() as connection:
            row = connection.execute(_PEEK, {"p_key": key, "p_now": now}).mappings().first()
        return None if row is None else cached_result_from(row)

    def usage(self, now: datetime) -> CacheUsage:
        """Fresh entries and their stored size; hits and misses are not counted here (the
        results record ``cache_hit``)."""
        with self._engine.connect() as connection:
            count, size = connection.execute(_USAGE, {"p_now": now}).one()
        return CacheUsage(int(count), int(size))

    def _delete(self, statement: Any, params: Mapping[str, Any]) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(statement, dict(params)).rowcount)


if TYPE_CHECKING:  # mypy checks that the adapter satisfies its port

    def _conforms(cache: PostgresQueryCache) -> DurableQueryCache:
        return cache
