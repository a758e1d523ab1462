"""``airgap keys``: key material for signing and encrypting batches."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def keys() -> None:
    """Generate and inspect batch signing and encryption keys."""


@keys.command()
@click.option(
    "--out",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the key files (created, mode 0700, if missing).",
)
def generate(directory: Path) -> None:
    """Write an Ed25519 signing key pair and an AES-256 encryption key, each with its key
    id in the file name and readable by its owner only."""
    from airgap.adapters.security.keyfiles import generate_keys

    generated = generate_keys(directory)
    click.echo(f"signing key     {generated.signing_key}   (keep on the sending network)")
    click.echo(f"public key      {generated.public_key}   (give to the receiving network)")
    click.echo(f"encryption key  {generated.encryption_key}   (both networks)")
    click.echo(f"signing key id     {generated.signing_key_id}")
    click.echo(f"encryption key id  {generated.encryption_key_id}")
