"""Health endpoints: ``/health`` (the process answers), ``/health/ready`` (every dependency a
request needs answers) and ``/health/detailed`` (each dependency with its latency, plus the
network's own figures: disk space, queue counts).

A probe is a blocking callable that raises when its dependency is unwell; probes run in
worker threads, all at once, each bounded by a timeout, so one hung dependency cannot hang
the endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anyio
import anyio.to_thread
import attrs
import msgspec
from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from airgap.entrypoints.http.common.auth import PUBLIC, Guard
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED

PROBE_TIMEOUT_S = 3.0


@attrs.frozen
class Probe:
    """One dependency: ``check`` raises when it is unwell and may return facts about it."""

    name: str
    check: Callable[[], Mapping[str, Any] | None]


class Liveness(msgspec.Struct):
    status: str
    version: str
    uptime_seconds: float


class ProbeResult(msgspec.Struct, omit_defaults=True):
    status: str  # "ok" or "error"
    latency_ms: float
    error: str | None = None
    info: dict[str, Any] | None = None


class Readiness(msgspec.Struct):
    status: str  # "ready" or "unavailable"
    checks: dict[str, ProbeResult]


class Detailed(msgspec.Struct):
    status: str
    version: str
    uptime_seconds: float
    checks: dict[str, ProbeResult]
    details: dict[str, Any]


def _run(probe: Probe) -> ProbeResult:
    started = time.perf_counter()
    try:
        info = probe.check()
    except Exception as error:
        elapsed = (time.perf_counter() - started) * 1000
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return ProbeResult("error", round(elapsed, 3), f"{type(error).__name__}: {message}"[:300])
    elapsed = (time.perf_counter() - started) * 1000
    return ProbeResult("ok", round(elapsed, 3), info=dict(info) if info else None)


async def run_probes(probes: Sequence[Probe], timeout_s: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """Every probe's result, by name; a probe still running after ``timeout_s`` is an error."""
    results: dict[str, ProbeResult] = {
        p.name: ProbeResult("error", timeout_s * 1000, "timed out") for p in probes
    }

    async def one(probe: Probe) -> None:
        results[probe.name] = await anyio.to_thread.run_sync(_run, probe, abandon_on_cancel=True)

    with anyio.move_on_after(timeout_s):
        async with anyio.create_task_group() as group:
            for probe in probes:
                group.start_soon(one, probe)
    return results


def health_handlers(
    *,
    version: str,
    probes: Callable[[], Sequence[Probe]],
    details: Callable[[], Mapping[str, Any]] | None = None,
    detailed_guards: Sequence[Guard] = (),
) -> list[HTTPRouteHandler]:
    """The three health endpoints. ``/health/detailed`` is for monitoring roles
    (``detailed_guards``); the other two are public, for load balancers and orchestrators."""
    started = time.monotonic()

    def uptime() -> float:
        return round(time.monotonic() - started, 3)

    @get("/health", opt={PUBLIC: True}, tags=["health"], summary="Liveness", sync_to_thread=False)
    def live() -> Liveness:
        """The process is up and answering."""
        return Liveness("ok", version, uptime())

    @get(
        "/health/ready",
        opt={PUBLIC: True},
        tags=["health"],
        summary="Readiness",
        responses={503: ResponseSpec(Readiness, description="A dependency is unavailable")},
    )
    async def ready() -> Response[Readiness]:
        """200 when every dependency answers (the database, Redis, …), 503 otherwise."""
        checks = await run_probes(probes())
        healthy = all(c.status == "ok" for c in checks.values())
        body = Readiness("ready" if healthy else "unavailable", checks)
        return Response(body, status_code=200 if healthy else 503)

    @get(
        "/health/detailed",
        tags=["health"],
        summary="Every dependency with its latency, disk space and queue counts",
        guards=list(detailed_guards),
        security=AUTHENTICATED,
        responses={
            503: ResponseSpec(Detailed, description="A dependency is unavailable"),
            **error_responses(401, 403),
        },
    )
    async def detailed() -> Response[Detailed]:
        checks = await run_probes(probes())
        extra: dict[str, Any] = {}
        if details is not None:
            try:
                extra = dict(await anyio.to_thread.run_sync(details))
            except Exception as error:
                extra = {"error": f"{type(error).__name__}: {error}"[:300]}
        healthy = all(c.status == "ok" for c in checks.values())
        body = Detailed("ok" if healthy else "degraded", version, uptime(), checks, extra)
        return Response(body, status_code=200 if healthy else 503)

    return [live, ready, detailed]
