"""A user's own account on the request network: name and e-mail, password.

The request network holds a *replica* of accounts owned by the response network, which
sends full snapshots and has the replica apply an account only when its ``version`` is newer
(``request_transfer.apply_user_record``). A change made here is therefore local, and it is
made *without* bumping the version: the next snapshot of the same version leaves it alone,
and the response network's next change to the account (a newer version) replaces it. Bumping
the local version instead would make the replica skip exactly that next change, because
both sides would then hold the same version number for different accounts.

Consequences a user should know (the README says them too): a password changed here works on
the request network only -- the response network never learns it -- and lasts until an
administrator there changes the account (e.g. resets the password or the profile).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import attrs

from airgap.domain.model.audit import AuditEntry
from airgap.domain.model.errors import AuthenticationFailed, ValidationFailed
from airgap.domain.model.passwords import PasswordPolicy
from airgap.domain.model.users import User
from airgap.domain.services.context import RequestSide
from airgap.ports.passwords import PasswordHasher
from airgap.ports.request_store import RequestNetworkUnitOfWork
from airgap.ports.tokens import TokenIssuer

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL = 255
MAX_FULL_NAME = 255


def check_email(email: str) -> str:
    """``email`` trimmed, if it looks like an address; else refuse it."""
    email = email.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise ValidationFailed("email must be an address like name@example.org")
    return email


def check_full_name(full_name: str | None) -> str | None:
    """``full_name`` trimmed (empty becomes None), at most 255 characters."""
    if full_name is None:
        return None
    full_name = full_name.strip()
    if len(full_name) > MAX_FULL_NAME:
        raise ValidationFailed(f"full_name must be at most {MAX_FULL_NAME} characters")
    return full_name or None


def audit_account_change(
    uow: RequestNetworkUnitOfWork,
    side: RequestSide,
    action: str,
    actor_id: uuid.UUID,
    user: User,
    details: Mapping[str, Any] | None = None,
) -> None:
    """The audit entry of a change to ``user``'s account made by ``actor_id``."""
    uow.audit.record(
        AuditEntry(
            action=action,
            created_at=side.clock.now(),
            user_id=actor_id,
            resource_type="user",
            resource_id=str(user.id),
            status=200,
            details=dict(details or {}),
        )
    )


def account(uow: RequestNetworkUnitOfWork, user_id: uuid.UUID) -> User:
    """The caller's own account, which must still be allowed to sign in."""
    user = uow.users.get(user_id)
    if user is None or not user.may_sign_in:
        raise AuthenticationFailed("account unknown or deactivated")
    return user


@attrs.frozen
class ProfileChanges:
    """What a user may change about themselves; ``None`` leaves a field as it is, and an
    empty ``full_name`` clears it."""

    full_name: str | None = None
    email: str | None = None


def update_profile(side: RequestSide, user_id: uuid.UUID, changes: ProfileChanges) -> User:
    """Change the caller's name or e-mail address, locally (see the module's note)."""
    full_name = None if changes.full_name is None else check_full_name(changes.full_name)
    email = None if changes.email is None else check_email(changes.email)
    with side.uow() as uow:
        now = side.clock.now()
        user = account(uow, user_id)
        changed: list[str] = []
        if changes.full_name is not None and full_name != user.full_name:
            user.full_name = full_name
            changed.append("full_name")
        if email is not None and email != user.email:
            user.email = email
            changed.append("email")
        if changed:
            user.updated_at = now
            uow.users.save(user)
        audit_account_change(uow, side, "user.update_profile", user.id, user, {"changed": changed})
        uow.commit()
    return user


def change_password(
    side: RequestSide,
    hasher: PasswordHasher,
    policy: PasswordPolicy,
    tokens: TokenIssuer,
    user_id: uuid.UUID,
    current_password: str,
    new_password: str,
) -> None:
    """Check the current password, the new one's strength, and store its hash locally.

    Every token issued before the change is refused from then on -- the caller's own
    included: whoever else held a session (a stolen refresh token) loses it, and the owner
    signs in again with the new password. API keys are not tokens and stay valid."""
    with side.uow() as uow:
        user = account(uow, user_id)
    # Hashing is deliberately slow: do it outside the transaction.
    if not hasher.verify(user.hashed_password, current_password):
        raise ValidationFailed("current_password is not correct")
    if new_password == current_password:
        raise ValidationFailed("the new password must differ from the current one")
    policy.check(new_password, username=user.username)
    hashed = hasher.hash(new_password)
    with side.uow() as uow:
        now = side.clock.now()
        user = account(uow, user_id)
        user.hashed_password = hashed
        user.updated_at = now
        uow.users.save(user)
        audit_account_change(uow, side, "user.change_password", user.id, user)
        uow.commit()
    tokens.revoke_all(user_id, now)
