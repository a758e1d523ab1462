"""Users: created and changed on the response network (the source of truth) and carried to
the request network in ``users`` batches.

A users batch is a *full snapshot*: every account with its own version counter. The replica
applies an account only when its version is newer than what it holds. Snapshots rather than
deltas because a lost, duplicated or reordered users batch then needs no repair: the next
snapshot carries everything, and versions make applying it idempotent. A snapshot is sent
when any account changed since the last one (``snapshot_version``, the sum of all account
versions, only grows) or when the last one went unacknowledged past the timeout.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import cast

import attrs

from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.model.batching import BatchType, Channel, ExportBatch, Manifest
from airgap.domain.model.errors import Conflict, ValidationFailed
from airgap.domain.model.rate_limit import RateLimits
from airgap.domain.model.records import TransferRecord, UserRecord
from airgap.domain.model.users import ProfileType, Role, User
from airgap.domain.services.context import ResponseSide
from airgap.domain.services.outbound import Planned, TransferStore
from airgap.ports.passwords import PasswordHasher
from airgap.ports.response_store import ResponseNetworkUnitOfWork


def rate_limits_of(record: UserRecord) -> RateLimits:
    return RateLimits(
        record.rate_limit_per_minute, record.rate_limit_per_hour, record.rate_limit_per_day
    )


def snapshot_version(users: Sequence[User]) -> int:
    return sum(u.version for u in users)


def user_record(user: User, version: int) -> UserRecord:
    return UserRecord(
        user_id=user.id,
        username=user.username,
        email=user.email,
        hashed_password=user.hashed_password,
        profile_type=user.profile_type.value,
        rate_limit_per_minute=user.rate_limits.per_minute,
        rate_limit_per_hour=user.rate_limits.per_hour,
        rate_limit_per_day=user.rate_limits.per_day,
        priority=user.priority,
        role=user.role.value,
        is_active=user.is_active,
        version=user.version,
        snapshot_version=version,
        full_name=user.full_name,
    )


@attrs.frozen
class CreateUser:
    username: str
    email: str
    password: str
    profile_type: ProfileType = ProfileType.BASIC
    role: Role = Role.USER
    full_name: str | None = None


def create_user(side: ResponseSide, hasher: PasswordHasher, command: CreateUser) -> User:
    """Create an account on the response network; it reaches the request network with the
    next users snapshot."""
    if not command.username.strip() or "@" not in command.email:
        raise ValidationFailed("a username and a valid email are required")
    with side.uow() as uow:
        now = side.clock.now()
        if uow.users.get_by_username(command.username) is not None:
            raise Conflict(f"username {command.username!r} is taken")
        user = User.create(
            id=side.ids.new_id(),
            username=command.username,
            email=command.email,
            hashed_password=hasher.hash(command.password),
            profile_type=command.profile_type,
            role=command.role,
            full_name=command.full_name,
            now=now,
        )
        uow.users.add(user)
        uow.system_logs.record(
            SystemLogEntry(
                level=LogLevel.INFO,
                component="users",
                message=f"user {user.username} created",
                created_at=now,
                details={"user_id": str(user.id), "profile": user.profile_type.value},
            )
        )
        uow.commit()
    return user


def _render(store: TransferStore, batch: ExportBatch) -> Sequence[TransferRecord]:
    uow = cast(ResponseNetworkUnitOfWork, store)
    users = list(uow.users.all())
    version = snapshot_version(users)
    wanted = set(batch.user_ids)
    return [user_record(u, version) for u in users if u.id in wanted]


def export_users(side: ResponseSide) -> list[Manifest]:
    """Send a full snapshot when accounts changed or the last snapshot went unacknowledged;
    a snapshot larger than a batch is split over several batches."""
    exporter = side.exporter()
    manifests = exporter.flush_unwritten({BatchType.USERS: _render})
    with side.uow() as uow:
        now = side.clock.now()
        channel = Channel.from_(side.network)
        users = sorted(uow.users.all(), key=lambda u: u.id.bytes)
        version = snapshot_version(users)
        outbound = uow.channels.outbound(channel)
        overdue = [
            b
            for b in uow.export_batches.awaiting_ack(channel)
            if b.batch_type is BatchType.USERS and b.overdue(now, side.transfer.ack_timeout)
        ]
        if not users or (version == outbound.users_version_sent and not overdue):
            return manifests
        for batch in overdue:
            batch.mark_resent(now)
            uow.export_batches.save(batch)
        outbound.users_version_sent = version
        uow.channels.save_outbound(outbound)
        uow.commit()
    size = exporter.content_room
    chunks = [tuple(u.id for u in users[i : i + size]) for i in range(0, len(users), size)]
    for chunk in chunks:
        manifest = exporter.export(_chunk_planner(chunk), _render)
        if manifest is not None:
            manifests.append(manifest)
    return manifests


def _chunk_planner(
    user_ids: tuple[uuid.UUID, ...],
) -> Callable[[TransferStore, datetime, int], Planned | None]:
    def plan(_store: TransferStore, _now: datetime, _room: int) -> Planned | None:
        return Planned(BatchType.USERS, len(user_ids), lambda _b, _n: None, user_ids=user_ids)

    return plan
