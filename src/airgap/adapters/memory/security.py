"""Stand-ins for the security ports, built on the standard library, for unit tests and
embedding where the real cryptography adapters are not wanted.

They keep the ports' promises (a wrong password, signature, key id or tampered ciphertext is
refused) but are **not** meant to protect anything: the real adapters use argon2, JWT,
Ed25519 and AES-256-GCM.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from datetime import datetime, timedelta

from airgap.domain.model.errors import AuthenticationFailed
from airgap.domain.model.users import Role
from airgap.ports.tokens import TokenClaims


class FastPasswordHasher:
    """Salted SHA-256: quick for tests, never for real passwords."""

    def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        digest = hashlib.sha256((salt + password).encode()).hexdigest()
        return f"sha256${salt}${digest}"

    def verify(self, hashed: str, password: str) -> bool:
        try:
            scheme, salt, digest = hashed.split("$")
        except ValueError:
            return False
        expected = hashlib.sha256((salt + password).encode()).hexdigest()
        return scheme == "sha256" and hmac.compare_digest(expected, digest)


LIFETIMES = {"access": timedelta(hours=1), "refresh": timedelta(days=7)}


class MemoryTokenIssuer:
    """Opaque random tokens whose claims live in a dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: dict[str, TokenClaims] = {}
        self._revoked: set[str] = set()
        self._cutoffs: dict[uuid.UUID, datetime] = {}

    def issue(self, user_id: uuid.UUID, role: Role, kind: str, now: datetime) -> str:
        if kind not in LIFETIMES:
            raise ValueError(f"unknown token kind {kind!r}")
        token = secrets.token_urlsafe(24)
        claims = TokenClaims(user_id, role, kind, token[:12], now, now + LIFETIMES[kind])
        with self._lock:
            self._claims[token] = claims
        return token

    def decode(self, token: str, now: datetime) -> TokenClaims:
        with self._lock:
            claims = self._claims.get(token)
            cutoff = self._cutoffs.get(claims.user_id) if claims is not None else None
            revoked = claims is not None and (
                claims.token_id in self._revoked
                or (cutoff is not None and claims.issued_at < cutoff)
            )
        if claims is None or revoked:
            raise AuthenticationFailed("invalid or revoked token")
        if now >= claims.expires_at:
            raise AuthenticationFailed("token expired")
        return claims

    def revoke(self, claims: TokenClaims) -> None:
        with self._lock:
            self._revoked.add(claims.token_id)

    def revoke_all(self, user_id: uuid.UUID, issued_before: datetime) -> None:
        with self._lock:
            self._cutoffs[user_id] = issued_before


class HmacSigner:
    """HMAC-SHA256 under a key id (stands in for Ed25519)."""

    algorithm = "HMAC-SHA256"

    def __init__(self, key_id: str, key: bytes) -> None:
        self.key_id = key_id
        self._key = key

    def sign(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()


class HmacVerifier:
    def __init__(self, keys: dict[str, bytes]) -> None:
        self._keys = dict(keys)

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def verify(self, key_id: str, data: bytes, signature: bytes) -> bool:
        key = self._keys.get(key_id)
        if key is None:
            return False
        return hmac.compare_digest(hmac.new(key, data, hashlib.sha256).digest(), signature)


class KeystreamCipher:
    """SHAKE-256 keystream with an HMAC tag: authenticated, test-only (stands in for
    AES-256-GCM)."""

    algorithm = "TEST-SHAKE256-HMAC"
    _TAG = 32

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError("the current key id must be among the keys")
        self._keys = dict(keys)
        self.key_id = current

    def _stream(self, key: bytes, nonce: bytes, length: int) -> bytes:
        return hashlib.shake_256(key + nonce).digest(length)

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys

    def _seal(self, key: bytes, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
        stream = self._stream(key, nonce, len(plaintext))
        body = bytes(a ^ b for a, b in zip(plaintext, stream, strict=True))
        tag = hmac.new(key, associated + nonce + body, hashlib.sha256).digest()
        return body + tag

    def _open(self, key_id: str, nonce: bytes, ciphertext: bytes, associated: bytes) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            raise ValueError(f"unknown key id {key_id!r}")
        if len(ciphertext) < self._TAG:
            raise ValueError("ciphertext too short")
        body, tag = ciphertext[: -self._TAG], ciphertext[-self._TAG :]
        expected = hmac.new(key, associated + nonce + body, hashlib.sha256).digest()
        if not hmac.compare_digest(tag, expected):
            raise ValueError("ciphertext was tampered with")
        stream = self._stream(key, nonce, len(body))
        return bytes(a ^ b for a, b in zip(body, stream, strict=True))

    def encrypt_segment(self, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
        return self._seal(self._keys[self.key_id], nonce, plaintext, associated_data)

    def decrypt_segment(
        self, key_id: str, nonce: bytes, ciphertext: bytes, associated_data: bytes
    ) -> bytes:
        return self._open(key_id, nonce, ciphertext, associated_data)

    def encrypt(self, plaintext: bytes) -> tuple[bytes, bytes]:
        nonce = secrets.token_bytes(12)
        return nonce, self._seal(self._keys[self.key_id], nonce, plaintext, b"")

    def decrypt(self, key_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
        return self._open(key_id, nonce, ciphertext, b"")


class MemoryTokenDenyList:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revoked: dict[str, datetime] = {}
        self._cutoffs: dict[str, datetime] = {}

    def revoke(self, token_id: str, until: datetime) -> None:
        with self._lock:
            self._revoked[token_id] = until

    def revoke_user(self, user_id: str, issued_before: datetime, until: datetime) -> None:
        with self._lock:
            self._cutoffs[user_id] = issued_before

    def is_revoked(self, token_id: str, user_id: str, issued_at: datetime) -> bool:
        with self._lock:
            cutoff = self._cutoffs.get(user_id)
            return token_id in self._revoked or (cutoff is not None and issued_at < cutoff)
