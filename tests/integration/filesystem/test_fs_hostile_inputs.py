"""Hostile and broken batches, imported through the real use case (the response network's
importer on the memory stores) from a filesystem inbox: each is refused with its own
reason, quarantined beside a ``.reason.txt``, and nothing else changes — no job, no
sequence number, no other file."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from filesystem_crossing import (
    TO_REQUEST,
    Keys,
    Written,
    deliver,
    edit_manifest,
    edit_payload,
    header,
    requests,
    snapshot,
    write_batch,
)

from airgap.adapters.filesystem.inbox import (
    INTERNAL_ERROR,
    FilesystemInboundBatch,
    FilesystemInbox,
)
from airgap.adapters.serialization import encode_record
from airgap.domain.model.batching import (
    BatchLimits,
    BatchType,
    Channel,
    ImportBatch,
    ImportStatus,
    Network,
)
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import UserRecord
from airgap.domain.services import response_transfer
from airgap.entrypoints.bootstrap.memory import MemorySystem, build_memory_system


def second_line(line: bytes) -> Callable[[bytes], bytes]:
    def edit(payload: bytes) -> bytes:
        lines = payload.split(b"\n")
        lines[1] = line
        return b"\n".join(lines)

    return edit


def nested(levels: int) -> bytes:
    return b'{"type":"request","query_params":' + b"[" * levels + b"1" + b"]" * levels + b"}"


USER_LINE = encode_record(
    UserRecord(
        user_id=uuid.uuid4(),
        username="mallory",
        email="m@example.org",
        hashed_password="x",
        profile_type="admin",
        rate_limit_per_minute=None,
        rate_limit_per_hour=None,
        rate_limit_per_day=None,
        priority=10,
        role="admin",
        is_active=True,
        version=1,
        snapshot_version=1,
    )
).rstrip(b"\n")


@attrs.frozen
class Case:
    """How to spoil a batch of three requests, and what the refusal must say."""

    reason: str  # a regular expression the whole reason must match (re.search)
    alter: Callable[[bytes, bytes], tuple[bytes, bytes]] | None = None
    signed: bool = False
    encrypted: bool = False
    sign_with_stranger: bool = False
    encrypt_with_stranger: bool = False
    require_signature: bool = False
    limits: BatchLimits = BatchLimits()
    # Free-form changes to the inbox after delivery.
    arrange: Callable[[Path, Written, Keys], None] | None = None


def _relink(target_of: str) -> Callable[[Path, Written, Keys], None]:
    """Replace one of the delivered files by a symbolic link to a copy outside the inbox."""

    def arrange(inbox: Path, written: Written, _keys: Keys) -> None:
        name = written.manifest.manifest_name if target_of == "manifest" else None
        name = name or written.manifest.payload_name
        outside = inbox.parent / f"outside-{target_of}"
        outside.write_bytes((inbox / name).read_bytes())
        (inbox / name).unlink()
        (inbox / name).symlink_to(outside)

    return arrange


def _manifest_replaced_by(kind: str) -> Callable[[Path, Written, Keys], None]:
    def arrange(inbox: Path, written: Written, _keys: Keys) -> None:
        path = inbox / written.manifest.manifest_name
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.mkdir()

    return arrange


def _drop_payload(inbox: Path, written: Written, _keys: Keys) -> None:
    (inbox / written.manifest.payload_name).unlink()


def _other_batchs_manifest(inbox: Path, written: Written, _keys: Keys) -> None:
    other = write_batch(inbox.parent / "other", requests(3))
    (inbox / written.manifest.manifest_name).write_bytes(other.manifest_path.read_bytes())


def _other_batchs_payload(inbox: Path, written: Written, _keys: Keys) -> None:
    other = write_batch(inbox.parent / "other", requests(3))
    (inbox / written.manifest.payload_name).write_bytes(other.payload_path.read_bytes())


def _flip_in_segment(index: int) -> Callable[[bytes], bytes]:
    def edit(payload: bytes) -> bytes:
        at = index * (1024 + 16) + 5
        return payload[:at] + bytes([payload[at] ^ 1]) + payload[at + 1 :]

    return edit


CASES: dict[str, Case] = {
    "flipped payload byte": Case(
        "^payload checksum mismatch$", edit_payload(_flip_in_segment(0), rehash=False)
    ),
    "truncated payload": Case(
        "^payload size mismatch: manifest says \\d+, file has \\d+ \\(truncated\\?\\)$",
        edit_payload(lambda p: p[:-9], rehash=False),
    ),
    "payload of another batch": Case(
        "payload (size|checksum) mismatch", arrange=_other_batchs_payload
    ),
    "manifest of another batch (swapped)": Case(
        "^manifest batch_id .* does not match its file name", arrange=_other_batchs_manifest
    ),
    "payload missing": Case("^payload requests_.*\\.jsonl is missing$", arrange=_drop_payload),
    "an extra line": Case(
        "^record count mismatch: manifest says 3, payload has more$",
        edit_payload(lambda p: p + p.split(b"\n")[0] + b"\n"),
    ),
    "a missing line": Case(
        "^record count mismatch: manifest says 3, payload has 2$",
        edit_payload(lambda p: b"\n".join(p.split(b"\n")[1:])),
    ),
    "record count lies high": Case(
        "^record count mismatch: manifest says 4, payload has 3$", edit_manifest(record_count=4)
    ),
    "record count lies low": Case(
        "^record count mismatch: manifest says 2, payload has more$", edit_manifest(record_count=2)
    ),
    "wrong destination": Case(
        "^wrong destination: batch is for the request network$",
        edit_manifest(source_network="response", destination_network="request"),
    ),
    "source is the destination": Case(
        "^bad manifest: source_network and destination_network are the same$",
        edit_manifest(source_network="response"),
    ),
    "forged signature under our key id": Case(
        "^bad signature \\(key id [0-9a-f]{16}\\)",
        signed=True,
        require_signature=True,
        sign_with_stranger=True,
        arrange=lambda inbox, written, keys: _claim_key_id(inbox, written, keys.signer.key_id),
    ),
    "a signed manifest altered afterwards": Case(
        "^bad signature", edit_manifest(sequence=99), signed=True, require_signature=True
    ),
    "a signature dropped": Case(
        "^unsigned batch: signatures are required$",
        edit_manifest(signature=None),
        signed=True,
        require_signature=True,
    ),
    "unknown signing key id": Case(
        "^unknown signing key id [0-9a-f]{16}$",
        signed=True,
        sign_with_stranger=True,
        require_signature=True,
    ),
    "unknown encryption key id": Case(
        "^unknown encryption key id [0-9a-f]{16}$", encrypted=True, encrypt_with_stranger=True
    ),
    "a tampered segment (checksum fixed up)": Case(
        "^decryption failed: cannot decrypt segment 0: authentication failed",
        edit_payload(_flip_in_segment(0)),
        encrypted=True,
    ),
    "segments reordered (checksum fixed up)": Case(
        "^decryption failed: cannot decrypt segment 0",
        edit_payload(lambda p: p[1040:2080] + p[:1040] + p[2080:]),
        encrypted=True,
    ),
    "the last segment dropped (checksum fixed up)": Case(
        "^decryption failed: cannot decrypt segment 0",
        edit_payload(lambda p: p[:1040]),
        encrypted=True,
    ),
    "oversized payload": Case(
        "^payload larger than the size limit \\(\\d+ > 600 bytes\\)$",
        limits=BatchLimits(max_payload_bytes=600, max_record_bytes=600),
    ),
    "more records than the limit": Case(
        "^more records than the batch limit \\(3 > 2\\)$", limits=BatchLimits(max_records=2)
    ),
    "an oversized record": Case(
        "^record 1 is larger than the record size limit", limits=BatchLimits(max_record_bytes=100)
    ),
    "a huge line without a newline": Case(
        "^record 2 is larger than the record size limit",
        edit_payload(second_line(b"a" * (3 * 1024 * 1024))),
    ),
    "deep JSON nesting": Case(
        "^malformed record 2: nested deeper than 32$", edit_payload(second_line(nested(40)))
    ),
    "very deep JSON nesting": Case(
        "^malformed record 2: nested deeper than 32$", edit_payload(second_line(nested(5000)))
    ),
    "non-UTF-8 bytes": Case(
        "^malformed record 2: not JSON \\(str is not valid UTF-8",
        edit_payload(second_line(b'{"type":"request","query_type":"\xff\xfe"}')),
    ),
    "an empty line": Case("^malformed record 2: not JSON", edit_payload(second_line(b""))),
    "an unknown record type": Case(
        "^malformed record 2: unknown record type 'command'$",
        edit_payload(second_line(b'{"type":"command","run":"rm -rf /"}')),
    ),
    "a record of a type the batch may not carry": Case(
        "^record 2: a requests batch may not carry UserRecord$",
        edit_payload(second_line(USER_LINE)),
    ),
    "no newline at the end": Case(
        "^record 3 is cut short: the payload does not end with a newline",
        edit_payload(lambda p: p.rstrip(b"\n")),
    ),
    "a manifest that is not JSON": Case(
        "^unreadable manifest: not JSON", lambda m, p: (m[: len(m) // 2], p)
    ),
    "a manifest with an unknown key": Case(
        "^unreadable manifest: bad manifest: unknown keys \\['priority'\\]",
        edit_manifest(priority=1),
    ),
    "format version 2": Case(
        "^bad manifest: unsupported format_version 2$", edit_manifest(format_version=2)
    ),
    "sequence 0": Case("^bad manifest: sequence must be 1 or more$", edit_manifest(sequence=0)),
    "a path in batch_id": Case(
        "^unreadable manifest: bad manifest", edit_manifest(batch_id="../../../etc/passwd")
    ),
    "a path in batch_type": Case(
        "^unreadable manifest: bad manifest", edit_manifest(batch_type="../../archive")
    ),
    "created_at disagrees with the file name": Case(
        "^manifest created_at does not match its file name",
        edit_manifest(created_at="2031-01-01T00:00:00.000000Z"),
    ),
    "batch_type disagrees with the file name": Case(
        "^manifest batch_type system does not match its file name",
        edit_manifest(batch_type="system"),
    ),
    "a manifest larger than 1 MiB": Case(
        "^manifest larger than 1048576 bytes$",
        lambda m, p: (m[:-2] + b" " * (1024 * 1024) + m[-2:], p),
    ),
    "the manifest is a symbolic link": Case(
        "^manifest is a symbolic link$", arrange=_relink("manifest")
    ),
    "the payload is a symbolic link": Case(
        "^payload requests_.*\\.jsonl is a symbolic link$", arrange=_relink("payload")
    ),
    "the manifest is a FIFO": Case(
        "^manifest is not a regular file$", arrange=_manifest_replaced_by("fifo")
    ),
    "the manifest is a directory": Case(
        "^manifest is not a regular file$", arrange=_manifest_replaced_by("directory")
    ),
}


def _claim_key_id(inbox: Path, written: Written, key_id: str) -> None:
    path = inbox / written.manifest.manifest_name
    data = json.loads(path.read_bytes())
    data["signature"]["key_id"] = key_id
    path.write_bytes(json.dumps(data).encode())


def spoiled(keys: Keys, root: Path, case: Case) -> tuple[Written, FilesystemInbox]:
    """A batch of three requests, spoiled as ``case`` says, waiting in ``root/inbox``."""
    signer = cipher = None
    if case.signed:
        signer = keys.stranger_signer if case.sign_with_stranger else keys.signer
    if case.encrypted:
        cipher = keys.stranger_cipher if case.encrypt_with_stranger else keys.cipher
    written = write_batch(root / "outbox", requests(3), signer=signer, cipher=cipher)
    deliver(written, root / "inbox", case.alter)
    if case.arrange:
        case.arrange(root / "inbox", written, keys)
    inbox = FilesystemInbox(
        root / "inbox",
        Network.RESPONSE,
        limits=case.limits,
        verifier=keys.verifier,
        decipher=keys.cipher,
        require_signature=case.require_signature,
    )
    return written, inbox


def import_from(inbox: FilesystemInbox) -> tuple[MemorySystem, list[ImportBatch]]:
    system = build_memory_system()
    side = attrs.evolve(system.response, inbox=inbox)
    return system, list(response_transfer.import_batches(side))


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_batch_is_refused_with_its_reason_and_quarantined(
    keys: Keys, tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    written, inbox = spoiled(keys, tmp_path, case)
    inbox_dir = inbox.directory
    outside = {p.name: p.read_bytes() for p in tmp_path.glob("outside-*")}
    before = snapshot(inbox_dir)

    system, imported = import_from(inbox)

    (result,) = imported
    assert result.status is ImportStatus.FAILED
    reason = result.error_message
    assert reason is not None
    assert re.search(case.reason, reason), reason
    assert "\n" not in reason and len(reason) <= 400
    assert not reason.startswith(INTERNAL_ERROR)
    # Quarantined: the same files, moved, beside the reason; nothing else in the inbox.
    after = snapshot(inbox_dir)
    stem = written.manifest.stem
    expected = {f"quarantine/{path}": content for path, content in before.items()}
    expected |= {"quarantine": "dir", f"quarantine/{stem}.reason.txt": (reason + "\n").encode()}
    assert after == expected
    assert {p.name: p.read_bytes() for p in tmp_path.glob("outside-*")} == outside
    # And the database holds only the failed import.
    with system.response_store.unit_of_work() as uow:
        assert uow.jobs.all() == []
        (recorded,) = uow.import_batches.all()
        assert recorded.status is ImportStatus.FAILED
        assert (
            uow.channels.inbound(Channel(Network.REQUEST, Network.RESPONSE)).received.ranges == []
        )


def refusal(found: FilesystemInboundBatch) -> str:
    """The reason the reader gives for ``found``; fails on success or any other exception."""
    try:
        found.manifest()
        for _ in found.records():
            pass
    except BatchRejected as rejected:
        return rejected.reason
    raise AssertionError("the batch was accepted")


@pytest.mark.parametrize("name", list(CASES))
def test_the_reader_alone_refuses_every_case_the_same_way_twice(
    keys: Keys, tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    _, inbox = spoiled(keys, tmp_path, case)
    (found,) = inbox.pending()
    first, second = refusal(found), refusal(found)
    assert re.search(case.reason, first), first
    assert second == first


def test_a_replayed_batch_is_a_duplicate_and_changes_nothing(keys: Keys, tmp_path: Path) -> None:
    written = write_batch(tmp_path / "outbox", requests(3), signer=keys.signer, cipher=keys.cipher)
    inbox_dir = tmp_path / "inbox"
    inbox = FilesystemInbox(
        inbox_dir,
        Network.RESPONSE,
        verifier=keys.verifier,
        decipher=keys.cipher,
        require_signature=True,
        require_encryption=True,
    )
    system = build_memory_system()
    side = attrs.evolve(system.response, inbox=inbox)
    deliver(written, inbox_dir)
    (first,) = response_transfer.import_batches(side)
    deliver(written, inbox_dir)  # the same files arrive again
    (second,) = response_transfer.import_batches(side)
    # Two files carrying the same requests under another batch id and sequence.
    again = write_batch(
        tmp_path / "outbox2",
        written.records,
        signer=keys.signer,
        cipher=keys.cipher,
        batch_header=header(2),
    )
    deliver(again, inbox_dir)
    (third,) = response_transfer.import_batches(side)

    assert (first.status, first.accepted) == (ImportStatus.COMPLETED, 3)
    assert second.status is ImportStatus.DUPLICATE
    assert (third.status, third.accepted, third.duplicates) == (ImportStatus.COMPLETED, 0, 3)
    with system.response_store.unit_of_work() as uow:
        assert len(uow.jobs.all()) == 3
    archived = sorted(p.name for p in (inbox_dir / "archive").iterdir())
    stem = written.manifest.stem
    assert archived == sorted(
        [
            f"{stem}.jsonl.enc",
            f"{stem}.manifest.json",
            f"{stem}~2.jsonl.enc",
            f"{stem}~2.manifest.json",
            f"{again.manifest.stem}.jsonl.enc",
            f"{again.manifest.stem}.manifest.json",
        ]
    )
    assert sorted(p.name for p in inbox_dir.iterdir()) == ["archive"]


def test_a_batch_for_the_other_network_is_refused_by_its_inbox(tmp_path: Path) -> None:
    written = write_batch(
        tmp_path / "outbox",
        [],
        batch_header=header(batch_type=BatchType.SYSTEM, channel=TO_REQUEST),
    )
    deliver(written, tmp_path / "inbox")
    _, (result,) = import_from(FilesystemInbox(tmp_path / "inbox", Network.RESPONSE))
    assert result.error_message == "wrong destination: batch is for the request network"
