"""What the inbox lists, how it moves batches, and that it never writes outside its
directories; memory stays flat while records stream."""

from __future__ import annotations

import os
import tracemalloc
import uuid
from pathlib import Path

import pytest
from filesystem_crossing import (
    Keys,
    batch_names,
    deliver,
    header,
    inbox_for,
    requests,
    snapshot,
    write_batch,
)

from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.domain.model.batching import BatchLimits, BatchType, Network
from airgap.domain.model.errors import BatchRejected
from airgap.entrypoints.cli.samples import sample_records


def test_only_complete_batches_with_strict_names_are_pending(keys: Keys, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good = write_batch(tmp_path / "out", requests(1), batch_header=header(1))
    half = write_batch(tmp_path / "out", requests(1), batch_header=header(2))
    deliver(good, inbox)
    (inbox / half.manifest.payload_name).write_bytes(half.payload_path.read_bytes())
    stem = good.manifest.stem
    for name in [
        f".{stem}.manifest.json.1a2b3c.tmp",  # a writer's temporary file
        stem.upper() + ".manifest.json",
        stem.replace("requests", "commands") + ".manifest.json",
        stem + ".manifest.json.bak",
        stem + ".manifest.json~",
        "x" + stem + ".manifest.json",
        stem[:-1] + ".manifest.json",
        f"requests_2030O517_093001_{uuid.uuid4()}.manifest.json",
        "..manifest.json",
    ]:
        (inbox / name).write_bytes(good.manifest_path.read_bytes())
    (inbox / "archive").mkdir()
    (inbox / "archive" / f"{uuid.uuid4()}.manifest.json").write_bytes(b"{}")

    assert [b.name for b in inbox_for(inbox).pending()] == [stem]


def test_pending_is_oldest_first_by_name_time_then_arrival(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    written = [
        write_batch(tmp_path / "out", requests(1), batch_header=header(n)) for n in (3, 1, 2)
    ]
    for w in written:
        deliver(w, inbox)
    assert [b.manifest().sequence for b in inbox_for(inbox).pending()] == [1, 2, 3]


def test_archive_refuses_a_link_where_its_directory_should_be(keys: Keys, tmp_path: Path) -> None:
    inbox, elsewhere = tmp_path / "inbox", tmp_path / "elsewhere"
    elsewhere.mkdir()
    deliver(write_batch(tmp_path / "out", requests(1)), inbox)
    (inbox / "archive").symlink_to(elsewhere)
    (inbox / "quarantine").write_text("not a directory")
    (found,) = inbox_for(inbox, keys).pending()
    before = snapshot(tmp_path)
    with pytest.raises(NotADirectoryError):
        found.archive()
    with pytest.raises(NotADirectoryError):
        found.quarantine("whatever")
    assert snapshot(tmp_path) == before
    assert list(elsewhere.iterdir()) == []


def test_a_move_interrupted_by_a_crash_is_finished_on_the_next_listing(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    written = write_batch(tmp_path / "out", requests(1))
    deliver(written, inbox)
    (inbox / "archive").mkdir()
    # The manifest made it to archive/, the payload did not.
    os.rename(
        inbox / written.manifest.manifest_name, inbox / "archive" / written.manifest.manifest_name
    )

    assert inbox_for(inbox).pending() == []

    assert sorted(p.name for p in (inbox / "archive").iterdir()) == sorted(
        [written.manifest.manifest_name, written.manifest.payload_name]
    )
    assert sorted(p.name for p in inbox.iterdir()) == ["archive"]


def test_a_batch_archived_twice_is_kept_twice(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    written = write_batch(tmp_path / "out", requests(1))
    for _ in range(3):
        deliver(written, inbox)
        (found,) = inbox_for(inbox).pending()
        found.archive()
    stem = written.manifest.stem
    assert batch_names(inbox / "archive") == [stem, f"{stem}~2", f"{stem}~3"]
    found.archive()  # gone already: nothing to do, nothing raised


def test_a_payload_or_manifest_name_finds_its_batch_for_tools(tmp_path: Path) -> None:
    written = write_batch(tmp_path, requests(2))
    inbox = FilesystemInbox(tmp_path, None)
    for name in (written.manifest.manifest_name, written.manifest.payload_name):
        assert inbox.batch(name).manifest() == written.manifest
    with pytest.raises(BatchRejected, match="not a batch file name"):
        inbox.batch("../../etc/passwd")
    written.manifest_path.unlink()
    with pytest.raises(BatchRejected, match="no manifest"):
        inbox.batch(written.manifest.payload_name)


def test_reading_a_large_batch_keeps_memory_flat(keys: Keys, tmp_path: Path) -> None:
    """Peak memory while streaming does not grow with the batch: a batch ten times larger
    costs about the same (chunks and segments, never the whole payload)."""
    limits = BatchLimits(max_records=20_000)
    peaks = []
    for count in (2_000, 20_000):
        directory = tmp_path / str(count)
        records = sample_records(BatchType.REQUESTS, count, seed=count)
        write_batch(directory, records, cipher=keys.cipher, segment_size=65536, limits=limits)
        del records
        inbox = FilesystemInbox(directory, Network.RESPONSE, decipher=keys.cipher, limits=limits)
        (found,) = inbox.pending()
        tracemalloc.start()
        found.manifest()
        read = sum(1 for _ in found.records())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert read == count
    payload_size = sum(p.stat().st_size for p in (tmp_path / "20000").glob("*.enc"))
    assert payload_size > 7 * 1024 * 1024
    assert peaks[1] < 4 * 1024 * 1024
    assert peaks[1] < 2 * peaks[0]


def test_a_bug_while_reading_refuses_the_batch_instead_of_crashing_the_importer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airgap.adapters.filesystem import inbox as inbox_module

    write_batch(tmp_path, requests(2))

    def broken(_line: bytes, **_kw: object) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(inbox_module, "decode_record", broken)
    (found,) = inbox_for(tmp_path).pending()
    found.manifest()
    with pytest.raises(BatchRejected, match=f"^{inbox_module.INTERNAL_ERROR}: TypeError: a bug$"):
        list(found.records())
