"""Users, profiles and API keys (SPEC §7, §9)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgap.domain.model.errors import ValidationFailed
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.users import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    PROFILE_DEFAULTS,
    ApiKey,
    ProfileType,
    Role,
    User,
    check_priority,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def new_user(profile: ProfileType = ProfileType.BASIC, **kwargs: object) -> User:
    return User.create(
        id=uuid.UUID(int=1),
        username="alice",
        email="alice@example.org",
        hashed_password="$argon2id$...",
        profile_type=profile,
        now=T0,
        **kwargs,  # type: ignore[arg-type]
    )


# --- profiles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "per_minute", "per_hour", "per_day", "priority"),
    [
        (ProfileType.BASIC, 10, 100, 500, 5),
        (ProfileType.PREMIUM, 60, 1000, 10_000, 7),
        (ProfileType.ENTERPRISE, 300, 10_000, 100_000, 9),
        (ProfileType.ADMIN, None, None, None, 10),
    ],
)
def test_profile_defaults_match_the_spec(
    profile: ProfileType,
    per_minute: int | None,
    per_hour: int | None,
    per_day: int | None,
    priority: int,
) -> None:
    defaults = PROFILE_DEFAULTS[profile]
    assert defaults.type is profile
    assert defaults.limits == RateLimits(per_minute, per_hour, per_day)
    assert defaults.priority == priority
    user = new_user(profile)
    assert user.rate_limits == RateLimits(per_minute, per_hour, per_day)
    assert user.priority == priority


def test_every_profile_has_defaults_and_admin_is_unlimited() -> None:
    assert set(PROFILE_DEFAULTS) == set(ProfileType)
    assert PROFILE_DEFAULTS[ProfileType.ADMIN].limits.unlimited
    assert not PROFILE_DEFAULTS[ProfileType.BASIC].limits.unlimited


def test_roles() -> None:
    assert [r.value for r in Role] == ["user", "operator", "admin", "system"]


# --- creating and changing users ------------------------------------------------------------


def test_a_new_user_is_an_active_basic_user_at_version_one() -> None:
    user = new_user()
    assert user.profile_type is ProfileType.BASIC
    assert user.role is Role.USER
    assert user.is_active
    assert not user.locally_deactivated
    assert user.may_sign_in
    assert user.version == 1
    assert user.created_at == T0
    assert user.updated_at == T0
    assert user.last_login is None
    assert user.allowed_indices is None


def test_create_with_role_and_full_name() -> None:
    user = new_user(ProfileType.ADMIN, role=Role.ADMIN, full_name="Alice A.")
    assert user.role is Role.ADMIN
    assert user.full_name == "Alice A."
    assert user.priority == 10


def test_change_profile_takes_the_new_defaults_and_bumps_the_version() -> None:
    user = new_user()
    later = T0 + timedelta(days=1)
    user.change_profile(ProfileType.ENTERPRISE, later)
    assert user.profile_type is ProfileType.ENTERPRISE
    assert user.rate_limits == RateLimits(300, 10_000, 100_000)
    assert user.priority == 9
    assert user.version == 2
    assert user.updated_at == later
    assert user.created_at == T0


def test_deactivate_and_activate_each_bump_the_version() -> None:
    user = new_user()
    user.deactivate(T0 + timedelta(hours=1))
    assert not user.is_active
    assert not user.may_sign_in
    assert user.version == 2
    assert user.updated_at == T0 + timedelta(hours=1)
    user.activate(T0 + timedelta(hours=2))
    assert user.is_active
    assert user.may_sign_in
    assert user.version == 3
    assert user.updated_at == T0 + timedelta(hours=2)


def test_touch_bumps_the_version() -> None:
    user = new_user()
    user.touch(T0 + timedelta(seconds=1))
    user.touch(T0 + timedelta(seconds=2))
    assert user.version == 3
    assert user.updated_at == T0 + timedelta(seconds=2)


@pytest.mark.parametrize(
    ("is_active", "locally_deactivated", "may"),
    [(True, False, True), (False, False, False), (True, True, False), (False, True, False)],
)
def test_may_sign_in(is_active: bool, locally_deactivated: bool, may: bool) -> None:
    user = new_user()
    user.is_active = is_active
    user.locally_deactivated = locally_deactivated
    assert user.may_sign_in is may


def test_an_emergency_stop_survives_reactivation_from_the_response_network() -> None:
    user = new_user()
    user.locally_deactivated = True
    user.activate(T0 + timedelta(minutes=1))
    assert user.is_active
    assert not user.may_sign_in


CHANGES: dict[str, Callable[[User, datetime], None]] = {
    "touch": lambda u, t: u.touch(t),
    "deactivate": lambda u, t: u.deactivate(t),
    "activate": lambda u, t: u.activate(t),
    "basic": lambda u, t: u.change_profile(ProfileType.BASIC, t),
    "premium": lambda u, t: u.change_profile(ProfileType.PREMIUM, t),
    "enterprise": lambda u, t: u.change_profile(ProfileType.ENTERPRISE, t),
    "admin": lambda u, t: u.change_profile(ProfileType.ADMIN, t),
}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(CHANGES)), max_size=20))
def test_every_change_bumps_the_version_by_exactly_one(changes: list[str]) -> None:
    user = new_user()
    for n, name in enumerate(changes, start=1):
        at = T0 + timedelta(minutes=n)
        CHANGES[name](user, at)
        assert user.version == 1 + n
        assert user.updated_at == at
        assert user.rate_limits == PROFILE_DEFAULTS[user.profile_type].limits
        assert user.priority == PROFILE_DEFAULTS[user.profile_type].priority


# --- priority -------------------------------------------------------------------------------


def test_priority_bounds() -> None:
    assert (MIN_PRIORITY, MAX_PRIORITY) == (1, 10)
    assert check_priority(1) == 1
    assert check_priority(10) == 10


@pytest.mark.parametrize("bad", [0, 11, -1, True, False, 5.0, "5", None])
def test_check_priority_refuses_anything_but_an_int_in_range(bad: object) -> None:
    with pytest.raises(ValidationFailed):
        check_priority(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("profile", "requested", "effective"),
    [
        (ProfileType.BASIC, None, 5),
        (ProfileType.BASIC, 1, 1),
        (ProfileType.BASIC, 5, 5),
        (ProfileType.BASIC, 9, 5),  # capped by the profile
        (ProfileType.BASIC, 10, 5),
        (ProfileType.PREMIUM, 8, 7),
        (ProfileType.ENTERPRISE, 3, 3),
        (ProfileType.ADMIN, None, 10),
        (ProfileType.ADMIN, 10, 10),
    ],
)
def test_effective_priority_is_the_request_capped_by_the_profile(
    profile: ProfileType, requested: int | None, effective: int
) -> None:
    assert new_user(profile).effective_priority(requested) == effective


@pytest.mark.parametrize("bad", [0, 11, True])
def test_effective_priority_refuses_an_invalid_request(bad: int) -> None:
    with pytest.raises(ValidationFailed):
        new_user(ProfileType.ADMIN).effective_priority(bad)


# --- API keys -------------------------------------------------------------------------------


def api_key(**kwargs: object) -> ApiKey:
    fields: dict[str, object] = {
        "id": uuid.UUID(int=5),
        "user_id": uuid.UUID(int=1),
        "name": "ci",
        "prefix": "ak_live_abcd",
        "key_hash": "00" * 32,
        "scopes": frozenset({"search:read"}),
        "created_at": T0,
    }
    fields.update(kwargs)
    return ApiKey(**fields)  # type: ignore[arg-type]


def test_a_key_without_expiry_is_usable_until_revoked() -> None:
    key = api_key()
    assert key.usable_at(T0)
    assert key.usable_at(T0 + timedelta(days=3650))
    key.revoke()
    assert not key.is_active
    assert not key.usable_at(T0)


def test_a_key_stops_working_at_its_expiry_instant() -> None:
    expiry = T0 + timedelta(days=30)
    key = api_key(expires_at=expiry)
    assert key.usable_at(expiry - timedelta(microseconds=1))
    assert not key.usable_at(expiry)
    assert not key.usable_at(expiry + timedelta(days=1))


def test_a_revoked_key_is_unusable_even_before_expiry() -> None:
    key = api_key(expires_at=T0 + timedelta(days=30))
    key.revoke()
    assert not key.usable_at(T0 + timedelta(days=1))


def test_scopes() -> None:
    key = api_key(scopes=frozenset({"search:read", "results:read"}))
    assert key.allows("search:read")
    assert key.allows("results:read")
    assert not key.allows("admin:write")
    assert not key.allows("search")
    assert not api_key(scopes=frozenset()).allows("search:read")


def test_the_star_scope_grants_everything() -> None:
    key = api_key(scopes=frozenset({"*"}))
    assert key.allows("admin:write")
    assert key.allows("anything")


def test_mark_used() -> None:
    key = api_key()
    assert key.last_used_at is None
    key.mark_used(T0 + timedelta(minutes=3))
    assert key.last_used_at == T0 + timedelta(minutes=3)
