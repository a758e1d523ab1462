"""Audit entries (request network) and system log entries (response network)."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs


@attrs.frozen
class AuditEntry:
    """Who did what to which resource, from where, and how it ended."""

    action: str
    created_at: datetime
    user_id: uuid.UUID | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    status: int | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


@attrs.frozen
class SystemLogEntry:
    """A notable event on the response network, kept in ``system_logs``."""

    level: LogLevel
    component: str
    message: str
    created_at: datetime
    request_id: uuid.UUID | None = None
    details: Mapping[str, Any] = attrs.field(factory=dict)
