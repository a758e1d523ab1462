"""The worked example of docs/transfer-format.md, built from fixed inputs (example keys,
ids, times and nonce) so the document's bytes can be regenerated and checked."""

from __future__ import annotations

import base64
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airgap.adapters.filesystem import outbox as outbox_module
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.filesystem.payload import segment_associated_data, segment_nonce
from airgap.adapters.security.encryption import AesGcmCipher
from airgap.adapters.security.signing import Ed25519Signer, public_key_bytes
from airgap.adapters.serialization import signed_bytes
from airgap.domain.model.batching import Acks, BatchHeader, BatchType, Channel, Manifest, Network
from airgap.domain.model.canonical import canonical_sha256
from airgap.domain.model.records import RequestRecord

SIGNING_SEED = bytes(range(32))  # example only: never use a key printed in a document
AES_KEY = bytes(range(32, 64))
BASE_NONCE = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")
SEGMENT_SIZE = 1024
BATCH_ID = uuid.UUID("3f2b8c1e-5d4a-4e6b-8a9c-1d2e3f4a5b6c")
CREATED = datetime(2030, 5, 17, 9, 30, 0, 250_000, tzinfo=UTC)


def records() -> list[RequestRecord]:
    out = []
    for n, (word, size) in enumerate([("kettle", 10), ("toaster", 20), ("teapot", 5)]):
        params = {"index": "products", "query": {"match": {"name": word}}, "size": size}
        created = CREATED - timedelta(minutes=3 - n, microseconds=n * 1111)
        out.append(
            RequestRecord(
                request_id=uuid.UUID(f"00000000-0000-4000-8000-00000000000{n + 1}"),
                user_id=uuid.UUID("7d444840-9dc0-41c4-b6e8-8c0ff1e1e0aa"),
                query_type="match",
                query_params=params,
                query_hash=canonical_sha256({"query_type": "match", "params": params}),
                priority=7 - n,
                created_at=created,
                expires_at=created + timedelta(days=7),
            )
        )
    return out


def header() -> BatchHeader:
    return BatchHeader(
        batch_id=BATCH_ID,
        batch_type=BatchType.REQUESTS,
        channel=Channel(Network.REQUEST, Network.RESPONSE),
        sequence=7,
        created_at=CREATED,
        acks=Acks(received=((1, 2), (4, 5)), missing=(3,)),
    )


def signer() -> Ed25519Signer:
    return Ed25519Signer(Ed25519PrivateKey.from_private_bytes(SIGNING_SEED))


@attrs.frozen
class Example:
    manifest: Manifest
    manifest_file: bytes
    payload_file: bytes

    @property
    def names(self) -> tuple[str, str]:
        return self.manifest.manifest_name, self.manifest.payload_name


def build(*, secure: bool) -> Example:
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(outbox_module.secrets, "token_bytes", lambda n: BASE_NONCE[:n]),
    ):
        directory = Path(tmp)
        outbox = FilesystemOutbox(
            directory,
            signer=signer() if secure else None,
            cipher=AesGcmCipher(AES_KEY) if secure else None,
            segment_size=SEGMENT_SIZE,
        )
        manifest = outbox.write(header(), records())
        return Example(
            manifest,
            (directory / manifest.manifest_name).read_bytes(),
            (directory / manifest.payload_name).read_bytes(),
        )


def blocks() -> dict[str, str]:
    """The document's example blocks, by name."""
    plain, secure = build(secure=False), build(secure=True)
    public = public_key_bytes(signer().public_key)
    encoded = base64.b64encode(secure.payload_file).decode()
    return {
        "plain-names": "\n".join(plain.names),
        "plain-manifest": plain.manifest_file.decode().rstrip("\n"),
        "plain-payload": plain.payload_file.decode().rstrip("\n"),
        "keys": "\n".join(
            [
                f"Ed25519 private key seed (hex): {SIGNING_SEED.hex()}",
                f"Ed25519 public key (hex):       {public.hex()}",
                f"signing key id:                 {signer().key_id}",
                f"AES-256 key (hex):              {AES_KEY.hex()}",
                f"encryption key id:              {AesGcmCipher(AES_KEY).key_id}",
            ]
        ),
        "secure-names": "\n".join(secure.names),
        "secure-manifest": secure.manifest_file.decode().rstrip("\n"),
        "secure-signed-bytes": signed_bytes(secure.manifest).decode(),
        "secure-segments": segment_table(secure),
        "secure-payload": "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76)),
    }


def segment_table(example: Example) -> str:
    sealed = SEGMENT_SIZE + 16
    size = len(example.payload_file)
    count = -(-size // sealed)
    lines = []
    for index in range(count):
        start, end = index * sealed, min(size, (index + 1) * sealed)
        final = index == count - 1
        lines += [
            f"segment {index}: bytes {start}..{end - 1} ({end - start - 16} plaintext + 16 tag), "
            f"final={int(final)}",
            f"  nonce           {segment_nonce(BASE_NONCE, index).hex()}",
            f"  associated data {segment_associated_data(BATCH_ID, index, final).hex()}",
        ]
    return "\n".join(lines)


if __name__ == "__main__":  # print the blocks, to paste into the document
    for name, text in blocks().items():
        print(f"<!-- example: {name} -->\n```\n{text}\n```\n")
