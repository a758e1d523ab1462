"""``airgap batch``: make, inspect and verify batch files (operator tools).

``verify`` exits 0 for a valid batch and 1 with a one-line reason for an invalid one; bad
arguments and unreadable key files exit 2. Nothing here prints a traceback.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import attrs
import click

from airgap.domain.model.batching import (
    SENDERS,
    Acks,
    BatchHeader,
    BatchType,
    Channel,
    Manifest,
    Network,
)
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import TransferRecord

if TYPE_CHECKING:
    from airgap.adapters.filesystem.inbox import FilesystemInboundBatch
    from airgap.adapters.security.encryption import AesGcmCipher
    from airgap.adapters.security.signing import Ed25519Verifier

_KEY_FILE = click.Path(dir_okay=False, path_type=Path)
A = TypeVar("A")
T = TypeVar("T")


@click.group()
def batch() -> None:
    """Make, inspect and verify batch files."""


# --- sample -----------------------------------------------------------------------------------


@batch.command()
@click.option(
    "--type",
    "batch_type",
    type=click.Choice([t.value for t in BatchType]),
    default=BatchType.REQUESTS.value,
    show_default=True,
)
@click.option("--count", type=click.IntRange(0), default=10, show_default=True)
@click.option(
    "--out",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the batch into (created if missing).",
)
@click.option("--sequence", type=click.IntRange(1), default=1, show_default=True)
@click.option(
    "--source",
    type=click.Choice([n.value for n in Network]),
    default=None,
    help="Sending network (only a system batch may come from either).",
)
@click.option("--sign", "signing_key", type=_KEY_FILE, help="Ed25519 private key file.")
@click.option("--encrypt", "encryption_key", type=_KEY_FILE, help="AES-256 key file.")
@click.option("--seed", type=int, default=None, help="Seed for reproducible records.")
def sample(
    batch_type: str,
    count: int,
    directory: Path,
    sequence: int,
    source: str | None,
    signing_key: Path | None,
    encryption_key: Path | None,
    seed: int | None,
) -> None:
    """Write a valid batch of COUNT synthetic records (to test a carry path)."""
    from airgap.adapters.filesystem.outbox import BatchTooLarge, FilesystemOutbox
    from airgap.adapters.security.keyfiles import load_cipher, load_signer
    from airgap.entrypoints.cli.samples import sample_records

    kind = BatchType(batch_type)
    senders = SENDERS[kind]
    if source is None:
        sender = Network.REQUEST if Network.REQUEST in senders else Network.RESPONSE
    else:
        sender = Network(source)
        if sender not in senders:
            raise click.BadParameter(f"the {sender} network does not send {kind} batches")
    signer = _load(load_signer, signing_key, "--sign") if signing_key else None
    cipher = _load(load_cipher, [encryption_key], "--encrypt") if encryption_key else None
    directory.mkdir(parents=True, exist_ok=True)
    outbox = FilesystemOutbox(directory, signer=signer, cipher=cipher)
    header = BatchHeader(
        batch_id=uuid.uuid4(),
        batch_type=kind,
        channel=Channel.from_(sender),
        sequence=sequence,
        created_at=datetime.now(UTC),
        acks=Acks(),
    )
    try:
        manifest = outbox.write(header, sample_records(kind, count, seed=seed))
    except BatchTooLarge as error:
        raise click.BadParameter(str(error), param_hint="--count") from None
    click.echo(str(directory / manifest.manifest_name))
    click.echo(str(directory / manifest.payload_name))
    click.echo(f"{_describe(manifest)}")


# --- inspect and verify -----------------------------------------------------------------------


@attrs.define
class RecordSummary:
    count: int = 0
    by_type: Counter[str] = attrs.field(factory=Counter)
    by_priority: Counter[int] = attrs.field(factory=Counter)
    first_id: str | None = None
    last_id: str | None = None

    def add(self, record: TransferRecord) -> None:
        from airgap.adapters.serialization import TYPE_OF

        self.count += 1
        self.by_type[TYPE_OF[type(record)]] += 1
        priority = getattr(record, "priority", None)
        if isinstance(priority, int):
            self.by_priority[priority] += 1
        ident = next(
            (
                str(value)
                for field in ("request_id", "user_id", "batch_id")
                if (value := getattr(record, field, None)) is not None
            ),
            None,
        )
        if self.first_id is None:
            self.first_id = ident
        self.last_id = ident


def _scan(found: FilesystemInboundBatch) -> tuple[Manifest, RecordSummary]:
    manifest = found.manifest()
    summary = RecordSummary()
    for record in found.records():
        summary.add(record)
    return manifest, summary


def _open_batch(
    path: Path,
    *,
    verifier: Ed25519Verifier | None,
    cipher: AesGcmCipher | None,
    destination: Network | None,
) -> FilesystemInboundBatch:
    from airgap.adapters.filesystem.inbox import FilesystemInbox

    inbox = FilesystemInbox(
        path.parent,
        destination,
        verifier=verifier,
        decipher=cipher,
        require_signature=verifier is not None,
    )
    return inbox.batch(path.name)


def _keys(
    public_keys: Sequence[Path], keys: Sequence[Path]
) -> tuple[Ed25519Verifier | None, AesGcmCipher | None]:
    from airgap.adapters.security.keyfiles import load_cipher, load_verifier

    verifier = _load(load_verifier, public_keys, "--public-key") if public_keys else None
    cipher = _load(load_cipher, keys, "--key") if keys else None
    return verifier, cipher


_PUBLIC_KEY_OPTION = click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=_KEY_FILE,
    help="Ed25519 public key file; repeatable. Given any, a valid signature is required.",
)
_KEY_OPTION = click.option(
    "--key", "keys", multiple=True, type=_KEY_FILE, help="AES-256 key file; repeatable."
)


@batch.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_PUBLIC_KEY_OPTION
@_KEY_OPTION
@click.option(
    "--network",
    type=click.Choice([n.value for n in Network]),
    default=None,
    help="Check that the batch is addressed to this network.",
)
def verify(
    path: Path, public_keys: tuple[Path, ...], keys: tuple[Path, ...], network: str | None
) -> None:
    """Check a batch (PATH: its manifest or its payload) as an inbox would: exit 0 when it
    is valid, 1 with the reason when it is not."""
    verifier, cipher = _keys(public_keys, keys)
    try:
        found = _open_batch(
            path,
            verifier=verifier,
            cipher=cipher,
            destination=Network(network) if network else None,
        )
        manifest, summary = _scan(found)
    except BatchRejected as rejected:
        raise click.ClickException(f"invalid batch: {rejected.reason}") from None
    notes = []
    if manifest.signature is not None and verifier is None:
        notes.append("signature not checked: no --public-key")
    click.echo(
        f"valid: {_describe(manifest)}; {summary.count} records read"
        + (f" ({'; '.join(notes)})" if notes else "")
    )


@batch.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_PUBLIC_KEY_OPTION
@_KEY_OPTION
def inspect(path: Path, public_keys: tuple[Path, ...], keys: tuple[Path, ...]) -> None:
    """Print a batch's manifest and a summary of its records (PATH: manifest or payload)."""
    from airgap.adapters.filesystem.manifests import read_manifest
    from airgap.adapters.filesystem.names import parse_name

    verifier, cipher = _keys(public_keys, keys)
    name = parse_name(path.name)
    if name is None:
        raise click.ClickException(f"invalid batch: not a batch file name: {path.name!r}")
    try:
        manifest = read_manifest(path.parent, name).manifest
    except BatchRejected as rejected:
        raise click.ClickException(f"invalid batch: {rejected.reason}") from None
    for label, value in _manifest_lines(manifest):
        click.echo(f"{label:<20}{value}")
    try:
        _, summary = _scan(_open_batch(path, verifier=verifier, cipher=cipher, destination=None))
    except BatchRejected as rejected:
        raise click.ClickException(f"records not readable: {rejected.reason}") from None
    click.echo(f"{'records read':<20}{summary.count}")
    types = ", ".join(f"{kind} {n}" for kind, n in sorted(summary.by_type.items()))
    click.echo(f"{'by type':<20}{types or '-'}")
    if summary.by_priority:
        priorities = ", ".join(
            f"p{p}: {n}" for p, n in sorted(summary.by_priority.items(), reverse=True)
        )
        click.echo(f"{'by priority':<20}{priorities}")
    click.echo(f"{'first id':<20}{summary.first_id or '-'}")
    click.echo(f"{'last id':<20}{summary.last_id or '-'}")


