"""The ``airgap`` command.

Every failure a user can cause ends in a one-line message on stderr and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from airgap import __version__
from airgap.domain.model.errors import DomainError


class AirgapGroup(click.Group):
    """Turns domain errors and unexpected failures into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            raise click.ClickException(f"{error.code}: {error.message}") from None
        except OSError as error:
            raise click.ClickException(
                f"{error.strerror or error}: {error.filename or ''}".strip()
            ) from None


@click.group(cls=AirgapGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="airgap")
def cli() -> None:
    """Answer search queries across an air gap."""


@cli.command()
@click.option("--requests", "count", default=5, show_default=True, type=click.IntRange(1, 500))
def demo(count: int) -> None:
    """Run both networks in memory and carry a few requests across and back."""
    from airgap.entrypoints.cli.demo import run_demo

    run_demo(count, echo=click.echo)


# --- subcommands -------------------------------------------------------------------------
def _register(group: click.Group) -> None:
    """Each command group lives in its own module; the pipeline's commands (workers,
    schedulers, run-once jobs) join the two network groups."""
    from airgap.entrypoints.cli.batch import batch
    from airgap.entrypoints.cli.db import db
    from airgap.entrypoints.cli.keys import keys
    from airgap.entrypoints.cli.pipeline import REQUEST_COMMANDS, RESPONSE_COMMANDS
    from airgap.entrypoints.cli.request_network import request
    from airgap.entrypoints.cli.response_network import response
    from airgap.entrypoints.cli.search import search
    from airgap.entrypoints.cli.transfer import transfer
    from airgap.entrypoints.cli.up import carrier, up
    from airgap.entrypoints.cli.users import users

    for command in REQUEST_COMMANDS:
        request.add_command(command)
    for command in RESPONSE_COMMANDS:
        response.add_command(command)
    for command in (search, batch, keys, transfer, db, users, response, up, carrier, request):
        group.add_command(command)


_register(cli)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
