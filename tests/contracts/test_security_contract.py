"""Contract of the security ports: PasswordHasher, TokenIssuer, Signer / SignatureVerifier and
Cipher / Decipher, written against the ports only.

To check another adapter set (argon2, JWT, Ed25519, AES-256-GCM), add its name to the
``params`` of each fixture and a branch that builds it. The memory stand-ins keep the same
promises but protect nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import attrs
import pytest
from builders import Make
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from airgap.adapters.memory.security import (
    FastPasswordHasher,
    HmacSigner,
    HmacVerifier,
    KeystreamCipher,
    MemoryTokenDenyList,
    MemoryTokenIssuer,
)
from airgap.adapters.redis.denylist import RedisTokenDenyList
from airgap.adapters.security.encryption import AesGcmCipher
from airgap.adapters.security.passwords import Argon2PasswordHasher
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier
from airgap.adapters.security.tokens import JwtTokenIssuer
from airgap.domain.model.errors import AuthenticationFailed
from airgap.domain.model.users import Role
from airgap.ports.cipher import Cipher, Decipher
from airgap.ports.passwords import PasswordHasher
from airgap.ports.signing import SignatureVerifier, Signer
from airgap.ports.tokens import TokenIssuer

ADAPTERS = ["memory", "real"]


@pytest.fixture
def make() -> Make:
    return Make()


# --- passwords --------------------------------------------------------------------------------


@pytest.fixture(params=ADAPTERS)
def hasher(request: pytest.FixtureRequest) -> Iterator[PasswordHasher]:
    if request.param == "memory":
        yield FastPasswordHasher()
    elif request.param == "real":
        yield Argon2PasswordHasher()
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no password hasher builder for {request.param!r}")


@pytest.mark.parametrize("password", ["correct horse battery staple", "pässwörd ☃ 🔑", "x" * 200])
def test_the_right_password_verifies_and_a_wrong_one_does_not(
    hasher: PasswordHasher, password: str
) -> None:
    hashed = hasher.hash(password)
    assert hasher.verify(hashed, password) is True
    assert hasher.verify(hashed, password + " ") is False
    assert hasher.verify(hashed, password.upper()) is False
    assert hasher.verify(hashed, "") is False


def test_hashes_are_salted_and_do_not_contain_the_password(hasher: PasswordHasher) -> None:
    first, second = hasher.hash("hunter22hunter22"), hasher.hash("hunter22hunter22")
    assert first != second
    assert "hunter22" not in first
    assert hasher.verify(first, "hunter22hunter22")
    assert hasher.verify(second, "hunter22hunter22")


@pytest.mark.parametrize("stored", ["", "not a hash", "sha256$$", "$argon2id$v=19$garbage"])
def test_a_malformed_stored_hash_verifies_nothing_and_does_not_raise(
    hasher: PasswordHasher, stored: str
) -> None:
    assert hasher.verify(stored, "anything") is False


# --- tokens -----------------------------------------------------------------------------------


@attrs.frozen
class TokenIssuers:
    """Our issuer, and another installation's (other keys, other deny list)."""

    ours: TokenIssuer
    stranger: TokenIssuer


@pytest.fixture(params=[*ADAPTERS, "real+redis"])
def issuers(request: pytest.FixtureRequest) -> Iterator[TokenIssuers]:
    if request.param == "memory":
        yield TokenIssuers(MemoryTokenIssuer(), MemoryTokenIssuer())
    elif request.param == "real":
        yield TokenIssuers(
            JwtTokenIssuer("s" * 40, MemoryTokenDenyList(), issuer="airgap-test"),
            JwtTokenIssuer("t" * 40, MemoryTokenDenyList(), issuer="airgap-test"),
        )
    elif request.param == "real+redis":
        client = request.getfixturevalue("redis_client")
        ours, theirs = (f"airgap-test:{uuid.uuid4().hex}" for _ in range(2))
        yield TokenIssuers(
            JwtTokenIssuer("s" * 40, RedisTokenDenyList(client, prefix=ours), issuer="airgap-t"),
            JwtTokenIssuer("t" * 40, RedisTokenDenyList(client, prefix=theirs), issuer="airgap-t"),
        )
        for prefix in (ours, theirs):  # the test clock is years ahead: entries would linger
            for key in client.scan_iter(match=f"{prefix}:*"):
                client.delete(key)
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no token issuer builder for {request.param!r}")


