"""Users, the source of truth: every change bumps the version once, is audited, asks for a
users export, and reaches the request network in the next snapshot."""

from __future__ import annotations

import attrs
import pytest

from airgap.adapters.memory.security import MemoryTokenIssuer
from airgap.domain.model.errors import AuthenticationFailed, Conflict, NotFound, ValidationFailed
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.users import ProfileType, Role
from airgap.domain.services import request_transfer
from airgap.domain.services.admin_audit import AUDIT_COMPONENT, Actor
from airgap.domain.services.auth import Authenticator
from airgap.domain.services.staff_auth import staff_only
from airgap.domain.services.user_admin import (
    USERS_EXPORT_TASK,
    AccountChanges,
    NewAccount,
    UserAdmin,
)
from airgap.domain.services.users import export_users
from airgap.entrypoints.bootstrap.memory import MemorySystem

PASSWORD = "correct horse battery staple"
ROOT = Actor.command_line("root")


@pytest.fixture
def admin(system: MemorySystem) -> UserAdmin:
    return UserAdmin(
        uow=system.response.uow,
        clock=system.clock,
        ids=system.response.ids,
        hasher=system.hasher,
        tasks=system.response_tasks,
    )


def audit_entries(system: MemorySystem) -> list[dict[str, object]]:
    with system.response_store.unit_of_work() as uow:
        return [
            dict(e.details) for e in uow.system_logs.entries() if e.component == AUDIT_COMPONENT
        ]


def replica(system: MemorySystem, username: str):  # type: ignore[no-untyped-def]
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(system.request)
    with system.request_store.unit_of_work() as uow:
        return uow.users.get_by_username(username)


