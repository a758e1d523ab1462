"""``airgap db``: migrate a network's database (one Alembic history per network).

The database is the one named by ``--database-url``, else ``AIRGAP_{NETWORK}_DATABASE_URL``
(as ``airgap up`` sets them), else ``AIRGAP_DATABASE_URL``; with none of these, the embedded
server under ``--data-dir`` (``AIRGAP_DATA_DIR``, default ``./.airgap``).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

NETWORK = click.option(
    "--network",
    type=click.Choice(["request", "response"]),
    required=True,
    help="Which network's database and migration history.",
)
DATABASE_URL = click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="postgresql://user:password@host:port/database (default: $AIRGAP_DATABASE_URL, "
    "else the embedded server).",
)
DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("AIRGAP_DATA_DIR", ".airgap"),
    show_default="$AIRGAP_DATA_DIR or ./.airgap",
    help="Where the embedded PostgreSQL keeps its data when no URL is configured.",
)


def _database_url(network: str, given: str | None, data_dir: Path) -> str:
    from airgap.adapters.postgres.embedded import resolve_database_url

    configured = (
        given
        or os.environ.get(f"AIRGAP_{network.upper()}_DATABASE_URL")
        or os.environ.get("AIRGAP_DATABASE_URL")
    )
    return resolve_database_url(network, configured, data_dir)


def _safe(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def _fail(error: Exception) -> click.ClickException:
    """One line: the driver's message without SQLAlchemy's wrapping."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return click.ClickException(lines[0] if lines else type(cause).__name__)


@click.group("db")
def db() -> None:
    """Create and migrate the PostgreSQL databases (one migration history per network)."""


@db.command()
@NETWORK
@DATABASE_URL
@DATA_DIR
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.option("--sql", "offline", is_flag=True, help="Print the SQL instead of running it.")
def upgrade(
    network: str, database_url: str | None, data_dir: Path, revision: str, offline: bool
) -> None:
    """Migrate a network's database up to a revision (default: the newest)."""
    from sqlalchemy.exc import SQLAlchemyError

    from airgap.adapters.postgres import migrate

    if offline:
        click.echo(migrate.upgrade_sql(network, revision), nl=False)
        return
    url = _database_url(network, database_url, data_dir)
    try:
        before = migrate.current(network, url)
        migrate.upgrade(network, url, revision)
        after = migrate.current(network, url)
    except (SQLAlchemyError, RuntimeError) as error:
        raise _fail(error) from None
    click.echo(f"{network} database {_safe(url)}: {before or 'empty'} -> {after or 'empty'}")


@db.command()
@NETWORK
@DATABASE_URL
@DATA_DIR
@click.option(
    "--revision",
    default="-1",
    show_default=True,
    help="Target revision: an id, -N steps, or 'base' (drops every table).",
)
def downgrade(network: str, database_url: str | None, data_dir: Path, revision: str) -> None:
    """Migrate a network's database down (default: one step)."""
    from sqlalchemy.exc import SQLAlchemyError

    from airgap.adapters.postgres import migrate

    url = _database_url(network, database_url, data_dir)
    try:
        before = migrate.current(network, url)
        if before is None:
            raise click.ClickException(f"the {network} database has no migrations applied")
        migrate.downgrade(network, url, revision)
        after = migrate.current(network, url)
    except (SQLAlchemyError, RuntimeError) as error:
        raise _fail(error) from None
    click.echo(f"{network} database {_safe(url)}: {before} -> {after or 'empty'}")


@db.command()
@NETWORK
@DATABASE_URL
@DATA_DIR
def current(network: str, database_url: str | None, data_dir: Path) -> None:
    """Show the revision a network's database is at, and the newest there is."""
    from sqlalchemy.exc import SQLAlchemyError

    from airgap.adapters.postgres import migrate

    url = _database_url(network, database_url, data_dir)
    try:
        found = migrate.current(network, url)
    except SQLAlchemyError as error:
        raise _fail(error) from None
    newest = migrate.head(network)
    state = "up to date" if found == newest else f"behind (head is {newest})"
    click.echo(f"{network} database {_safe(url)}: {found or 'empty'} ({state})")
