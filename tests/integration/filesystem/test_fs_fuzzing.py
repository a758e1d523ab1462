"""Random damage to a batch on the way: whatever a carrier does to the bytes, the reader
either refuses the batch with BatchRejected or reads exactly the records that were written
and exactly the manifest (its own checksum, and the signature when there is one, leave only
meaningless changes such as whitespace to pass). It never raises anything else and never
accepts a record that was not written."""

from __future__ import annotations

import functools
import hashlib
import json
import tempfile
from pathlib import Path

import attrs
import pytest
from filesystem_crossing import Keys, header, make_keys, requests, write_batch
from hypothesis import assume, given
from hypothesis import strategies as st
from record_strategies import json_values

from airgap.adapters.filesystem.inbox import INTERNAL_ERROR, FilesystemInbox
from airgap.domain.model.batching import Manifest, Network
from airgap.domain.model.errors import BatchRejected
from airgap.domain.model.records import TransferRecord
from support.manifests import resealed

MODES = ("plain", "signed+encrypted")


@attrs.frozen
class Pristine:
    """A good batch as bytes, and how to read one like it."""

    mode: str
    manifest_name: str
    payload_name: str
    manifest: bytes
    payload: bytes
    parsed: Manifest
    records: tuple[TransferRecord, ...]


@functools.cache
def keys() -> Keys:
    return make_keys()


@functools.cache
def pristine_batch(mode: str) -> Pristine:
    """Built once per mode, on first use (hypothesis runs each test many times)."""
    records = requests(5)
    with tempfile.TemporaryDirectory() as tmp:
        written = write_batch(
            Path(tmp),
            records,
            signer=keys().signer if mode != "plain" else None,
            cipher=keys().cipher if mode != "plain" else None,
            batch_header=header(7),
        )
        return Pristine(
            mode,
            written.manifest.manifest_name,
            written.manifest.payload_name,
            written.manifest_path.read_bytes(),
            written.payload_path.read_bytes(),
            written.manifest,
            tuple(records),
        )


