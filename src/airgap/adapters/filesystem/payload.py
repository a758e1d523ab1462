"""Payload bytes: JSON Lines, optionally encrypted in segments.

Encrypted layout (format v1, ``encryption.algorithm = "AES-256-GCM"``): the plaintext (the
JSON Lines bytes) is cut into segments of ``segment_size`` bytes; the last segment holds the
rest (1 to ``segment_size`` bytes; 0 only when the whole plaintext is empty, which still
makes one segment). Segment ``i`` (from 0) is sealed with AES-256-GCM under

- nonce ``N_i = N XOR i`` (``N`` the 12-byte base nonce of the manifest, ``i`` as a 96-bit
  big-endian integer), and
- associated data ``b"airgap-batch-v1" || batch_id (16 bytes) || i (u32 big-endian) ||
  final (1 byte: 1 for the last segment, else 0)``,

and the file is the concatenation of the sealed segments (ciphertext followed by its 16-byte
tag), nothing else. Every segment but the last is therefore exactly ``segment_size + 16``
bytes, so a reader finds the boundaries from the file size alone and decrypts one segment at
a time: memory stays flat however large the batch. The nonce and the associated data make a
reordered, dropped, duplicated, truncated or spliced-in segment fail authentication.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Protocol

from airgap.ports.cipher import Cipher, Decipher

TAG_BYTES = 16
NONCE_BYTES = 12
DEFAULT_SEGMENT_SIZE = 64 * 1024
_AAD_PREFIX = b"airgap-batch-v1"
_FLUSH_AT = 1024 * 1024


def segment_nonce(base: bytes, index: int) -> bytes:
    return (int.from_bytes(base, "big") ^ index).to_bytes(NONCE_BYTES, "big")


def segment_associated_data(batch_id: uuid.UUID, index: int, final: bool) -> bytes:
    return _AAD_PREFIX + batch_id.bytes + index.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class PayloadDigest:
    """Size and SHA-256 of the bytes that went to disk."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class Sink(Protocol):
    """Where payload bytes go."""

    def write(self, data: bytes | bytearray | memoryview) -> None: ...


class Source(Protocol):
    """Where payload bytes come from (a file opened unbuffered)."""

    def read(self, size: int = -1, /) -> bytes | None: ...


def write_plain(lines: Iterable[bytes], sink: Sink) -> PayloadDigest:
    """Write the JSON Lines as they are, in large writes, hashing what is written."""
    digest = PayloadDigest()
    pending = bytearray()
    for line in lines:
        pending += line
        if len(pending) >= _FLUSH_AT:
            digest.update(pending)
            sink.write(pending)
            pending.clear()
    if pending:
        digest.update(pending)
        sink.write(pending)
    return digest


def write_encrypted(
    lines: Iterable[bytes],
    sink: Sink,
    *,
    cipher: Cipher,
    base_nonce: bytes,
    batch_id: uuid.UUID,
    segment_size: int,
) -> PayloadDigest:
    """Write the JSON Lines sealed in segments (see the module docstring)."""
    digest = PayloadDigest()
    index = 0

    def seal(plaintext: bytes, final: bool) -> None:
        nonlocal index
        sealed = cipher.encrypt_segment(
            segment_nonce(base_nonce, index),
            plaintext,
            segment_associated_data(batch_id, index, final),
        )
        digest.update(sealed)
        sink.write(sealed)
        index += 1

    pending = bytearray()
    for line in lines:
        pending += line
        # A segment is sealed as non-final only once a byte beyond it exists.
        if len(pending) > segment_size:
            full = (len(pending) - 1) // segment_size
            view = memoryview(pending)
            for k in range(full):
                seal(bytes(view[k * segment_size : (k + 1) * segment_size]), False)
            view.release()
            del pending[: full * segment_size]
    seal(bytes(pending), True)
    return digest


class MalformedPayload(Exception):
    """The encrypted payload cannot be cut into segments, or a segment does not open."""


def segment_lengths(payload_size: int, segment_size: int) -> Iterator[int]:
    """The on-disk length of each segment of an encrypted payload of ``payload_size`` bytes;
    raises :class:`MalformedPayload` if no writer could have produced that size."""
    sealed = segment_size + TAG_BYTES
    if payload_size < TAG_BYTES:
        raise MalformedPayload(f"an encrypted payload is at least {TAG_BYTES} bytes")
    count = -(-payload_size // sealed)
    last = payload_size - (count - 1) * sealed
    if last < TAG_BYTES or (count > 1 and last == TAG_BYTES):
        raise MalformedPayload("the encrypted payload ends in a partial or empty segment")
    for _ in range(count - 1):
        yield sealed
    yield last


def read_exactly(source: Source, size: int, digest: PayloadDigest) -> bytes:
    """``size`` bytes (fewer only at the end of the file), hashed on the way."""
    parts: list[bytes] = []
    missing = size
    while missing:
        chunk = source.read(missing)
        if not chunk:
            break
        parts.append(chunk)
        missing -= len(chunk)
    data = parts[0] if len(parts) == 1 else b"".join(parts)
    digest.update(data)
    return data


def read_plain(source: Source, digest: PayloadDigest, chunk_size: int) -> Iterator[bytes]:
    """The file's bytes in chunks, hashed on the way."""
    while chunk := read_exactly(source, chunk_size, digest):
        yield chunk


def decrypt_segments(
    source: Source,
    digest: PayloadDigest,
    *,
    decipher: Decipher,
    key_id: str,
    base_nonce: bytes,
    batch_id: uuid.UUID,
    segment_size: int,
    payload_size: int,
) -> Iterator[bytes]:
    """Plaintext of each segment in turn, reading (and hashing) one segment at a time;
    raises :class:`MalformedPayload` on the first segment that does not open."""
    lengths = list(segment_lengths(payload_size, segment_size))
    for index, length in enumerate(lengths):
        sealed = read_exactly(source, length, digest)
        if len(sealed) != length:
            raise MalformedPayload(f"segment {index} is cut short (the file shrank?)")
        final = index == len(lengths) - 1
        try:
            yield decipher.decrypt_segment(
                key_id,
                segment_nonce(base_nonce, index),
                sealed,
                segment_associated_data(batch_id, index, final),
            )
        except ValueError as error:
            raise MalformedPayload(f"cannot decrypt segment {index}: {error}") from None
    if read_exactly(source, 1, digest):
        raise MalformedPayload("bytes after the last segment (the file grew?)")
