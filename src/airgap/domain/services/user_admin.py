"""Accounts on the response network, the source of truth (SPEC §9).

Admins create accounts, change their profile, limits, priority and role, deactivate and
activate them and reset their passwords. Every change bumps the account's ``version`` once
and leaves an audit entry; the next ``users`` snapshot (a full snapshot with per-user
versions, see :mod:`airgap.domain.services.users`) carries it to the request network, and
each change asks for that snapshot at once (task ``users.export``).

Guards an operator would expect: usernames and e-mail addresses are unique, passwords meet
the password policy, the ``system`` role is not handed out through this path, and no change
may leave the network without an active admin (nobody could sign in to repair it).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from airgap.domain.model.errors import Conflict, NotFound, ValidationFailed
from airgap.domain.model.passwords import PasswordPolicy
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.users import PROFILE_DEFAULTS, ProfileType, Role, User, check_priority
from airgap.domain.services.admin_audit import Actor, record_action
from airgap.ports.clock import Clock
from airgap.ports.ids import IdGenerator
from airgap.ports.passwords import PasswordHasher
from airgap.ports.response_store import ResponseNetworkUnitOfWork
from airgap.ports.task_queue import TaskQueue

USERS_EXPORT_TASK = "users.export"
#: Roles that may be given to an account here; ``system`` is for the networks' own processes.
ASSIGNABLE_ROLES = frozenset({Role.USER, Role.OPERATOR, Role.ADMIN})
#: Roles that may sign in to the response network's API.
STAFF_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{2,99}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
_GENERATED_PASSWORD_BYTES = 18  # 24 characters of URL-safe base64


def check_username(username: str) -> str:
    if not _USERNAME.fullmatch(username):
        raise ValidationFailed(
            "username must be 3 to 100 characters: letters, digits and _ . @ -, "
            "starting with a letter or digit"
        )
    return username


def check_email(email: str) -> str:
    if len(email) > 255 or not _EMAIL.fullmatch(email):
        raise ValidationFailed("email must be a valid address of at most 255 characters")
    return email


def check_full_name(full_name: str | None) -> str | None:
    if full_name is None:
        return None
    cleaned = full_name.strip()
    if len(cleaned) > 255 or any(ord(c) < 32 for c in cleaned):
        raise ValidationFailed("full_name must be at most 255 printable characters")
    return cleaned or None


def check_role(role: Role) -> Role:
    if role not in ASSIGNABLE_ROLES:
        raise ValidationFailed("role must be user, operator or admin")
    return role


@attrs.frozen
class NewAccount:
    username: str
    email: str
    password: str
    profile_type: ProfileType = ProfileType.BASIC
    role: Role = Role.USER
    full_name: str | None = None


@attrs.frozen
class AccountChanges:
    """What to change; ``None`` leaves a field as it is. A new profile brings its default
    limits and priority unless ``rate_limits`` or ``priority`` are given too.
    ``RateLimits(None, None, None)`` means unlimited."""

    email: str | None = None
    full_name: str | None = None
    profile_type: ProfileType | None = None
    rate_limits: RateLimits | None = None
    priority: int | None = None
    role: Role | None = None


@attrs.frozen
class PasswordReset:
    user: User
    #: The generated password, shown once; None when the admin chose the password.
    generated_password: str | None


def _limits(limits: RateLimits) -> dict[str, int | None]:
    return {"per_minute": limits.per_minute, "per_hour": limits.per_hour, "per_day": limits.per_day}


@attrs.frozen
class UserAdmin:
    """The account use cases; each runs in one unit of work."""

    uow: Callable[[], ResponseNetworkUnitOfWork]
    clock: Clock
    ids: IdGenerator
    hasher: PasswordHasher
    tasks: TaskQueue
    passwords: PasswordPolicy = PasswordPolicy()

    def get(self, user_id: uuid.UUID) -> User:
        with self.uow() as uow:
            user = uow.users.get(user_id)
        if user is None:
            raise NotFound("user not found")
        return user

    def create(self, command: NewAccount, actor: Actor) -> User:
        """A new active account with its profile's default limits and priority."""
        username = check_username(command.username)
        email = check_email(command.email)
        full_name = check_full_name(command.full_name)
        role = check_role(command.role)
        self.passwords.check(command.password, username=username)
        hashed = self.hasher.hash(command.password)
        with self.uow() as uow:
            now = self.clock.now()
            if uow.users.get_by_username(username) is not None:
                raise Conflict(f"username {username!r} is taken")
            self._check_email_free(uow, email, None)
            user = User.create(
                id=self.ids.new_id(),
                username=username,
                email=email,
                hashed_password=hashed,
                profile_type=command.profile_type,
                role=role,
                full_name=full_name,
                now=now,
            )
            uow.users.add(user)
            record_action(
                uow.system_logs,
                actor,
                "user.create",
                now,
                resource_type="user",
                resource_id=str(user.id),
                details={
                    "username": username,
                    "profile": user.profile_type.value,
                    "role": user.role.value,
                },
            )
            uow.commit()
        self.tasks.enqueue(USERS_EXPORT_TASK)
        return user

    def update(self, user_id: uuid.UUID, changes: AccountChanges, actor: Actor) -> User:
        """Apply ``changes``; the version grows by one if anything changed."""
        email = check_email(changes.email) if changes.email is not None else None
        full_name = check_full_name(changes.full_name)
        role = check_role(changes.role) if changes.role is not None else None
        priority = check_priority(changes.priority) if changes.priority is not None else None
        with self.uow() as uow:
            now = self.clock.now()
            user = self._load(uow, user_id)
            before = _snapshot(user)
            if email is not None and email != user.email:
                self._check_email_free(uow, email, user.id)
                user.email = email
            if changes.full_name is not None:
                user.full_name = full_name
            if changes.profile_type is not None and changes.profile_type != user.profile_type:
                profile = PROFILE_DEFAULTS[changes.profile_type]
                user.profile_type = profile.type
                user.rate_limits = profile.limits
                user.priority = profile.priority
            if changes.rate_limits is not None:
                user.rate_limits = changes.rate_limits
            if priority is not None:
                user.priority = priority
            if role is not None and role != user.role:
                self._keep_an_admin(uow, user, actor, becomes_admin=role is Role.ADMIN)
                user.role = role
            after = _snapshot(user)
            changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
            if not changed:
                return user
            user.touch(now)
            uow.users.save(user)
            record_action(
                uow.system_logs,
                actor,
                "user.update",
                now,
                resource_type="user",
                resource_id=str(user.id),
                details={"username": user.username, "changes": changed, "version": user.version},
            )
            uow.commit()
        self.tasks.enqueue(USERS_EXPORT_TASK)
        return user

    def deactivate(self, user_id: uuid.UUID, actor: Actor) -> User:
        """The account can no longer sign in here, nor — after the next crossing — on the
        request network. Deactivating an inactive account changes nothing."""
        return self._set_active(user_id, actor, active=False)

    def activate(self, user_id: uuid.UUID, actor: Actor) -> User:
        return self._set_active(user_id, actor, active=True)

    def reset_password(
        self, user_id: uuid.UUID, actor: Actor, new_password: str | None = None
    ) -> PasswordReset:
        """Set ``new_password``, or a generated one that is returned once."""
        generated = None
        if new_password is None:
            generated = new_password = secrets.token_urlsafe(_GENERATED_PASSWORD_BYTES)
        with self.uow() as uow:
            user = self._load(uow, user_id)
        self.passwords.check(new_password, username=user.username)
        hashed = self.hasher.hash(new_password)
        with self.uow() as uow:
            now = self.clock.now()
            user = self._load(uow, user_id)
            user.hashed_password = hashed
            user.touch(now)
            uow.users.save(user)
            record_action(
                uow.system_logs,
                actor,
                "user.reset_password",
                now,
                resource_type="user",
                resource_id=str(user.id),
                details={
                    "username": user.username,
                    "generated": generated is not None,
                    "version": user.version,
                },
            )
            uow.commit()
        self.tasks.enqueue(USERS_EXPORT_TASK)
        return PasswordReset(user, generated)

    # --- helpers ----------------------------------------------------------------------------

    def _set_active(self, user_id: uuid.UUID, actor: Actor, *, active: bool) -> User:
        with self.uow() as uow:
            now = self.clock.now()
            user = self._load(uow, user_id)
            if user.is_active == active:
                return user
            if not active:
                self._keep_an_admin(uow, user, actor, becomes_admin=False)
                user.deactivate(now)
            else:
                user.activate(now)
            uow.users.save(user)
            action = "user.activate" if active else "user.deactivate"
            record_action(
                uow.system_logs,
                actor,
                action,
                now,
                resource_type="user",
                resource_id=str(user.id),
                details={"username": user.username, "version": user.version},
            )
            uow.commit()
        self.tasks.enqueue(USERS_EXPORT_TASK)
        return user

    @staticmethod
    def _load(uow: ResponseNetworkUnitOfWork, user_id: uuid.UUID) -> User:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("user not found")
        return user

    @staticmethod
    def _check_email_free(
        uow: ResponseNetworkUnitOfWork, email: str, owner: uuid.UUID | None
    ) -> None:
        wanted = email.casefold()
        for other in uow.users.all():
            if other.email.casefold() == wanted and other.id != owner:
                raise Conflict("email is already used by another account")

    @staticmethod
    def _keep_an_admin(
        uow: ResponseNetworkUnitOfWork, user: User, actor: Actor, *, becomes_admin: bool
    ) -> None:
        """Refuse to demote or deactivate oneself, or the last active admin."""
        if becomes_admin or user.role is not Role.ADMIN or not user.is_active:
            return
        if actor.user_id == user.id:
            raise Conflict("you cannot demote or deactivate your own account; ask another admin")
        others = [
            u for u in uow.users.all() if u.role is Role.ADMIN and u.is_active and u.id != user.id
        ]
        if not others:
            raise Conflict("this is the last active admin; make another admin first")


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "full_name": user.full_name,
        "profile_type": user.profile_type.value,
        "rate_limits": _limits(user.rate_limits),
        "priority": user.priority,
        "role": user.role.value,
    }
