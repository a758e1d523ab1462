"""Helpers for the filesystem crossing tests: keys, headers, records, directory snapshots,
and a carrier that alters bytes on the way (a broken or hostile medium)."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.adapters.filesystem.names import MANIFEST_SUFFIX, parse_name
from airgap.adapters.filesystem.outbox import FilesystemOutbox
from airgap.adapters.security.encryption import AesGcmCipher
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier
from airgap.domain.model.batching import (
    Acks,
    BatchHeader,
    BatchLimits,
    BatchType,
    Channel,
    Manifest,
    Network,
)
from airgap.domain.model.records import RequestRecord, TransferRecord
from support.manifests import resealed

T0 = datetime(2030, 5, 17, 9, 30, 0, 250_000, tzinfo=UTC)
TO_RESPONSE = Channel(Network.REQUEST, Network.RESPONSE)
TO_REQUEST = Channel(Network.RESPONSE, Network.REQUEST)


@attrs.frozen
class Keys:
    """Our signing and encryption keys, and a stranger's of each."""

    signer: Ed25519Signer
    stranger_signer: Ed25519Signer
    cipher: AesGcmCipher
    stranger_cipher: AesGcmCipher

    @property
    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier([self.signer.public_key])


def make_keys() -> Keys:
    return Keys(
        signer=Ed25519Signer.generate(),
        stranger_signer=Ed25519Signer.generate(),
        cipher=AesGcmCipher(bytes(range(32))),
        stranger_cipher=AesGcmCipher(bytes(range(100, 132))),
    )


def header(
    sequence: int = 1,
    *,
    batch_type: BatchType = BatchType.REQUESTS,
    channel: Channel = TO_RESPONSE,
    batch_id: uuid.UUID | None = None,
    created_at: datetime | None = None,
) -> BatchHeader:
    return BatchHeader(
        batch_id=batch_id or uuid.uuid4(),
        batch_type=batch_type,
        channel=channel,
        sequence=sequence,
        created_at=created_at or T0 + timedelta(seconds=sequence),
        acks=Acks(received=((1, 2), (4, 4)), missing=(3,)),
    )


def request(n: int = 0, *, query: str = "kettle") -> RequestRecord:
    params = {"index": "products", "query": {"match": {"name": f"{query} {n}"}}, "size": 10}
    return RequestRecord(
        request_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        query_type="match",
        query_params=params,
        query_hash=hashlib.sha256(json.dumps(params).encode()).hexdigest(),
        priority=1 + n % 10,
        created_at=T0 + timedelta(microseconds=n),
        expires_at=T0 + timedelta(days=7),
    )


def requests(count: int) -> list[RequestRecord]:
    return [request(n) for n in range(count)]


# --- files ------------------------------------------------------------------------------------


@attrs.frozen
class Written:
    """A batch written to an outbox directory."""

    directory: Path
    manifest: Manifest
    records: Sequence[TransferRecord]

    @property
    def manifest_path(self) -> Path:
        return self.directory / self.manifest.manifest_name

    @property
    def payload_path(self) -> Path:
        return self.directory / self.manifest.payload_name


def write_batch(
    directory: Path,
    records: Sequence[TransferRecord],
    *,
    signer: Ed25519Signer | None = None,
    cipher: AesGcmCipher | None = None,
    segment_size: int = 1024,
    batch_header: BatchHeader | None = None,
    limits: BatchLimits | None = None,
) -> Written:
    directory.mkdir(parents=True, exist_ok=True)
    outbox = FilesystemOutbox(
        directory, signer=signer, cipher=cipher, segment_size=segment_size, limits=limits
    )
    manifest = outbox.write(batch_header or header(), records)
    return Written(directory, manifest, records)


Alteration = Callable[[bytes, bytes], tuple[bytes, bytes]]


def deliver(
    written: Written,
    inbox: Path,
    alter: Alteration | None = None,
    *,
    manifest_name: str | None = None,
    payload_name: str | None = None,
) -> None:
    """Put a written batch into ``inbox`` (payload first), changing bytes and names if told."""
    inbox.mkdir(parents=True, exist_ok=True)
    manifest, payload = written.manifest_path.read_bytes(), written.payload_path.read_bytes()
    if alter is not None:
        manifest, payload = alter(manifest, payload)
    (inbox / (payload_name or written.manifest.payload_name)).write_bytes(payload)
    (inbox / (manifest_name or written.manifest.manifest_name)).write_bytes(manifest)


def edit_manifest(*, reseal: bool = True, **changes: Any) -> Alteration:
    def alter(manifest: bytes, payload: bytes) -> tuple[bytes, bytes]:
        data = json.loads(manifest)
        data.update(changes)
        return json.dumps(resealed(data) if reseal else data).encode(), payload

    return alter


def edit_payload(edit: Callable[[bytes], bytes], *, rehash: bool = True) -> Alteration:
    """Change the payload; with ``rehash`` the manifest's size and checksum follow (a liar
    with no signing key), so only later checks can catch it."""

    def alter(manifest: bytes, payload: bytes) -> tuple[bytes, bytes]:
        changed = edit(payload)
        if not rehash:
            return manifest, changed
        data = json.loads(manifest)
        data["payload_size"] = len(changed)
        data["payload_sha256"] = hashlib.sha256(changed).hexdigest()
        return json.dumps(resealed(data)).encode(), changed

    return alter


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root`` with its bytes (files) or kind (directories, links)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = f"link -> {path.readlink()}"
        elif path.is_dir():
            found[key] = "dir"
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "special"
    return found


def inbox_for(
    directory: Path, keys: Keys | None = None, *, destination: Network = Network.RESPONSE, **kw: Any
) -> FilesystemInbox:
    return FilesystemInbox(
        directory,
        destination,
        verifier=keys.verifier if keys else None,
        decipher=keys.cipher if keys else None,
        **kw,
    )


def batch_names(directory: Path) -> list[str]:
    return sorted(
        p.name[: -len(MANIFEST_SUFFIX)]
        for p in directory.iterdir()
        if p.name.endswith(MANIFEST_SUFFIX)
    )


def copy_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, symlinks=True)


def is_batch_file(name: str) -> bool:
    return parse_name(name) is not None


def read_all(inbox: FilesystemInbox) -> Iterator[tuple[Manifest, list[TransferRecord]]]:
    for found in inbox.pending():
        yield found.manifest(), list(found.records())
