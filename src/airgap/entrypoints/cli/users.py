"""``airgap users``: accounts on the response network, the source of truth.

``airgap users create`` does what ``POST /api/v1/users`` does (same checks, same audit entry,
actor ``cli``); the account reaches the request network with the next users export. The
database is the response network's (``AIRGAP_RESPONSE_DATABASE_URL``, else
``AIRGAP_DATABASE_URL``, else the embedded server under ``--data-dir``), migrated first with
``airgap db upgrade --network response``.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click

PROFILES = ["basic", "premium", "enterprise", "admin"]
ROLES = ["user", "operator", "admin"]


@click.group("users")
def users() -> None:
    """Manage accounts on the response network (the source of truth)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise click.ClickException("no terminal to ask for a password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise click.ClickException("the passwords do not match")
    return first


@users.command()
@click.option("--username", required=True, help="3–100 letters, digits and _ . @ -")
@click.option("--email", required=True)
@click.option(
    "--profile",
    "profile",
    type=click.Choice(PROFILES),
    default="basic",
    show_default=True,
    help="Rate limits and priority.",
)
@click.option("--role", type=click.Choice(ROLES), default="user", show_default=True)
@click.option("--full-name", default=None)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (else ask for it).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("AIRGAP_DATA_DIR", ".airgap"),
    show_default="$AIRGAP_DATA_DIR or ./.airgap",
    help="Where the embedded PostgreSQL keeps its data when no URL is configured.",
)
def create(
    username: str,
    email: str,
    profile: str,
    role: str,
    full_name: str | None,
    password_stdin: bool,
    data_dir: Path,
) -> None:
    """Create an account; it reaches the request network with the next users export."""
    from sqlalchemy.exc import SQLAlchemyError

    from airgap.adapters.memory.cache import MemoryQueryCache
    from airgap.adapters.memory.tasks import MemoryTaskQueue
    from airgap.domain.model.batching import Network
    from airgap.domain.model.users import ProfileType, Role
    from airgap.domain.services.admin_audit import Actor
    from airgap.domain.services.user_admin import NewAccount
    from airgap.entrypoints.bootstrap.containers import ResponseNetwork
    from airgap.entrypoints.bootstrap.settings import Settings, SettingsError

    password = _read_password(password_stdin)
    try:
        settings = Settings.from_env(network=Network.RESPONSE, data_dir=data_dir)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    # No worker is asked from here: the scheduled users export sends the new account.
    container = ResponseNetwork(
        settings=settings, tasks=MemoryTaskQueue(), cache=MemoryQueryCache()
    )
    try:
        user = container.user_admin().create(
            NewAccount(
                username=username,
                email=email,
                password=password,
                profile_type=ProfileType(profile),
                role=Role(role),
                full_name=full_name,
            ),
            Actor.command_line(f"cli:{getpass.getuser()}"),
        )
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise click.ClickException(
            f"the response network's database is not ready ({first}); "
            "run: airgap db upgrade --network response"
        ) from None
    finally:
        container.shutdown_resources()
    click.echo(
        f"created {user.username} ({user.role}, {user.profile_type}) id {user.id}; "
        "it reaches the request network with the next users export"
    )
