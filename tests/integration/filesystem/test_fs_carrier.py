"""The filesystem carrier: complete, verified batches cross once, are read back before they
count, and only then are marked carried."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from filesystem_crossing import (
    Keys,
    batch_names,
    deliver,
    edit_payload,
    header,
    inbox_for,
    requests,
    snapshot,
    write_batch,
)

from airgap.adapters.filesystem.carrier import FilesystemCarrier
from airgap.adapters.filesystem.files import NewFile
from airgap.adapters.filesystem.outbox import FilesystemOutbox


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    outbox, inbox = tmp_path / "outbox", tmp_path / "inbox"
    outbox.mkdir()
    inbox.mkdir()
    return outbox, inbox


def test_batches_cross_oldest_first_and_are_marked_carried(
    keys: Keys, dirs: tuple[Path, Path]
) -> None:
    outbox, inbox = dirs
    written = [
        write_batch(outbox, requests(n + 1), signer=keys.signer, batch_header=header(n))
        for n in (3, 1, 2)
    ]
    progress: list[int] = []

    result = FilesystemCarrier(outbox, inbox).carry_batches(progress.append)

    report = result.report()
    assert report.sequences == (1, 2, 3)
    assert (report.batches, report.records) == (3, 2 + 3 + 4)
    sizes = sum(
        w.manifest.payload_size + (inbox / w.manifest.manifest_name).stat().st_size for w in written
    )
    assert report.bytes == sum(progress) == sizes
    assert batch_names(inbox) == sorted(w.manifest.stem for w in written)
    assert batch_names(outbox) == []
    assert batch_names(outbox / "carried") == sorted(w.manifest.stem for w in written)
    for w in written:  # byte for byte, signature intact
        assert (inbox / w.manifest.manifest_name).read_bytes() == (
            outbox / "carried" / w.manifest.manifest_name
        ).read_bytes()
    assert [b.manifest() for b in inbox_for(inbox, keys, require_signature=True).pending()] == [
        w.manifest for w in sorted(written, key=lambda w: w.manifest.sequence)
    ]
    assert FilesystemCarrier(outbox, inbox).carry().batches == 0


def test_incomplete_and_foreign_files_are_not_carried(dirs: tuple[Path, Path]) -> None:
    outbox, inbox = dirs
    written = write_batch(outbox, requests(2))
    orphan = write_batch(outbox / "elsewhere", requests(1), batch_header=header(2))
    (outbox / orphan.manifest.payload_name).write_bytes(orphan.payload_path.read_bytes())
    (outbox / f".{written.manifest.manifest_name}.abc123.tmp").write_bytes(b"{")
    (outbox / "notes.txt").write_text("hello")
    (outbox / written.manifest.manifest_name.upper()).write_text("{}")

    report = FilesystemCarrier(outbox, inbox).carry()

    assert report.batches == 1
    assert sorted(p.name for p in inbox.iterdir()) == sorted(
        [written.manifest.manifest_name, written.manifest.payload_name]
    )
    assert (outbox / orphan.manifest.payload_name).exists()  # still waiting for its manifest


def test_a_corrupt_batch_is_left_behind_with_its_reason(dirs: tuple[Path, Path]) -> None:
    outbox, inbox = dirs
    good = write_batch(outbox / "staging", requests(2), batch_header=header(1))
    bad = write_batch(outbox / "staging", requests(2), batch_header=header(2))
    deliver(good, outbox)
    deliver(bad, outbox, edit_payload(lambda p: p.replace(b"kettle", b"kettlf"), rehash=False))

    result = FilesystemCarrier(outbox, inbox).carry_batches()

    assert [m.sequence for m in result.carried] == [1]
    assert [(s.name, s.reason) for s in result.skipped] == [
        (bad.manifest.stem, "payload checksum mismatch")
    ]
    assert batch_names(inbox) == [good.manifest.stem]
    assert batch_names(outbox) == [bad.manifest.stem]
    assert [p.name for p in inbox.iterdir() if p.name.endswith(".tmp")] == []


def test_what_does_not_read_back_is_not_committed_nor_marked_carried(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox, inbox = dirs
    written = write_batch(outbox, requests(3))
    real_write = NewFile.write

    def bad_medium(self: NewFile, data: Any) -> None:
        chunk = bytearray(data)
        chunk[len(chunk) // 2] ^= 0x01
        real_write(self, chunk)

    def writes_after_hashing(self: NewFile, data: Any) -> None:
        # The medium flips a bit in the payload after the carrier hashed what it sent.
        (real_write if self.final_name.endswith(".manifest.json") else bad_medium)(self, data)

    monkeypatch.setattr(NewFile, "write", writes_after_hashing)
    result = FilesystemCarrier(outbox, inbox).carry_batches()
    monkeypatch.undo()

    assert [s.reason for s in result.skipped] == [
        "the payload read back from the destination differs"
    ]
    assert list(inbox.iterdir()) == []
    assert batch_names(outbox) == [written.manifest.stem]
    assert FilesystemCarrier(outbox, inbox).carry().batches == 1  # a good medium next time


def test_a_carrier_that_died_before_marking_finishes_the_job_next_time(
    dirs: tuple[Path, Path],
) -> None:
    outbox, inbox = dirs
    written = write_batch(outbox, requests(3))
    deliver(written, inbox)  # it reached the destination; the carrier died before marking

    report = FilesystemCarrier(outbox, inbox).carry()

    assert report.batches == 1 and report.bytes == 0
    assert batch_names(outbox) == []
    assert batch_names(inbox) == [written.manifest.stem]


def test_a_different_batch_under_the_same_name_at_the_destination_is_not_overwritten(
    dirs: tuple[Path, Path],
) -> None:
    outbox, inbox = dirs
    written = write_batch(outbox, requests(3))
    (inbox / written.manifest.manifest_name).write_bytes(b'{"something": "else"}')
    before = snapshot(inbox)

    result = FilesystemCarrier(outbox, inbox).carry_batches()

    assert [s.reason for s in result.skipped] == [
        "a different batch with this name is already at the destination"
    ]
    assert snapshot(inbox) == before
    assert batch_names(outbox) == [written.manifest.stem]


def test_a_carrier_killed_between_payload_and_manifest_leaves_nothing_visible(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox, inbox = dirs
    written = write_batch(outbox, requests(3))
    real_replace = os.replace

    def die_on_manifest(source: Any, target: Any) -> None:
        if str(target).endswith(".manifest.json"):
            raise KeyboardInterrupt  # the operator pulled the plug
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", die_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        FilesystemCarrier(outbox, inbox).carry()
    monkeypatch.undo()

    assert inbox_for(inbox).pending() == []  # a payload without manifest is invisible
    assert batch_names(outbox) == [written.manifest.stem]  # not marked carried
    assert FilesystemCarrier(outbox, inbox).carry().batches == 1
    assert batch_names(inbox) == [written.manifest.stem]


def test_a_carry_interrupted_while_marking_is_completed_by_the_next_run(
    dirs: tuple[Path, Path],
) -> None:
    outbox, inbox = dirs
    written = write_batch(outbox, requests(3))
    carried = outbox / "carried"
    carried.mkdir()
    # The manifest was moved to carried/, the payload not yet.
    os.rename(outbox / written.manifest.manifest_name, carried / written.manifest.manifest_name)

    assert FilesystemCarrier(outbox, inbox).carry().batches == 0

    assert sorted(p.name for p in carried.iterdir()) == sorted(
        [written.manifest.manifest_name, written.manifest.payload_name]
    )
    assert [p.name for p in outbox.iterdir() if p.is_file() and not p.name.startswith(".")] == []


def test_the_outbox_does_not_rewrite_a_batch_already_carried(
    keys: Keys, dirs: tuple[Path, Path]
) -> None:
    outbox, inbox = dirs
    batch = header()
    first = FilesystemOutbox(outbox, cipher=keys.cipher).write(batch, requests(2))
    FilesystemCarrier(outbox, inbox).carry()
    again = FilesystemOutbox(outbox, cipher=keys.cipher).write(batch, requests(5))
    assert again == first
    assert batch_names(outbox) == []
    assert FilesystemCarrier(outbox, inbox).carry().batches == 0
