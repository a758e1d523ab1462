"""Job locks as PostgreSQL advisory locks: held by a session, so a lock whose process dies
is released with its connection, and every worker on every host sees the same lock."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are keyed by bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresJobLocks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextlib.contextmanager
    def hold(self, name: str, *, timeout_s: float) -> Iterator[bool]:
        key = lock_key(name)
        with self._engine.connect() as connection:
            connection.execute(text(f"SET lock_timeout = {max(int(timeout_s * 1000), 1)}"))
            try:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            except OperationalError as error:
                if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available
                    raise
                connection.rollback()
                connection.execute(text("RESET lock_timeout"))
                connection.commit()
                yield False
                return
            connection.execute(text("RESET lock_timeout"))
            connection.commit()  # the session lock outlives the transaction that took it
            try:
                yield True
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
