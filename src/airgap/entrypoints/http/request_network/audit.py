"""The audit trail of the API (SPEC §9): every state-changing call leaves one entry with the
user, action, resource, caller's address and user agent, and the status it ended with.

Use cases that change state record their own entry in the same transaction as the change
(``request.submit``, ``admin.user.deactivate``, …); :class:`CallerUnitOfWork` fills in the
caller's address, user agent and request id. What no use case records -- signing in and
out (failed sign-ins too), API keys, and every refused attempt by a signed-in caller (403,
404, 409, 422, 429, …) -- the :class:`AuditMiddleware` writes after the response has gone,
from the route's ``opt={"audit": action}`` and what the handler noted with :func:`note`.
Calls without valid credentials (401 before any handler runs) are not audited: they have no
user, and recording them would let anyone fill the trail; they are in the access log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import attrs
import structlog
from litestar.concurrency import sync_to_thread
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from airgap.domain.model.audit import AuditEntry
from airgap.domain.services.auth import Principal
from airgap.entrypoints.http.common.context import Caller, caller_of
from airgap.entrypoints.http.common.errors import ERROR_CODE_KEY
from airgap.ports.audit import AuditLog
from airgap.ports.batch_records import (
    ChannelRepository,
    ExportBatchRepository,
    ImportBatchRepository,
)
from airgap.ports.clock import Clock
from airgap.ports.request_store import (
    ApiKeyRepository,
    RequestNetworkUnitOfWork,
    RequestRepository,
    ResponseRepository,
    UserReplicaRepository,
)

AUDIT = "audit"
"""Route ``opt`` key: the action name to audit the call under."""
AUDITED_BY_USE_CASE = "audited_by_use_case"
"""Route ``opt`` key: the use case records successes itself; audit only refusals."""

_NOTE_KEY = "airgap_audit"
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = structlog.get_logger("airgap.http.audit")


def note(scope: Any, **fields: Any) -> None:
    """Tell the audit entry of this call about its resource, user or details."""
    scope.setdefault("state", {}).setdefault(_NOTE_KEY, {}).update(fields)


def _with_caller(entry: AuditEntry, caller: Caller) -> AuditEntry:
    return attrs.evolve(
        entry,
        ip_address=entry.ip_address or caller.ip_address,
        user_agent=entry.user_agent or caller.user_agent,
        details={**entry.details, "request_id": caller.request_id},
    )


class CallerAuditLog:
    def __init__(self, inner: AuditLog, caller: Caller) -> None:
        self._inner = inner
        self._caller = caller

    def record(self, entry: AuditEntry) -> None:
        self._inner.record(_with_caller(entry, self._caller))


class CallerUnitOfWork:
    """The network's unit of work, whose audit entries carry the HTTP caller's details."""

    def __init__(self, factory: Callable[[], RequestNetworkUnitOfWork], caller: Caller) -> None:
        self._inner = factory()
        self._caller = caller

    def __enter__(self) -> Self:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    @property
    def users(self) -> UserReplicaRepository:
        return self._inner.users

    @property
    def requests(self) -> RequestRepository:
        return self._inner.requests

    @property
    def responses(self) -> ResponseRepository:
        return self._inner.responses

    @property
    def api_keys(self) -> ApiKeyRepository:
        return self._inner.api_keys

    @property
    def export_batches(self) -> ExportBatchRepository:
        return self._inner.export_batches

    @property
    def import_batches(self) -> ImportBatchRepository:
        return self._inner.import_batches

    @property
    def channels(self) -> ChannelRepository:
        return self._inner.channels

    @property
    def audit(self) -> AuditLog:
        return CallerAuditLog(self._inner.audit, self._caller)

    def commit(self) -> None:
        self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()


def _resource_of(scope: Scope) -> tuple[str | None, str | None]:
    params: Mapping[str, Any] = scope.get("path_params") or {}
    for name, kind in (("request_id", "request"), ("key_id", "api_key"), ("user_id", "user")):
        if name in params:
            return kind, str(params[name])
    return None, None


class AuditMiddleware:
    """Writes the entry of a state-changing call that its use case did not write."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        units_of_work: Callable[[], Callable[[], RequestNetworkUnitOfWork]],
        clock: Callable[[], Clock],
    ) -> None:
        self.app = app
        self._units_of_work = units_of_work  # asked for late: the store starts on first use
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        action = handler.opt.get(AUDIT) if handler is not None else None
        if (
            scope["type"] != ScopeType.HTTP
            or action is None
            or scope["method"] not in _STATE_CHANGING
        ):
            await self.app(scope, receive, send)
            return
        by_use_case = bool(handler.opt.get(AUDITED_BY_USE_CASE)) if handler else False
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            if status >= 400 or not by_use_case:
                await sync_to_thread(self._record, scope, str(action), status)

    def _record(self, scope: Scope, action: str, status: int) -> None:
        noted: dict[str, Any] = dict(scope.get("state", {}).get(_NOTE_KEY, {}))
        principal = scope.get("user")
        user_id = noted.pop("user_id", None)
        if user_id is None and isinstance(principal, Principal):
            user_id = principal.user.id
        resource_type, resource_id = _resource_of(scope)
        resource_type = noted.pop("resource_type", resource_type)
        resource_id = noted.pop("resource_id", resource_id)
        details = dict(noted)
        code = scope.get("state", {}).get(ERROR_CODE_KEY)
        if status >= 400 and code:
            details["error"] = code
        if isinstance(principal, Principal) and principal.api_key_id is not None:
            details["api_key_id"] = str(principal.api_key_id)
        entry = AuditEntry(
            action=action,
            created_at=self._clock().now(),
            user_id=user_id if isinstance(user_id, uuid.UUID) else None,
            resource_type=resource_type,
            resource_id=None if resource_id is None else str(resource_id),
            status=status,
            details=details,
        )
        try:
            with self._units_of_work()() as uow:
                uow.audit.record(_with_caller(entry, caller_of(scope)))
                uow.commit()
        except Exception:
            log.exception("could not write an audit entry", action=action, status=status)
