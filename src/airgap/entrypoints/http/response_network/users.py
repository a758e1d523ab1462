"""``/api/v1/users``: accounts, the source of truth. Operators read; admins create and
change them. Every change reaches the request network in the next users snapshot."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from airgap.domain.model.users import ProfileType, Role
from airgap.domain.services.user_admin import AccountChanges, NewAccount, UserAdmin
from airgap.entrypoints.http.common.di import Injected
from airgap.entrypoints.http.common.errors import error_responses
from airgap.entrypoints.http.common.openapi import AUTHENTICATED
from airgap.entrypoints.http.common.pagination import PageParams, page_of
from airgap.entrypoints.http.response_network.operations import actor
from airgap.entrypoints.http.response_network.params import Sort, Text, bounded, text
from airgap.entrypoints.http.response_network.schemas import (
    NewUserBody,
    PasswordResetView,
    ProfileName,
    ResetPasswordBody,
    RoleName,
    UpdateUserBody,
    UserView,
    user_view,
)
from airgap.entrypoints.http.response_network.security import ACT, READ
from airgap.ports.operations import ResponseNetworkReadModel

USERS_PATH = "/api/v1/users"


class UserController(Controller):
    path = USERS_PATH
    tags = ["users"]  # noqa: RUF012 - Litestar reads it as a class attribute
    security = AUTHENTICATED

    @get("/", guards=[READ], sync_to_thread=True, responses=error_responses(401, 403, 422))
    def list_users(
        self,
        read: Injected[ResponseNetworkReadModel],
        page: Injected[PageParams],
        profile_type: FromQuery[ProfileName | None] = None,
        role: FromQuery[RoleName | None] = None,
        is_active: FromQuery[bool | None] = None,
        search: Text = None,
        sort: Sort = None,
    ) -> OffsetPagination[UserView]:
        """Accounts; ``search`` matches the start of a username or e-mail address. Sort by
        username (default), created_at, updated_at, version."""
        page = bounded(page)
        found = read.users(
            profile_type=profile_type,
            role=role,
            is_active=is_active,
            search=text(search),
            sort=sort or "username",
            limit=page.limit,
            offset=page.offset,
        )
        return page_of([user_view(u) for u in found.items], found.total, page)

    @post(
        "/",
        guards=[ACT],
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        responses=error_responses(401, 403, 409, 422),
    )
    def create_user(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[NewUserBody],
        user_admin: Injected[UserAdmin],
    ) -> Response[UserView]:
        """Create an account (password policy applies); it reaches the request network
        with the next users export."""
        user = user_admin.create(
            NewAccount(
                username=data.username,
                email=data.email,
                password=data.password,
                profile_type=ProfileType(data.profile_type),
                role=Role(data.role),
                full_name=data.full_name,
            ),
            actor(request),
        )
        return Response(
            user_view(user),
            status_code=HTTP_201_CREATED,
            headers={"Location": f"{USERS_PATH}/{user.id}"},
        )

    @get(
        "/{user_id:uuid}",
        guards=[READ],
        sync_to_thread=True,
        responses=error_responses(401, 403, 404),
    )
    def get_user(self, user_id: FromPath[uuid.UUID], user_admin: Injected[UserAdmin]) -> UserView:
        return user_view(user_admin.get(user_id))

    @put(
        "/{user_id:uuid}",
        guards=[ACT],
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 409, 422),
    )
    def update_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[uuid.UUID],
        data: JSONBody[UpdateUserBody],
        user_admin: Injected[UserAdmin],
    ) -> UserView:
        """Change the profile, limits, priority, role, e-mail or name; the version grows by
        one when anything changed."""
        changes = AccountChanges(
            email=data.email,
            full_name=data.full_name,
            profile_type=ProfileType(data.profile_type) if data.profile_type else None,
            rate_limits=data.rate_limits.to_domain() if data.rate_limits else None,
            priority=data.priority,
            role=Role(data.role) if data.role else None,
        )
        return user_view(user_admin.update(user_id, changes, actor(request)))

    @post(
        "/{user_id:uuid}/deactivate",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 409),
    )
    def deactivate_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[uuid.UUID],
        user_admin: Injected[UserAdmin],
    ) -> UserView:
        """Lock the account out here at once, and on the request network after the next
        crossing."""
        return user_view(user_admin.deactivate(user_id, actor(request)))

    @post(
        "/{user_id:uuid}/activate",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404),
    )
    def activate_user(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[uuid.UUID],
        user_admin: Injected[UserAdmin],
    ) -> UserView:
        return user_view(user_admin.activate(user_id, actor(request)))

    @post(
        "/{user_id:uuid}/reset-password",
        guards=[ACT],
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        responses=error_responses(401, 403, 404, 422),
    )
    def reset_password(
        self,
        request: Request[Any, Any, Any],
        user_id: FromPath[uuid.UUID],
        user_admin: Injected[UserAdmin],
        data: JSONBody[ResetPasswordBody | None] = None,
    ) -> PasswordResetView:
        """Set the given password, or generate one (returned once as
        ``temporary_password``)."""
        reset = user_admin.reset_password(
            user_id, actor(request), data.password if data is not None else None
        )
        return PasswordResetView(user_view(reset.user), reset.generated_password)