@pytest.fixture
def issuer(issuers: TokenIssuers) -> TokenIssuer:
    return issuers.ours


def tampered(token: str) -> str:
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_an_issued_token_decodes_to_its_claims(issuer: TokenIssuer, make: Make, kind: str) -> None:
    user_id = make.ids.new_id()
    token = issuer.issue(user_id, Role.OPERATOR, kind, make.now)
    claims = issuer.decode(token, make.later(1))
    assert claims.user_id == user_id
    assert claims.role is Role.OPERATOR
    assert claims.kind == kind
    assert claims.issued_at == make.now
    assert claims.expires_at > make.now
    assert claims.token_id


def test_a_refresh_token_outlives_an_access_token(issuer: TokenIssuer, make: Make) -> None:
    user_id = make.ids.new_id()
    access = issuer.decode(issuer.issue(user_id, Role.USER, "access", make.now), make.now)
    refresh = issuer.decode(issuer.issue(user_id, Role.USER, "refresh", make.now), make.now)
    assert refresh.expires_at > access.expires_at


def test_a_token_of_an_unknown_kind_is_not_issued(issuer: TokenIssuer, make: Make) -> None:
    with pytest.raises(ValueError, match="kind"):
        issuer.issue(make.ids.new_id(), Role.USER, "forever", make.now)


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_a_token_expires_at_its_expiry_time(issuer: TokenIssuer, make: Make, kind: str) -> None:
    token = issuer.issue(make.ids.new_id(), Role.USER, kind, make.now)
    claims = issuer.decode(token, make.now)
    assert issuer.decode(token, claims.expires_at - timedelta(seconds=1)) == claims
    with pytest.raises(AuthenticationFailed):
        issuer.decode(token, claims.expires_at)
    with pytest.raises(AuthenticationFailed):
        issuer.decode(token, claims.expires_at + timedelta(days=30))


def test_a_revoked_token_is_refused_and_others_are_not(issuer: TokenIssuer, make: Make) -> None:
    user_id = make.ids.new_id()
    revoked = issuer.issue(user_id, Role.USER, "refresh", make.now)
    kept = issuer.issue(user_id, Role.USER, "refresh", make.now)
    claims = issuer.decode(revoked, make.now)
    assert claims.token_id != issuer.decode(kept, make.now).token_id
    issuer.revoke(claims)
    with pytest.raises(AuthenticationFailed):
        issuer.decode(revoked, make.later(1))
    assert issuer.decode(kept, make.later(1)).user_id == user_id
    issuer.revoke(claims)  # revoking twice is harmless


@pytest.mark.parametrize("kind", ["access", "refresh"])
def test_revoking_all_of_a_users_tokens_spares_later_ones_and_other_users(
    issuer: TokenIssuer, make: Make, kind: str
) -> None:
    """A password change: every session of the account ends, the next sign-in works."""
    alice, bob = make.ids.new_id(), make.ids.new_id()
    before = [issuer.issue(alice, Role.USER, kind, make.later(s)) for s in (-3600, -1, 0)]
    bobs = issuer.issue(bob, Role.USER, kind, make.now)
    changed = make.later(0.5)

    issuer.revoke_all(alice, changed)

    for token in before:
        with pytest.raises(AuthenticationFailed):
            issuer.decode(token, make.later(1))
    after = issuer.issue(alice, Role.USER, kind, make.later(0.502))
    assert issuer.decode(after, make.later(1)).user_id == alice
    assert issuer.decode(bobs, make.later(1)).user_id == bob


