"""Audit trail (request network) and system log (response network)."""

from __future__ import annotations

from typing import Protocol

from airgap.domain.model.audit import AuditEntry, SystemLogEntry


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None: ...


class SystemLog(Protocol):
    def record(self, entry: SystemLogEntry) -> None: ...
