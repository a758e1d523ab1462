"""Assembling a network's Litestar app from its handlers and the shared plumbing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import Tag
from litestar.types import ControllerRouterHandler, LifespanHook

from airgap import __version__
from airgap.entrypoints.http.common.auth import Authenticate, AuthenticationMiddleware, Guard, Quota
from airgap.entrypoints.http.common.errors import exception_handlers
from airgap.entrypoints.http.common.health import Probe, health_handlers
from airgap.entrypoints.http.common.logging import configure_logging
from airgap.entrypoints.http.common.metrics import Metrics, metrics_handler
from airgap.entrypoints.http.common.observability import ObservabilityMiddleware
from airgap.entrypoints.http.common.openapi import openapi_config

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Request bodies larger than this are refused with 413 (a query is a few kilobytes)."""

EXPOSED_HEADERS = (
    "X-Request-ID",
    "Location",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Warning",
)


def cors_config(origins: Sequence[str]) -> CORSConfig | None:
    """CORS for the configured origins only (none configured: no CORS headers at all)."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
        expose_headers=list(EXPOSED_HEADERS),
        allow_credentials=False,
        max_age=600,
    )


def build_app(
    *,
    title: str,
    description: str,
    route_handlers: Sequence[ControllerRouterHandler],
    authenticate: Authenticate,
    probes: Callable[[], Sequence[Probe]],
    metrics: Metrics,
    quota: Quota | None = None,
    dependencies: Mapping[str, Provide] | None = None,
    tags: Sequence[Tag] = (),
    token_url: str | None = None,
    health_details: Callable[[], Mapping[str, Any]] | None = None,
    monitoring_guards: Sequence[Guard] = (),
    cors_origins: Sequence[str] = (),
    log_level: str = "info",
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
    version: str = __version__,
) -> Litestar:
    """A Litestar app with the shared plumbing: the error shape, request ids, JSON logs,
    authentication, health, metrics, OpenAPI and CORS. Builds nothing but the app."""
    configure_logging(log_level)
    app = Litestar(
        route_handlers=[
            *route_handlers,
            *health_handlers(
                version=version,
                probes=probes,
                details=health_details,
                detailed_guards=monitoring_guards,
            ),
            metrics_handler(metrics),
        ],
        dependencies=dict(dependencies or {}),
        middleware=[
            DefineMiddleware(AuthenticationMiddleware, authenticate=authenticate, quota=quota)
        ],
        exception_handlers=exception_handlers(),
        openapi_config=openapi_config(
            title=title,
            version=version,
            description=description,
            tags=tags,
            token_url=token_url,
        ),
        cors_config=cors_config(cors_origins),
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        logging_config=None,
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
    )
    # Outermost, around Litestar's own exception handling and CORS: route middleware never
    # sees calls that match no route, and those need a request id, a log line and metrics.
    app.asgi_handler = ObservabilityMiddleware(app.asgi_handler, metrics)
    return app
