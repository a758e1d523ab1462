"""Payload encryption (AES-256-GCM in the real adapter), with key ids for rotation.

Two shapes of the same authenticated cipher: ``encrypt``/``decrypt`` seal one message under a
fresh random nonce; ``encrypt_segment``/``decrypt_segment`` seal one segment of a stream under
a nonce and associated data the caller derives (the batch payload format does this, so a
reader can decrypt while it streams and still detect reordered, dropped or spliced segments).
"""

from __future__ import annotations

from typing import Protocol


class Cipher(Protocol):
    key_id: str
    algorithm: str

    def encrypt(self, plaintext: bytes) -> tuple[bytes, bytes]:
        """Return ``(nonce, ciphertext)``."""
        ...

    def encrypt_segment(self, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        """Return the ciphertext (with its tag) of one segment. The caller guarantees that
        ``nonce`` is never used twice with this key."""
        ...


class Decipher(Protocol):
    def knows(self, key_id: str) -> bool:
        """True when a key with this id is loaded."""
        ...

    def decrypt(self, key_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
        """Raises ValueError for an unknown key id or a tampered ciphertext."""
        ...

    def decrypt_segment(
        self, key_id: str, nonce: bytes, ciphertext: bytes, associated_data: bytes
    ) -> bytes:
        """Raises ValueError for an unknown key id, a tampered segment, or associated data
        that differs from what it was sealed with."""
        ...
