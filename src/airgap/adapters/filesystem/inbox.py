"""The inbox: complete batches found in a directory, verified and streamed to the importer.

Layout: batches arrive in the inbox directory itself; :meth:`FilesystemInboundBatch.archive`
moves a batch to ``archive/`` and :meth:`FilesystemInboundBatch.quarantine` to
``quarantine/`` beside a ``<stem>.reason.txt``. Only names of the strict batch pattern are
looked at; temporary files and payloads without a manifest are ignored (a carrier may be
writing them right now).

Verification follows the order of the format (SPEC §4): manifest schema (including the file
name), size limits, destination, signature (when required, or when present and a verifier
is configured), payload size and SHA-256 of the bytes on disk, then — while the records
stream — decryption and each record's schema. Everything a batch can do wrong ends in
:class:`BatchRejected` with a one-line reason; nothing else escapes ``manifest()`` or
``records()``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from airgap.adapters.filesystem.files import (
    UnsafeFile,
    ensure_subdirectory,
    exists,
    finish_moves,
    move_batch,
    open_regular,
)
from airgap.adapters.filesystem.manifests import (
    ManifestFile,
    check_limits,
    check_payload,
    one_line,
    payload_name,
    read_manifest,
    rejected,
)
from airgap.adapters.filesystem.names import REASON_SUFFIX, BatchName, parse_name
from airgap.adapters.filesystem.payload import (
    MalformedPayload,
    PayloadDigest,
    decrypt_segments,
    read_plain,
)
from airgap.adapters.serialization import decode_record, signed_bytes_of_json, unb64
from airgap.domain.model.batching import BatchLimits, Manifest, Network
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import ALLOWED_RECORDS, TransferRecord
from airgap.ports.cipher import Decipher
from airgap.ports.signing import SignatureVerifier

ARCHIVE = "archive"
QUARANTINE = "quarantine"
READ_CHUNK = 1024 * 1024
#: The reason given when reading failed in a way no check foresaw (a bug): the batch is
#: still refused and quarantined rather than stopping the import of every other batch. The
#: tests feed hostile input and check that no reason ever starts like this.
INTERNAL_ERROR = "internal error while reading the batch"


class FilesystemInbox:
    """One network's inbox directory.

    ``destination`` is the network this inbox belongs to (None only for tools that verify a
    batch wherever it is headed). With ``require_signature`` a batch must carry a signature
    by a key ``verifier`` knows; without it, a signature that is present is still checked
    when a verifier is configured. With ``require_encryption`` a plaintext batch is refused.
    """

    def __init__(
        self,
        directory: Path,
        destination: Network | None,
        *,
        limits: BatchLimits | None = None,
        verifier: SignatureVerifier | None = None,
        decipher: Decipher | None = None,
        require_signature: bool = False,
        require_encryption: bool = False,
    ) -> None:
        if require_signature and verifier is None:
            raise ValueError("require_signature needs a verifier")
        if require_encryption and decipher is None:
            raise ValueError("require_encryption needs a decipher")
        self.directory = directory
        self.destination = destination
        self.limits = limits or BatchLimits()
        self.verifier = verifier
        self.decipher = decipher
        self.require_signature = require_signature
        self.require_encryption = require_encryption

    @property
    def archive_directory(self) -> Path:
        return self.directory / ARCHIVE

    @property
    def quarantine_directory(self) -> Path:
        return self.directory / QUARANTINE

    def pending(self) -> Sequence[FilesystemInboundBatch]:
        """Complete batches (a manifest of the strict pattern is present), oldest first by
        the time in their names, then by arrival."""
        found: list[tuple[tuple[str, int, str], BatchName]] = []
        orphans: list[BatchName] = []
        manifests: set[str] = set()
        with os.scandir(self.directory) as entries:
            for entry in entries:
                name = parse_name(entry.name)
                if name is None:
                    continue
                if not name.is_manifest:
                    orphans.append(name)
                    continue
                manifests.add(name.stem)
                try:
                    arrived = entry.stat(follow_symlinks=False).st_mtime_ns
                except FileNotFoundError:
                    continue
                found.append(((name.timestamp, arrived, name.stem), name))
        for orphan in orphans:
            if orphan.stem not in manifests:
                finish_moves(
                    self.directory,
                    orphan.stem + orphan.suffix,
                    orphan.stem,
                    (self.archive_directory, self.quarantine_directory),
                )
        return [FilesystemInboundBatch(self, name) for _, name in sorted(found)]

    def batch(self, name: str) -> FilesystemInboundBatch:
        """The batch a manifest or payload file name belongs to (for operator tools); raises
        BatchRejected for a name that is not a batch file's or a batch without manifest."""
        parsed = parse_name(name)
        if parsed is None:
            raise rejected(f"not a batch file name: {name!r}")
        if not exists(self.directory / parsed.manifest_name):
            raise rejected(f"no manifest {parsed.manifest_name} beside it (incomplete batch?)")
        return FilesystemInboundBatch(self, parse_name(parsed.manifest_name) or parsed)