def test_create_audits_asks_for_an_export_and_reaches_the_request_network(
    system: MemorySystem, admin: UserAdmin
) -> None:
    carol = admin.create(
        NewAccount("carol", "carol@example.org", PASSWORD, ProfileType.PREMIUM, Role.USER), ROOT
    )
    assert carol.version == 1 and carol.priority == 7
    assert (USERS_EXPORT_TASK, {}) in system.response_tasks.drain()
    [entry] = audit_entries(system)
    assert entry["action"] == "user.create" and entry["actor"] == "root"
    assert entry["resource_id"] == str(carol.id)
    copy = replica(system, "carol")
    assert copy is not None and copy.version == 1 and copy.profile_type is ProfileType.PREMIUM


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (NewAccount("x", "x@example.org", PASSWORD), "username"),
        (NewAccount("bad name", "b@example.org", PASSWORD), "username"),
        (NewAccount("dave", "not-an-email", PASSWORD), "email"),
        (NewAccount("dave", "d@example.org", "short"), "password"),
        (NewAccount("dave", "d@example.org", "dave-is-my-password"), "username"),
        (NewAccount("dave", "d@example.org", PASSWORD, role=Role.SYSTEM), "role"),
    ],
)
def test_create_refuses_bad_input(admin: UserAdmin, command: NewAccount, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        admin.create(command, ROOT)


def test_usernames_and_emails_are_unique(admin: UserAdmin) -> None:
    admin.create(NewAccount("erin", "erin@example.org", PASSWORD), ROOT)
    with pytest.raises(Conflict, match="username"):
        admin.create(NewAccount("erin", "other@example.org", PASSWORD), ROOT)
    with pytest.raises(Conflict, match="email"):
        admin.create(NewAccount("erin2", "ERIN@example.org", PASSWORD), ROOT)


def test_update_bumps_the_version_once_and_records_what_changed(
    system: MemorySystem, admin: UserAdmin
) -> None:
    user = admin.create(NewAccount("frank", "frank@example.org", PASSWORD), ROOT)
    changed = admin.update(
        user.id,
        AccountChanges(
            profile_type=ProfileType.ENTERPRISE,
            rate_limits=RateLimits(20, None, 1000),
            full_name="Frank N.",
        ),
        ROOT,
    )
    assert changed.version == 2
    assert changed.priority == 9  # the new profile's default
    assert changed.rate_limits == RateLimits(20, None, 1000)
    entry = audit_entries(system)[-1]
    assert entry["action"] == "user.update"
    assert set(entry["changes"]) == {"profile_type", "rate_limits", "priority", "full_name"}  # type: ignore[arg-type]
    copy = replica(system, "frank")
    assert copy.version == 2 and copy.rate_limits == RateLimits(20, None, 1000)


def test_an_update_that_changes_nothing_keeps_the_version(admin: UserAdmin) -> None:
    user = admin.create(NewAccount("gina", "gina@example.org", PASSWORD), ROOT)
    same = admin.update(user.id, AccountChanges(email="gina@example.org"), ROOT)
    assert same.version == 1


def test_update_refuses_bad_values(admin: UserAdmin) -> None:
    user = admin.create(NewAccount("hank", "hank@example.org", PASSWORD), ROOT)
    with pytest.raises(ValidationFailed):
        admin.update(user.id, AccountChanges(priority=11), ROOT)
    with pytest.raises(ValidationFailed):
        admin.update(user.id, AccountChanges(role=Role.SYSTEM), ROOT)
    with pytest.raises(NotFound):
        admin.update(admin.ids.new_id(), AccountChanges(priority=3), ROOT)


def test_deactivation_locks_the_user_out_on_both_networks(
    system: MemorySystem, admin: UserAdmin
) -> None:
    user = admin.create(NewAccount("ivy", "ivy@example.org", PASSWORD), ROOT)
    assert replica(system, "ivy").may_sign_in
    admin.deactivate(user.id, ROOT)
    assert admin.deactivate(user.id, ROOT).version == 2  # a second call changes nothing
    assert not replica(system, "ivy").may_sign_in
    assert admin.activate(user.id, ROOT).version == 3
    assert replica(system, "ivy").may_sign_in


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(admin: UserAdmin) -> None:
    boss = admin.create(NewAccount("boss", "boss@example.org", PASSWORD, role=Role.ADMIN), ROOT)
    with pytest.raises(Conflict, match="last active admin"):
        admin.deactivate(boss.id, ROOT)
    with pytest.raises(Conflict, match="last active admin"):
        admin.update(boss.id, AccountChanges(role=Role.OPERATOR), ROOT)
    second = admin.create(
        NewAccount("second", "second@example.org", PASSWORD, role=Role.ADMIN), ROOT
    )
    as_boss = Actor("boss", boss.id, "token")
    with pytest.raises(Conflict, match="your own account"):
        admin.deactivate(boss.id, as_boss)
    assert not admin.deactivate(second.id, as_boss).is_active


def test_reset_password_generates_one_or_takes_a_strong_one(
    system: MemorySystem, admin: UserAdmin
) -> None:
    user = admin.create(NewAccount("jack", "jack@example.org", PASSWORD), ROOT)
    reset = admin.reset_password(user.id, ROOT)
    assert reset.generated_password and len(reset.generated_password) >= 20
    assert system.hasher.verify(reset.user.hashed_password, reset.generated_password)
    assert reset.user.version == 2
    with pytest.raises(ValidationFailed):
        admin.reset_password(user.id, ROOT, "weak")
    chosen = admin.reset_password(user.id, ROOT, "another long passphrase")
    assert chosen.generated_password is None and chosen.user.version == 3
    entry = audit_entries(system)[-1]
    assert entry["action"] == "user.reset_password"
    assert "another long passphrase" not in str(entry)
    copy = replica(system, "jack")
    assert system.hasher.verify(copy.hashed_password, "another long passphrase")


def test_only_operators_and_admins_sign_in_to_the_response_network(
    system: MemorySystem, admin: UserAdmin
) -> None:
    admin.create(NewAccount("olga", "olga@example.org", PASSWORD, role=Role.OPERATOR), ROOT)
    admin.create(NewAccount("uma", "uma@example.org", PASSWORD), ROOT)
    auth = Authenticator(
        uow=staff_only(system.response.uow),
        clock=system.clock,
        ids=system.response.ids,
        hasher=system.hasher,
        tokens=MemoryTokenIssuer(),
    )
    pair = auth.login("olga", PASSWORD)
    assert auth.from_access_token(pair.access_token).user.username == "olga"

    with pytest.raises(AuthenticationFailed):
        auth.login("uma", PASSWORD)


def test_a_reset_password_ends_the_sessions_opened_with_the_old_one_on_the_request_network(
    system: MemorySystem, admin: UserAdmin
) -> None:
    """An administrator resets a password (a lost laptop, a leak): once the snapshot has
    crossed, tokens issued on the request network before it are refused; other accounts'
    sessions, and sign-ins with the new password, carry on."""
    tokens = MemoryTokenIssuer()
    side = attrs.evolve(system.request, sessions=tokens)
    auth = Authenticator(
        uow=side.uow, clock=system.clock, ids=side.ids, hasher=system.hasher, tokens=tokens
    )
    pia = admin.create(NewAccount("pia", "pia@example.org", PASSWORD, ProfileType.BASIC), ROOT)
    admin.create(NewAccount("quin", "quin@example.org", PASSWORD, ProfileType.BASIC), ROOT)
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(side)
    stolen = auth.login("pia", PASSWORD)
    other = auth.login("quin", PASSWORD)
    system.clock.advance(5)

    admin.reset_password(pia.id, ROOT, "a brand new passphrase 42")
    export_users(system.response)
    system.to_request.carry()
    system.clock.advance(5)
    request_transfer.import_batches(side)

    with pytest.raises(AuthenticationFailed):
        auth.from_access_token(stolen.access_token)
    with pytest.raises(AuthenticationFailed):
        auth.refresh(stolen.refresh_token)
    assert auth.from_access_token(other.access_token).user.username == "quin"
    fresh = auth.login("pia", "a brand new passphrase 42")
    assert auth.from_access_token(fresh.access_token).user.id == pia.id


def test_a_snapshot_that_leaves_the_password_alone_ends_no_session(
    system: MemorySystem, admin: UserAdmin
) -> None:
    tokens = MemoryTokenIssuer()
    side = attrs.evolve(system.request, sessions=tokens)
    auth = Authenticator(
        uow=side.uow, clock=system.clock, ids=side.ids, hasher=system.hasher, tokens=tokens
    )
    rae = admin.create(NewAccount("rae", "rae@example.org", PASSWORD, ProfileType.BASIC), ROOT)
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(side)
    session = auth.login("rae", PASSWORD)

    admin.update(rae.id, AccountChanges(profile_type=ProfileType.PREMIUM), ROOT)
    export_users(system.response)
    system.to_request.carry()
    request_transfer.import_batches(side)

    assert auth.from_access_token(session.access_token).user.profile_type is ProfileType.PREMIUM
