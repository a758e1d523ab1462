"""Users, profiles, roles and API keys.

The response network owns user accounts; the request network holds a replica that it
refreshes from ``users`` batches and may only deactivate locally (an emergency stop).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.rate_limit import RateLimits


class Role(enum.StrEnum):
    """What a principal may do. ``operator`` reads monitoring data; ``admin`` acts."""

    USER = "user"
    OPERATOR = "operator"
    ADMIN = "admin"
    SYSTEM = "system"


class ProfileType(enum.StrEnum):
    """Rate-limit and priority classes (SPEC §7)."""

    BASIC = "basic"
    PREMIUM = "premium"
    ENTERPRISE = "enterprise"
    ADMIN = "admin"


@attrs.frozen
class Profile:
    """The limits and priority a profile grants."""

    type: ProfileType
    limits: RateLimits
    priority: int


PROFILE_DEFAULTS: dict[ProfileType, Profile] = {
    ProfileType.BASIC: Profile(ProfileType.BASIC, RateLimits(10, 100, 500), 5),
    ProfileType.PREMIUM: Profile(ProfileType.PREMIUM, RateLimits(60, 1000, 10_000), 7),
    ProfileType.ENTERPRISE: Profile(ProfileType.ENTERPRISE, RateLimits(300, 10_000, 100_000), 9),
    ProfileType.ADMIN: Profile(ProfileType.ADMIN, RateLimits(None, None, None), 10),
}

MIN_PRIORITY = 1
MAX_PRIORITY = 10


def check_priority(priority: int) -> int:
    """Return ``priority`` if it is in 1..10, else refuse it."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ValidationFailed("priority must be an integer")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ValidationFailed(f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}")
    return priority


@attrs.define(slots=False, eq=False)
class User:
    """A user account. ``version`` grows with every change made on the response network and
    is what the request network compares when it applies a users snapshot."""

    id: uuid.UUID
    username: str
    email: str
    hashed_password: str
    profile_type: ProfileType
    rate_limits: RateLimits
    priority: int
    role: Role = Role.USER
    full_name: str | None = None
    is_active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_login: datetime | None = None
    version: int = 1
    # Request network only: set when an admin there deactivated the user locally; a
    # snapshot from the response network never re-activates such a user by itself.
    locally_deactivated: bool = False
    allowed_indices: frozenset[str] | None = None

    @classmethod
    def create(
        cls,
        *,
        id: uuid.UUID,
        username: str,
        email: str,
        hashed_password: str,
        profile_type: ProfileType = ProfileType.BASIC,
        role: Role = Role.USER,
        full_name: str | None = None,
        now: datetime,
    ) -> User:
        """A new active user with the profile's default limits and priority."""
        profile = PROFILE_DEFAULTS[profile_type]
        return cls(
            id=id,
            username=username,
            email=email,
            hashed_password=hashed_password,
            profile_type=profile_type,
            rate_limits=profile.limits,
            priority=profile.priority,
            role=role,
            full_name=full_name,
            created_at=now,
            updated_at=now,
        )

    @property
    def may_sign_in(self) -> bool:
        """Deactivated users, and users stopped locally, are refused at once."""
        return self.is_active and not self.locally_deactivated

    def touch(self, now: datetime) -> None:
        """Record a change: bump the version the replica compares."""
        self.updated_at = now
        self.version += 1

    def change_profile(self, profile_type: ProfileType, now: datetime) -> None:
        """Move to another profile, taking its default limits and priority."""
        profile = PROFILE_DEFAULTS[profile_type]
        self.profile_type = profile_type
        self.rate_limits = profile.limits
        self.priority = profile.priority
        self.touch(now)

    def deactivate(self, now: datetime) -> None:
        self.is_active = False
        self.touch(now)

    def activate(self, now: datetime) -> None:
        self.is_active = True
        self.touch(now)

    def effective_priority(self, requested: int | None) -> int:
        """A request's priority: what the user asked for, capped by the profile's."""
        if requested is None:
            return self.priority
        return min(check_priority(requested), self.priority)


@attrs.define(slots=False, eq=False)
class ApiKey:
    """An API key. Only the SHA-256 of the secret is stored; ``prefix`` is the visible part
    that lets a person recognise the key in a list."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    is_active: bool = True

    def usable_at(self, now: datetime) -> bool:
        """Active and not expired."""
        return self.is_active and (self.expires_at is None or now < self.expires_at)

    def allows(self, scope: str) -> bool:
        """``*`` grants every scope."""
        return "*" in self.scopes or scope in self.scopes

    def revoke(self) -> None:
        self.is_active = False

    def mark_used(self, now: datetime) -> None:
        self.last_used_at = now
