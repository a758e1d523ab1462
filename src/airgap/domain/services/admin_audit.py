"""Who acted, and the system log entry every admin action leaves (SPEC §9: every
state-changing call writes an audit entry; on the response network that is ``system_logs``,
component ``audit``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from airgap.domain.model.audit import LogLevel, SystemLogEntry
from airgap.domain.services.auth import Principal
from airgap.ports.audit import SystemLog

AUDIT_COMPONENT = "audit"


@attrs.frozen
class Actor:
    """The person or script behind an action: a signed-in user, an API key, or the command
    line (no account: whoever can run ``airgap`` on the server)."""

    username: str
    user_id: uuid.UUID | None = None
    via: str = "cli"  # "token", "api_key" or "cli"
    api_key_id: uuid.UUID | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(
            username=principal.user.username,
            user_id=principal.user.id,
            via=principal.via,
            api_key_id=principal.api_key_id,
        )

    @classmethod
    def command_line(cls, name: str = "cli") -> Actor:
        return cls(username=name)


def record_action(
    log: SystemLog,
    actor: Actor,
    action: str,
    now: datetime,
    *,
    resource_type: str,
    resource_id: str | None = None,
    details: Mapping[str, Any] | None = None,
    message: str | None = None,
) -> None:
    """Write the audit entry of ``action`` (``"user.create"``, ``"job.retry"``, …) into the
    unit of work's system log, so it commits, or not, with the change it describes."""
    log.record(
        SystemLogEntry(
            level=LogLevel.INFO,
            component=AUDIT_COMPONENT,
            message=message or f"{actor.username}: {action} {resource_id or resource_type}",
            created_at=now,
            details={
                "action": action,
                "actor": actor.username,
                "actor_id": str(actor.user_id) if actor.user_id else None,
                "via": actor.via,
                "api_key_id": str(actor.api_key_id) if actor.api_key_id else None,
                "resource_type": resource_type,
                "resource_id": resource_id,
                **(details or {}),
            },
        )
    )
