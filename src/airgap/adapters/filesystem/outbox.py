"""The outbox: writes each batch as a payload and a manifest, atomically.

Write protocol (a crash at any point leaves no batch, or a complete one):

1. under the outbox lock, if a manifest for the batch exists (here or in ``carried/``),
   return it and write nothing — a retry after a crash between writing and recording;
2. write the payload to a temporary name while hashing it, fsync it, rename it to its final
   name, fsync the directory;
3. write the manifest (sizes, SHA-256, encryption parameters, then the signature over the
   canonical manifest) the same way; its rename is the commit.

A payload without a manifest (a crash between 2 and 3) is invisible to readers and carriers
and is replaced by the retry.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from datetime import UTC
from pathlib import Path

import attrs
import orjson

from airgap.adapters.filesystem.files import (
    TEMP_SUFFIX,
    NewFile,
    directory_lock,
    exists,
    open_regular,
)
from airgap.adapters.filesystem.names import (
    ENCRYPTED_SUFFIX,
    MANIFEST_SUFFIX,
    PAYLOAD_SUFFIXES,
    PLAIN_SUFFIX,
)
from airgap.adapters.filesystem.payload import (
    DEFAULT_SEGMENT_SIZE,
    NONCE_BYTES,
    write_encrypted,
    write_plain,
)
from airgap.adapters.serialization import (
    b64,
    encode_record,
    manifest_from_json,
    manifest_to_json,
    signed_bytes,
)
from airgap.domain.model.batching import (
    BatchHeader,
    BatchLimits,
    EncryptionInfo,
    Manifest,
    SignatureInfo,
)
from airgap.domain.model.records import TransferRecord
from airgap.ports.cipher import Cipher
from airgap.ports.signing import Signer

CARRIED = "carried"


class BatchTooLarge(ValueError):
    """The records do not fit the batch limits; nothing was written."""


class FilesystemOutbox:
    """Writes batches into ``directory``; signs manifests with ``signer`` and encrypts
    payloads with ``cipher`` when given."""

    def __init__(
        self,
        directory: Path,
        *,
        signer: Signer | None = None,
        cipher: Cipher | None = None,
        limits: BatchLimits | None = None,
        segment_size: int = DEFAULT_SEGMENT_SIZE,
    ) -> None:
        self.directory = directory
        self.signer = signer
        self.cipher = cipher
        self.limits = limits or BatchLimits()
        self.segment_size = segment_size

    def write(self, header: BatchHeader, records: Sequence[TransferRecord]) -> Manifest:
        if header.created_at.tzinfo is None:
            raise ValueError("a batch's created_at must be timezone-aware")
        # The file name spells the time in UTC, as the manifest does.
        header = attrs.evolve(header, created_at=header.created_at.astimezone(UTC))
        with directory_lock(self.directory):
            existing = self.existing(header)
            if existing is not None:
                return existing
            self._remove_leftovers(header)
            return self._write(header, records)

    def existing(self, header: BatchHeader) -> Manifest | None:
        """The manifest already written for this batch, if any (carried or not)."""
        name = self._stem(header) + MANIFEST_SUFFIX
        for directory in (self.directory, self.directory / CARRIED):
            path = directory / name
            if exists(path):
                with open_regular(path) as file:
                    return manifest_from_json(orjson.loads(file.read() or b""))
        return None

    @staticmethod
    def _stem(header: BatchHeader) -> str:
        return f"{header.batch_type.value}_{header.created_at:%Y%m%d_%H%M%S}_{header.batch_id}"

    def _remove_leftovers(self, header: BatchHeader) -> None:
        """Temporary files and a payload without manifest from a writer that died while
        writing this batch (we hold the lock, so no live writer owns them)."""
        stem = self._stem(header)
        with os.scandir(self.directory) as entries:
            for entry in entries:
                name = entry.name
                leftover_temp = name.startswith(f".{stem}.") and name.endswith(TEMP_SUFFIX)
                if leftover_temp or name in {stem + s for s in PAYLOAD_SUFFIXES}:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(self.directory / name)

    def _lines(self, records: Sequence[TransferRecord]) -> Iterator[bytes]:
        limits = self.limits
        if len(records) > limits.max_records:
            raise BatchTooLarge(
                f"{len(records)} records exceed the batch limit of {limits.max_records}"
            )
        size = 0
        for number, record in enumerate(records, start=1):
            line = encode_record(record)
            if len(line) - 1 > limits.max_record_bytes:
                raise BatchTooLarge(f"record {number} exceeds the record size limit")
            size += len(line)
            if size > limits.max_payload_bytes:
                raise BatchTooLarge("the records exceed the payload size limit")
            yield line

    def _write(self, header: BatchHeader, records: Sequence[TransferRecord]) -> Manifest:
        stem = self._stem(header)
        cipher = self.cipher
        encryption: EncryptionInfo | None = None
        with NewFile(
            self.directory, stem + (ENCRYPTED_SUFFIX if cipher else PLAIN_SUFFIX)
        ) as payload:
            if cipher is None:
                digest = write_plain(self._lines(records), payload)
            else:
                nonce = secrets.token_bytes(NONCE_BYTES)
                encryption = EncryptionInfo(
                    algorithm=cipher.algorithm,
                    key_id=cipher.key_id,
                    nonce=b64(nonce),
                    segment_size=self.segment_size,
                )
                digest = write_encrypted(
                    self._lines(records),
                    payload,
                    cipher=cipher,
                    base_nonce=nonce,
                    batch_id=header.batch_id,
                    segment_size=self.segment_size,
                )
                if digest.size > self.limits.max_payload_bytes:
                    raise BatchTooLarge("the encrypted payload exceeds the payload size limit")
            payload.commit()
        manifest = Manifest(
            batch_id=header.batch_id,
            batch_type=header.batch_type,
            source_network=header.channel.source,
            destination_network=header.channel.destination,
            sequence=header.sequence,
            created_at=header.created_at,
            record_count=len(records),
            payload_size=digest.size,
            payload_sha256=digest.hexdigest(),
            acks=header.acks,
            encryption=encryption,
        )
        if self.signer is not None:
            signature = self.signer.sign(signed_bytes(manifest))
            manifest = attrs.evolve(
                manifest,
                signature=SignatureInfo(
                    algorithm=self.signer.algorithm,
                    key_id=self.signer.key_id,
                    value=b64(signature),
                ),
            )
        text = orjson.dumps(manifest_to_json(manifest), option=orjson.OPT_INDENT_2) + b"\n"
        with NewFile(self.directory, manifest.manifest_name) as manifest_file:
            manifest_file.write(text)
            manifest_file.commit()
        return manifest
