"""The carrier: copies complete, verified batches from an outbox (or a transfer medium) to
an inbox (or a transfer medium), each at most once. ``airgap transfer`` and the embedded
mode's automatic carrier use it.

For each batch whose manifest is in the source directory, oldest first:

1. check the manifest (schema, file name, size limits) and the payload's size and SHA-256
   as it is copied — a batch that fails stays where it is and is reported;
2. write the payload at the destination under a temporary name, fsync it, drop it from
   the page cache, read it back and hash it again; only a match is renamed into place;
3. the same for the manifest (byte for byte: its signature must survive), whose rename
   commits the batch at the destination;
4. only then move the source files to ``carried/`` (manifest first), so a batch is never
   carried twice and never marked carried before it is safely at the destination.

A batch whose manifest already sits at the destination with the same bytes counts as
delivered (a run that died between 3 and 4); one with different bytes is reported and left
alone. The carrier never decrypts or checks signatures: it holds no keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import attrs

from airgap.adapters.filesystem.files import (
    CHUNK,
    NewFile,
    UnsafeFile,
    ensure_subdirectory,
    exists,
    finish_moves,
    move_batch,
    open_regular,
    read_chunks,
)
from airgap.adapters.filesystem.manifests import (
    ManifestFile,
    check_limits,
    payload_name,
    read_manifest,
    rejected,
)
from airgap.adapters.filesystem.names import BatchName, parse_name
from airgap.adapters.filesystem.outbox import CARRIED
from airgap.domain.model.batching import BatchLimits, Manifest
from airgap.domain.model.errors import BatchRejected
from airgap.ports.transfer import CarryReport

Progress = Callable[[int], None]
"""Told how many more bytes have been copied."""


@attrs.frozen
class WaitingBatch:
    """A complete batch in the source directory, not yet carried."""

    name: BatchName
    manifest: ManifestFile

    @property
    def size(self) -> int:
        return self.manifest.manifest.payload_size + len(self.manifest.raw)


@attrs.frozen
class Skipped:
    name: str
    reason: str


@attrs.frozen
class CarryResult:
    """What one run carried, and what it left behind and why."""

    carried: tuple[Manifest, ...]
    skipped: tuple[Skipped, ...]
    bytes: int

    def report(self) -> CarryReport:
        return CarryReport(
            batches=len(self.carried),
            records=sum(m.record_count for m in self.carried),
            bytes=self.bytes,
            sequences=tuple(m.sequence for m in self.carried),
        )


class FilesystemCarrier:
    """Moves batches from ``source`` to ``destination``."""

    def __init__(self, source: Path, destination: Path, limits: BatchLimits | None = None) -> None:
        self.source = source
        self.destination = destination
        self.limits = limits or BatchLimits()

    def carry(self) -> CarryReport:
        return self.carry_batches().report()

    def waiting(self) -> tuple[list[WaitingBatch], list[Skipped]]:
        """Batches ready to carry (oldest first), and those whose manifest is unusable."""
        ready: list[WaitingBatch] = []
        skipped: list[Skipped] = []
        names: list[BatchName] = []
        orphans: list[BatchName] = []
        with os.scandir(self.source) as entries:
            for entry in entries:
                name = parse_name(entry.name)
                if name is not None:
                    (names if name.is_manifest else orphans).append(name)
        stems = {n.stem for n in names}
        for orphan in orphans:
            if orphan.stem not in stems:
                finish_moves(
                    self.source, orphan.stem + orphan.suffix, orphan.stem, (self.source / CARRIED,)
                )
        for name in names:
            try:
                found = read_manifest(self.source, name)
                check_limits(found.manifest, self.limits)
            except BatchRejected as failure:
                skipped.append(Skipped(name.stem, failure.reason))
                continue
            ready.append(WaitingBatch(name, found))
        ready.sort(key=lambda w: (w.manifest.manifest.created_at, w.manifest.manifest.sequence))
        return ready, skipped

    def carry_batches(self, progress: Progress | None = None) -> CarryResult:
        ready, skipped = self.waiting()
        carried: list[Manifest] = []
        total = 0
        for waiting in ready:
            try:
                total += self._carry_one(waiting, progress)
            except BatchRejected as failure:
                skipped.append(Skipped(waiting.name.stem, failure.reason))
                continue
            carried.append(waiting.manifest.manifest)
        return CarryResult(tuple(carried), tuple(skipped), total)

    def _carry_one(self, waiting: WaitingBatch, progress: Progress | None) -> int:
        """Copy one batch and mark it carried; the bytes copied (0 if it was already
        there). Raises BatchRejected to leave it where it is."""
        found, stem = waiting.manifest, waiting.name.stem
        manifest = found.manifest
        at_destination = self.destination / waiting.name.manifest_name
        if exists(at_destination):
            if _same_bytes(at_destination, found.raw):
                self._mark_carried(stem)
                return 0
            raise rejected("a different batch with this name is already at the destination")
        payload = payload_name(manifest)
        self._copy_payload(payload, manifest, progress)
        with NewFile(self.destination, waiting.name.manifest_name) as copy:
            copy.write(found.raw)
            copy.flush_to_disk()
            copy.drop_cache()
            if not _same_bytes(copy.temp_path, found.raw):
                raise rejected("the manifest read back from the destination differs")
            copy.commit()
        if progress:
            progress(len(found.raw))
        self._mark_carried(stem)
        return manifest.payload_size + len(found.raw)

    def _copy_payload(self, payload: str, manifest: Manifest, progress: Progress | None) -> None:
        try:
            source = open_regular(self.source / payload)
        except UnsafeFile as unsafe:
            raise rejected(f"payload {payload} {unsafe.what}") from None
        with source, NewFile(self.destination, payload) as copy:
            digest = hashlib.sha256()
            size = 0
            for chunk in read_chunks(source):
                size += len(chunk)
                if size > manifest.payload_size:
                    break
                digest.update(chunk)
                copy.write(chunk)
                if progress:
                    progress(len(chunk))
            if size != manifest.payload_size:
                raise rejected(
                    f"payload size mismatch: manifest says {manifest.payload_size}, "
                    f"file has {'more' if size > manifest.payload_size else size}"
                )
            if digest.hexdigest() != manifest.payload_sha256:
                raise rejected("payload checksum mismatch")
            copy.flush_to_disk()
            copy.drop_cache()
            if _sha256_of(copy.temp_path) != manifest.payload_sha256:
                raise rejected("the payload read back from the destination differs")
            copy.commit()

    def _mark_carried(self, stem: str) -> None:
        move_batch(self.source, stem, ensure_subdirectory(self.source, CARRIED))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb", buffering=0) as file:
        for chunk in read_chunks(file, CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _same_bytes(path: Path, expected: bytes) -> bool:
    with contextlib.suppress(UnsafeFile), open_regular(path) as file:
        return file.read(len(expected) + 1) == expected
    return False