def _manifest_lines(manifest: Manifest) -> list[tuple[str, str]]:
    encryption, signature = manifest.encryption, manifest.signature
    return [
        ("batch", manifest.stem),
        ("format version", str(manifest.format_version)),
        ("type", manifest.batch_type.value),
        ("channel", manifest.channel.name),
        ("sequence", str(manifest.sequence)),
        ("created at", manifest.created_at.isoformat()),
        ("record count", str(manifest.record_count)),
        ("payload", f"{manifest.payload_name} ({manifest.payload_size:,} bytes)"),
        ("payload sha256", manifest.payload_sha256),
        ("acks received", _acks_text(manifest.acks)),
        ("acks missing", ", ".join(map(str, manifest.acks.missing)) or "-"),
        (
            "encryption",
            f"{encryption.algorithm}, key {encryption.key_id}, "
            f"{encryption.segment_size:,}-byte segments"
            if encryption
            else "none",
        ),
        ("signature", f"{signature.algorithm}, key {signature.key_id}" if signature else "none"),
    ]


def _acks_text(acks: Acks) -> str:
    return ", ".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in acks.received) or "-"


def _describe(manifest: Manifest) -> str:
    extras = []
    if manifest.signature:
        extras.append(f"signed by {manifest.signature.key_id}")
    if manifest.encryption:
        extras.append(f"encrypted with {manifest.encryption.key_id}")
    return (
        f"{manifest.batch_type} batch {manifest.batch_id}, {manifest.channel.name} "
        f"sequence {manifest.sequence}, {manifest.record_count} records, "
        f"{manifest.payload_size:,} bytes" + (f", {', '.join(extras)}" if extras else "")
    )


def _load(loader: Callable[[A], T], argument: A, option: str) -> T:
    """Load key material; a bad key file is a usage error (exit 2) naming the option."""
    try:
        return loader(argument)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None
