"""Who is calling: a Bearer access token or an ``X-API-Key`` header becomes a
:class:`~airgap.domain.services.auth.Principal`; guards check its role and the key's scopes.

Every route is authenticated unless its handler says ``opt={"public": True}``. The account
is looked up on every call, so a deactivated (or locally stopped) user is refused at once,
also with a token issued before. Authenticated responses carry the rate-limit headers: the
decision a handler that counts the call remembered (``opt={"counts_against_quota": True}``),
else the quota as it stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import structlog
from litestar.concurrency import sync_to_thread
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from airgap.domain.model.errors import AuthenticationFailed, PermissionDenied
from airgap.domain.model.rate_limit import RateLimitDecision
from airgap.domain.model.users import Role
from airgap.domain.services.auth import Principal
from airgap.entrypoints.http.common.rate_limits import (
    rate_limit_headers,
    remembered_decision,
    standing,
)

API_KEY_HEADER = "X-API-Key"
PUBLIC = "public"
COUNTS_AGAINST_QUOTA = "counts_against_quota"

Authenticate = Callable[[str | None, str | None], Principal]
"""``(bearer token, API key) -> Principal``; raises AuthenticationFailed."""

Quota = Callable[[Principal], RateLimitDecision | None]
"""The principal's quota as a ``peek`` sees it (None: not rate limited)."""

ALL_ROLES = frozenset(Role)


def _credentials(scope: Scope) -> tuple[str | None, str | None]:
    bearer: str | None = None
    api_key: str | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
            bearer = token.strip()
        elif name == b"x-api-key":
            api_key = value.decode("latin-1").strip()
    if bearer is None and not api_key:
        raise AuthenticationFailed(
            f"authentication required: send 'Authorization: Bearer <token>' or {API_KEY_HEADER}"
        )
    return bearer, api_key


class AuthenticationMiddleware:
    """Resolves the principal before the handler runs (in a worker thread: the lookups
    block) and adds the rate-limit headers to the response."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Authenticate,
        quota: Quota | None = None,
        public_prefixes: tuple[str, ...] = ("/schema",),
    ) -> None:
        self.app = app
        self._authenticate = authenticate
        self._quota = quota
        # Routes made by Litestar itself (the OpenAPI documents) carry no ``opt`` of ours.
        self._public_prefixes = public_prefixes

    def _resolve(
        self, bearer: str | None, api_key: str | None, peek: bool
    ) -> tuple[Principal, RateLimitDecision | None]:
        principal = self._authenticate(bearer, api_key)
        decision = self._quota(principal) if peek and self._quota is not None else None
        return principal, decision

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        opt = handler.opt if handler is not None else {}
        if (
            scope["type"] != ScopeType.HTTP
            or opt.get(PUBLIC)
            or scope.get("method") == "OPTIONS"
            or scope["path"].startswith(self._public_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        bearer, api_key = _credentials(scope)
        counts = bool(opt.get(COUNTS_AGAINST_QUOTA))
        # On the same worker threads as sync handlers (see ``common/threads.py``).
        principal, peeked = await sync_to_thread(self._resolve, bearer, api_key, not counts)
        scope["user"] = principal
        scope["auth"] = principal.via
        structlog.contextvars.bind_contextvars(user_id=str(principal.user.id))
        scope.setdefault("state", {})["airgap_user_id"] = str(principal.user.id)

        async def send_with_quota(message: Message) -> None:
            nonlocal peeked
            if message["type"] == "http.response.start":
                decision = remembered_decision(scope)
                if decision is None and peeked is None and self._quota is not None:
                    # A counting handler that refused before it counted (bad input).
                    peeked = await sync_to_thread(self._quota, principal)
                if decision is None and peeked is not None:
                    decision = standing(peeked)
                if decision is not None:
                    headers = MutableScopeHeaders.from_message(message)
                    for name, value in rate_limit_headers(decision).items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_quota)


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """The authenticated caller (the middleware put it in the scope)."""
    found = connection.scope.get("user")
    if not isinstance(found, Principal):
        raise AuthenticationFailed("authentication required")
    return found


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires(roles: Iterable[Role] = ALL_ROLES, scope: str | None = None) -> Guard:
    """A guard admitting the ``roles`` and, for API keys, only keys granted ``scope``."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.role not in allowed:
            raise PermissionDenied(f"this needs one of the roles: {names}")
        if scope is not None and not principal.allows(scope):
            raise PermissionDenied(f"this API key is not granted the {scope!r} scope")

    guard.__name__ = f"requires_{'_'.join(sorted(r.value for r in allowed))}"
    return guard
