"""Files that have served their time: the request archive (JSON Lines), and pruning of old
batch files from an outbox, its ``carried/`` directory, or an inbox's ``archive/``.

Pruning looks only at batch files (names of the strict batch pattern, with the ``~N`` a
second arrival of the same batch gets in ``archive/``) and judges their age by modification
time: a batch is written once and renamed, never rewritten, so its mtime is when it was
written (outbox) or when it arrived (inbox). Quarantined batches are never pruned: an
operator decides about them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from airgap.adapters.filesystem.files import NewFile
from airgap.adapters.filesystem.names import parse_name
from airgap.ports.clock import Clock
from airgap.ports.retention import ArchivedRequest

_SECOND_ARRIVAL = re.compile(r"~[0-9]+(?=\.)")


@attrs.frozen
class PruneReport:
    files: int
    bytes: int


def is_batch_file(name: str) -> bool:
    return parse_name(_SECOND_ARRIVAL.sub("", name, count=1)) is not None


def prune_batch_files(directory: Path, older_than: datetime) -> PruneReport:
    """Delete the batch files in ``directory`` (not below it) last modified before
    ``older_than``. A missing directory has nothing to prune."""
    cutoff = older_than.timestamp()
    files = size = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return PruneReport(0, 0)
    for entry in entries:
        if not is_batch_file(entry.name):
            continue
        info = entry.stat(follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode) or info.st_mtime >= cutoff:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            files += 1
            size += info.st_size
    return PruneReport(files, size)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot archive {type(value).__name__}")


def _line(item: ArchivedRequest) -> bytes:
    record = {
        "type": "archived_request",
        "request": attrs.asdict(item.request, recurse=True),
        "response": None if item.response is None else attrs.asdict(item.response, recurse=True),
    }
    try:
        return orjson.dumps(record, default=_plain) + b"\n"
    except TypeError:  # integers beyond 64 bits in a query: the standard library keeps them
        return (json.dumps(record, default=_plain, ensure_ascii=False) + "\n").encode()


class JsonlRequestArchive:
    """``RequestArchive`` as files ``requests_archive_{YYYYMMDD_HHMMSS}_{id}.jsonl`` in one
    directory, each written under a temporary name, fsynced and renamed — a file that is
    there is complete."""

    def __init__(self, directory: Path, clock: Clock) -> None:
        self.directory = directory
        self._clock = clock

    def keep(self, requests: Sequence[ArchivedRequest]) -> None:
        if not requests:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = self._clock.now().astimezone(UTC).strftime("%Y%m%d_%H%M%S")
        name = f"requests_archive_{stamp}_{uuid.uuid4().hex[:12]}.jsonl"
        with NewFile(self.directory, name) as new:
            new.write(b"".join(_line(item) for item in requests))
            new.commit()
