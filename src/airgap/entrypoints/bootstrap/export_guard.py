"""Reading the export guard's configuration file (``AIRGAP_EXPORT_GUARD``, SPEC §4).

The file is JSON; :meth:`ExportGuard.from_mapping` says what it may hold. Any problem —
the file missing or unreadable, not JSON, or a bad policy — is one :class:`SettingsError`
line naming the file and the problem, raised when the response network's container is
built, so a process with a broken guard never starts exporting.
"""

from __future__ import annotations

import json
from pathlib import Path

from airgap.domain.model.export_guard import ExportGuard, ExportGuardInvalid
from airgap.entrypoints.bootstrap.settings import Settings, SettingsError

SETTING = "AIRGAP_EXPORT_GUARD"


def load_export_guard(path: Path | None) -> ExportGuard:
    """The guard configured in ``path``; without a file, the guard that lets all through."""
    if path is None:
        return ExportGuard()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"{SETTING}: cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{SETTING}: {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"{SETTING}: {path} is not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})"
        ) from None
    try:
        return ExportGuard.from_mapping(data)
    except ExportGuardInvalid as error:
        raise SettingsError(f"{SETTING}: {path}: {error.message}") from None


def configured_export_guard(settings: Settings) -> ExportGuard:
    """The guard of ``settings`` (for the composition root)."""
    return load_export_guard(settings.export_guard)
