"""Key files for batch signing and encryption.

``generate_keys(directory)`` writes three files, each readable and writable by its owner
only (mode 0600), named by key id so keys can rotate side by side:

- ``signing-<id>.key``: the Ed25519 private key, PEM (PKCS #8, unencrypted);
- ``signing-<id>.pub``: its public key, PEM (SubjectPublicKeyInfo), for the other network;
- ``encryption-<id>.key``: the AES-256 key, one line of base64 (32 bytes), for both networks.

Loading fails with a ``ValueError`` whose message names the file and what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from pathlib import Path

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from airgap.adapters.security.encryption import (
    KEY_BYTES,
    AesGcmCipher,
    encryption_key_id,
    generate_key,
)
from airgap.adapters.security.signing import Ed25519Signer, Ed25519Verifier, signing_key_id

SECRET_FILE_MODE = 0o600
MAX_KEY_FILE_BYTES = 64 * 1024


@attrs.frozen
class GeneratedKeys:
    signing_key: Path
    public_key: Path
    encryption_key: Path
    signing_key_id: str
    encryption_key_id: str


def generate_keys(directory: Path) -> GeneratedKeys:
    """Write a new signing key pair and a new encryption key into ``directory`` (created,
    mode 0700, if missing). Never overwrites a file."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    signer = Ed25519Signer.generate()
    key = generate_key()
    signing_id, encryption_id = signer.key_id, encryption_key_id(key)
    private_pem = signer.private_key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    public_pem = signer.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    paths = GeneratedKeys(
        signing_key=directory / f"signing-{signing_id}.key",
        public_key=directory / f"signing-{signing_id}.pub",
        encryption_key=directory / f"encryption-{encryption_id}.key",
        signing_key_id=signing_id,
        encryption_key_id=encryption_id,
    )
    write_secret_file(paths.signing_key, private_pem)
    write_secret_file(paths.public_key, public_pem)
    write_secret_file(paths.encryption_key, base64.b64encode(key) + b"\n")
    return paths


def write_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (refusing to overwrite or follow a link) and fsync it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(path, flags, SECRET_FILE_MODE)
    try:
        os.fchmod(fd, SECRET_FILE_MODE)  # the umask may only have taken bits away; be exact
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_key_file(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise ValueError(f"{path}: too large for a key file")
    return data


def load_signer(path: Path) -> Ed25519Signer:
    """An Ed25519 signer from a private key file."""
    return Ed25519Signer(_load_private_key(path))


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_key_file(path)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise ValueError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a ``.pub`` file, or the public half of a private key file."""
    data = _read_key_file(path)
    if b"PRIVATE KEY" in data:
        return _load_private_key(path).public_key()
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        raise ValueError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def load_verifier(paths: Iterable[Path]) -> Ed25519Verifier:
    return Ed25519Verifier(load_public_key(path) for path in paths)


def load_encryption_key(path: Path) -> bytes:
    text = _read_key_file(path).strip()
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{path}: not a base64 AES-256 key") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path}: an AES-256 key is {KEY_BYTES} bytes, this one is {len(key)}")
    return key


def load_cipher(paths: Iterable[Path]) -> AesGcmCipher:
    """A cipher that encrypts under the first key and decrypts under all of them."""
    keys = [load_encryption_key(path) for path in paths]
    if not keys:
        raise ValueError("no encryption key given")
    return AesGcmCipher(keys[0], keys[1:])


__all__ = [
    "GeneratedKeys",
    "generate_keys",
    "load_cipher",
    "load_encryption_key",
    "load_public_key",
    "load_signer",
    "load_verifier",
    "signing_key_id",
    "write_secret_file",
]
