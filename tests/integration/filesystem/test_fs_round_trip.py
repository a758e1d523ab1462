"""Whatever valid records are written come back identical, plain, signed, encrypted or both;
and the fast record encoder writes exactly what the reference converter does."""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson
import pytest
from filesystem_crossing import Keys, header, inbox_for, write_batch
from hypothesis import given
from hypothesis import strategies as st
from record_strategies import any_record, batch_contents

from airgap.adapters.filesystem.carrier import FilesystemCarrier
from airgap.adapters.filesystem.inbox import FilesystemInbox
from airgap.adapters.serialization import decode_record, encode_record, record_to_json
from airgap.domain.model.batching import BatchType, Channel
from airgap.domain.model.records import TransferRecord

MODES = ["plain", "signed", "encrypted", "signed+encrypted"]


@pytest.mark.parametrize("mode", MODES)
@given(contents=batch_contents(), segment_size=st.sampled_from([1024, 1500, 65536]))
def test_any_valid_batch_reads_back_identical(
    keys: Keys,
    mode: str,
    contents: tuple[BatchType, Channel, list[TransferRecord]],
    segment_size: int,
) -> None:
    batch_type, channel, records = contents
    signer = keys.signer if "signed" in mode else None
    cipher = keys.cipher if "encrypted" in mode else None
    with tempfile.TemporaryDirectory() as tmp:
        outbox, inbox = Path(tmp, "outbox"), Path(tmp, "inbox")
        inbox.mkdir()
        written = write_batch(
            outbox,
            records,
            signer=signer,
            cipher=cipher,
            segment_size=segment_size,
            batch_header=header(batch_type=batch_type, channel=channel),
        )
        assert FilesystemCarrier(outbox, inbox).carry().batches == 1
        reader = FilesystemInbox(
            inbox,
            channel.destination,
            verifier=keys.verifier,
            decipher=keys.cipher,
            require_signature=signer is not None,
            require_encryption=cipher is not None,
        )
        (arrived,) = reader.pending()
        assert arrived.manifest() == written.manifest
        assert list(arrived.records()) == records
        assert (written.manifest.signature is not None) == (signer is not None)
        assert (written.manifest.encryption is not None) == (cipher is not None)


@given(any_record)
def test_the_fast_encoder_writes_what_the_reference_converter_does(record: TransferRecord) -> None:
    line = encode_record(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert orjson.loads(line) == record_to_json(record)
    assert decode_record(line) == record


def test_an_encrypted_payload_hides_the_records_and_spans_segments(
    keys: Keys, tmp_path: Path
) -> None:
    from filesystem_crossing import requests

    records = requests(40)
    written = write_batch(tmp_path / "out", records, cipher=keys.cipher, segment_size=1024)
    data = written.payload_path.read_bytes()
    assert written.payload_path.name.endswith(".jsonl.enc")
    assert b"kettle" not in data
    assert len(data) > 4 * (1024 + 16)  # several segments
    plain = b"".join(encode_record(r) for r in records)
    segments = -(-len(plain) // 1024)
    assert len(data) == len(plain) + 16 * segments
    reader = inbox_for(tmp_path / "out", keys)
    (found,) = reader.pending()
    assert list(found.records()) == records


def test_an_empty_batch_round_trips_encrypted_and_plain(keys: Keys, tmp_path: Path) -> None:
    for n, cipher in enumerate([None, keys.cipher]):
        directory = tmp_path / str(n)
        written = write_batch(
            directory, [], cipher=cipher, batch_header=header(batch_type=BatchType.SYSTEM)
        )
        assert written.manifest.record_count == 0
        assert written.manifest.payload_size == (16 if cipher else 0)
        (found,) = inbox_for(directory, keys).pending()
        assert list(found.records()) == []
