"""docs/transfer-format.md stays true: its worked example is what the writer produces, and
a reader written from the document alone (hashlib, json, base64, cryptography — none of
airgap) accepts it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import format_example
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "transfer-format.md"
BLOCK = re.compile(r"<!-- example: ([a-z-]+) -->\n```[a-z]*\n(.*?)\n```", re.DOTALL)
NAME = re.compile(
    r"(requests|responses|users|system)_([0-9]{8})_([0-9]{6})_"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(\.manifest\.json|\.jsonl|\.jsonl\.enc)"
)


@pytest.fixture(scope="module")
def document() -> dict[str, str]:
    return dict(BLOCK.findall(DOCUMENT.read_text(encoding="utf-8")))


def test_the_worked_example_is_what_the_writer_writes(document: dict[str, str]) -> None:
    assert document == format_example.blocks()


def _canonical(value: object) -> bytes:
    """Section 5, from the text: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _check_own_checksum(manifest: dict[str, object]) -> None:
    """Section 4: SHA-256 of the canonical JSON without signature and manifest_sha256."""
    covered = {k: v for k, v in manifest.items() if k not in ("signature", "manifest_sha256")}
    assert hashlib.sha256(_canonical(covered)).hexdigest() == manifest["manifest_sha256"]


def _check_names(names: str, manifest: dict[str, object]) -> None:
    for name in names.splitlines():
        match = NAME.fullmatch(name)
        assert match is not None
        kind, day, time, batch_id, _ = match.groups()
        assert (kind, batch_id) == (manifest["batch_type"], manifest["batch_id"])
        created = datetime.fromisoformat(str(manifest["created_at"])).astimezone(UTC)
        assert f"{day}_{time}" == created.strftime("%Y%m%d_%H%M%S")


def test_an_independent_reader_accepts_the_plain_example(document: dict[str, str]) -> None:
    manifest = json.loads(document["plain-manifest"])
    payload = (document["plain-payload"] + "\n").encode()
    _check_names(document["plain-names"], manifest)
    _check_own_checksum(manifest)
    assert len(payload) == manifest["payload_size"]
    assert hashlib.sha256(payload).hexdigest() == manifest["payload_sha256"]
    records = [json.loads(line) for line in payload.decode().splitlines()]
    assert len(records) == manifest["record_count"]
    assert {r["type"] for r in records} == {"request"}


def test_an_independent_reader_accepts_the_signed_encrypted_example(
    document: dict[str, str],
) -> None:
    manifest = json.loads(document["secure-manifest"])
    _check_names(document["secure-names"], manifest)
    _check_own_checksum(manifest)
    pairs = (line.split(":", 1) for line in document["keys"].splitlines())
    keys = {label.strip(): value.strip() for label, value in pairs}
    public = bytes.fromhex(keys["Ed25519 public key (hex)"])
    aes_key = bytes.fromhex(keys["AES-256 key (hex)"])

    # Key ids (section 12).
    assert hashlib.sha256(public).hexdigest()[:16] == manifest["signature"]["key_id"]
    aes_id = hashlib.sha256(b"airgap aes-256-gcm key id\x00" + aes_key).hexdigest()[:16]
    assert aes_id == manifest["encryption"]["key_id"]

    # Signature (section 5).
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    signed = _canonical(unsigned)
    assert signed == document["secure-signed-bytes"].encode()
    signature = base64.b64decode(manifest["signature"]["value"], validate=True)
    Ed25519PublicKey.from_public_bytes(public).verify(signature, signed)  # raises if bad

    # Checksum, then segments (section 6).
    payload = base64.b64decode("".join(document["secure-payload"].split()), validate=True)
    assert len(payload) == manifest["payload_size"]
    assert hashlib.sha256(payload).hexdigest() == manifest["payload_sha256"]
    size = manifest["encryption"]["segment_size"]
    base = int.from_bytes(base64.b64decode(manifest["encryption"]["nonce"]), "big")
    batch_id = bytes.fromhex(manifest["batch_id"].replace("-", ""))
    sealed = size + 16
    count = -(-len(payload) // sealed)
    plaintext = b""
    for index in range(count):
        nonce = (base ^ index).to_bytes(12, "big")
        final = b"\x01" if index == count - 1 else b"\x00"
        aad = b"airgap-batch-v1" + batch_id + index.to_bytes(4, "big") + final
        segment = payload[index * sealed : (index + 1) * sealed]
        plaintext += AESGCM(aes_key).decrypt(nonce, segment, aad)
    assert plaintext == (document["plain-payload"] + "\n").encode()
    assert plaintext.count(b"\n") == manifest["record_count"]
