"""The caller's own account: ``/users/me``, ``/users/me/change-password`` and ``/api-keys``."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, delete, get, post, put
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, JSONBody

from airgap.domain.model.passwords import PasswordPolicy
from airgap.domain.services.auth import Authenticator, Principal
from airgap.domain.services.context import RequestSide
from airgap.domain.services.profile import ProfileChanges, change_password, update_profile
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.common.pagination import PageParams, page_of
from airgap.entrypoints.http.request_network.access import may_change_account, may_read_account
from airgap.entrypoints.http.request_network.audit import AUDIT, AUDITED_BY_USE_CASE, note
from airgap.entrypoints.http.request_network.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    ChangePasswordBody,
    ProfileUpdate,
    UserOut,
    api_key_created,
    api_key_out,
    user_out,
)
from airgap.ports.passwords import PasswordHasher

_SELF_AUDITED = {AUDITED_BY_USE_CASE: True}


@get(
    "/users/me",
    guards=[may_read_account],
    sync_to_thread=False,
    summary="Your account",
    responses=error_responses(401, 403),
)
def read_me(principal: Injected[Principal]) -> UserOut:
    return user_out(principal.user)


@put(
    "/users/me",
    guards=[may_change_account],
    opt={AUDIT: "user.update_profile", **_SELF_AUDITED},
    sync_to_thread=True,
    summary="Change your name or e-mail address",
    responses=error_responses(400, 401, 403, 409, 422),
)
def update_me(
    data: JSONBody[ProfileUpdate], principal: Injected[Principal], side: Injected[RequestSide]
) -> UserOut:
    """The change is made on this network only and holds until the response network,
    which owns accounts, next changes yours."""
    changes = ProfileChanges(full_name=data.full_name, email=data.email)
    return user_out(update_profile(side, principal.user.id, changes))


@post(
    "/users/me/change-password",
    guards=[may_change_account],
    opt={AUDIT: "user.change_password", **_SELF_AUDITED},
    status_code=204,
    sync_to_thread=True,
    summary="Change your password",
    responses=error_responses(400, 401, 403, 422),
)
def change_my_password(
    data: JSONBody[ChangePasswordBody],
    principal: Injected[Principal],
    side: Injected[RequestSide],
    hasher: Injected[PasswordHasher],
    password_policy: Injected[PasswordPolicy],
    authenticator: Injected[Authenticator],
) -> None:
    """Needs the current password; the new one must be at least 12 characters, varied, not
    a common password and not contain the username. Every session ends, this one included:
    tokens issued before the change are refused, so sign in again (API keys stay valid). It
    works on this network only, until the response network next changes your account."""
    change_password(
        side,
        hasher,
        password_policy,
        authenticator.tokens,
        principal.user.id,
        data.current_password,
        data.new_password,
    )


@post(
    "/api-keys",
    guards=[may_change_account],
    opt={AUDIT: "api_key.create"},
    status_code=201,
    sync_to_thread=True,
    summary="Create an API key",
    responses=error_responses(400, 401, 403, 422),
)
def create_api_key(
    request: Request[Any, Any, Any],
    data: JSONBody[ApiKeyCreate],
    principal: Injected[Principal],
    authenticator: Injected[Authenticator],
) -> ApiKeyCreated:
    """A new key, sent as ``X-API-Key``. The key is in this answer only: store it now."""
    created = authenticator.create_api_key(
        principal.user.id,
        data.name,
        frozenset(scope.value for scope in data.scopes),
        data.expires_at,
    )
    note(
        request.scope,
        resource_type="api_key",
        resource_id=created.key.id,
        name=created.key.name,
        scopes=sorted(created.key.scopes),
    )
    return api_key_created(created)


@get(
    "/api-keys",
    guards=[may_read_account],
    sync_to_thread=True,
    summary="Your API keys",
    responses=error_responses(400, 401, 403, 422),
)
def list_api_keys(
    principal: Injected[Principal],
    authenticator: Injected[Authenticator],
    page: Injected[PageParams],
) -> OffsetPagination[ApiKeyOut]:
    """Newest last; the keys themselves are never shown again, only their prefixes."""
    keys = list(authenticator.api_keys_of(principal.user.id))
    chosen = keys[page.offset : page.offset + page.limit]
    return page_of((api_key_out(k) for k in chosen), len(keys), page)


@delete(
    "/api-keys/{key_id:uuid}",
    guards=[may_change_account],
    opt={AUDIT: "api_key.revoke"},
    status_code=200,
    sync_to_thread=True,
    summary="Revoke an API key",
    responses=error_responses(401, 403, 404),
)
def revoke_api_key(
    key_id: FromPath[uuid.UUID],
    principal: Injected[Principal],
    authenticator: Injected[Authenticator],
) -> ApiKeyOut:
    return api_key_out(authenticator.revoke_api_key(principal.user.id, key_id))


account_router = Router(
    path="/",
    route_handlers=[
        read_me,
        update_me,
        change_my_password,
        create_api_key,
        list_api_keys,
        revoke_api_key,
    ],
    tags=["account"],
    security=AUTHENTICATED,
)
