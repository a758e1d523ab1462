"""Signatures over manifests (Ed25519 in the real adapter), with key ids for rotation."""

from __future__ import annotations

from typing import Protocol


class Signer(Protocol):
    key_id: str
    algorithm: str

    def sign(self, data: bytes) -> bytes: ...


class SignatureVerifier(Protocol):
    def knows(self, key_id: str) -> bool:
        """True when a public key with this id is loaded (so a reader can tell an unknown
        key from a forged signature)."""
        ...

    def verify(self, key_id: str, data: bytes, signature: bytes) -> bool:
        """False for a wrong signature or an unknown key id; never raises for either."""
        ...