@pytest.mark.parametrize("token", ["", "not-a-token", "a.b.c", "x" * 2000])
def test_garbage_is_refused_as_unauthenticated(issuer: TokenIssuer, make: Make, token: str) -> None:
    with pytest.raises(AuthenticationFailed):
        issuer.decode(token, make.now)


def test_a_tampered_token_is_refused(issuer: TokenIssuer, make: Make) -> None:
    token = issuer.issue(make.ids.new_id(), Role.ADMIN, "access", make.now)
    with pytest.raises(AuthenticationFailed):
        issuer.decode(tampered(token), make.now)


def test_tokens_from_another_issuer_are_refused(issuers: TokenIssuers, make: Make) -> None:
    token = issuers.stranger.issue(make.ids.new_id(), Role.ADMIN, "access", make.now)
    with pytest.raises(AuthenticationFailed):
        issuers.ours.decode(token, make.now)


# --- signatures -------------------------------------------------------------------------------


@attrs.frozen
class SigningKeys:
    """Two signers whose public keys the verifier holds (before and after a rotation), and a
    stranger whose key it does not hold."""

    adapter: str
    current: Signer
    previous: Signer
    stranger: Signer
    verifier: SignatureVerifier


@pytest.fixture(params=ADAPTERS)
def signing(request: pytest.FixtureRequest) -> Iterator[SigningKeys]:
    if request.param == "memory":
        current, previous = b"k" * 32, b"p" * 32
        yield SigningKeys(
            adapter="memory",
            current=HmacSigner("sig-2", current),
            previous=HmacSigner("sig-1", previous),
            stranger=HmacSigner("sig-3", b"s" * 32),
            verifier=HmacVerifier({"sig-2": current, "sig-1": previous}),
        )
    elif request.param == "real":
        keys = [Ed25519PrivateKey.generate() for _ in range(3)]
        yield SigningKeys(
            adapter="real",
            current=Ed25519Signer(keys[0]),
            previous=Ed25519Signer(keys[1]),
            stranger=Ed25519Signer(keys[2]),
            verifier=Ed25519Verifier([keys[0].public_key(), keys[1].public_key()]),
        )
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no signing builder for {request.param!r}")


MANIFEST_BYTES = b'{"batch_id":"0001","record_count":3,"sequence":1}'


def test_a_signature_verifies_under_its_key_id(signing: SigningKeys) -> None:
    assert signing.current.key_id != signing.previous.key_id
    for signer in (signing.current, signing.previous):
        assert signer.algorithm
        signature = signer.sign(MANIFEST_BYTES)
        assert signing.verifier.verify(signer.key_id, MANIFEST_BYTES, signature) is True
    assert signing.verifier.verify(signing.current.key_id, b"", signing.current.sign(b"")) is True


def test_tampered_data_or_signature_does_not_verify(signing: SigningKeys) -> None:
    signer = signing.current
    signature = signer.sign(MANIFEST_BYTES)
    altered = MANIFEST_BYTES.replace(b'"record_count":3', b'"record_count":4')
    assert signing.verifier.verify(signer.key_id, altered, signature) is False
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert signing.verifier.verify(signer.key_id, MANIFEST_BYTES, flipped) is False


@pytest.mark.parametrize("signature", [b"", b"short", b"\x00" * 64, b"\xff" * 200])
def test_a_malformed_signature_is_false_not_an_error(
    signing: SigningKeys, signature: bytes
) -> None:
    assert signing.verifier.verify(signing.current.key_id, MANIFEST_BYTES, signature) is False


def test_another_key_or_an_unknown_key_id_does_not_verify(signing: SigningKeys) -> None:
    signature = signing.current.sign(MANIFEST_BYTES)
    assert signing.verifier.verify(signing.previous.key_id, MANIFEST_BYTES, signature) is False
    assert signing.verifier.verify("sig-unknown", MANIFEST_BYTES, signature) is False
    forged = signing.stranger.sign(MANIFEST_BYTES)
    assert signing.verifier.verify(signing.stranger.key_id, MANIFEST_BYTES, forged) is False
    # A stranger's signature passed off under a key id the verifier holds.
    assert signing.verifier.verify(signing.current.key_id, MANIFEST_BYTES, forged) is False


