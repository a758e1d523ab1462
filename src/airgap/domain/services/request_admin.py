"""What an administrator of the request network does to accounts there.

Accounts belong to the response network (see :mod:`airgap.domain.services.profile` for why
local changes leave the version alone): an edit made here holds until the response network
next changes the account. The one change that is this network's own is the emergency stop:
``deactivate_user`` sets ``locally_deactivated``, which refuses the user at once -- also with
tokens and API keys issued before -- and which no snapshot from the response network clears;
only ``activate_user`` here does.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

import attrs

from airgap.domain.model.errors import Conflict, NotFound
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.users import PROFILE_DEFAULTS, ProfileType, Role, User, check_priority
from airgap.domain.services.context import RequestSide
from airgap.domain.services.profile import audit_account_change, check_email, check_full_name
from airgap.ports.request_store import RequestNetworkUnitOfWork


class Keep(enum.Enum):
    """A field of :class:`AccountChanges` that is to stay as it is (where ``None`` is a value
    one may set: unlimited, or no name)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@attrs.frozen
class AccountChanges:
    """An administrator's edit. Fields left unset stay as they are. A new ``profile_type``
    brings that profile's default limits and priority unless they are given too; a limit set
    to ``None`` means unlimited."""

    profile_type: ProfileType | None = None
    role: Role | None = None
    priority: int | None = None
    rate_limit_per_minute: int | Keep | None = KEEP
    rate_limit_per_hour: int | Keep | None = KEEP
    rate_limit_per_day: int | Keep | None = KEEP
    full_name: str | Keep | None = KEEP
    email: str | None = None


def _target(uow: RequestNetworkUnitOfWork, user_id: uuid.UUID) -> User:
    user = uow.users.get(user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def get_user(side: RequestSide, user_id: uuid.UUID) -> User:
    with side.uow() as uow:
        return _target(uow, user_id)


def _limits(changes: AccountChanges, base: RateLimits) -> RateLimits:
    def pick(given: int | Keep | None, default: int | None) -> int | None:
        return default if given is KEEP else given

    return RateLimits(
        pick(changes.rate_limit_per_minute, base.per_minute),
        pick(changes.rate_limit_per_hour, base.per_hour),
        pick(changes.rate_limit_per_day, base.per_day),
    )


def update_user(
    side: RequestSide, admin_id: uuid.UUID, user_id: uuid.UUID, changes: AccountChanges
) -> User:
    """Apply an administrator's edit to the replica (until the response network's next
    change to the account replaces it)."""
    email = None if changes.email is None else check_email(changes.email)
    full_name = KEEP if changes.full_name is KEEP else check_full_name(changes.full_name)
    if changes.priority is not None:
        check_priority(changes.priority)
    with side.uow() as uow:
        now = side.clock.now()
        user = _target(uow, user_id)
        if user.id == admin_id and changes.role is not None and changes.role is not user.role:
            raise Conflict("administrators cannot change their own role")
        changed: dict[str, Any] = {}
        base = user.rate_limits
        priority = user.priority
        if changes.profile_type is not None and changes.profile_type is not user.profile_type:
            profile = PROFILE_DEFAULTS[changes.profile_type]
            user.profile_type = changes.profile_type
            base, priority = profile.limits, profile.priority
            changed["profile_type"] = changes.profile_type.value
        limits = _limits(changes, base)  # validated by RateLimits itself
        if limits != user.rate_limits:
            user.rate_limits = limits
            changed["rate_limits"] = [limits.per_minute, limits.per_hour, limits.per_day]
        if changes.priority is not None:
            priority = changes.priority
        if priority != user.priority:
            user.priority = priority
            changed["priority"] = priority
        if changes.role is not None and changes.role is not user.role:
            user.role = changes.role
            changed["role"] = changes.role.value
        if full_name is not KEEP and full_name != user.full_name:
            user.full_name = full_name
            changed["full_name"] = full_name
        if email is not None and email != user.email:
            user.email = email
            changed["email"] = email
        if changed:
            user.updated_at = now
            uow.users.save(user)
        audit_account_change(uow, side, "admin.user.update", admin_id, user, {"changed": changed})
        uow.commit()
    return user


def deactivate_user(side: RequestSide, admin_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """The emergency stop: the user is refused from now on, whatever tokens they hold."""
    if admin_id == user_id:
        raise Conflict("administrators cannot deactivate their own account")
    with side.uow() as uow:
        user = _target(uow, user_id)
        if not user.locally_deactivated:
            user.locally_deactivated = True
            user.updated_at = side.clock.now()
            uow.users.save(user)
        audit_account_change(uow, side, "admin.user.deactivate", admin_id, user)
        uow.commit()
    return user


def activate_user(side: RequestSide, admin_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """Lift the local stop. A user the response network deactivated stays inactive
    (``is_active`` is that network's to change)."""
    with side.uow() as uow:
        user = _target(uow, user_id)
        if user.locally_deactivated:
            user.locally_deactivated = False
            user.updated_at = side.clock.now()
            uow.users.save(user)
        audit_account_change(
            uow, side, "admin.user.activate", admin_id, user, {"is_active": user.is_active}
        )
        uow.commit()
    return user


def reset_rate_limit(side: RequestSide, admin_id: uuid.UUID, user_id: uuid.UUID) -> User:
    """Forget the requests counted against the user's limits."""
    with side.uow() as uow:
        user = _target(uow, user_id)
        side.rate_limits.reset(str(user.id))
        audit_account_change(uow, side, "admin.user.reset_rate_limit", admin_id, user)
        uow.commit()
    return user
