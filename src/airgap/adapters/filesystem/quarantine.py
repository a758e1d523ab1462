"""The quarantine of a filesystem inbox as operators see it: ``inbox/quarantine/`` holds
each refused batch's files beside ``<stem>.reason.txt`` (see :mod:`.inbox`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from airgap.adapters.filesystem.inbox import QUARANTINE
from airgap.adapters.filesystem.names import BATCH_SUFFIXES, REASON_SUFFIX
from airgap.domain.model.operations import QuarantinedFile

#: Reasons are one line; a longer file (written by someone else) is cut here.
MAX_REASON_CHARS = 2000


class FilesystemQuarantine:
    """``QuarantineView`` over ``<inbox>/quarantine``; a missing directory is empty."""

    def __init__(self, inbox_directory: Path) -> None:
        self.directory = inbox_directory / QUARANTINE

    def files(self) -> Sequence[QuarantinedFile]:
        try:
            entries = list(os.scandir(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            return []
        found: list[QuarantinedFile] = []
        for entry in entries:
            if not entry.name.endswith(REASON_SUFFIX) or not entry.is_file(follow_symlinks=False):
                continue
            stem = entry.name.removesuffix(REASON_SUFFIX)
            try:
                with open(entry.path, encoding="utf-8", errors="replace") as handle:
                    reason = handle.read(MAX_REASON_CHARS).strip()
                at = datetime.fromtimestamp(entry.stat(follow_symlinks=False).st_mtime, UTC)
            except OSError:
                continue  # moved away while we looked
            found.append(
                QuarantinedFile(
                    name=stem,
                    reason=reason,
                    quarantined_at=at,
                    size_bytes=self._size(stem),
                )
            )
        return sorted(found, key=lambda f: (f.quarantined_at, f.name), reverse=True)

    def _size(self, stem: str) -> int:
        total = 0
        for suffix in BATCH_SUFFIXES:
            try:
                total += (self.directory / (stem + suffix)).stat().st_size
            except OSError:
                continue
        return total