def read(pristine: Pristine, manifest: bytes, payload: bytes) -> tuple[Manifest, list[object]]:
    """Read the (damaged) pair; BatchRejected or the result, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / pristine.payload_name).write_bytes(payload)
        (directory / pristine.manifest_name).write_bytes(manifest)
        signed = pristine.mode != "plain"
        inbox = FilesystemInbox(
            directory,
            Network.RESPONSE,
            verifier=keys().verifier,
            decipher=keys().cipher,
            require_signature=signed,
            require_encryption=signed,
        )
        (found,) = inbox.pending()
        return found.manifest(), list(found.records())


def refused_or_intact(pristine: Pristine, manifest: bytes, payload: bytes) -> str | None:
    """The reason, or None when the batch was read back exactly as written."""
    try:
        parsed, records = read(pristine, manifest, payload)
    except BatchRejected as rejected:
        reason = rejected.reason
    else:
        reason = None
    if reason is not None:
        assert "\n" not in reason
        assert not reason.startswith(INTERNAL_ERROR), reason
        return reason
    assert parsed == pristine.parsed  # manifest_sha256 protects even an unsigned manifest
    assert tuple(records) == pristine.records
    return None


@pytest.mark.parametrize("mode", MODES)
@given(data=st.data())
def test_random_byte_flips_are_refused_or_harmless(mode: str, data: st.DataObject) -> None:
    pristine = pristine_batch(mode)
    manifest, payload = bytearray(pristine.manifest), bytearray(pristine.payload)
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        target = data.draw(st.sampled_from([manifest, payload]), label="file")
        at = data.draw(st.integers(0, len(target) - 1), label="offset")
        target[at] ^= data.draw(st.integers(1, 255), label="mask")
    reason = refused_or_intact(pristine, bytes(manifest), bytes(payload))
    if payload != pristine.payload:
        assert reason is not None  # the checksum (and signature) cover every payload byte


@pytest.mark.parametrize("mode", MODES)
def test_the_payload_cut_at_every_offset_is_refused(mode: str) -> None:
    pristine = pristine_batch(mode)
    for cut in range(len(pristine.payload)):
        reason = refused_or_intact(pristine, pristine.manifest, pristine.payload[:cut])
        assert reason is not None and reason.startswith("payload size mismatch"), (cut, reason)


@pytest.mark.parametrize("mode", MODES)
def test_the_manifest_cut_at_every_offset_is_refused(mode: str) -> None:
    pristine = pristine_batch(mode)
    body = pristine.manifest.rstrip(b"\n")
    for cut in range(len(body)):
        assert refused_or_intact(pristine, body[:cut], pristine.payload) is not None, cut
    assert refused_or_intact(pristine, body, pristine.payload) is None  # only "\n" was cut


def rehashed(manifest: bytes, payload: bytes) -> bytes:
    """The manifest of ``payload`` as a liar would forge it: size and both checksums fixed
    up, the signature dropped."""
    data = json.loads(manifest)
    data["payload_size"] = len(payload)
    data["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    data["signature"] = None
    return json.dumps(resealed(data)).encode()


def test_a_plain_payload_cut_anywhere_with_the_checksum_fixed_up_is_refused() -> None:
    """A liar who fixes up size and checksum (no signature required here) still cannot cut
    records off: a cut mid-line lacks its newline, a cut between lines misses records."""
    pristine = pristine_batch("plain")
    boundaries = {i + 1 for i, byte in enumerate(pristine.payload) if byte == ord("\n")}
    for cut in range(len(pristine.payload)):
        payload = pristine.payload[:cut]
        reason = refused_or_intact(pristine, rehashed(pristine.manifest, payload), payload)
        assert reason is not None
        expected = "record count mismatch" if cut in boundaries or cut == 0 else "cut short"
        assert expected in reason, (cut, reason)


def test_an_encrypted_payload_cut_anywhere_with_the_checksum_fixed_up_is_refused() -> None:
    pristine = pristine_batch("signed+encrypted")
    for cut in range(len(pristine.payload)):
        payload = pristine.payload[:cut]
        manifest = rehashed(pristine.manifest, payload)
        with pytest.raises(BatchRejected, match=r"^decryption failed"):
            read_unsigned(pristine, manifest, payload)


def read_unsigned(pristine: Pristine, manifest: bytes, payload: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / pristine.payload_name).write_bytes(payload)
        (directory / pristine.manifest_name).write_bytes(manifest)
        inbox = FilesystemInbox(directory, Network.RESPONSE, decipher=keys().cipher)
        (found,) = inbox.pending()
        found.manifest()
        list(found.records())


@given(st.binary(max_size=2000))
def test_any_bytes_as_a_manifest_are_refused(manifest: bytes) -> None:
    pristine = pristine_batch("plain")
    assert refused_or_intact(pristine, manifest, pristine.payload) is not None


MANIFEST_KEYS = [field.name for field in attrs.fields(Manifest)] + ["manifest_sha256"]


@given(
    st.dictionaries(st.sampled_from(MANIFEST_KEYS) | st.text(max_size=8), json_values, max_size=14)
)
def test_any_json_object_as_a_manifest_is_refused(data: dict[str, object]) -> None:
    pristine = pristine_batch("plain")
    assert refused_or_intact(pristine, json.dumps(data).encode(), pristine.payload) is not None


@given(
    field=st.sampled_from(MANIFEST_KEYS),
    value=json_values,
)
def test_any_one_field_replaced_never_crashes_the_reader(field: str, value: object) -> None:
    """An unsigned manifest may be forged (its checksum fixed up: only the signature the
    receiver did not ask for would stop that); the reader still refuses or reads the
    records written."""
    pristine = pristine_batch("plain")
    data = json.loads(pristine.manifest)
    data[field] = value
    try:
        _, records = read(pristine, json.dumps(resealed(data)).encode(), pristine.payload)
    except BatchRejected as rejected:
        assert not rejected.reason.startswith(INTERNAL_ERROR), rejected.reason  # noqa: PT017
        return
    assert tuple(records) == pristine.records


@given(
    field=st.sampled_from([key for key in MANIFEST_KEYS if key != "signature"]),
    value=json_values,
)
def test_any_one_field_changed_in_an_unsigned_manifest_is_refused(
    field: str, value: object
) -> None:
    """Damage on the way, not forgery: the manifest's own checksum notices any change to a
    value, so a receiver never believes a wrong sequence, ack or batch id."""
    pristine = pristine_batch("plain")
    data = json.loads(pristine.manifest)
    assume(data[field] != value)
    data[field] = value
    reason = refused_or_intact(pristine, json.dumps(data).encode(), pristine.payload)
    assert reason is not None
    assert "manifest_sha256" in reason or "missing keys" in reason, reason


@given(st.lists(st.binary(max_size=80), min_size=1, max_size=5), st.integers(0, 5))
def test_garbage_lines_spliced_in_are_refused(garbage: list[bytes], at: int) -> None:
    pristine = pristine_batch("plain")
    lines = pristine.payload.split(b"\n")[:-1]
    lines[at:at] = [g.replace(b"\n", b"") for g in garbage]
    payload = b"\n".join(lines) + b"\n"
    assert refused_or_intact(pristine, rehashed(pristine.manifest, payload), payload) is not None
