"""Ed25519 signatures over manifests (the Signer and SignatureVerifier ports).

A key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key, so both
networks derive the same id from the same key and a rotated key gets a new id by itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "Ed25519"


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def signing_key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw public key."""
    return hashlib.sha256(public_key_bytes(public_key)).hexdigest()[:16]


class Ed25519Signer:
    """Signs with one private key; ``key_id`` names its public half."""

    algorithm = ALGORITHM

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = signing_key_id(self.public_key)

    @classmethod
    def generate(cls) -> Ed25519Signer:
        return cls(Ed25519PrivateKey.generate())

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return self._private_key

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data)


class Ed25519Verifier:
    """Verifies against every public key it was given, found by key id."""

    def __init__(self, public_keys: Iterable[Ed25519PublicKey]) -> None:
        self._keys = {signing_key_id(key): key for key in public_keys}

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def verify(self, key_id: str, data: bytes, signature: bytes) -> bool:
        key = self._keys.get(key_id)
        if key is None:
            return False
        try:
            key.verify(signature, data)
        except InvalidSignature:
            return False
        return True
