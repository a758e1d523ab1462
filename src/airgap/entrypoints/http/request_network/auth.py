"""Signing in and out: ``POST /auth/login`` (JSON or an OAuth2 password form),
``/auth/refresh`` (rotation: the refresh token used is revoked) and ``/auth/logout``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Router, post
from litestar.concurrency import sync_to_thread
from litestar.exceptions import ClientException, ValidationException
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import JSONBody

from airgap.domain.model.errors import AuthenticationFailed, DomainError, ValidationFailed
from airgap.domain.services.auth import Authenticator
from airgap.entrypoints.http.common.auth import PUBLIC
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.request_network.audit import AUDIT, note
from airgap.entrypoints.http.request_network.metrics import RequestNetworkMetrics
from airgap.entrypoints.http.request_network.schemas import (
    LoginBody,
    RefreshBody,
    TokenPairOut,
    token_pair_out,
)
from airgap.ports.clock import Clock
from airgap.ports.tokens import TokenIssuer

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


def _credentials_schema(*, form: bool) -> Schema:
    properties: dict[str, Schema | Reference] = {
        "username": Schema(type=OpenAPIType.STRING, min_length=1, max_length=100),
        "password": Schema(type=OpenAPIType.STRING, min_length=1, max_length=1024),
    }
    if form:  # the OAuth2 password grant's other fields, accepted and ignored
        properties["grant_type"] = Schema(type=OpenAPIType.STRING, enum=["password"])
        properties["scope"] = Schema(type=OpenAPIType.STRING)
        properties["client_id"] = Schema(type=OpenAPIType.STRING)
        properties["client_secret"] = Schema(type=OpenAPIType.STRING)
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["username", "password"],
        properties=properties,
        additional_properties=form,
    )


@dataclass
class LoginOperation(Operation):
    """The login endpoint takes either body encoding; say so in the schema."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description="A username and password, as JSON or as an OAuth2 password form.",
            content={
                _JSON: OpenAPIMediaType(schema=_credentials_schema(form=False)),
                _FORM: OpenAPIMediaType(schema=_credentials_schema(form=True)),
            },
        )


async def _login_body(request: Request[Any, Any, Any]) -> LoginBody:
    media_type = request.headers.get("content-type", _JSON).split(";")[0].strip().lower()
    raw: Any
    if media_type == _FORM:
        form = await request.form()
        grant = form.get("grant_type")
        if grant not in (None, "", "password"):
            raise ValidationFailed("grant_type must be 'password'")
        raw = {"username": form.get("username"), "password": form.get("password")}
    elif media_type == _JSON or media_type.endswith("+json"):
        raw = await request.json()
    else:
        raise ClientException(detail=f"send the credentials as {_JSON} or {_FORM}", status_code=415)
    try:
        return msgspec.convert(raw, LoginBody)
    except msgspec.ValidationError as error:
        raise ValidationException(
            detail=str(error), extra=[{"key": "", "message": str(error), "source": "body"}]
        ) from error


@post(
    "/login",
    opt={PUBLIC: True, AUDIT: "auth.login"},
    operation_class=LoginOperation,
    status_code=200,
    summary="Sign in",
    responses=error_responses(400, 401, 415, 422),
)
async def login(
    request: Request[Any, Any, Any],
    authenticator: Injected[Authenticator],
    tokens: Injected[TokenIssuer],
    clock: Injected[Clock],
    api_metrics: Injected[RequestNetworkMetrics],
) -> TokenPairOut:
    """An access token (1 hour) and a refresh token (7 days) for a username and password.
    Send the access token as ``Authorization: Bearer <token>``."""
    body = await _login_body(request)
    note(request.scope, username=body.username)
    try:
        pair = await sync_to_thread(authenticator.login, body.username, body.password)
    except AuthenticationFailed:
        api_metrics.logins.labels("refused").inc()
        raise
    api_metrics.logins.labels("signed_in").inc()
    claims = await sync_to_thread(tokens.decode, pair.access_token, clock.now())
    note(request.scope, user_id=claims.user_id, resource_type="user", resource_id=claims.user_id)
    return token_pair_out(pair)


@post(
    "/refresh",
    opt={PUBLIC: True, AUDIT: "auth.refresh"},
    status_code=200,
    summary="Rotate the token pair",
    responses=error_responses(400, 401, 422),
    sync_to_thread=True,
)
def refresh(data: JSONBody[RefreshBody], authenticator: Injected[Authenticator]) -> TokenPairOut:
    """A new token pair for a refresh token, which is revoked: each refresh token works
    once."""
    return token_pair_out(authenticator.refresh(data.refresh_token))


@post(
    "/logout",
    opt={PUBLIC: True, AUDIT: "auth.logout"},
    status_code=204,
    summary="Sign out",
    responses=error_responses(400, 401, 422),
    sync_to_thread=True,
)
def logout(
    request: Request[Any, Any, Any],
    data: JSONBody[RefreshBody],
    authenticator: Injected[Authenticator],
    tokens: Injected[TokenIssuer],
    clock: Injected[Clock],
) -> None:
    """Revoke the refresh token and, when the call carries one, the access token."""
    authenticator.logout(data.refresh_token)
    scheme, _, access = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and access.strip():
        # Already expired or revoked: nothing is left to revoke.
        with contextlib.suppress(DomainError):
            tokens.revoke(tokens.decode(access.strip(), clock.now()))


auth_router = Router(path="/auth", route_handlers=[login, refresh, logout], tags=["auth"])
