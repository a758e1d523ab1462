"""Ed25519 and AES-256-GCM adapters, key ids and key files."""

from __future__ import annotations

import hashlib
import stat
import uuid
from pathlib import Path

import pytest

from airgap.adapters.filesystem.payload import segment_associated_data, segment_nonce
from airgap.adapters.security.encryption import AesGcmCipher, encryption_key_id, generate_key
from airgap.adapters.security.keyfiles import (
    generate_keys,
    load_cipher,
    load_public_key,
    load_signer,
    load_verifier,
)
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier, public_key_bytes


def test_key_ids_come_from_the_key_material() -> None:
    signer = Ed25519Signer.generate()
    expected = hashlib.sha256(public_key_bytes(signer.public_key)).hexdigest()[:16]
    assert signer.key_id == expected
    key = bytes(32)
    assert (
        encryption_key_id(key)
        == (hashlib.sha256(b"airgap aes-256-gcm key id\x00" + key).hexdigest()[:16])
    )
    assert AesGcmCipher(key).key_id == encryption_key_id(key)
    assert encryption_key_id(generate_key()) != encryption_key_id(generate_key())


def test_signatures_verify_only_under_the_right_key() -> None:
    ours, theirs = Ed25519Signer.generate(), Ed25519Signer.generate()
    verifier = Ed25519Verifier([ours.public_key])
    signature = ours.sign(b"manifest")
    assert verifier.knows(ours.key_id) and not verifier.knows(theirs.key_id)
    assert verifier.verify(ours.key_id, b"manifest", signature)
    assert not verifier.verify(ours.key_id, b"manifesT", signature)
    assert not verifier.verify(ours.key_id, b"manifest", theirs.sign(b"manifest"))
    assert not verifier.verify(theirs.key_id, b"manifest", theirs.sign(b"manifest"))
    assert not verifier.verify(ours.key_id, b"manifest", b"short")


def test_segments_open_only_with_their_nonce_associated_data_and_key() -> None:
    old, new = generate_key(), generate_key()
    cipher = AesGcmCipher(new, previous=[old])
    batch_id = uuid.uuid4()
    base = bytes(12)
    nonce, aad = segment_nonce(base, 3), segment_associated_data(batch_id, 3, True)
    sealed = cipher.encrypt_segment(nonce, b"records", aad)
    assert cipher.decrypt_segment(cipher.key_id, nonce, sealed, aad) == b"records"
    for bad_nonce, bad_aad in [
        (segment_nonce(base, 2), aad),
        (nonce, segment_associated_data(batch_id, 3, False)),
        (nonce, segment_associated_data(uuid.uuid4(), 3, True)),
    ]:
        with pytest.raises(ValueError, match="authentication failed"):
            cipher.decrypt_segment(cipher.key_id, bad_nonce, sealed, bad_aad)
    with pytest.raises(ValueError, match="unknown key id"):
        cipher.decrypt_segment("0000000000000000", nonce, sealed, aad)
    rotated = AesGcmCipher(old).encrypt_segment(nonce, b"older", aad)
    assert cipher.decrypt_segment(encryption_key_id(old), nonce, rotated, aad) == b"older"
    assert cipher.knows(encryption_key_id(old))


def test_the_one_shot_interface_round_trips_and_refuses_tampering() -> None:
    cipher = AesGcmCipher(generate_key())
    nonce, sealed = cipher.encrypt(b"payload")
    assert cipher.decrypt(cipher.key_id, nonce, sealed) == b"payload"
    assert cipher.encrypt(b"payload")[0] != nonce
    with pytest.raises(ValueError, match="authentication failed"):
        cipher.decrypt(cipher.key_id, nonce, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with pytest.raises(ValueError, match="nonce"):
        cipher.decrypt(cipher.key_id, b"", sealed)


def test_segment_nonces_are_distinct_and_xor_the_index() -> None:
    base = bytes.fromhex("00112233445566778899aabb")
    assert segment_nonce(base, 0) == base
    assert segment_nonce(base, 1) == bytes.fromhex("00112233445566778899aaba")
    assert len({segment_nonce(base, i) for i in range(5000)}) == 5000


def test_generated_key_files_are_private_and_load_back(tmp_path: Path) -> None:
    generated = generate_keys(tmp_path / "keys")
    for path in (generated.signing_key, generated.public_key, generated.encryption_key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert generated.signing_key_id in path.name or generated.encryption_key_id in path.name
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    signer = load_signer(generated.signing_key)
    assert signer.key_id == generated.signing_key_id
    verifier = load_verifier([generated.public_key])
    assert verifier.verify(signer.key_id, b"x", signer.sign(b"x"))
    assert load_public_key(generated.signing_key) == load_public_key(generated.public_key)
    assert load_cipher([generated.encryption_key]).key_id == generated.encryption_key_id


def test_key_files_are_never_overwritten(tmp_path: Path) -> None:
    generated = generate_keys(tmp_path)
    before = generated.signing_key.read_bytes()
    from airgap.adapters.security.keyfiles import write_secret_file

    with pytest.raises(FileExistsError):
        write_secret_file(generated.signing_key, b"other")
    assert generated.signing_key.read_bytes() == before


@pytest.mark.parametrize(
    ("content", "loader", "message"),
    [
        (b"not a key", load_signer, "not an unencrypted PEM private key"),
        (b"not a key", lambda p: load_verifier([p]), "not a PEM public key"),
        (b"c2hvcnQ=\n", lambda p: load_cipher([p]), "an AES-256 key is 32 bytes, this one is 5"),
        (b"!!!\n", lambda p: load_cipher([p]), "not a base64 AES-256 key"),
    ],
)
def test_bad_key_files_fail_with_a_one_line_reason(
    tmp_path: Path, content: bytes, loader: object, message: str
) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as failure:
        loader(path)  # type: ignore[operator]
    assert "\n" not in str(failure.value) and str(path) in str(failure.value)


def test_a_public_key_is_not_a_signing_key(tmp_path: Path) -> None:
    generated = generate_keys(tmp_path)
    with pytest.raises(ValueError, match="private key"):
        load_signer(generated.public_key)
    with pytest.raises(ValueError, match="no encryption key"):
        load_cipher([])
    with pytest.raises(ValueError, match="No such file"):
        load_signer(tmp_path / "missing.key")
