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
# Each command group lives in its own module; register it here, one line each.
cli.add_command(__import__("airgap.entrypoints.cli.search", fromlist=["search"]).search)
cli.add_command(__import__("airgap.entrypoints.cli.batch", fromlist=["batch"]).batch)
cli.add_command(__import__("airgap.entrypoints.cli.keys", fromlist=["keys"]).keys)
cli.add_command(__import__("airgap.entrypoints.cli.transfer", fromlist=["transfer"]).transfer)
cli.add_command(__import__("airgap.entrypoints.cli.db", fromlist=["db"]).db)
cli.add_command(__import__("airgap.entrypoints.cli.users", fromlist=["users"]).users)
cli.add_command(__import__("airgap.entrypoints.cli.response_network", fromlist=["_"]).response)
cli.add_command(__import__("airgap.entrypoints.cli.up", fromlist=["up"]).up)
cli.add_command(__import__("airgap.entrypoints.cli.up", fromlist=["carrier"]).carrier)
cli.add_command(__import__("airgap.entrypoints.cli.request_network", fromlist=["_"]).request)
# The pipeline's commands (workers, schedulers, run-once jobs) join the two network groups.
for _command in __import__("airgap.entrypoints.cli.pipeline", fromlist=["_"]).REQUEST_COMMANDS:
    __import__("airgap.entrypoints.cli.request_network", fromlist=["_"]).request.add_command(
        _command
    )
for _command in __import__("airgap.entrypoints.cli.pipeline", fromlist=["_"]).RESPONSE_COMMANDS:
    __import__("airgap.entrypoints.cli.response_network", fromlist=["_"]).response.add_command(
        _command
    )


def main() -> None:
    """Console-script entry point."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
