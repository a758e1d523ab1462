"""The worker threads an app's blocking work runs on: sync handlers, and the lookups of the
authentication middleware and the audit trail.

Litestar runs sync handlers on the event loop's default executor, which has
``min(32, CPUs + 4)`` threads -- six on a two-core machine, far too few when every request
waits on the database and Redis. At start-up the app gives its loop a default executor of
its own, sized to match its database pool (a thread that must wait for a pooled connection
costs little; a pool that opens and closes connections to keep up costs a lot).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor


class WorkerThreads:
    """Install (at app start-up) and stop (at shut-down) an executor of ``count`` threads as
    the running loop's default."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._executor: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(self.count, thread_name_prefix="airgap-http")
        asyncio.get_running_loop().set_default_executor(self._executor)

    async def stop(self) -> None:
        # The executor now belongs to the loop, which shuts it down when it closes. Shutting
        # it here would fail any request the loop still runs after the app's shutdown hook
        # (test clients and ASGI fuzzers share one loop across app lifespans).
        self._executor = None
