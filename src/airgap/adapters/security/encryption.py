"""AES-256-GCM (the Cipher and Decipher ports), with key ids for rotation.

A key id is the first 16 hex digits of SHA-256 over ``b"airgap aes-256-gcm key id\\x00"``
followed by the 32-byte key. The prefix keeps the id from being a plain hash of the secret
that some other system might also publish.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ALGORITHM = "AES-256-GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_KEY_ID_PREFIX = b"airgap aes-256-gcm key id\x00"


def encryption_key_id(key: bytes) -> str:
    return hashlib.sha256(_KEY_ID_PREFIX + key).hexdigest()[:16]


def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


class AesGcmCipher:
    """Encrypts under ``key``; decrypts under ``key`` and any ``previous`` keys, so batches
    sealed before a rotation can still be read."""

    algorithm = ALGORITHM

    def __init__(self, key: bytes, previous: Iterable[bytes] = ()) -> None:
        self._keys: dict[str, AESGCM] = {}
        for candidate in (key, *previous):
            if len(candidate) != KEY_BYTES:
                raise ValueError(f"an AES-256 key is {KEY_BYTES} bytes, not {len(candidate)}")
            self._keys.setdefault(encryption_key_id(candidate), AESGCM(candidate))
        self.key_id = encryption_key_id(key)
        self._current = self._keys[self.key_id]

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def encrypt(self, plaintext: bytes) -> tuple[bytes, bytes]:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce, self._current.encrypt(nonce, plaintext, None)

    def encrypt_segment(self, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        return self._current.encrypt(nonce, plaintext, associated_data)

    def decrypt(self, key_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
        return self._open(key_id, nonce, ciphertext, None)

    def decrypt_segment(
        self, key_id: str, nonce: bytes, ciphertext: bytes, associated_data: bytes
    ) -> bytes:
        return self._open(key_id, nonce, ciphertext, associated_data)

    def _open(
        self, key_id: str, nonce: bytes, ciphertext: bytes, associated_data: bytes | None
    ) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            raise ValueError(f"unknown key id {key_id!r}")
        if len(nonce) != NONCE_BYTES:
            raise ValueError(f"a nonce is {NONCE_BYTES} bytes")
        try:
            return key.decrypt(nonce, ciphertext, associated_data)
        except InvalidTag:
            raise ValueError(
                "authentication failed (altered, reordered, or sealed with another key)"
            ) from None
