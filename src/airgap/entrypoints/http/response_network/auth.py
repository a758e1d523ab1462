"""Signing in to the response network: operators and admins only (accounts of role ``user``
are unknown here), JWT access and refresh tokens, and API keys for scripts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.enums import RequestEncodingType
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from airgap.domain.model.errors import AuthenticationFailed, ValidationFailed
from airgap.domain.services.auth import Authenticator, Principal, TokenPair
from airgap.entrypoints.http.common.auth import PUBLIC, principal_of, requires
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.response_network.schemas import (
    ApiKeyView,
    LoginBody,
    NewApiKeyBody,
    NewApiKeyView,
    RefreshBody,
    TokenPairView,
    UserView,
    api_key_view,
    user_view,
)
from airgap.entrypoints.http.response_network.security import STAFF, WHOLE_KEY

_FORM_TYPES = (RequestEncodingType.URL_ENCODED.value, RequestEncodingType.MULTI_PART.value)


def _credential_schema() -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["username", "password"],
        properties={
            "username": Schema(type=OpenAPIType.STRING, min_length=1, max_length=100),
            "password": Schema(type=OpenAPIType.STRING, min_length=1, max_length=256),
            "grant_type": Schema(type=OpenAPIType.STRING, description="OAuth2: 'password'"),
        },
    )


@dataclass
class LoginOperation(Operation):
    """The login body may be JSON or an OAuth2 password form; say both in the schema."""

    def __post_init__(self) -> None:
        schema = _credential_schema()
        self.request_body = RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(schema=schema),
                RequestEncodingType.URL_ENCODED.value: OpenAPIMediaType(schema=schema),
            },
        )


def _pair(pair: TokenPair) -> TokenPairView:
    return TokenPairView(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


async def _credentials(request: Request[Any, Any, Any]) -> LoginBody:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        form = await request.form()
        raw: dict[str, Any] = {
            "username": form.get("username"),
            "password": form.get("password"),
        }
    else:
        body = await request.body()
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise ValidationFailed(
                'send JSON {"username", "password"} or an OAuth2 password form'
            ) from None
        if not isinstance(decoded, dict):
            raise ValidationFailed("the body must be a JSON object")
        raw = {"username": decoded.get("username"), "password": decoded.get("password")}
    try:
        return msgspec.convert(raw, LoginBody)
    except msgspec.ValidationError as error:
        raise ValidationFailed(str(error)) from None


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]  # noqa: RUF012 - Litestar reads it as a class attribute

    @post(
        "/login",
        opt={PUBLIC: True},
        status_code=HTTP_200_OK,
        operation_class=LoginOperation,
        summary="Sign in (operators and admins)",
        responses=error_responses(401, 422),
    )
    async def login(
        self, request: Request[Any, Any, Any], authenticator: Injected[Authenticator]
    ) -> TokenPairView:
        """JSON ``{"username", "password"}`` or an OAuth2 password form. Accounts of role
        ``user`` cannot sign in here."""
        credentials = await _credentials(request)
        pair = await anyio.to_thread.run_sync(
            authenticator.login, credentials.username, credentials.password
        )
        return _pair(pair)

    @post(
        "/refresh",
        opt={PUBLIC: True},
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        summary="A new token pair for a refresh token (which is then revoked)",
        responses=error_responses(401, 422),
    )
    def refresh(
        self, data: JSONBody[RefreshBody], authenticator: Injected[Authenticator]
    ) -> TokenPairView:
        return _pair(authenticator.refresh(data.refresh_token))

    @post(
        "/logout",
        opt={PUBLIC: True},
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Revoke a refresh token",
        responses=error_responses(401, 422),
    )
    def logout(self, data: JSONBody[RefreshBody], authenticator: Injected[Authenticator]) -> None:
        authenticator.logout(data.refresh_token)

    @get(
        "/me",
        guards=[requires(STAFF)],
        security=AUTHENTICATED,
        sync_to_thread=False,
        summary="Who is signed in",
        responses=error_responses(401, 403),
    )
    def me(self, request: Request[Any, Any, Any]) -> UserView:
        return user_view(principal_of(request).user)


class ApiKeyController(Controller):
    """The caller's own API keys (for scripts); a key acts with its owner's role, narrowed
    to its scopes: ``read`` (monitoring), ``admin`` (actions), ``*`` (both)."""

    path = "/api/v1/api-keys"
    tags = ["api keys"]  # noqa: RUF012
    security = AUTHENTICATED

    @post(
        "/",
        guards=[requires(STAFF, scope=WHOLE_KEY)],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Create an API key (the secret is shown once)",
        responses=error_responses(401, 403, 422),
    )
    def create_key(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NewApiKeyBody],
        authenticator: Injected[Authenticator],
    ) -> NewApiKeyView:
        principal = principal_of(request)
        created = authenticator.create_api_key(
            principal.user.id, data.name, frozenset(data.scopes), data.expires_at
        )
        return NewApiKeyView(api_key_view(created.key), created.secret)

    @get(
        "/",
        guards=[requires(STAFF)],
        sync_to_thread=True,
        summary="The caller's API keys",
        responses=error_responses(401, 403),
    )
    def list_keys(
        self, request: Request[Any, Any, Any], authenticator: Injected[Authenticator]
    ) -> list[ApiKeyView]:
        principal: Principal = principal_of(request)
        return [api_key_view(k) for k in authenticator.api_keys_of(principal.user.id)]

    @delete(
        "/{key_id:uuid}",
        guards=[requires(STAFF, scope=WHOLE_KEY)],
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Revoke one of the caller's API keys",
        responses=error_responses(401, 403, 404),
    )
    def revoke_key(
        self,
        request: Request[Any, Any, Any],
        key_id: FromPath[uuid.UUID],
        authenticator: Injected[Authenticator],
    ) -> None:
        authenticator.revoke_api_key(principal_of(request).user.id, key_id)


def authenticate_with(authenticator: Authenticator) -> Any:
    """The ``(bearer, api key) -> Principal`` the shared middleware calls."""

    def authenticate(bearer: str | None, api_key: str | None) -> Principal:
        if bearer is not None:
            return authenticator.from_access_token(bearer)
        if api_key:
            return authenticator.from_api_key(api_key)
        raise AuthenticationFailed("authentication required")

    return authenticate
