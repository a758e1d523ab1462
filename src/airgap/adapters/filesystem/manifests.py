"""Reading a manifest file and checking what a batch's files claim, shared by the inbox
and the carrier. Every failure is a :class:`BatchRejected` with a one-line reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import orjson

from airgap.adapters.filesystem.files import UnsafeFile, open_regular
from airgap.adapters.filesystem.names import (
    ENCRYPTED_SUFFIX,
    PLAIN_SUFFIX,
    BatchName,
)
from airgap.adapters.filesystem.payload import PayloadDigest, read_plain
from airgap.adapters.serialization import check_manifest_values, manifest_from_json
from airgap.domain.model.batching import BatchLimits, Manifest
from airgap.domain.model.errors import BatchRejected

MAX_MANIFEST_BYTES = 1024 * 1024
_REASON_LIMIT = 400


def one_line(text: str) -> str:
    """A reason fit for one log line and a ``.reason.txt``: no control characters, capped."""
    cleaned = "".join(c if c.isprintable() else " " for c in text).strip()
    return cleaned if len(cleaned) <= _REASON_LIMIT else cleaned[: _REASON_LIMIT - 1] + "…"


def rejected(reason: str) -> BatchRejected:
    return BatchRejected(one_line(reason))


@attrs.frozen
class ManifestFile:
    """A manifest as read from disk: its bytes, its JSON object, and the typed manifest."""

    raw: bytes
    data: dict[str, Any]
    manifest: Manifest


def read_manifest(directory: Path, name: BatchName) -> ManifestFile:
    """Read and check the manifest's schema, its value rules, and that it agrees with its
    file name. Raises BatchRejected."""
    path = directory / name.manifest_name
    try:
        with open_regular(path) as file:
            raw = file.read(MAX_MANIFEST_BYTES + 1) or b""
    except UnsafeFile as unsafe:
        raise rejected(f"manifest {unsafe.what}") from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise rejected(f"manifest larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        first = str(error).splitlines()[0][:120]
        raise rejected(f"unreadable manifest: not JSON ({first})") from None
    try:
        manifest = manifest_from_json(data)
    except ValueError as error:
        raise rejected(f"unreadable manifest: {error}") from None
    try:
        check_manifest_values(manifest)
    except ValueError as error:
        raise rejected(f"bad manifest: {error}") from None
    _check_name(manifest, name)
    assert isinstance(data, dict)  # manifest_from_json accepts nothing else
    return ManifestFile(raw, data, manifest)


def _check_name(manifest: Manifest, name: BatchName) -> None:
    if manifest.batch_id != name.batch_id:
        raise rejected(
            f"manifest batch_id {manifest.batch_id} does not match its file name {name.stem}"
        )
    if manifest.batch_type is not name.batch_type:
        raise rejected(
            f"manifest batch_type {manifest.batch_type} does not match its file name {name.stem}"
        )
    if manifest.stem != name.stem:
        raise rejected(f"manifest created_at does not match its file name {name.stem}")


def check_limits(manifest: Manifest, limits: BatchLimits) -> None:
    if manifest.payload_size > limits.max_payload_bytes:
        raise rejected(
            f"payload larger than the size limit ({manifest.payload_size} > "
            f"{limits.max_payload_bytes} bytes)"
        )
    if manifest.record_count > limits.max_records:
        raise rejected(
            f"more records than the batch limit ({manifest.record_count} > {limits.max_records})"
        )


def payload_name(manifest: Manifest) -> str:
    return manifest.stem + (ENCRYPTED_SUFFIX if manifest.encryption else PLAIN_SUFFIX)


def check_payload(directory: Path, manifest: Manifest) -> None:
    """The payload file is a regular file of the size and SHA-256 the manifest gives."""
    name = payload_name(manifest)
    try:
        with open_regular(directory / name) as file:
            size = _size(file)
            if size != manifest.payload_size:
                raise rejected(
                    f"payload size mismatch: manifest says {manifest.payload_size}, "
                    f"file has {size} (truncated?)"
                )
            digest = PayloadDigest()
            for _ in read_plain(file, digest, 1024 * 1024):
                pass
    except UnsafeFile as unsafe:
        raise rejected(f"payload {name} {unsafe.what}") from None
    if digest.size != manifest.payload_size:
        raise rejected("payload size changed while it was read")
    if digest.hexdigest() != manifest.payload_sha256:
        raise rejected("payload checksum mismatch")


def _size(file: BinaryIO) -> int:
    return os.fstat(file.fileno()).st_size