def test_the_verifier_says_which_key_ids_it_holds(
    request: pytest.FixtureRequest, signing: SigningKeys
) -> None:
    assert signing.verifier.knows(signing.current.key_id) is True
    assert signing.verifier.knows(signing.previous.key_id) is True
    assert signing.verifier.knows(signing.stranger.key_id) is False
    assert signing.verifier.knows("") is False


# --- encryption -------------------------------------------------------------------------------


@attrs.frozen
class CipherKeys:
    """The current cipher, the one before a key rotation, a stranger's, and a decipher that
    holds the current and previous keys (but not the stranger's)."""

    adapter: str
    current: Cipher
    previous: Cipher
    stranger: Cipher
    decipher: Decipher


@pytest.fixture(params=ADAPTERS)
def ciphers(request: pytest.FixtureRequest) -> Iterator[CipherKeys]:
    if request.param == "memory":
        current, previous = bytes(range(32)), bytes(range(32, 64))
        yield CipherKeys(
            adapter="memory",
            current=KeystreamCipher({"enc-2": current}, "enc-2"),
            previous=KeystreamCipher({"enc-1": previous}, "enc-1"),
            stranger=KeystreamCipher({"enc-3": bytes(32)}, "enc-3"),
            decipher=KeystreamCipher({"enc-1": previous, "enc-2": current}, "enc-2"),
        )
    elif request.param == "real":
        current, previous = bytes(range(32)), bytes(range(32, 64))
        yield CipherKeys(
            adapter="real",
            current=AesGcmCipher(current),
            previous=AesGcmCipher(previous),
            stranger=AesGcmCipher(bytes(32)),
            decipher=AesGcmCipher(current, [previous]),
        )
    else:  # pragma: no cover - a param without a builder is a mistake in this file
        raise ValueError(f"no cipher builder for {request.param!r}")


PAYLOAD = (b'{"type":"request","request_id":"' + str(uuid.UUID(int=1)).encode() + b'"}\n') * 50
NONCE = bytes(range(12))  # a caller-derived segment nonce (12 bytes, as AES-GCM takes)


@pytest.mark.parametrize("plaintext", [PAYLOAD, b"", b"x", bytes(range(256)) * 4000])
def test_encryption_round_trips(ciphers: CipherKeys, plaintext: bytes) -> None:
    cipher = ciphers.current
    assert cipher.algorithm
    nonce, ciphertext = cipher.encrypt(plaintext)
    assert ciphers.decipher.decrypt(cipher.key_id, nonce, ciphertext) == plaintext
    if len(plaintext) >= 16:  # a short plaintext may turn up in random bytes by chance
        assert plaintext not in ciphertext


def test_a_key_rotated_out_still_decrypts(ciphers: CipherKeys) -> None:
    assert ciphers.previous.key_id != ciphers.current.key_id
    nonce, ciphertext = ciphers.previous.encrypt(PAYLOAD)
    assert ciphers.decipher.decrypt(ciphers.previous.key_id, nonce, ciphertext) == PAYLOAD


def test_every_encryption_uses_a_fresh_nonce(ciphers: CipherKeys) -> None:
    first, second = ciphers.current.encrypt(PAYLOAD), ciphers.current.encrypt(PAYLOAD)
    assert first[0] != second[0]
    assert first[1] != second[1]


def test_tampering_is_a_value_error(ciphers: CipherKeys) -> None:
    key_id = ciphers.current.key_id
    nonce, ciphertext = ciphers.current.encrypt(PAYLOAD)
    flipped = ciphertext[:10] + bytes([ciphertext[10] ^ 1]) + ciphertext[11:]
    other_nonce = bytes([nonce[0] ^ 1]) + nonce[1:]
    for bad_nonce, bad_ciphertext in [
        (nonce, flipped),
        (nonce, ciphertext[:-1]),
        (nonce, ciphertext + b"\x00"),
        (nonce, b""),
        (other_nonce, ciphertext),
    ]:
        with pytest.raises(ValueError):  # noqa: PT011 - the port promises only ValueError
            ciphers.decipher.decrypt(key_id, bad_nonce, bad_ciphertext)


