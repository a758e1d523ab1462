"""The outermost layer of an app: request id in and out, the log context, one access log
line and the metrics of every call -- also for calls that match no route (404, 405), which
never reach route middleware."""

from __future__ import annotations

import time

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from airgap.entrypoints.http.common.context import request_id_of
from airgap.entrypoints.http.common.metrics import Metrics

access_log = structlog.get_logger("airgap.http.access")

UNMATCHED = "unmatched"


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        method = scope["method"]
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
            await send(message)

        self.metrics.in_progress.labels(method).inc()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.in_progress.labels(method).dec()
                route = scope.get("path_template") or UNMATCHED
                self.metrics.observe(method, route, status, elapsed)
                access_log.info(
                    "request",
                    method=method,
                    path=scope["path"],
                    route=route,
                    status=status,
                    duration_ms=round(elapsed * 1000, 3),
                    user_id=scope.get("state", {}).get("airgap_user_id"),
                )
                structlog.contextvars.unbind_contextvars("user_id")