class FilesystemInboundBatch:
    """A batch in the inbox whose manifest is present."""

    def __init__(self, inbox: FilesystemInbox, name: BatchName) -> None:
        self._inbox = inbox
        self._name = name
        self._verified: ManifestFile | None = None
        self._failure: BatchRejected | None = None

    @property
    def name(self) -> str:
        return self._name.stem

    def manifest(self) -> Manifest:
        return self.verified().manifest

    def verified(self) -> ManifestFile:
        """The manifest file, checked up to and including the payload's checksum."""
        if self._failure is not None:
            raise self._failure
        if self._verified is None:
            try:
                self._verified = self._verify()
            except BatchRejected as failure:
                self._failure = failure
                raise
            except (OSError, MemoryError) as error:
                # An unreadable file is a bad batch, not a crash of the importer.
                self._failure = rejected(f"cannot read the batch: {error}")
                raise self._failure from None
            except Exception as error:  # a bug, not a bad batch: see INTERNAL_ERROR
                self._failure = rejected(f"{INTERNAL_ERROR}: {type(error).__name__}: {error}")
                raise self._failure from None
        return self._verified

    def _verify(self) -> ManifestFile:
        inbox = self._inbox
        found = read_manifest(inbox.directory, self._name)
        manifest = found.manifest
        check_limits(manifest, inbox.limits)
        if inbox.destination is not None and manifest.destination_network is not inbox.destination:
            raise rejected(
                f"wrong destination: batch is for the {manifest.destination_network} network"
            )
        self._check_signature(found)
        check_payload(inbox.directory, manifest)
        self._check_decryptable(manifest)
        return found

    def _check_signature(self, found: ManifestFile) -> None:
        inbox, signature = self._inbox, found.manifest.signature
        if signature is None:
            if inbox.require_signature:
                raise rejected("unsigned batch: signatures are required")
            return
        verifier = inbox.verifier
        if verifier is None:
            return  # nothing to check it with, and not required
        if not verifier.knows(signature.key_id):
            raise rejected(f"unknown signing key id {signature.key_id}")
        if not verifier.verify(
            signature.key_id, signed_bytes_of_json(found.data), unb64(signature.value)
        ):
            raise rejected(
                f"bad signature (key id {signature.key_id}): the manifest was altered or "
                "signed by another key"
            )

    def _check_decryptable(self, manifest: Manifest) -> None:
        inbox, encryption = self._inbox, manifest.encryption
        if encryption is None:
            if inbox.require_encryption:
                raise rejected("unencrypted batch: encryption is required")
            return
        if inbox.decipher is None:
            raise rejected("encrypted batch, but no decryption key is configured")
        if not inbox.decipher.knows(encryption.key_id):
            raise rejected(f"unknown encryption key id {encryption.key_id}")

    def records(self) -> Iterator[TransferRecord]:
        """Decrypt and parse the payload as a stream, one record at a time."""
        manifest = self.manifest()
        try:
            yield from self._records(manifest)
        except BatchRejected:
            raise
        except (OSError, MemoryError) as error:
            raise rejected(f"cannot read the payload: {error}") from None
        except Exception as error:  # a bug, not a bad batch: see INTERNAL_ERROR
            raise rejected(f"{INTERNAL_ERROR}: {type(error).__name__}: {error}") from None

    def _records(self, manifest: Manifest) -> Iterator[TransferRecord]:
        inbox = self._inbox
        limits = inbox.limits
        max_record, max_depth = limits.max_record_bytes, limits.max_json_depth
        allowed = ALLOWED_RECORDS[manifest.batch_type]
        expected = manifest.record_count
        digest = PayloadDigest()
        try:
            file = open_regular(inbox.directory / payload_name(manifest))
        except UnsafeFile as unsafe:
            raise rejected(f"payload {unsafe.what}") from None
        with file:
            if manifest.encryption is None:
                plaintext = read_plain(file, digest, READ_CHUNK)
            else:
                encryption = manifest.encryption
                assert inbox.decipher is not None  # checked by manifest()
                plaintext = decrypt_segments(
                    file,
                    digest,
                    decipher=inbox.decipher,
                    key_id=encryption.key_id,
                    base_nonce=unb64(encryption.nonce),
                    batch_id=manifest.batch_id,
                    segment_size=encryption.segment_size,
                    payload_size=manifest.payload_size,
                )
            number = 0
            rest = b""
            try:
                for chunk in plaintext:
                    lines = (rest + chunk if rest else chunk).split(b"\n")
                    rest = lines.pop()
                    for line in lines:
                        number += 1
                        if number > expected:
                            raise rejected(
                                f"record count mismatch: manifest says {expected}, payload has more"
                            )
                        if len(line) > max_record:
                            raise rejected(
                                f"record {number} is larger than the record size limit "
                                f"({len(line)} > {max_record} bytes)"
                            )
                        try:
                            record = decode_record(line, max_depth=max_depth)
                        except ValueError as error:
                            raise rejected(f"malformed record {number}: {error}") from None
                        if not isinstance(record, allowed):
                            raise rejected(
                                f"record {number}: a {manifest.batch_type} batch may not "
                                f"carry {type(record).__name__}"
                            )
                        yield record
                    if len(rest) > max_record:
                        raise rejected(
                            f"record {number + 1} is larger than the record size limit "
                            f"(more than {max_record} bytes)"
                        )
            except MalformedPayload as error:
                raise rejected(f"decryption failed: {error}") from None
            if rest:
                raise rejected(
                    f"record {number + 1} is cut short: the payload does not end with a "
                    "newline (truncated?)"
                )
        if number != expected:
            raise rejected(f"record count mismatch: manifest says {expected}, payload has {number}")
        if digest.size != manifest.payload_size or digest.hexdigest() != manifest.payload_sha256:
            raise rejected("the payload changed while it was read")

    def archive(self) -> None:
        """Move the batch to ``archive/`` (a no-op if it has already gone)."""
        inbox = self._inbox
        move_batch(inbox.directory, self._name.stem, ensure_subdirectory(inbox.directory, ARCHIVE))

    def quarantine(self, reason: str) -> None:
        """Move the batch to ``quarantine/`` beside ``<stem>.reason.txt``."""
        inbox = self._inbox
        move_batch(
            inbox.directory,
            self._name.stem,
            ensure_subdirectory(inbox.directory, QUARANTINE),
            {REASON_SUFFIX: (one_line(reason) + "\n").encode("utf-8")},
        )