def test_another_key_or_an_unknown_key_id_is_a_value_error(ciphers: CipherKeys) -> None:
    nonce, ciphertext = ciphers.stranger.encrypt(PAYLOAD)
    with pytest.raises(ValueError):  # noqa: PT011 - the port promises only ValueError
        ciphers.decipher.decrypt(ciphers.stranger.key_id, nonce, ciphertext)
    with pytest.raises(ValueError):  # noqa: PT011 - passed off under a key id it holds
        ciphers.decipher.decrypt(ciphers.current.key_id, nonce, ciphertext)
    nonce, ciphertext = ciphers.current.encrypt(PAYLOAD)
    with pytest.raises(ValueError):  # noqa: PT011 - the port promises only ValueError
        ciphers.decipher.decrypt("enc-unknown", nonce, ciphertext)
    with pytest.raises(ValueError):  # noqa: PT011 - the port promises only ValueError
        ciphers.decipher.decrypt(ciphers.previous.key_id, nonce, ciphertext)


def test_the_decipher_says_which_key_ids_it_holds(
    request: pytest.FixtureRequest, ciphers: CipherKeys
) -> None:
    assert ciphers.decipher.knows(ciphers.current.key_id) is True
    assert ciphers.decipher.knows(ciphers.previous.key_id) is True
    assert ciphers.decipher.knows(ciphers.stranger.key_id) is False


def test_a_segment_round_trips_bound_to_its_associated_data(
    request: pytest.FixtureRequest, ciphers: CipherKeys
) -> None:
    key_id = ciphers.current.key_id
    sealed = ciphers.current.encrypt_segment(NONCE, PAYLOAD, b"segment 0 of 2")
    assert PAYLOAD not in sealed
    assert ciphers.decipher.decrypt_segment(key_id, NONCE, sealed, b"segment 0 of 2") == PAYLOAD
    empty = ciphers.current.encrypt_segment(NONCE, b"", b"segment 1 of 2, last")
    assert ciphers.decipher.decrypt_segment(key_id, NONCE, empty, b"segment 1 of 2, last") == b""
    old = ciphers.previous.encrypt_segment(NONCE, PAYLOAD, b"ad")
    assert ciphers.decipher.decrypt_segment(ciphers.previous.key_id, NONCE, old, b"ad") == PAYLOAD


def test_a_moved_or_altered_segment_is_a_value_error(
    request: pytest.FixtureRequest, ciphers: CipherKeys
) -> None:
    key_id = ciphers.current.key_id
    sealed = ciphers.current.encrypt_segment(NONCE, PAYLOAD, b"segment 0")
    flipped = sealed[:10] + bytes([sealed[10] ^ 1]) + sealed[11:]
    other_nonce = bytes([NONCE[0] ^ 1]) + NONCE[1:]
    foreign = ciphers.stranger.encrypt_segment(NONCE, PAYLOAD, b"segment 0")
    for use_key, nonce, ciphertext, associated in [
        (key_id, NONCE, sealed, b"segment 1"),  # moved to another position
        (key_id, NONCE, sealed, b""),
        (key_id, other_nonce, sealed, b"segment 0"),
        (key_id, NONCE, flipped, b"segment 0"),
        (key_id, NONCE, sealed[:-1], b"segment 0"),
        (key_id, NONCE, foreign, b"segment 0"),
        (ciphers.stranger.key_id, NONCE, foreign, b"segment 0"),
        ("enc-unknown", NONCE, sealed, b"segment 0"),
    ]:
        with pytest.raises(ValueError):  # noqa: PT011 - the port promises only ValueError
            ciphers.decipher.decrypt_segment(use_key, nonce, ciphertext, associated)
